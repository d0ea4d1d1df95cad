package dev.corral.sys;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Whether a descriptor is this process's terminal with our process group in its foreground, read
 * from /proc rather than asked with isatty(3) and tcgetpgrp(3): a cold JVM's first native call
 * costs ~25 ms, and {@code corral run} asks this before it plans, while another thread makes that
 * call (see the CLI's spawn ahead).
 */
public final class Terminal {
    private Terminal() {}

    /**
     * True when {@code fd} is our controlling terminal (its device is the tty_nr of
     * /proc/self/stat) and our process group is that terminal's foreground group (tpgid equals
     * pgrp): what {@code isatty(fd) && tcgetpgrp(fd) == getpgrp()} answers. Only then may a jailed
     * program take the terminal: a background {@code corral run ... &} must not steal it.
     */
    public static boolean isForeground(int fd) {
        Optional<String> stat = KernelFiles.read(Path.of("/proc/self/stat"));
        if (stat.isEmpty()) return false;
        // pid (comm) state ppid pgrp session tty_nr tpgid ...; comm may hold spaces and parentheses.
        String s = stat.get();
        String[] f = s.substring(s.lastIndexOf(')') + 2).split(" ", 7);
        if (f.length < 7) return false;
        long pgrp = Long.parseLong(f[2]), ttyNr = Long.parseLong(f[4]), tpgid = Long.parseLong(f[5]);
        if (ttyNr == 0 || tpgid != pgrp) return false;
        try {
            Object rdev = Files.getAttribute(Path.of("/proc/self/fd/" + fd), "unix:rdev");
            return rdev instanceof Long r && r == ttyNr;
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return false; // fd closed, or not a file we may stat
        }
    }
}
