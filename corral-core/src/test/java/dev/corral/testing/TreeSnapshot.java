package dev.corral.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/**
 * Every entry under a directory, one line each: path, type, mode, owner, size and a SHA-256 of
 * the content (or the link target), sorted. Equal snapshots mean nothing under it changed.
 */
public final class TreeSnapshot {
    private static final LinkOption NOFOLLOW = LinkOption.NOFOLLOW_LINKS;

    private TreeSnapshot() {}

    public static List<String> of(Path dir) throws IOException {
        try (Stream<Path> all = Files.walk(dir)) {
            return all.map(p -> line(dir, p, true)).sorted().toList();
        }
    }

    /** The same without inode numbers and ctimes: equal for a faithful copy. */
    public static List<String> content(Path dir) throws IOException {
        try (Stream<Path> all = Files.walk(dir)) {
            return all.map(p -> line(dir, p, false)).sorted().toList();
        }
    }

    private static String line(Path dir, Path p, boolean identity) {
        try {
            var a = Files.readAttributes(p, "unix:mode,uid,gid,size,ino,ctime", NOFOLLOW);
            String what;
            if (Files.isSymbolicLink(p)) what = "-> " + Files.readSymbolicLink(p);
            else if (Files.isRegularFile(p, NOFOLLOW)) what = sha256(Files.readAllBytes(p));
            else what = "";
            return "/" + dir.relativize(p) + " " + Integer.toOctalString((int) a.get("mode")) + " " + a.get("uid") + ":"
                    + a.get("gid") + " " + a.get("size") + (identity ? " ino=" + a.get("ino") + " ctime=" + a.get("ctime") : "")
                    + " " + what;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String sha256(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
