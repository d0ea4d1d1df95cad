package dev.corral.rootfs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.corral.sys.FileCalls;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A copy of a root filesystem whose owners are shifted into a jail's host id range (the chown
 * way of what an idmapped mount does without copying): every entry of SRC is copied to DST
 * with its mode, times, symlink target, hard links and extended attributes, and owned by
 * {@code base + its owner}. SRC is only read.
 *
 * <p>Resumable: while it runs, a journal beside DST ({@code DST.corral-shift}) records what is
 * being made. Each file or symlink is made under a temporary name, given its owner, attributes,
 * mode and times, and only then renamed into place, so an entry that exists under its name is
 * finished; directories are finished (owner, mode, times) after their contents. Run again
 * after an interruption, the copy walks SRC in the same (sorted) order, keeps every finished
 * entry and makes the rest: the result is the same as an uninterrupted run. The journal goes
 * when the copy is complete.
 */
public final class ShiftedCopy {
    /** What the copy reports as it goes. */
    public interface Progress {
        /** Once, before copying: the number of entries in SRC. */
        default void total(long entries) {}

        /** After each entry, made now or found finished by an earlier run. */
        default void done(long entries, Path current) throws IOException {}
    }

    /** What was done: entries in all, made now, found finished, and hard links. */
    public record Result(long entries, long made, long kept, long links) {}

    static final String JOURNAL_SUFFIX = ".corral-shift";
    static final String PART = ".corral-shift-part";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int S_IFMT = 0170000, S_IFSOCK = 0140000;
    private static final String ACL_ACCESS = "system.posix_acl_access", ACL_DEFAULT = "system.posix_acl_default";
    private static final String CAPABILITY = "security.capability";

    private final Path source, target, journal, part;
    private final IdShift shift;
    private final Map<String, Path> linked = new HashMap<>();
    private long entries, made, kept, links;

    private ShiftedCopy(Path source, Path target, IdShift shift) {
        this.source = source;
        this.target = target;
        this.shift = shift;
        this.journal = target.resolveSibling(target.getFileName() + JOURNAL_SUFFIX);
        this.part = target.resolve(PART);
    }

    /** The journal of an unfinished copy to {@code target}. */
    public static Path journalOf(Path target) {
        return target.toAbsolutePath().normalize().resolveSibling(target.getFileName() + JOURNAL_SUFFIX);
    }

    /**
     * Copies {@code source} to {@code target}, shifted; continues an unfinished copy to
     * {@code target} of the same source and shift.
     *
     * @throws ShiftException for what is wrong with the arguments (nothing is changed then)
     */
    public static Result run(Path source, Path target, IdShift shift, Progress progress) throws IOException {
        Path src = source.toAbsolutePath().normalize();
        Path dst = target.toAbsolutePath().normalize();
        if (!Files.isDirectory(src, LinkOption.NOFOLLOW_LINKS)) throw new ShiftException(source + ": not a directory");
        src = src.toRealPath();
        if (dst.getParent() == null) throw new ShiftException(target + ": cannot be /");
        Path dstParent = dst.getParent().toRealPath();
        dst = dstParent.resolve(dst.getFileName());
        if (dst.startsWith(src) || src.startsWith(dst)) {
            throw new ShiftException(target + ": the copy and " + source + " cannot hold one another");
        }
        ShiftedCopy copy = new ShiftedCopy(src, dst, shift);
        copy.begin();
        long total = countEntries(src);
        progress.total(total);
        copy.copyDirectory(src, dst, false, progress);
        Files.deleteIfExists(copy.part);
        copy.finishDirectory(src, dst);
        Files.delete(copy.journal);
        return new Result(copy.entries, copy.made, copy.kept, copy.links);
    }

