package dev.corral.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * How this package links libc functions: plainly, or with errno captured into a segment that
 * the call takes as its first argument (the JVM may clobber errno between the call and a later
 * read, so it is captured by the downcall itself).
 */
final class Downcalls {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    private static final Linker.Option ERRNO = Linker.Option.captureCallState("errno");
    private static final MemoryLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO_HANDLE = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));

    private Downcalls() {}

    static MethodHandle plain(String name, FunctionDescriptor fd, Linker.Option... options) {
        return LINKER.downcallHandle(LIBC.findOrThrow(name), fd, options);
    }

    /** A handle whose first argument is an errno segment from {@link #errnoSegment}. */
    static MethodHandle withErrno(String name, FunctionDescriptor fd, Linker.Option... extra) {
        Linker.Option[] options = new Linker.Option[extra.length + 1];
        options[0] = ERRNO;
        System.arraycopy(extra, 0, options, 1, extra.length);
        return LINKER.downcallHandle(LIBC.findOrThrow(name), fd, options);
    }

    static MemorySegment errnoSegment(Arena arena) {
        return arena.allocate(CAPTURE);
    }

    /** The errno a {@link #withErrno} call left in {@code segment}. */
    static int errno(MemorySegment segment) {
        return (int) ERRNO_HANDLE.get(segment, 0L);
    }
}
