package dev.corral.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;

import static dev.corral.sys.NativeFunction.libc;
import static dev.corral.sys.NativeFunction.pointer;
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
            ThreadLocal.withInitial(() -> NativeFunction.errnoSegment(Arena.global()));

    public static final int O_CLOEXEC = 0x80000;
    public static final int F_DUPFD_CLOEXEC = 1030;
    public static final int F_ADD_SEALS = 1033;
    public static final int F_SEAL_SEAL = 1, F_SEAL_SHRINK = 2, F_SEAL_GROW = 4, F_SEAL_WRITE = 8;
    public static final int MFD_CLOEXEC = 1, MFD_ALLOW_SEALING = 2;
    public static final int POSIX_SPAWN_SETSIGDEF = 0x04, POSIX_SPAWN_SETSIGMASK = 0x08;
    public static final int EINTR = 4, ECHILD = 10, EAGAIN = 11;
    public static final int F_GETFL = 3, F_SETFL = 4, O_NONBLOCK = 0x800;

    private static final NativeFunction GETEUID = libc("geteuid");
    private static final NativeFunction GETEGID = libc("getegid");
    private static final NativeFunction GETRLIMIT = libc("getrlimit");
    private static final NativeFunction ISATTY = libc("isatty");
    private static final NativeFunction GETPGRP = libc("getpgrp");
    private static final NativeFunction TCGETPGRP = libc("tcgetpgrp");
    private static final NativeFunction TCSETPGRP = libc("tcsetpgrp");
    private static final NativeFunction SIGADDSET = libc("sigaddset");
    private static final NativeFunction PTHREAD_SIGMASK = libc("pthread_sigmask");
    private static final NativeFunction STRERROR = libc("strerror");
    private static final NativeFunction PIPE2 = libc("pipe2");
    private static final NativeFunction CLOSE = libc("close");
    private static final NativeFunction READ = libc("read");
    private static final NativeFunction FCNTL = libc("fcntl");
    private static final NativeFunction KILL = libc("kill");
    private static final NativeFunction WAITPID = libc("waitpid");
    private static final NativeFunction MEMFD_CREATE = libc("memfd_create");
    private static final NativeFunction POSIX_SPAWN = libc("posix_spawn");
    private static final NativeFunction FA_INIT = libc("posix_spawn_file_actions_init");
    private static final NativeFunction FA_DESTROY = libc("posix_spawn_file_actions_destroy");
    private static final NativeFunction FA_DUP2 = libc("posix_spawn_file_actions_adddup2");
    private static final NativeFunction ATTR_INIT = libc("posix_spawnattr_init");
    private static final NativeFunction ATTR_DESTROY = libc("posix_spawnattr_destroy");
    private static final NativeFunction ATTR_SETFLAGS = libc("posix_spawnattr_setflags");
    private static final NativeFunction ATTR_SETSIGMASK = libc("posix_spawnattr_setsigmask");
    private static final NativeFunction ATTR_SETSIGDEFAULT = libc("posix_spawnattr_setsigdefault");
    private static final NativeFunction SIGEMPTYSET = libc("sigemptyset");
    private static final NativeFunction SIGFILLSET = libc("sigfillset");

    private Libc() {}

    private static final ThreadLocal<int[]> LAST_ERRNO = ThreadLocal.withInitial(() -> new int[1]);

    /** errno left by the last failing call of this class on this thread. */
    public static int errno() {
        return LAST_ERRNO.get()[0];
    }

    private static int record(int result) {
        if (result < 0) {
            LAST_ERRNO.get()[0] = NativeFunction.errno(CAPTURED.get());
        }
        return result;
    }

    private static long recordLong(long result) {
        if (result < 0) {
            LAST_ERRNO.get()[0] = NativeFunction.errno(CAPTURED.get());
        }
        return result;
    }

    public static int geteuid() {
        return (int) GETEUID.callIgnoringErrno();
    }

    public static int getegid() {
        return (int) GETEGID.callIgnoringErrno();
    }

    public static boolean isatty(int fd) {
        return (int) ISATTY.callIgnoringErrno(fd) == 1;
    }

    /** The foreground process group of terminal {@code fd}, -1 if it is not our controlling terminal. */
    public static int tcgetpgrp(int fd) {
        return (int) TCGETPGRP.callIgnoringErrno(fd);
    }

    public static int getpgrp() {
        return (int) GETPGRP.callIgnoringErrno();
    }

    private static final int SIGTTOU = 22, SIG_BLOCK = 0, SIG_SETMASK = 2;

    /**
     * Makes our process group the foreground of terminal {@code fd} again, as a shell does when
     * its foreground job ends: a jail that took the terminal has ended, and whatever runs next
     * from the same script must find the terminal ours. SIGTTOU, which the kernel sends a
     * background group that calls tcsetpgrp, is blocked on this thread meanwhile. False (errno
     * set) if it cannot be done, e.g. {@code fd} is no longer our terminal.
     */
    public static boolean takeTerminalBack(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            long set = pointer(arena.allocate(128, 8));
            long old = pointer(arena.allocate(128, 8));
            SIGEMPTYSET.callIgnoringErrno(set);
            SIGADDSET.callIgnoringErrno(set, SIGTTOU);
            if ((int) PTHREAD_SIGMASK.callIgnoringErrno(SIG_BLOCK, set, old) != 0) return false;
            try {
                return record((int) TCSETPGRP.call(CAPTURED.get(), fd, GETPGRP.callIgnoringErrno())) == 0;
            } finally {
                PTHREAD_SIGMASK.callIgnoringErrno(SIG_SETMASK, old, 0);
            }
        }
    }

    /** The C library's text for an errno value, e.g. "No such file or directory". */
    public static String strerror(int errno) {
        long text = STRERROR.callIgnoringErrno(errno);
        return MemorySegment.ofAddress(text).reinterpret(4096).getString(0);
    }

    /** A close-on-exec pipe: {read end, write end}. */
    public static int[] pipe() throws NativeException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment fds = arena.allocate(JAVA_INT, 2);
            int r = record((int) PIPE2.call(CAPTURED.get(), pointer(fds), O_CLOEXEC));
            if (r < 0) throw new NativeException("pipe2", errno());
            return new int[] {fds.getAtIndex(JAVA_INT, 0), fds.getAtIndex(JAVA_INT, 1)};
        }
    }

    public static int close(int fd) {
        return record((int) CLOSE.call(CAPTURED.get(), fd));
    }

    /**
     * This process's limit of resource {@code resource} (an RLIMIT_* number): {soft, hard}, -1
     * meaning unlimited; {-1, -1} for a resource this kernel does not know.
     */
    public static long[] getrlimit(int resource) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment limit = arena.allocate(16, 8); // struct rlimit: rlim_cur, rlim_max
            if ((int) GETRLIMIT.callIgnoringErrno(resource, pointer(limit)) < 0) return new long[] {-1, -1};
            return new long[] {limit.get(JAVA_LONG, 0), limit.get(JAVA_LONG, 8)}; // RLIM_INFINITY is ~0: -1 already
        }
    }

    /** read(2) into {@code buf}: the bytes read, 0 at end of file, -1 with {@link #errno()} set. */
    public static long read(int fd, MemorySegment buf) {
        return recordLong(READ.call(CAPTURED.get(), fd, pointer(buf), buf.byteSize()));
    }

    /** Makes {@code fd} non-blocking; false (errno set) if it cannot. */
    public static boolean setNonBlocking(int fd) {
        int flags = fcntl(fd, F_GETFL, 0);
        return flags >= 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) >= 0;
    }

    public static int fcntl(int fd, int cmd, int arg) {
        return record((int) FCNTL.call(CAPTURED.get(), fd, cmd, arg));
    }

    public static int kill(int pid, int signal) {
        return record((int) KILL.call(CAPTURED.get(), pid, signal));
    }

    /** Blocks until child {@code pid} ends; returns its raw wait status. */
    public static int waitpid(int pid) throws NativeException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment status = arena.allocate(JAVA_INT);
            for (;;) {
                int r = record((int) WAITPID.call(CAPTURED.get(), pid, pointer(status), 0));
                if (r == pid) return status.get(JAVA_INT, 0);
                if (r < 0 && errno() == EINTR) continue;
                throw new NativeException("waitpid " + pid, errno());
            }
        }
    }

    public static int memfdCreate(String name, int flags) throws NativeException {
        try (Arena arena = Arena.ofConfined()) {
            int fd = record((int) MEMFD_CREATE.call(CAPTURED.get(), pointer(arena.allocateFrom(name)), flags));
            if (fd < 0) throw new NativeException("memfd_create", errno());
            return fd;
        }
    }

    /**
     * posix_spawn with chosen descriptors: {@code dup2(from[i], to[i])} in the child, all signal
     * dispositions reset to default and an empty signal mask, whatever the JVM's threads use.
     * Descriptors not named stay as they are (the JVM opens its own close-on-exec).
     */
    public static int spawn(String path, List<String> argv, int[] from, int[] to) throws NativeException {
        try (Arena arena = Arena.ofConfined()) {
            long actions = pointer(arena.allocate(256, 16)); // posix_spawn_file_actions_t is 80 bytes on glibc
            long attr = pointer(arena.allocate(512, 16));    // posix_spawnattr_t is 336 bytes on glibc
            long sigs = pointer(arena.allocate(128, 8));
            check(FA_INIT, FA_INIT.callIgnoringErrno(actions));
            check(ATTR_INIT, ATTR_INIT.callIgnoringErrno(attr));
            try {
                for (int i = 0; i < from.length; i++) {
                    check(FA_DUP2, FA_DUP2.callIgnoringErrno(actions, from[i], to[i]));
                }
                check(ATTR_SETFLAGS, ATTR_SETFLAGS.callIgnoringErrno(attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK));
                check(SIGEMPTYSET, SIGEMPTYSET.callIgnoringErrno(sigs));
                check(ATTR_SETSIGMASK, ATTR_SETSIGMASK.callIgnoringErrno(attr, sigs));
                check(SIGFILLSET, SIGFILLSET.callIgnoringErrno(sigs));
                check(ATTR_SETSIGDEFAULT, ATTR_SETSIGDEFAULT.callIgnoringErrno(attr, sigs));
                MemorySegment args = arena.allocate(ADDRESS, argv.size() + 1);
                for (int i = 0; i < argv.size(); i++) {
                    args.setAtIndex(ADDRESS, i, arena.allocateFrom(argv.get(i)));
                }
                MemorySegment env = arena.allocate(ADDRESS, 1);
                MemorySegment pid = arena.allocate(JAVA_INT);
                int r = (int) POSIX_SPAWN.callIgnoringErrno(pointer(pid), pointer(arena.allocateFrom(path)), actions, attr,
                        pointer(args), pointer(env));
                if (r != 0) throw new NativeException("posix_spawn " + path, r);
                return pid.get(JAVA_INT, 0);
            } finally {
                FA_DESTROY.callIgnoringErrno(actions);
                ATTR_DESTROY.callIgnoringErrno(attr);
            }
        }
    }

    /** posix_spawn and its helpers return the error number instead of setting errno. */
    private static void check(NativeFunction f, long result) throws NativeException {
        if ((int) result != 0) throw new NativeException(f.name(), (int) result);
    }
}
