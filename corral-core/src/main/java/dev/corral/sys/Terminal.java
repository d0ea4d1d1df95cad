package dev.corral.sys;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Whether a descriptor is this process's terminal with our process group in its foreground, read
 * from /proc where it can be rather than asked with isatty(3) and tcgetpgrp(3): a cold JVM's first
 * native call costs ~25 ms, and {@code corral run} asks this before it plans, while another thread
 * makes that call (see the CLI's spawn ahead).
 */
public final class Terminal {
    private Terminal() {}

    /**
     * True when {@code fd} is our controlling terminal (its device is the tty_nr of
     * /proc/self/stat) and our process group is that terminal's foreground group (tpgid equals
     * pgrp): what {@code isatty(fd) && tcgetpgrp(fd) == getpgrp()} answers. Only then may a jailed
     * program take the terminal: a background {@code corral run ... &} must not steal it. A
     * descriptor of another character device (/dev/tty, /dev/console) is asked of the kernel.
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
        java.util.Map<String, Object> a;
        try {
            a = Files.readAttributes(Path.of("/proc/self/fd/" + fd), "unix:rdev,mode");
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return false; // fd closed, or not a file we may stat
        }
        if (a.get("rdev") instanceof Long rdev && rdev == ttyNr) return true;
        // Another character device may still be this terminal: /dev/tty, /dev/console. Ask the
        // kernel then (a native call, slow only as a cold JVM's first).
        boolean characterDevice = a.get("mode") instanceof Integer mode && (mode & S_IFMT) == S_IFCHR;
        return characterDevice && Libc.isatty(fd) && Libc.tcgetpgrp(fd) == Libc.getpgrp();
    }

    private static final int S_IFMT = 0170000, S_IFCHR = 0020000;
}
