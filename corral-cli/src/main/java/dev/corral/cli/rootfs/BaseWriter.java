package dev.corral.cli.rootfs;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * Writes the entries of a base beneath one directory, and nowhere else: every name is relative,
 * without "." or ".." components, and no entry is written through a symlink (a parent that is
 * one fails the import, naming the entry), whatever the archive holds. An existing file or
 * symlink is replaced, never opened. Owners are kept when the caller is root; directories get
 * their modes and times last, so a read-only directory is still filled.
 */
final class BaseWriter {
    private static final LinkOption NOFOLLOW = LinkOption.NOFOLLOW_LINKS;

    private final Path root;
    private final boolean keepOwners;
    private final List<DirAttrs> dirs = new ArrayList<>();
    private int skipped;
    private int entries;

    private record DirAttrs(Path path, int mode, FileTime mtime) {}

    BaseWriter(Path root, boolean keepOwners) {
        this.root = root;
        this.keepOwners = keepOwners;
    }

    /** The target path of entry {@code name}, checked to stay beneath the root. */
    Path resolve(String name, String what) throws ImportException {
        String n = name;
        while (n.startsWith("./")) n = n.substring(2);
        if (n.startsWith("/")) throw new ImportException(what + ": absolute path " + name + " (refused: it would leave the base)");
        if (n.indexOf('\0') >= 0) throw new ImportException(what + ": name holds a NUL byte");
        Path p = root;
        for (String part : n.split("/")) {
            if (part.isEmpty() || part.equals(".")) continue;
            if (part.equals("..")) throw new ImportException(what + ": " + name + " has a '..' component (refused: it could leave the base)");
            p = p.resolve(part);
        }
        return p;
    }

    /** Every existing directory from the root down to {@code p}'s parent must be a real one. */
    private void checkParents(Path p, String what) throws ImportException, IOException {
        Path rel = root.relativize(p);
        Path cur = root;
        for (int i = 0; i < rel.getNameCount() - 1; i++) {
            cur = cur.resolve(rel.getName(i));
            if (Files.isSymbolicLink(cur)) {
                throw new ImportException(what + ": its parent /" + root.relativize(cur) + " is a symlink"
                        + " (refused: writing through it could leave the base)");
            }
            if (!Files.exists(cur, NOFOLLOW)) {
                Files.createDirectory(cur);
            } else if (!Files.isDirectory(cur, NOFOLLOW)) {
                throw new ImportException(what + ": its parent /" + root.relativize(cur) + " is not a directory");
            }
        }
    }

    /** Removes whatever non-directory is at {@code p} (tar's "replace"); a directory stays. */
    private void clear(Path p) throws IOException {
        if (Files.exists(p, NOFOLLOW) && !Files.isDirectory(p, NOFOLLOW)) Files.delete(p);
    }

    void directory(Path p, String what, int mode, long uid, long gid, FileTime mtime) throws ImportException, IOException {
        checkParents(p, what);
        if (Files.isSymbolicLink(p)) Files.delete(p);
        if (!Files.isDirectory(p, NOFOLLOW)) {
            clear(p);
            Files.createDirectory(p);
        }
        owner(p, uid, gid);
        dirs.add(new DirAttrs(p, mode, mtime));
        entries++;
    }

    void file(Path p, String what, InputStream content, int mode, long uid, long gid, FileTime mtime)
            throws ImportException, IOException {
        checkParents(p, what);
        clear(p);
        try (OutputStream out = Files.newOutputStream(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                NOFOLLOW)) {
            content.transferTo(out);
        }
        owner(p, uid, gid);
        Files.setAttribute(p, "unix:mode", mode & 07777, NOFOLLOW); // after chown, which clears set-id bits
        Files.setLastModifiedTime(p, mtime);
        entries++;
    }

    /** A symlink's target is the jail's business (it resolves inside the jail); only where it sits is checked. */
    void symlink(Path p, String what, String target, long uid, long gid, FileTime mtime) throws ImportException, IOException {
        checkParents(p, what);
        clear(p);
        Files.createSymbolicLink(p, Path.of(target));
        owner(p, uid, gid);
        Files.getFileAttributeView(p, BasicFileAttributeView.class, NOFOLLOW).setTimes(mtime, null, null);
        entries++;
    }

    /** A hard link to an earlier entry, named as in the archive: it must be beneath the root too. */
    void hardlink(Path p, String what, Path existing) throws ImportException, IOException {
        checkParents(p, what);
        checkParents(existing, what + " (link target /" + root.relativize(existing) + ")");
        if (!Files.exists(existing, NOFOLLOW) || Files.isDirectory(existing, NOFOLLOW)) {
            throw new ImportException(what + ": hard link to /" + root.relativize(existing) + ", which is not an earlier file");
        }
        clear(p);
        Files.createLink(p, existing);
        entries++;
    }

    /** Extended attributes in the user namespace (others need privileges Java's API does not reach). */
    void xattrs(Path p, Map<String, byte[]> attrs) throws IOException {
        if (attrs.isEmpty() || Files.isSymbolicLink(p)) return;
        UserDefinedFileAttributeView view = Files.getFileAttributeView(p, UserDefinedFileAttributeView.class, NOFOLLOW);
        for (var e : attrs.entrySet()) {
            if (e.getKey().startsWith("user.")) view.write(e.getKey().substring(5), ByteBuffer.wrap(e.getValue()));
            else skipped++;
        }
    }

    /** Devices, fifos and sockets are not carried: a jail gets its own /dev. */
    void skip() {
        skipped++;
    }

    private void owner(Path p, long uid, long gid) throws IOException {
        if (!keepOwners) return;
        Files.setAttribute(p, "unix:gid", (int) gid, NOFOLLOW);
        Files.setAttribute(p, "unix:uid", (int) uid, NOFOLLOW);
    }

    /** Directory modes and times, deepest first. */
    void finish() throws IOException {
        dirs.sort(Comparator.comparingInt((DirAttrs d) -> d.path().getNameCount()).reversed());
        for (DirAttrs d : dirs) {
            Files.setAttribute(d.path(), "unix:mode", d.mode() & 07777, NOFOLLOW);
            Files.setLastModifiedTime(d.path(), d.mtime());
        }
    }

    int entries() {
        return entries;
    }

    int skipped() {
        return skipped;
    }
}
