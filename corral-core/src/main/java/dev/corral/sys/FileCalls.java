package dev.corral.sys;

import static dev.corral.sys.NativeFunction.pointer;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The file calls java.nio lacks, never following a symlink: lchown with both ids in one call,
 * mknod for device nodes and fifos, and extended attributes of every namespace (nio's view
 * reaches only "user." ones, and not on symlinks). Each throws {@link NativeException} naming
 * the call and the path.
 */
public final class FileCalls {
    private static final ThreadLocal<MemorySegment> CAPTURED =
            ThreadLocal.withInitial(() -> NativeFunction.errnoSegment(Arena.global()));
    static final int ENODATA = 61, ENOTSUP = 95, ERANGE = 34;

    private static final NativeFunction LCHOWN = NativeFunction.libc("lchown");
    private static final NativeFunction MKNOD = NativeFunction.libc("mknod");
    private static final NativeFunction LLISTXATTR = NativeFunction.libc("llistxattr");
    private static final NativeFunction LGETXATTR = NativeFunction.libc("lgetxattr");
    private static final NativeFunction LSETXATTR = NativeFunction.libc("lsetxattr");

    private static final NativeFunction UTIMENSAT = NativeFunction.libc("utimensat");
    private static final int AT_FDCWD = -100, AT_SYMLINK_NOFOLLOW = 0x100;

    private FileCalls() {}

    /**
     * Sets the access and modification times of {@code path} itself, in nanoseconds since the
     * epoch, without opening it (nio's setTimes opens the file: a fifo would block it).
     */
    public static void setTimes(Path path, long accessNanos, long modifiedNanos) throws NativeException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ts = arena.allocate(JAVA_LONG, 4);
            ts.setAtIndex(JAVA_LONG, 0, Math.floorDiv(accessNanos, 1_000_000_000L));
            ts.setAtIndex(JAVA_LONG, 1, Math.floorMod(accessNanos, 1_000_000_000L));
            ts.setAtIndex(JAVA_LONG, 2, Math.floorDiv(modifiedNanos, 1_000_000_000L));
            ts.setAtIndex(JAVA_LONG, 3, Math.floorMod(modifiedNanos, 1_000_000_000L));
            int r = (int) UTIMENSAT.call(CAPTURED.get(), AT_FDCWD, pointer(arena.allocateFrom(path.toString())), pointer(ts), AT_SYMLINK_NOFOLLOW);
            if (r < 0) throw new NativeException("utimensat " + path, errno());
        }
    }

    private static int errno() {
        return NativeFunction.errno(CAPTURED.get());
    }

    /** Sets both owners of {@code path} itself (a symlink's own, not its target's). */
    public static void lchown(Path path, long uid, long gid) throws NativeException {
        try (Arena arena = Arena.ofConfined()) {
            int r = (int) LCHOWN.call(CAPTURED.get(), pointer(arena.allocateFrom(path.toString())), (int) uid, (int) gid);
            if (r < 0) throw new NativeException("lchown " + path + " to " + uid + ":" + gid, errno());
        }
    }

    /** A device node, fifo or socket file: {@code mode} holds the type bits (S_IFCHR...). */
    public static void mknod(Path path, int mode, long device) throws NativeException {
        try (Arena arena = Arena.ofConfined()) {
            int r = (int) MKNOD.call(CAPTURED.get(), pointer(arena.allocateFrom(path.toString())), mode, device);
            if (r < 0) throw new NativeException("mknod " + path, errno());
        }
    }

    /** Every extended attribute of {@code path} itself, by name; empty where the filesystem has none. */
    public static Map<String, byte[]> xattrs(Path path) throws NativeException {
        Map<String, byte[]> out = new LinkedHashMap<>();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment p = arena.allocateFrom(path.toString());
            long n = (long) LLISTXATTR.call(CAPTURED.get(), pointer(p), 0, 0L);
            if (n < 0 && errno() == ENOTSUP) return out;
            if (n < 0) throw new NativeException("llistxattr " + path, errno());
            if (n == 0) return out;
            MemorySegment names = arena.allocate(n);
            n = (long) LLISTXATTR.call(CAPTURED.get(), pointer(p), pointer(names), n);
            if (n < 0) throw new NativeException("llistxattr " + path, errno());
            List<String> list = new ArrayList<>();
            for (long at = 0; at < n; ) {
                String name = names.getString(at, StandardCharsets.UTF_8);
                list.add(name);
                at += name.getBytes(StandardCharsets.UTF_8).length + 1;
            }
            for (String name : list) {
                MemorySegment nm = arena.allocateFrom(name);
                long size = (long) LGETXATTR.call(CAPTURED.get(), pointer(p), pointer(nm), 0, 0L);
                if (size < 0 && errno() == ENODATA) continue; // removed meanwhile
                if (size < 0) throw new NativeException("lgetxattr " + path + " " + name, errno());
                MemorySegment value = arena.allocate(Math.max(size, 1));
                size = (long) LGETXATTR.call(CAPTURED.get(), pointer(p), pointer(nm), pointer(value), size);
                if (size < 0) throw new NativeException("lgetxattr " + path + " " + name, errno());
                out.put(name, value.asSlice(0, size).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
            }
            return out;
        }
    }

    public static void setXattr(Path path, String name, byte[] value) throws NativeException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment v = arena.allocate(Math.max(value.length, 1));
            MemorySegment.copy(value, 0, v, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, value.length);
            int r = (int) LSETXATTR.call(CAPTURED.get(), pointer(arena.allocateFrom(path.toString())),
                    pointer(arena.allocateFrom(name)), pointer(v), value.length, 0);
            if (r < 0) throw new NativeException("lsetxattr " + path + " " + name, errno());
        }
    }
}
