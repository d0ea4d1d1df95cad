package dev.corral.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The file calls java.nio lacks, never following a symlink: lchown with both ids in one call,
 * mknod for device nodes and fifos, and extended attributes of every namespace (nio's view
 * reaches only "user." ones, and not on symlinks). Each throws {@link NativeException} naming
 * the call and the path.
 */
public final class FileCalls {
    private static final ThreadLocal<MemorySegment> CAPTURED =
            ThreadLocal.withInitial(() -> Downcalls.errnoSegment(Arena.global()));
    static final int ENODATA = 61, ENOTSUP = 95, ERANGE = 34;

    private static final MethodHandle LCHOWN = Downcalls.withErrno("lchown",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
    private static final MethodHandle MKNOD = Downcalls.withErrno("mknod",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG));
    private static final MethodHandle LLISTXATTR = Downcalls.withErrno("llistxattr",
            FunctionDescriptor.of(JAVA_LONG, ADDRESS, ADDRESS, JAVA_LONG));
    private static final MethodHandle LGETXATTR = Downcalls.withErrno("lgetxattr",
            FunctionDescriptor.of(JAVA_LONG, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG));
    private static final MethodHandle LSETXATTR = Downcalls.withErrno("lsetxattr",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT));

    private static final MethodHandle UTIMENSAT = Downcalls.withErrno("utimensat",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
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
            int r = (int) UTIMENSAT.invokeExact(CAPTURED.get(), AT_FDCWD, arena.allocateFrom(path.toString()), ts, AT_SYMLINK_NOFOLLOW);
            if (r < 0) throw new NativeException("utimensat " + path, errno());
        } catch (NativeException e) { throw e; } catch (Throwable t) { throw fatal(t); }
    }

    private static int errno() {
        return Downcalls.errno(CAPTURED.get());
    }

    private static RuntimeException fatal(Throwable t) {
        return new IllegalStateException("native call failed to link or run", t);
    }

    /** Sets both owners of {@code path} itself (a symlink's own, not its target's). */
    public static void lchown(Path path, long uid, long gid) throws NativeException {
        try (Arena arena = Arena.ofConfined()) {
            int r = (int) LCHOWN.invokeExact(CAPTURED.get(), arena.allocateFrom(path.toString()), (int) uid, (int) gid);
            if (r < 0) throw new NativeException("lchown " + path + " to " + uid + ":" + gid, errno());
        } catch (NativeException e) { throw e; } catch (Throwable t) { throw fatal(t); }
    }

    /** A device node, fifo or socket file: {@code mode} holds the type bits (S_IFCHR...). */
    public static void mknod(Path path, int mode, long device) throws NativeException {
        try (Arena arena = Arena.ofConfined()) {
            int r = (int) MKNOD.invokeExact(CAPTURED.get(), arena.allocateFrom(path.toString()), mode, device);
            if (r < 0) throw new NativeException("mknod " + path, errno());
        } catch (NativeException e) { throw e; } catch (Throwable t) { throw fatal(t); }
    }

    /** Every extended attribute of {@code path} itself, by name; empty where the filesystem has none. */
    public static Map<String, byte[]> xattrs(Path path) throws NativeException {
        Map<String, byte[]> out = new LinkedHashMap<>();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment p = arena.allocateFrom(path.toString());
            long n = (long) LLISTXATTR.invokeExact(CAPTURED.get(), p, MemorySegment.NULL, 0L);
            if (n < 0 && errno() == ENOTSUP) return out;
            if (n < 0) throw new NativeException("llistxattr " + path, errno());
            if (n == 0) return out;
            MemorySegment names = arena.allocate(n);
            n = (long) LLISTXATTR.invokeExact(CAPTURED.get(), p, names, n);
            if (n < 0) throw new NativeException("llistxattr " + path, errno());
            List<String> list = new ArrayList<>();
            for (long at = 0; at < n; ) {
                String name = names.getString(at, StandardCharsets.UTF_8);
                list.add(name);
                at += name.getBytes(StandardCharsets.UTF_8).length + 1;
            }
            for (String name : list) {
                MemorySegment nm = arena.allocateFrom(name);
                long size = (long) LGETXATTR.invokeExact(CAPTURED.get(), p, nm, MemorySegment.NULL, 0L);
                if (size < 0 && errno() == ENODATA) continue; // removed meanwhile
                if (size < 0) throw new NativeException("lgetxattr " + path + " " + name, errno());
                MemorySegment value = arena.allocate(Math.max(size, 1));
                size = (long) LGETXATTR.invokeExact(CAPTURED.get(), p, nm, value, size);
                if (size < 0) throw new NativeException("lgetxattr " + path + " " + name, errno());
                out.put(name, value.asSlice(0, size).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
            }
            return out;
        } catch (NativeException e) { throw e; } catch (Throwable t) { throw fatal(t); }
    }

    public static void setXattr(Path path, String name, byte[] value) throws NativeException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment v = arena.allocate(Math.max(value.length, 1));
            MemorySegment.copy(value, 0, v, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, value.length);
            int r = (int) LSETXATTR.invokeExact(CAPTURED.get(), arena.allocateFrom(path.toString()),
                    arena.allocateFrom(name), v, (long) value.length, 0);
            if (r < 0) throw new NativeException("lsetxattr " + path + " " + name, errno());
        } catch (NativeException e) { throw e; } catch (Throwable t) { throw fatal(t); }
    }
}
