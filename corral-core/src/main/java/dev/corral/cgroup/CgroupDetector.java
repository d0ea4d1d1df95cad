package dev.corral.cgroup;

import dev.corral.sys.KernelFiles;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Finds out which cgroup interface this host offers, from /proc/self/mountinfo and
 * /proc/self/cgroup: never assumed. A host with v1 controllers mounted (legacy or "hybrid") is
 * driven through v1, where the controllers are; a host with only the unified hierarchy through
 * v2. {@code CORRAL_CGROUP=v1|v2} picks one explicitly.
 */
public final class CgroupDetector {
    /** The v1 controllers corral writes or reads. */
    static final List<String> V1_CONTROLLERS = List.of("memory", "pids", "cpu", "cpuacct", "cpuset", "blkio", "freezer");

    private CgroupDetector() {}

    /** Mounted cgroup hierarchies: (fstype, options, mount root, mount point). */
    record Mount(boolean v2, Set<String> controllers, String root, String point) {}

    public static CgroupView detect() {
        return detect(System.getenv().getOrDefault("CORRAL_CGROUP", ""));
    }

    /** As {@link #detect()}, with the interface given: "v1", "v2", or "" to decide from the host. */
    public static CgroupView detect(String interfaceWanted) {
        CgroupView.Capacity capacity = Host.CAPACITY;
        List<Mount> mounts;
        Map<String, String> own;
        try {
            mounts = mounts(Files.readString(Path.of("/proc/self/mountinfo")));
            own = ownCgroups(Files.readString(Path.of("/proc/self/cgroup")));
            // (seq_file-backed, so reading them in pieces is fine)
        } catch (IOException e) {
            return CgroupView.none("cannot read /proc/self/mountinfo or /proc/self/cgroup: " + e.getMessage(), capacity);
        }
        String wanted = interfaceWanted.toLowerCase(Locale.ROOT);
        boolean hasV1 = mounts.stream().anyMatch(m -> !m.v2() && m.controllers().stream().anyMatch(V1_CONTROLLERS::contains));
        Mount v2 = mounts.stream().filter(Mount::v2).findFirst().orElse(null);
        switch (wanted) {
            case "v1" -> {
                return hasV1 ? v1(mounts, own, capacity) : CgroupView.none("CORRAL_CGROUP=v1 but no v1 controller is mounted", capacity);
            }
            case "v2" -> {
                return v2 != null ? v2(v2, own, capacity) : CgroupView.none("CORRAL_CGROUP=v2 but no cgroup2 file system is mounted", capacity);
            }
            case "" -> { }
            default -> {
                return CgroupView.none("CORRAL_CGROUP must be v1 or v2, not \"" + wanted + "\"", capacity);
            }
        }
        if (hasV1) return v1(mounts, own, capacity);
        if (v2 != null) return v2(v2, own, capacity);
        return CgroupView.none("no cgroup file system is mounted", capacity);
    }

    private static CgroupView v1(List<Mount> mounts, Map<String, String> own, CgroupView.Capacity capacity) {
        List<CgroupView.Hierarchy> out = new ArrayList<>();
        Set<String> seen = new LinkedHashSet<>();
        for (Mount m : mounts) {
            if (m.v2() || !seen.add(m.point())) continue;
            Set<String> used = new LinkedHashSet<>(m.controllers());
            used.retainAll(V1_CONTROLLERS);
            if (used.isEmpty()) continue;
            String path = own.get(String.join(",", sorted(m.controllers())));
            if (path == null) continue;
            String dir = dirOf(m, path);
            if (dir == null || !Files.isDirectory(Path.of(dir))) continue;
            out.add(new CgroupView.Hierarchy(used, m.point(), dir, writable(dir), Set.of(), path.equals("/"), 0, false));
        }
        if (out.isEmpty()) return CgroupView.none("no v1 hierarchy of corral's own cgroups is visible", capacity);
        return new CgroupView(CgroupVersion.V1, null, out, capacity);
    }

    private static CgroupView v2(Mount m, Map<String, String> own, CgroupView.Capacity capacity) {
        String path = own.get("");
        String dir = path == null ? null : dirOf(m, path);
        if (dir == null || !Files.isDirectory(Path.of(dir))) {
            return CgroupView.none("corral's own cgroup is not visible under " + m.point(), capacity);
        }
        Set<String> available = words(read(dir + "/cgroup.controllers"));
        Set<String> enabled = words(read(dir + "/cgroup.subtree_control"));
        long self = ProcessHandle.current().pid();
        int others = (int) read(dir + "/cgroup.procs").lines().filter(l -> !l.isBlank() && !l.strip().equals(Long.toString(self))).count();
        boolean root = path.equals("/");
        boolean canKill = root || Files.exists(Path.of(dir, "cgroup.kill"));
        if (root && !Files.exists(Path.of(dir, "cgroup.kill"))) {
            canKill = Files.exists(Path.of("/sys/kernel/cgroup/features")) && read("/sys/kernel/cgroup/features").contains("cgroup.kill")
                    || KernelFiles.kernel().atLeast(5, 14);
        }
        var h = new CgroupView.Hierarchy(available, m.point(), dir, writable(dir), enabled, root, others, canKill);
        return new CgroupView(CgroupVersion.V2, null, List.of(h), capacity);
    }

