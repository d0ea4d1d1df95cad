package dev.corral.rootfs;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;

/** Removing a tree of bases and layers: the one walk both the layers and `corral rootfs` use. */
public final class FileTrees {
    private FileTrees() {}

    /**
     * Removes {@code dir} and everything under it, depth first; symlinks are removed, never
     * followed. A directory without owner rwx (a base may have read-only ones) is opened up first,
     * so its entries can go. Nothing there is fine.
     */
    public static void remove(Path dir) throws IOException {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) return;
        Files.walkFileTree(dir, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes a) throws IOException {
                int mode = (int) Files.getAttribute(d, "unix:mode", LinkOption.NOFOLLOW_LINKS);
                if ((mode & 0700) != 0700) Files.setAttribute(d, "unix:mode", (mode | 0700) & 07777, LinkOption.NOFOLLOW_LINKS);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes a) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
                if (e != null) throw e;
                Files.delete(d);
                return FileVisitResult.CONTINUE;
            }
        });
    }
}