    /** Starts a copy, or checks that the unfinished one at the target is this one. */
    private void begin() throws IOException {
        ObjectNode want = JSON.createObjectNode().put("version", 1).put("source", source.toString())
                .put("uid_base", shift.uidBase()).put("gid_base", shift.gidBase()).put("count", shift.count());
        if (Files.exists(journal, LinkOption.NOFOLLOW_LINKS)) {
            JsonNode was;
            try {
                was = JSON.readTree(Files.readString(journal));
            } catch (IOException e) {
                throw new ShiftException(journal + ": unreadable journal of an unfinished copy (" + e.getMessage()
                        + "); remove it and " + target + " to start over");
            }
            if (!want.toString().equals(was.toString())) {
                throw new ShiftException(target + ": an unfinished copy of another source or shift is there (" + journal
                        + ": " + was + "); finish it with the same arguments, or remove both to start over");
            }
            if (!Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) Files.createDirectory(target, ownerOnly());
            Files.deleteIfExists(part); // the entry being made when it stopped
            return;
        }
        if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
            throw new ShiftException(target + ": exists and is not an unfinished shifted copy (no " + journal.getFileName()
                    + " beside it); choose a new directory");
        }
        // The journal first: a target without one is never taken for ours.
        Path tmp = journal.resolveSibling(journal.getFileName() + ".tmp");
        Files.writeString(tmp, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(want));
        Files.move(tmp, journal, StandardCopyOption.ATOMIC_MOVE);
        Files.createDirectory(target, ownerOnly());
    }

    private static java.nio.file.attribute.FileAttribute<?> ownerOnly() {
        return java.nio.file.attribute.PosixFilePermissions.asFileAttribute(java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
    }

    private static long countEntries(Path dir) throws IOException {
        try (var s = Files.walk(dir)) {
            return s.count() - 1;
        }
    }

    private static List<Path> sorted(Path dir) throws IOException {
        List<Path> out = new ArrayList<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
            s.forEach(out::add);
        }
        out.sort(null);
        return out;
    }

    /** @param fresh {@code to} was made by this run: nothing in it can be finished already */
    private void copyDirectory(Path from, Path to, boolean fresh, Progress progress) throws IOException {
        for (Path s : sorted(from)) {
            Path d = to.resolve(s.getFileName().toString());
            Map<String, Object> a = Files.readAttributes(s, "unix:mode,uid,gid,ino,dev,nlink,rdev,lastModifiedTime,lastAccessTime",
                    LinkOption.NOFOLLOW_LINKS);
            int mode = ((Number) a.get("mode")).intValue();
            boolean dir = (mode & S_IFMT) == 0040000;
            if (dir) {
                boolean there = !fresh && Files.isDirectory(d, LinkOption.NOFOLLOW_LINKS);
                if (!there) {
                    if (!fresh && Files.exists(d, LinkOption.NOFOLLOW_LINKS)) {
                        throw new ShiftException(d + ": not a directory, but " + s + " is");
                    }
                    Files.createDirectory(d, ownerOnly());
                }
                advance(progress, s, !there);
                copyDirectory(s, d, !there, progress);
                finishDirectory(s, d);
                continue;
            }
            String inode = a.get("dev") + ":" + a.get("ino");
            boolean multi = ((Number) a.get("nlink")).intValue() > 1;
            if (!fresh && Files.exists(d, LinkOption.NOFOLLOW_LINKS) && !d.equals(part)) {
                if (multi) linked.putIfAbsent(inode, d);
                advance(progress, s, false);
                continue;
            }
            Path first = multi ? linked.get(inode) : null;
            if (first != null) {
                Files.createLink(d, first);
                links++;
            } else {
                try {
                    make(s, a, mode);
                } catch (dev.corral.sys.NativeException e) {
                    // Named as the entry it was to become, not the temporary name.
                    throw new IOException(e.getMessage().replace(part.toString(), d.toString()), e);
                }
                Files.move(part, d, StandardCopyOption.ATOMIC_MOVE);
                if (multi) linked.put(inode, d);
            }
            advance(progress, s, true);
        }
    }

    /** One more entry of SRC done: made now, or found finished by an earlier run. */
    private void advance(Progress progress, Path s, boolean madeNow) throws IOException {
        if (madeNow) made++;
        else kept++;
        entries++;
        progress.done(entries, s);
    }

    /** Makes {@code s} at the temporary name, finished but for its name. */
    private void make(Path s, Map<String, Object> a, int mode) throws IOException {
        int type = mode & S_IFMT; // no temporary is left: begin() removed an interrupted one, each move takes it
        boolean link = false;
        switch (type) {
            case 0100000 -> Files.copy(s, part, LinkOption.NOFOLLOW_LINKS);
            case 0120000 -> {
                Files.createSymbolicLink(part, Files.readSymbolicLink(s));
                link = true;
            }
            case S_IFSOCK -> throw new ShiftException(s + ": a socket cannot be copied (it belongs to a running program);"
                    + " remove it from the source first");
            default -> FileCalls.mknod(part, mode, ((Number) a.get("rdev")).longValue()); // devices, fifos
        }
        owners(s, part, a);
        if (!link) Files.setAttribute(part, "unix:mode", mode & 07777); // after chown, which clears setuid bits
        times(part, a);
    }

    private void finishDirectory(Path s, Path d) throws IOException {
        Map<String, Object> a = Files.readAttributes(s, "unix:mode,uid,gid,lastModifiedTime,lastAccessTime", LinkOption.NOFOLLOW_LINKS);
        owners(s, d, a);
        Files.setAttribute(d, "unix:mode", ((Number) a.get("mode")).intValue() & 07777);
        times(d, a);
    }

    /** Shifted owners, then the extended attributes (a chown drops file capabilities), ACL ids shifted too. */
    private void owners(Path s, Path d, Map<String, Object> a) throws IOException {
        long uid = shift.uid(((Number) a.get("uid")).longValue());
        long gid = shift.gid(((Number) a.get("gid")).longValue());
        if (uid < 0 || gid < 0) {
            throw new ShiftException(s + ": owned by " + a.get("uid") + ":" + a.get("gid") + ", outside the 0-"
                    + (shift.count() - 1) + " a jail's range maps (it would show as nobody); change its owner in the source"
                    + " or give a larger --count");
        }
        FileCalls.lchown(d, uid, gid);
        for (var x : FileCalls.xattrs(s).entrySet()) {
            byte[] value = x.getValue();
            if (x.getKey().equals(ACL_ACCESS) || x.getKey().equals(ACL_DEFAULT)) value = shiftAcl(s, value);
            else if (x.getKey().equals(CAPABILITY)) value = shiftCapabilityRoot(value);
            FileCalls.setXattr(d, x.getKey(), value);
        }
    }

    /** POSIX ACL xattr: a 4-byte header, then (u16 tag, u16 perm, u32 id) entries; named users and groups shifted. */
    private byte[] shiftAcl(Path s, byte[] value) throws ShiftException {
        ByteBuffer b = ByteBuffer.wrap(value.clone()).order(ByteOrder.LITTLE_ENDIAN);
        for (int at = 4; at + 8 <= value.length; at += 8) {
            int tag = b.getShort(at) & 0xFFFF;
            long id = b.getInt(at + 4) & 0xFFFFFFFFL;
            long shifted = tag == 0x02 ? shift.uid(id) : tag == 0x08 ? shift.gid(id) : id;
            if (shifted < 0) throw new ShiftException(s + ": its ACL names id " + id + ", outside the range the jail maps");
            b.putInt(at + 4, (int) shifted);
        }
        return b.array();
    }

    /** A namespaced (v3) file capability names its root's uid: shifted; v2 has none. */
    private byte[] shiftCapabilityRoot(byte[] value) {
        if (value.length != 24) return value;
        ByteBuffer b = ByteBuffer.wrap(value.clone()).order(ByteOrder.LITTLE_ENDIAN);
        long root = shift.uid(b.getInt(20) & 0xFFFFFFFFL);
        if (root >= 0) b.putInt(20, (int) root);
        return b.array();
    }

    private static void times(Path d, Map<String, Object> a) throws IOException {
        FileCalls.setTimes(d, nanos((FileTime) a.get("lastAccessTime")), nanos((FileTime) a.get("lastModifiedTime")));
    }

    private static long nanos(FileTime t) {
        return t.to(java.util.concurrent.TimeUnit.NANOSECONDS);
    }

    /** What is wrong with the arguments or the source: nothing more was changed. */
    public static final class ShiftException extends IOException {
        public ShiftException(String message) {
            super(message);
        }
    }
}
