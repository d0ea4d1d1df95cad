package dev.corral.sys;

import static dev.corral.sys.NativeFunction.pointer;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Namespace files (/proc/PID/ns/*, or bind mounts of them such as /run/netns/NAME), opened to be
 * joined, and what the kernel says about them: their type ({@code NS_GET_NSTYPE}) and the user
 * namespaces that own them ({@code NS_GET_USERNS}, {@code NS_GET_PARENT}).
 */
public final class NamespaceFiles {

    static final int O_RDONLY = 0, O_NOCTTY = 0x100, O_NONBLOCK = 0x800, O_PATH = 0x200000, O_DIRECTORY = 0x10000;
    /** statfs.f_type of nsfs, the kernel's filesystem of namespace files. */
    static final long NSFS_MAGIC = 0x6e736673L;
    static final long NS_GET_USERNS = 0xb701L, NS_GET_PARENT = 0xb702L, NS_GET_NSTYPE = 0xb703L;
    /** The errno of "not a namespace file", as the kernel answers a namespace ioctl on another file. */
    public static final int ENOTTY = 25;
    /** User namespaces nest at most 32 deep. */
    private static final int MAX_DEPTH = 33;

    private static final NativeFunction OPEN = NativeFunction.libc("open");
    private static final NativeFunction FSTATFS = NativeFunction.libc("fstatfs");
    private static final NativeFunction IOCTL = NativeFunction.libc("ioctl");

    private NamespaceFiles() {}

    /** What the kernel says of one namespace file. */
    public record Info(long type, String id, List<String> owners) {
        public Info {
            owners = List.copyOf(owners);
        }
    }

    /**
     * Opens {@code path} read-only and close-on-exec, for setns, if it is a namespace file;
     * otherwise fails with {@link #ENOTTY}. The path is first opened with O_PATH, which opens
     * nothing (a FIFO or a device planted there is never opened for real), and only a file on
     * nsfs is reopened, through its descriptor, so the file checked is the file returned.
     */
    public static int open(String path) throws NativeException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment errno = NativeFunction.errnoSegment(arena);
            int pathFd = (int) OPEN.call(errno, pointer(arena.allocateFrom(path)), O_PATH | Libc.O_CLOEXEC, 0);
            if (pathFd < 0) throw new NativeException("open " + path, errnoOf(errno));
            try {
                MemorySegment st = arena.allocate(256, 8); // struct statfs: f_type (a long) comes first
                if ((int) FSTATFS.call(errno, pathFd, pointer(st)) < 0) {
                    throw new NativeException("fstatfs " + path, errnoOf(errno));
                }
                if (st.get(JAVA_LONG, 0) != NSFS_MAGIC) throw new NativeException(path, ENOTTY);
                int fd = (int) OPEN.call(errno, pointer(arena.allocateFrom("/proc/self/fd/" + pathFd)),
                        O_RDONLY | O_NOCTTY | O_NONBLOCK | Libc.O_CLOEXEC, 0);
                if (fd < 0) throw new NativeException("open " + path, errnoOf(errno));
                return fd;
            } finally {
                Libc.close(pathFd);
            }
        }
    }

    /**
     * Opens the directory {@code path} leads to with O_PATH (nothing is read through it), for a
     * running jail's root or cwd: {@code /proc/PID/root} leads to the jail's root itself.
     */
    public static int openDirectory(String path) throws NativeException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment errno = NativeFunction.errnoSegment(arena);
            int fd = (int) OPEN.call(errno, pointer(arena.allocateFrom(path)), O_PATH | O_DIRECTORY | Libc.O_CLOEXEC, 0);
            if (fd < 0) throw new NativeException("open " + path, errnoOf(errno));
            return fd;
        }
    }

    /** The type (a CLONE_NEW* flag), identity ("net:[4026531840]") and owners of an open namespace file. */
    public static Info info(int fd) throws NativeException {
        return new Info(type(fd), identity(fd), owners(fd));
    }

    /** The type of an open namespace file: a CLONE_NEW* flag. */
    public static long type(int fd) throws NativeException {
        return ioctl(fd, NS_GET_NSTYPE, "NS_GET_NSTYPE");
    }

    /**
     * The user namespaces that own the namespace {@code fd} is, nearest first (a user
     * namespace's owner is its parent), as far up as the caller can see.
     */
    private static List<String> owners(int fd) {
        List<String> out = new ArrayList<>();
        int cur = ioctlQuiet(fd, NS_GET_USERNS);
        while (cur >= 0) {
            String id;
            try {
                id = identity(cur);
            } catch (NativeException e) {
                id = null;
            }
            int parent = id != null && out.size() < MAX_DEPTH ? ioctlQuiet(cur, NS_GET_PARENT) : -1;
            Libc.close(cur);
            if (id != null) out.add(id);
            cur = parent;
        }
        return out;
    }

    /** "net:[4026531840]": the type and inode that name one namespace, that of an open namespace file. */
    public static String identity(int fd) throws NativeException {
        try {
            return Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString();
        } catch (IOException e) {
            throw new NativeException("readlink /proc/self/fd/" + fd, 5 /* EIO */);
        }
    }

    /**
     * The identity of one of the caller's own namespaces, by its /proc/self/ns name; read once:
     * corral never moves the JVM into another namespace (the executor does the joining), and a
     * corral exec asks for all of them each time.
     */
    public static String callers(String procName) throws IOException {
        String id = OWN.get(procName);
        if (id != null) return id;
        id = Files.readSymbolicLink(Path.of("/proc/self/ns/" + procName)).toString();
        OWN.put(procName, id);
        return id;
    }

    private static final java.util.concurrent.ConcurrentHashMap<String, String> OWN = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * Opens {@code /proc/PID/ns/NAME} read-only and close-on-exec, for setns. Such an entry is
     * always a namespace file (procfs makes it so), so it needs none of {@link #open}'s care
     * about what a path might lead to; its type is still checked by the caller.
     */
    public static int openProcEntry(long pid, String procName) throws NativeException {
        String path = "/proc/" + pid + "/ns/" + procName;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment errno = NativeFunction.errnoSegment(arena);
            int fd = (int) OPEN.call(errno, pointer(arena.allocateFrom(path)), O_RDONLY | O_NOCTTY | O_NONBLOCK | Libc.O_CLOEXEC, 0);
            if (fd < 0) throw new NativeException("open " + path, errnoOf(errno));
            return fd;
        }
    }

    /** The identity of the user namespace that owns the namespace {@code fd} is, or null if it cannot be seen. */
    public static String owner(int fd) {
        int owner = ioctlQuiet(fd, NS_GET_USERNS);
        if (owner < 0) return null;
        try {
            return identity(owner);
        } catch (NativeException e) {
            return null;
        } finally {
            Libc.close(owner);
        }
    }

    /** A descriptor of the parent of the user namespace {@code fd} is, or -1 if the caller cannot see it. */
    public static int parent(int fd) {
        return ioctlQuiet(fd, NS_GET_PARENT);
    }

    private static long ioctl(int fd, long request, String what) throws NativeException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment errno = NativeFunction.errnoSegment(arena);
            int r = (int) IOCTL.call(errno, fd, request, 0L);
            if (r < 0) throw new NativeException(what, errnoOf(errno));
            return r;
        }
    }

    /** An ioctl that returns a new descriptor, or -1 (EPERM at the top of what the caller sees). */
    private static int ioctlQuiet(int fd, long request) {
        try {
            return (int) ioctl(fd, request, "");
        } catch (NativeException e) {
            return -1;
        }
    }

    private static int errnoOf(MemorySegment captured) {
        return NativeFunction.errno(captured);
    }
}
