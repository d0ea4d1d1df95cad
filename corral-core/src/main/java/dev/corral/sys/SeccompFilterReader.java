package dev.corral.sys;

import static dev.corral.sys.NativeFunction.pointer;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * Reads the seccomp filters a process runs under, as the kernel holds them
 * ({@code PTRACE_SECCOMP_GET_FILTER}, what CRIU does): the process is seized, interrupted for the
 * moment of reading, and let go. The kernel allows it only to CAP_SYS_ADMIN in the initial user
 * namespace (root), and only to a tracer that may ptrace the process. All ptrace calls come from
 * one platform thread of their own: the tracer is a thread, not a process.
 */
public final class SeccompFilterReader {
    static final int PTRACE_DETACH = 17, PTRACE_SEIZE = 0x4206, PTRACE_INTERRUPT = 0x4207,
            PTRACE_SECCOMP_GET_FILTER = 0x420c;
    static final int WALL = 0x40000000;
    static final int ENOENT = 2;

    private static final NativeFunction PTRACE = NativeFunction.libc("ptrace");
    private static final NativeFunction WAITPID = NativeFunction.libc("waitpid");

    private SeccompFilterReader() {}

    /** The filters of process {@code pid}, oldest first (the order to load them in), as sock_filter arrays. */
    public static List<byte[]> filters(long pid) throws NativeException {
        AtomicReference<Object> result = new AtomicReference<>();
        Thread t = Thread.ofPlatform().name("corral-seccomp-read").start(() -> {
            try {
                result.set(read((int) pid));
            } catch (NativeException | RuntimeException e) {
                result.set(e);
            }
        });
        try {
            t.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new NativeException("read the seccomp filters of process " + pid, 4 /* EINTR */);
        }
        return switch (result.get()) {
            case NativeException e -> throw e;
            case RuntimeException e -> throw e;
            case List<?> l -> l.stream().map(b -> (byte[]) b).toList();
            default -> throw new IllegalStateException();
        };
    }

    private static List<byte[]> read(int pid) throws NativeException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment errno = NativeFunction.errnoSegment(arena);
            if ((long) PTRACE.call(errno, PTRACE_SEIZE, pid, 0L, 0L) < 0) {
                throw failure(pid, NativeFunction.errno(errno), "seize");
            }
            long resend = 0;
            try {
                if ((long) PTRACE.call(errno, PTRACE_INTERRUPT, pid, 0L, 0L) < 0) {
                    throw failure(pid, NativeFunction.errno(errno), "interrupt");
                }
                MemorySegment status = arena.allocate(JAVA_INT);
                if ((int) WAITPID.call(errno, pid, pointer(status), WALL) < 0) {
                    throw failure(pid, NativeFunction.errno(errno), "wait for");
                }
                int st = status.get(JAVA_INT, 0);
                // A signal that arrived first stops the process for its delivery: it is passed on at
                // detach, or it would be lost. (The interrupt's own stop is an event stop, st >> 16 != 0.)
                if ((st & 0xff) == 0x7f && (st >> 16) == 0) resend = (st >> 8) & 0xff;
                List<byte[]> newestFirst = new ArrayList<>();
                for (long i = 0; ; i++) {
                    long n = (long) PTRACE.call(errno, PTRACE_SECCOMP_GET_FILTER, pid, i, 0L);
                    if (n < 0) {
                        int e = NativeFunction.errno(errno);
                        if (e == ENOENT) break;
                        throw failure(pid, e, "read the seccomp filters of");
                    }
                    MemorySegment buf = arena.allocate(n * 8, 8);
                    if ((long) PTRACE.call(errno, PTRACE_SECCOMP_GET_FILTER, pid, i, pointer(buf)) < 0) {
                        throw failure(pid, NativeFunction.errno(errno), "read the seccomp filters of");
                    }
                    newestFirst.add(buf.toArray(JAVA_BYTE));
                }
                if (newestFirst.isEmpty()) throw failure(pid, ENOENT, "read the seccomp filters of");
                return newestFirst.reversed();
            } finally {
                long ignored = (long) PTRACE.call(errno, PTRACE_DETACH, pid, 0L, resend);
            }
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("native call failed to link or run", t);
        }
    }

    private static NativeException failure(int pid, int errno, String what) {
        return new NativeException("ptrace: " + what + " process " + pid, errno);
    }
}
