package dev.corral.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.List;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The few libc calls the JVM makes itself, through the Foreign Function &amp; Memory API.
 * Every call that can fail returns -1 and leaves errno in {@link #errno()} for that thread.
 * Nothing here ever unshares or forks the JVM: that is the executor's job.
 */
public final class Libc {
    private static final ThreadLocal<MemorySegment> CAPTURED =
            ThreadLocal.withInitial(() -> Downcalls.errnoSegment(Arena.global()));

    public static final int O_CLOEXEC = 0x80000;
    public static final int F_DUPFD_CLOEXEC = 1030;
    public static final int F_ADD_SEALS = 1033;
    public static final int F_SEAL_SEAL = 1, F_SEAL_SHRINK = 2, F_SEAL_GROW = 4, F_SEAL_WRITE = 8;
    public static final int MFD_CLOEXEC = 1, MFD_ALLOW_SEALING = 2;
    public static final int POSIX_SPAWN_SETSIGDEF = 0x04, POSIX_SPAWN_SETSIGMASK = 0x08;
    public static final int EINTR = 4, ECHILD = 10, EAGAIN = 11;
    public static final int F_GETFL = 3, F_SETFL = 4, O_NONBLOCK = 0x800;

    private static final MethodHandle GETEUID = plain("geteuid", FunctionDescriptor.of(JAVA_INT));
    private static final MethodHandle GETEGID = plain("getegid", FunctionDescriptor.of(JAVA_INT));
    private static final MethodHandle ISATTY = plain("isatty", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle GETPGRP = plain("getpgrp", FunctionDescriptor.of(JAVA_INT));
    private static final MethodHandle TCGETPGRP = plain("tcgetpgrp", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle STRERROR = plain("strerror", FunctionDescriptor.of(ADDRESS, JAVA_INT));
    private static final MethodHandle PIPE2 = errno("pipe2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle CLOSE = errno("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle READ = errno("read", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle FCNTL = errno("fcntl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT), Linker.Option.firstVariadicArg(2));
    private static final MethodHandle KILL = errno("kill", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle WAITPID = errno("waitpid",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle MEMFD_CREATE = errno("memfd_create",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle POSIX_SPAWN = plain("posix_spawn",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
    private static final MethodHandle FA_INIT = plain("posix_spawn_file_actions_init",
            FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle FA_DESTROY = plain("posix_spawn_file_actions_destroy",
            FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle FA_DUP2 = plain("posix_spawn_file_actions_adddup2",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
    private static final MethodHandle ATTR_INIT = plain("posix_spawnattr_init", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle ATTR_DESTROY = plain("posix_spawnattr_destroy",
            FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle ATTR_SETFLAGS = plain("posix_spawnattr_setflags",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ValueLayout.JAVA_SHORT));
    private static final MethodHandle ATTR_SETSIGMASK = plain("posix_spawnattr_setsigmask",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle ATTR_SETSIGDEFAULT = plain("posix_spawnattr_setsigdefault",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle SIGEMPTYSET = plain("sigemptyset", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle SIGFILLSET = plain("sigfillset", FunctionDescriptor.of(JAVA_INT, ADDRESS));

    private Libc() {}

    private static MethodHandle plain(String name, FunctionDescriptor fd) {
        return Downcalls.plain(name, fd);
    }

    private static MethodHandle errno(String name, FunctionDescriptor fd, Linker.Option... extra) {
        return Downcalls.withErrno(name, fd, extra);
    }

    private static final ThreadLocal<int[]> LAST_ERRNO = ThreadLocal.withInitial(() -> new int[1]);

    /** errno left by the last failing call of this class on this thread. */
    public static int errno() {
        return LAST_ERRNO.get()[0];
    }

    private static int record(int result) {
        if (result < 0) {
            LAST_ERRNO.get()[0] = Downcalls.errno(CAPTURED.get());
        }
        return result;
    }

    private static long recordLong(long result) {
        if (result < 0) {
            LAST_ERRNO.get()[0] = Downcalls.errno(CAPTURED.get());
        }
        return result;
    }

    private static RuntimeException fatal(Throwable t) {
        return new IllegalStateException("native call failed to link or run", t);
    }

    public static int geteuid() {
        try { return (int) GETEUID.invokeExact(); } catch (Throwable t) { throw fatal(t); }
    }

    public static int getegid() {
        try { return (int) GETEGID.invokeExact(); } catch (Throwable t) { throw fatal(t); }
    }

    public static boolean isatty(int fd) {
        try { return (int) ISATTY.invokeExact(fd) == 1; } catch (Throwable t) { throw fatal(t); }
    }

    /**
     * Whether {@code fd} is a terminal whose foreground process group is ours: only then may a
     * jailed program take the terminal (a background {@code corral run ... &} must not steal it).
     */
    public static boolean isForegroundTerminal(int fd) {
        try {
            if ((int) ISATTY.invokeExact(fd) != 1) return false;
            return (int) TCGETPGRP.invokeExact(fd) == (int) GETPGRP.invokeExact();
        } catch (Throwable t) { throw fatal(t); }
    }

    /** The C library's text for an errno value, e.g. "No such file or directory". */
    public static String strerror(int errno) {
        try {
            MemorySegment s = (MemorySegment) STRERROR.invokeExact(errno);
            return s.reinterpret(4096).getString(0);
        } catch (Throwable t) { throw fatal(t); }
    }

    /** A close-on-exec pipe: {read end, write end}. */
    public static int[] pipe() throws NativeException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment fds = arena.allocate(JAVA_INT, 2);
            int r = record((int) PIPE2.invokeExact(CAPTURED.get(), fds, O_CLOEXEC));
            if (r < 0) throw new NativeException("pipe2", errno());
            return new int[] {fds.getAtIndex(JAVA_INT, 0), fds.getAtIndex(JAVA_INT, 1)};
        } catch (NativeException e) { throw e; } catch (Throwable t) { throw fatal(t); }
    }

    public static int close(int fd) {
        try { return record((int) CLOSE.invokeExact(CAPTURED.get(), fd)); } catch (Throwable t) { throw fatal(t); }
    }

    /** read(2) into {@code buf}: the bytes read, 0 at end of file, -1 with {@link #errno()} set. */
    public static long read(int fd, MemorySegment buf) {
        try { return recordLong((long) READ.invokeExact(CAPTURED.get(), fd, buf, buf.byteSize())); }
        catch (Throwable t) { throw fatal(t); }
    }

    /** Makes {@code fd} non-blocking; false (errno set) if it cannot. */
    public static boolean setNonBlocking(int fd) {
        int flags = fcntl(fd, F_GETFL, 0);
        return flags >= 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) >= 0;
    }

    public static int fcntl(int fd, int cmd, int arg) {
        try { return record((int) FCNTL.invokeExact(CAPTURED.get(), fd, cmd, arg)); }
        catch (Throwable t) { throw fatal(t); }
    }

    public static int kill(int pid, int signal) {
        try { return record((int) KILL.invokeExact(CAPTURED.get(), pid, signal)); }
        catch (Throwable t) { throw fatal(t); }
    }

    /** Blocks until child {@code pid} ends; returns its raw wait status. */
    public static int waitpid(int pid) throws NativeException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment status = arena.allocate(JAVA_INT);
            for (;;) {
                int r = record((int) WAITPID.invokeExact(CAPTURED.get(), pid, status, 0));
                if (r == pid) return status.get(JAVA_INT, 0);
                if (r < 0 && errno() == EINTR) continue;
                throw new NativeException("waitpid " + pid, errno());
            }
        } catch (NativeException e) { throw e; } catch (Throwable t) { throw fatal(t); }
    }

    public static int memfdCreate(String name, int flags) throws NativeException {
        try (Arena arena = Arena.ofConfined()) {
            int fd = record((int) MEMFD_CREATE.invokeExact(CAPTURED.get(), arena.allocateFrom(name), flags));
            if (fd < 0) throw new NativeException("memfd_create", errno());
            return fd;
        } catch (NativeException e) { throw e; } catch (Throwable t) { throw fatal(t); }
    }

    /**
     * posix_spawn with chosen descriptors: {@code dup2(from[i], to[i])} in the child, all signal
     * dispositions reset to default and an empty signal mask, whatever the JVM's threads use.
     * Descriptors not named stay as they are (the JVM opens its own close-on-exec).
     */
    public static int spawn(String path, List<String> argv, int[] from, int[] to) throws NativeException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment actions = arena.allocate(256, 16); // posix_spawn_file_actions_t is 80 bytes on glibc
            MemorySegment attr = arena.allocate(512, 16);    // posix_spawnattr_t is 336 bytes on glibc
            MemorySegment sigs = arena.allocate(128, 8);
            check("posix_spawn_file_actions_init", (int) FA_INIT.invokeExact(actions));
            check("posix_spawnattr_init", (int) ATTR_INIT.invokeExact(attr));
            try {
                for (int i = 0; i < from.length; i++) {
                    check("posix_spawn_file_actions_adddup2", (int) FA_DUP2.invokeExact(actions, from[i], to[i]));
                }
                check("posix_spawnattr_setflags",
                        (int) ATTR_SETFLAGS.invokeExact(attr, (short) (POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK)));
                check("sigemptyset", (int) SIGEMPTYSET.invokeExact(sigs));
                check("posix_spawnattr_setsigmask", (int) ATTR_SETSIGMASK.invokeExact(attr, sigs));
                check("sigfillset", (int) SIGFILLSET.invokeExact(sigs));
                check("posix_spawnattr_setsigdefault", (int) ATTR_SETSIGDEFAULT.invokeExact(attr, sigs));
                MemorySegment args = arena.allocate(ADDRESS, argv.size() + 1);
                for (int i = 0; i < argv.size(); i++) {
                    args.setAtIndex(ADDRESS, i, arena.allocateFrom(argv.get(i)));
                }
                MemorySegment env = arena.allocate(ADDRESS, 1);
                MemorySegment pid = arena.allocate(JAVA_INT);
                int r = (int) POSIX_SPAWN.invokeExact(pid, arena.allocateFrom(path), actions, attr, args, env);
                if (r != 0) throw new NativeException("posix_spawn " + path, r);
                return pid.get(JAVA_INT, 0);
            } finally {
                int ignored = (int) FA_DESTROY.invokeExact(actions);
                ignored = (int) ATTR_DESTROY.invokeExact(attr);
            }
        } catch (NativeException e) { throw e; } catch (Throwable t) { throw fatal(t); }
    }

    private static void check(String what, int r) throws NativeException {
        if (r != 0) throw new NativeException(what, r);
    }
}
