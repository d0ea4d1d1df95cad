package dev.corral.cli.rootfs;

import dev.corral.rootfs.FileTrees;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.CompressorException;
import org.apache.commons.compress.compressors.CompressorStreamFactory;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Makes a base (a rootfs for {@code --rootfs}, shared through overlays) from a tar archive —
 * plain, gzip, bzip2 or xz, told apart by their first bytes — or from a directory, copied with
 * owners (when root), modes, symlinks, hard links, times and user.* xattrs. It is written into
 * a hidden directory beside the target and renamed into place only when complete, so a base is
 * either whole or absent.
 */
public final class RootfsImporter {
    private static final LinkOption NOFOLLOW = LinkOption.NOFOLLOW_LINKS;

    /** What was imported: where, how many entries, how many were left out (devices, foreign xattrs). */
    public record Result(Path base, int entries, int skipped) {}

    private RootfsImporter() {}

    public static Result importBase(Path source, Path target) throws ImportException, IOException {
        if (Files.exists(target, NOFOLLOW)) {
            throw new ImportException(target + " exists already (remove it first: corral rootfs rm " + target.getFileName() + ")");
        }
        if (!Files.exists(source)) throw new ImportException(source + ": no such file or directory");
        Files.createDirectories(target.getParent());
        Path tmp = target.resolveSibling(".import-" + target.getFileName() + "-" + HexFormat.of().toHexDigits(java.util.concurrent.ThreadLocalRandom.current().nextInt()));
        Files.createDirectory(tmp);
        boolean done = false;
        try {
            boolean root = new com.sun.security.auth.module.UnixSystem().getUid() == 0;
            BaseWriter w = new BaseWriter(tmp, root);
            if (Files.isDirectory(source)) copyDirectory(source, w);
            else readArchive(source, w);
            w.finish();
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            done = true;
            return new Result(target, w.entries(), w.skipped());
        } finally {
            if (!done) FileTrees.remove(tmp);
        }
    }

    private static void readArchive(Path source, BaseWriter w) throws ImportException, IOException {
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(source));
             TarArchiveInputStream tar = new TarArchiveInputStream(decompressed(raw, source))) {
            TarArchiveEntry e;
            while ((e = nextEntry(tar, source)) != null) {
                String what = "entry " + e.getName();
                Path p = w.resolve(e.getName(), what);
                FileTime mtime = FileTime.from(e.getModTime().toInstant());
                long uid = e.getLongUserId(), gid = e.getLongGroupId();
                if (e.isLink()) {
                    w.hardlink(p, what, w.resolve(e.getLinkName(), what + " (hard link target " + e.getLinkName() + ")"));
                } else if (e.isSymbolicLink()) {
                    w.symlink(p, what, e.getLinkName(), uid, gid, mtime);
                } else if (e.isDirectory()) {
                    w.directory(p, what, e.getMode(), uid, gid, mtime);
                } else if (e.isFile()) {
                    w.file(p, what, tar, e.getMode(), uid, gid, mtime);
                } else {
                    w.skip();
                    continue;
                }
                w.xattrs(p, xattrs(e));
            }
        }
        if (w.entries() == 0) throw new ImportException(source + ": not a readable tar archive: it holds no entries");
    }

    private static TarArchiveEntry nextEntry(TarArchiveInputStream tar, Path source) throws ImportException {
        try {
            return tar.getNextEntry();
        } catch (IOException | IllegalArgumentException e) {
            throw new ImportException(source + ": not a readable tar archive: " + e.getMessage());
        }
    }

    private static Map<String, byte[]> xattrs(TarArchiveEntry e) {
        Map<String, byte[]> out = new LinkedHashMap<>();
        e.getExtraPaxHeaders().forEach((k, v) -> {
            if (k.startsWith("SCHILY.xattr.")) out.put(k.substring("SCHILY.xattr.".length()), v.getBytes(StandardCharsets.UTF_8));
        });
        return out;
    }

    private static InputStream decompressed(InputStream raw, Path source) throws ImportException {
        String kind;
        try {
            kind = CompressorStreamFactory.detect(raw);
        } catch (CompressorException e) {
            return raw; // not compressed: a plain tar (or not a tar, which reading says)
        }
        if (!kind.equals(CompressorStreamFactory.GZIP) && !kind.equals(CompressorStreamFactory.BZIP2)
                && !kind.equals(CompressorStreamFactory.XZ)) {
            throw new ImportException(source + ": " + kind + " compression is not supported; use a plain tar, gzip, bzip2 or xz");
        }
        try {
            return new CompressorStreamFactory().createCompressorInputStream(kind, raw, true);
        } catch (CompressorException e) {
            throw new ImportException(source + ": cannot read its " + kind + " compression: " + e.getMessage());
        }
    }

    /** Copies a directory tree; symlinks are copied, never followed; hard links stay links. */
    private static void copyDirectory(Path source, BaseWriter w) throws ImportException, IOException {
        Map<Object, Path> seen = new HashMap<>();
        ImportException[] failure = new ImportException[1];
        Files.walkFileTree(source, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes a) throws IOException {
                return copy(dir, a);
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes a) throws IOException {
                return copy(file, a);
            }

            private FileVisitResult copy(Path from, BasicFileAttributes a) throws IOException {
                String rel = source.relativize(from).toString();
                String what = "/" + rel;
                try {
                    Path to = w.resolve(rel, what);
                    var u = Files.readAttributes(from, "unix:mode,uid,gid,ino,dev,nlink", NOFOLLOW);
                    int mode = (int) u.get("mode");
                    long uid = (int) u.get("uid") & 0xFFFFFFFFL, gid = (int) u.get("gid") & 0xFFFFFFFFL;
                    if (a.isDirectory()) {
                        w.directory(to, what, mode, uid, gid, a.lastModifiedTime());
                    } else if (a.isSymbolicLink()) {
                        w.symlink(to, what, Files.readSymbolicLink(from).toString(), uid, gid, a.lastModifiedTime());
                        return FileVisitResult.CONTINUE;
                    } else if (a.isRegularFile()) {
                        Object key = a.fileKey();
                        Path first = (int) u.get("nlink") > 1 && key != null ? seen.putIfAbsent(key, to) : null;
                        if (first != null) {
                            w.hardlink(to, what, first);
                            return FileVisitResult.CONTINUE;
                        }
                        try (InputStream in = Files.newInputStream(from, NOFOLLOW)) {
                            w.file(to, what, in, mode, uid, gid, a.lastModifiedTime());
                        }
                    } else {
                        w.skip();
                        return FileVisitResult.CONTINUE;
                    }
                    w.xattrs(to, userXattrs(from));
                    return FileVisitResult.CONTINUE;
                } catch (ImportException e) {
                    failure[0] = e;
                    return FileVisitResult.TERMINATE;
                }
            }
        });
        if (failure[0] != null) throw failure[0];
    }

    private static Map<String, byte[]> userXattrs(Path p) throws IOException {
        Map<String, byte[]> out = new LinkedHashMap<>();
        UserDefinedFileAttributeView view = Files.getFileAttributeView(p, UserDefinedFileAttributeView.class, NOFOLLOW);
        if (view == null) return out;
        try {
            for (String name : view.list()) {
                ByteBuffer b = ByteBuffer.allocate(view.size(name));
                view.read(name, b);
                out.put("user." + name, b.array());
            }
        } catch (IOException e) {
            return out; // a filesystem without user xattrs has none to copy
        }
        return out;
    }
}
