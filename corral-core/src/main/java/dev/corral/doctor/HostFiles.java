package dev.corral.doctor;

import dev.corral.sys.KernelFiles;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/** Reading the host as it is: small kernel files, the kernel release, programs on PATH. */
final class HostFiles {
    private HostFiles() {}

    /** A small kernel file in one read; empty when absent or unreadable. */
    static Optional<String> read(String path) {
        return KernelFiles.read(Path.of(path));
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
}
