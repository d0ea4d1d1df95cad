package dev.corral.sys;

import java.io.FileInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Small files of the kernel's (procfs, sysfs, cgroupfs) and the kernel's release. */
public final class KernelFiles {
    private KernelFiles() {}

    /**
     * A small kernel file in one read: sysctl files such as pid_max answer a read at a non-zero
     * offset with nothing, so reading them in pieces (as Files.readString may) loses the value.
     * Empty when absent or unreadable.
     */
    public static Optional<String> read(Path path) {
        try (var in = new FileInputStream(path.toFile())) {
            return Optional.of(new String(in.readNBytes(1 << 20), StandardCharsets.UTF_8));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** The running kernel's release, e.g. "6.18.44", with its major and minor number. */
    public record Kernel(String release, int major, int minor) {
        public boolean atLeast(int wantMajor, int wantMinor) {
            return major > wantMajor || major == wantMajor && minor >= wantMinor;
        }

        @Override
        public String toString() {
            return release;
        }
    }

    public static Kernel kernel() {
        String release = read(Path.of("/proc/sys/kernel/osrelease")).map(String::strip)
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
