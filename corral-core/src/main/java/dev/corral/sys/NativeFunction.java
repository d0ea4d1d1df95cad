package dev.corral.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * A libc function, called through the one downcall stub that every native call of corral shares.
 *
 * <p>Why one stub: for each distinct {@link FunctionDescriptor} the JVM generates a stub class and
 * a dozen method-handle classes, which no AOT cache holds. A cold {@code corral run} linked 17 of
 * them, about 110 ms of its start; one costs about 25 ms. Every function corral calls takes and
 * returns integers and pointers only, and on the 64-bit Linux ABIs (x86-64 System V, AArch64) an
 * {@code int} travels in a 64-bit register as a {@code long} does, a pointer is 64 bits, and a
 * variadic integer argument is passed as a fixed one (on x86-64 the FFM linker always sets %al,
 * the vector-register count a variadic callee reads, to 0). So one descriptor, six {@code long}s
 * in and a {@code long} out, calls them all. A C {@code int} result is the low 32 bits: cast it.
 *
 * <p>errno is captured by the call itself into a segment the caller passes (the JVM may change
 * errno between the call and a later read); {@link #errno(MemorySegment)} reads it.
 */
public final class NativeFunction {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    private static final MemoryLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final MethodHandle ANY = LINKER.downcallHandle(
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG),
            Linker.Option.captureCallState("errno"));
    /** Where calls whose errno nobody reads leave it; shared by all threads, never read. */
    private static final MemorySegment UNREAD = captureSegment();

    private final MemorySegment address;
    private final String name;

    private NativeFunction(String name, MemorySegment address) {
        this.name = name;
        this.address = address;
    }

    private static MemorySegment captureSegment() {
        return Arena.global().allocate(CAPTURE);
    }

    /** The libc function {@code name}; fails at once (class initialisation) if libc lacks it. */
    public static NativeFunction libc(String name) {
        return new NativeFunction(name, LIBC.findOrThrow(name));
    }

    /** A segment for a caller's captured errno, to pass to {@code call}. */
    public static MemorySegment errnoSegment(Arena arena) {
        return arena.allocate(CAPTURE);
    }

    /** The errno a call left in {@code captured}. */
    public static int errno(MemorySegment captured) {
        return (int) ERRNO.get(captured, 0L);
    }

    /**
     * The address of a native segment, to pass as a pointer argument; 0 for {@link MemorySegment#NULL}.
     * A heap segment has no address a C function could use, so it is refused. The caller keeps
     * the segment's arena open across the call (every arena here is confined or global).
     */
    public static long pointer(MemorySegment segment) {
        if (!segment.isNative()) throw new IllegalArgumentException("not native memory: " + segment);
        return segment.address();
    }

    public String name() {
        return name;
    }

    public long call(MemorySegment errno) {
        return call(errno, 0, 0, 0, 0, 0, 0);
    }

    public long call(MemorySegment errno, long a) {
        return call(errno, a, 0, 0, 0, 0, 0);
    }

    public long call(MemorySegment errno, long a, long b) {
        return call(errno, a, b, 0, 0, 0, 0);
    }

    public long call(MemorySegment errno, long a, long b, long c) {
        return call(errno, a, b, c, 0, 0, 0);
    }

    public long call(MemorySegment errno, long a, long b, long c, long d) {
        return call(errno, a, b, c, d, 0, 0);
    }

    public long call(MemorySegment errno, long a, long b, long c, long d, long e) {
        return call(errno, a, b, c, d, e, 0);
    }

    /** Calls the function with errno captured into {@code errno}; the unused trailing arguments are 0. */
    public long call(MemorySegment errno, long a, long b, long c, long d, long e, long f) {
        try {
            return (long) ANY.invokeExact(address, errno, a, b, c, d, e, f);
        } catch (Throwable t) {
            throw new IllegalStateException("native call " + name + " failed to run", t);
        }
    }

    /** A call whose result says all (getpid, posix_spawn, strerror): errno is not kept. */
    public long callIgnoringErrno() {
        return call(UNREAD, 0, 0, 0, 0, 0, 0);
    }

    public long callIgnoringErrno(long a) {
        return call(UNREAD, a, 0, 0, 0, 0, 0);
    }

    public long callIgnoringErrno(long a, long b) {
        return call(UNREAD, a, b, 0, 0, 0, 0);
    }

    public long callIgnoringErrno(long a, long b, long c) {
        return call(UNREAD, a, b, c, 0, 0, 0);
    }

    public long callIgnoringErrno(long a, long b, long c, long d, long e, long f) {
        return call(UNREAD, a, b, c, d, e, f);
    }
}