    /**
     * The cgroup directories, one per mounted hierarchy (v1 and v2 alike), in which a process
     * whose /proc/PID/cgroup reads {@code theirs} sits where this process does not: what a
     * process joining it has to enter. Hierarchies mounted nowhere here are left out; a cgroup
     * this process cannot reach (outside its cgroup namespace, or outside the part a mount shows)
     * is an {@link IllegalStateException}: joining without it would escape its limits.
     */
    public static List<String> differingDirs(String theirs) {
        try {
            Map<String, String> own = ownCgroups(Files.readString(Path.of("/proc/self/cgroup")));
            Map<String, String> other = ownCgroups(theirs);
            if (other.equals(own)) return List.of(); // a jail without cgroups of its own: nothing to enter
            List<Mount> mounts = mounts(Files.readString(Path.of("/proc/self/mountinfo")));
            List<String> out = new ArrayList<>();
            Set<String> seen = new LinkedHashSet<>();
            for (Mount m : mounts) {
                if (!m.v2() && m.controllers().isEmpty()) continue;
                String key = m.v2() ? "" : String.join(",", sorted(m.controllers()));
                if (!seen.add(key)) continue;
                String path = other.get(key);
                if (path == null || path.equals(own.get(key))) continue;
                String dir = path.equals("/..") || path.contains("/../") || path.endsWith("/..") ? null : dirOf(m, path);
                if (dir == null || !Files.isDirectory(Path.of(dir))) {
                    throw new IllegalStateException("its cgroup " + path + " (" + (m.v2() ? "cgroup2" : key)
                            + ") is not reachable from here under " + m.point());
                }
                out.add(dir);
            }
            return out;
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** The directory of a cgroup path, for a mount that may show only part of the hierarchy. */
    private static String dirOf(Mount m, String path) {
        String root = m.root();
        if (!root.equals("/")) {
            if (!(path + "/").startsWith(root + "/")) return null;
            path = path.substring(root.length());
            if (path.isEmpty()) path = "/";
        }
        return path.equals("/") ? m.point() : m.point() + path;
    }

    /** Creating a child and moving processes both need write access to the cgroup. */
    private static boolean writable(String dir) {
        return Files.isWritable(Path.of(dir)) && Files.isWritable(Path.of(dir, "cgroup.procs"));
    }

    static List<Mount> mounts(String mountinfo) {
        List<Mount> out = new ArrayList<>();
        for (String line : mountinfo.split("\n")) {
            int dash = line.indexOf(" - ");
            if (dash < 0) continue;
            String[] pre = line.substring(0, dash).split(" ");
            String[] post = line.substring(dash + 3).split(" ");
            if (pre.length < 5 || post.length < 3) continue;
            String fstype = post[0];
            if (!fstype.equals("cgroup") && !fstype.equals("cgroup2")) continue;
            Set<String> controllers = new LinkedHashSet<>();
            if (fstype.equals("cgroup")) {
                for (String o : post[2].split(",")) {
                    if (o.equals("rw") || o.equals("ro") || o.startsWith("release_agent") || o.equals("clone_children")
                            || o.equals("noprefix") || o.equals("xattr") || o.equals("cpuset_v2_mode")) {
                        continue;
                    }
                    controllers.add(o);
                }
            }
            out.add(new Mount(fstype.equals("cgroup2"), controllers, unescape(pre[3]), unescape(pre[4])));
        }
        return out;
    }

    /** /proc/self/cgroup: "sorted controllers" (or "" for v2) → path. */
    static Map<String, String> ownCgroups(String text) {
        Map<String, String> out = new HashMap<>();
        for (String line : text.split("\n")) {
            String[] f = line.split(":", 3);
            if (f.length != 3) continue;
            out.put(f[0].equals("0") && f[1].isEmpty() ? "" : String.join(",", sorted(Set.of(f[1].split(",")))), f[2]);
        }
        return out;
    }

    private static List<String> sorted(Set<String> s) {
        return s.stream().sorted().toList();
    }

    private static String unescape(String s) {
        return s.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\");
    }

    static Set<String> words(String text) {
        Set<String> out = new LinkedHashSet<>();
        for (String w : text.strip().split("\\s+")) if (!w.isEmpty()) out.add(w);
        return out;
    }

    static String read(String path) {
        return read(Path.of(path));
    }

    static String read(Path path) {
        return KernelFiles.read(path).orElse("");
    }

    /** The machine's size, read once: it does not change under a running JVM in ways that matter here. */
    private static final class Host {
        static final CgroupView.Capacity CAPACITY = capacity();
    }

    static CgroupView.Capacity capacity() {
        long mem = 0, swap = 0;
        for (String line : read("/proc/meminfo").split("\n")) {
            if (line.startsWith("MemTotal:")) mem = kib(line);
            if (line.startsWith("SwapTotal:")) swap = kib(line);
        }
        String online = read("/sys/devices/system/cpu/online").strip();
        long pidMax = 4194304;
        try {
            pidMax = Long.parseLong(read("/proc/sys/kernel/pid_max").strip());
        } catch (NumberFormatException ignored) {
            // keep the kernel's largest possible value
        }
        int cpus = CpuList.parse(online).map(java.util.BitSet::cardinality).orElse(Runtime.getRuntime().availableProcessors());
        return new CgroupView.Capacity(mem, cpus, online, pidMax, swap);
    }

    private static long kib(String line) {
        String[] f = line.trim().split("\\s+");
        try {
            return Long.parseLong(f[1]) * 1024;
        } catch (RuntimeException e) {
            return 0;
        }
    }
}
