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
            // Most of these files are a line or two: one small read, no 16 KB buffer per call.
            byte[] small = new byte[512];
            int n = in.read(small);
            if (n < 0) return Optional.of("");
            if (n < small.length) {
                int more = in.read(small, n, small.length - n);
                if (more < 0) return Optional.of(new String(small, 0, n, StandardCharsets.UTF_8));
                n += more;
            }
            byte[] rest = in.readNBytes(1 << 20);
            byte[] all = java.util.Arrays.copyOf(small, n + rest.length);
            System.arraycopy(rest, 0, all, n, rest.length);
            return Optional.of(new String(all, StandardCharsets.UTF_8));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /**
     * This process's effective uid and gid, {@code {euid, egid}}, from /proc/self/status: what
     * geteuid(2) and getegid(2) answer, without a native call (a cold JVM's first costs ~25 ms).
     */
    public static int[] effectiveIds() {
        String status = read(Path.of("/proc/self/status")).orElse("");
        if (!status.contains("\nUid:") || !status.contains("\nGid:")) return new int[] {Libc.geteuid(), Libc.getegid()};
        return new int[] {effective(status, "\nUid:"), effective(status, "\nGid:")};
    }

    /** The second of the four ids on a "Uid:" or "Gid:" line (which is there): real, effective, saved, filesystem. */
    private static int effective(String status, String key) {
        int at = status.indexOf(key);
        int end = status.indexOf('\n', at + 1);
        String[] ids = status.substring(at + key.length(), end < 0 ? status.length() : end).strip().split("\\s+");
        return Integer.parseUnsignedInt(ids[1]);
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
