package dev.corral.testing;

import java.io.IOException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Jails with an overlay rootfs and no layer place of their own use corral's default state
 * directory, /var/lib/corral as root. Tests that start them call {@link #removeIfEmpty()} after
 * their last test, so a test run leaves no empty state directory behind (one with anything in it
 * is not theirs to remove).
 */
public final class DefaultStateDir {
    private static final Path ROOT = Path.of("/var/lib/corral");

    private DefaultStateDir() {}

    public static void removeIfEmpty() throws IOException {
        for (Path p : new Path[] {ROOT.resolve("layers"), ROOT}) {
            try {
                Files.delete(p);
            } catch (NoSuchFileException | DirectoryNotEmptyException e) {
                // not there, or in use: either way not ours to remove
            }
        }
    }
}
