package dev.corral.doctor;

import java.io.FileInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/** Reading the host as it is: small kernel files, the kernel release, programs on PATH. */
final class HostFiles {
    private HostFiles() {}

    /**
     * A small kernel file in one read: sysctl files answer a read at a non-zero offset with
     * nothing, so reading them in pieces can lose the value. Empty when absent or unreadable.
     */
    static Optional<String> read(String path) {
        try (var in = new FileInputStream(path)) {
            return Optional.of(new String(in.readNBytes(1 << 20), StandardCharsets.UTF_8));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** A sysctl-style number, empty when the file is absent, unreadable or not a number. */
    static Optional<Long> readLong(String path) {
        return read(path).map(String::strip).flatMap(s -> {
            try {
                return Optional.of(Long.parseLong(s));
            } catch (NumberFormatException e) {
                return Optional.empty();
            }
        });
    }

    /**
     * Where {@code program} is: the first executable on PATH, then the usual system directories
     * (setpriv and sudo may hand a normal user a PATH without the sbin ones).
     */
    static Optional<Path> onPath(String program) {
        Set<String> dirs = new LinkedHashSet<>();
        String path = System.getenv("PATH");
        if (path != null) for (String d : path.split(":")) if (!d.isEmpty()) dirs.add(d);
        dirs.addAll(List.of("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"));
        for (String d : dirs) {
            Path p = Path.of(d, program);
            if (Files.isRegularFile(p) && Files.isExecutable(p)) return Optional.of(p);
        }
        return Optional.empty();
    }

    /** The running kernel's release, e.g. "6.18.44-fc-v595", with its major and minor number. */
    record Kernel(String release, int major, int minor) {
        boolean atLeast(int wantMajor, int wantMinor) {
            return major > wantMajor || major == wantMajor && minor >= wantMinor;
        }

        @Override
        public String toString() {
            return release;
        }
    }

    static Kernel kernel() {
        String release = read("/proc/sys/kernel/osrelease").map(String::strip)
                .orElse(System.getProperty("os.version", "0.0"));
        List<Integer> numbers = new ArrayList<>();
        for (String part : release.split("[.-]", 3)) {
            if (numbers.size() == 2 || !part.matches("\\d+")) break;
            numbers.add(Integer.parseInt(part));
        }
        while (numbers.size() < 2) numbers.add(0);
        return new Kernel(release, numbers.get(0), numbers.get(1));
    }
}
