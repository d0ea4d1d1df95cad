package dev.corral.join;

import dev.corral.launch.LocalHost;
import dev.corral.spec.Rlimit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What /proc says about a running process that a new one is to join: its identity (as this
 * process sees it, and translated into the process's own user namespace), its capabilities,
 * no_new_privs and seccomp mode, resource limits, environment and cgroups (the text of
 * /proc/PID/cgroup). Read once; the ids
 * and the start time let the caller check it is still the same process afterwards.
 */
public record ProcessFacts(long pid, String comm, long startTime, long uid, long gid, List<Long> groups,
                           long capBound, long capPermitted, long capAmbient, boolean noNewPrivs,
                           int seccompMode, Map<Rlimit.Resource, long[]> limits, Map<String, String> environment,
                           String cgroups, List<long[]> uidMap, List<long[]> gidMap) {
    /** seccomp modes of /proc/PID/status. */
    public static final int SECCOMP_NONE = 0, SECCOMP_STRICT = 1, SECCOMP_FILTER = 2;

    public ProcessFacts {
        groups = List.copyOf(groups);
        limits = Map.copyOf(limits);
        environment = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(environment));
        uidMap = List.copyOf(uidMap);
        gidMap = List.copyOf(gidMap);
    }

    /** Reads /proc/PID; fails with a message naming the pid when it is gone or unreadable. */
    public static ProcessFacts read(long pid) throws IOException {
        Path dir = Path.of("/proc", Long.toString(pid));
        try {
            String status = Files.readString(dir.resolve("status"));
            Map<String, String> f = new LinkedHashMap<>();
            for (String line : status.split("\n")) {
                int colon = line.indexOf(':');
                if (colon > 0) f.put(line.substring(0, colon), line.substring(colon + 1).trim());
            }
            List<Long> groups = new ArrayList<>();
            for (String g : f.getOrDefault("Groups", "").split("\\s+")) if (!g.isEmpty()) groups.add(Long.parseLong(g));
            Map<Rlimit.Resource, long[]> limits = LocalHost.rlimits(Files.readString(dir.resolve("limits")));
            String cgroups = Files.readString(dir.resolve("cgroup"));
            return new ProcessFacts(pid, f.getOrDefault("Name", "?"), startTime(pid),
                    effective(f.get("Uid")), effective(f.get("Gid")), groups,
                    hex(f.get("CapBnd")), hex(f.get("CapPrm")), hex(f.get("CapAmb")),
                    "1".equals(f.get("NoNewPrivs")), Integer.parseInt(f.getOrDefault("Seccomp", "0")),
                    limits, environment(dir.resolve("environ")), cgroups,
                    idMap(dir.resolve("uid_map")), idMap(dir.resolve("gid_map")));
        } catch (NoSuchFileException e) {
            throw new IOException("no process " + pid, e);
        }
    }

    /** Field 22 of /proc/PID/stat, after the parenthesised name (which may hold spaces). */
    public static long startTime(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(f[19]);
    }

    /** The host pids of a process's children (its main thread's). */
    public static List<Long> children(long pid) {
        try {
            String text = Files.readString(Path.of("/proc", Long.toString(pid), "task", Long.toString(pid), "children"));
            List<Long> out = new ArrayList<>();
            for (String c : text.trim().split("\\s+")) if (!c.isEmpty()) out.add(Long.parseLong(c));
            return out;
        } catch (IOException e) {
            return List.of();
        }
    }

    /** The name of a process (its comm), or "" when it is gone. */
    public static String comm(long pid) {
        try {
            return Files.readString(Path.of("/proc", Long.toString(pid), "comm")).trim();
        } catch (IOException e) {
            return "";
        }
    }

    /** corral's own processes around a jail's program, each the parent of the next. */
    private static final java.util.Set<String> CORRAL_PROCESSES = java.util.Set.of("corral-monitor", "corral-init");

    /**
     * The program of a corral jail, given any of its first processes: corral's own (the monitor,
     * the tiny init) are followed to their first child.
     */
    public static long program(long pid) {
        for (int i = 0; i < 4; i++) {
            if (!CORRAL_PROCESSES.contains(comm(pid))) return pid;
            List<Long> kids = children(pid);
            if (kids.isEmpty()) return pid;
            pid = kids.getFirst();
        }
        return pid;
    }

    /** {@code id} (as this process sees it) inside the process's user namespace, or -1 if unmapped. */
    public static long inside(long id, List<long[]> map) {
        for (long[] m : map) {
            if (id >= m[1] && id < m[1] + m[2]) return m[0] + (id - m[1]);
        }
        return -1;
    }

    public long uidInside() {
        return inside(uid, uidMap);
    }

    public long gidInside() {
        return inside(gid, gidMap);
    }

    private static long effective(String ids) {
        if (ids == null) throw new IllegalStateException("/proc/PID/status without Uid/Gid");
        return Long.parseLong(ids.split("\\s+")[1]);
    }

    private static long hex(String v) {
        return v == null ? 0 : Long.parseUnsignedLong(v, 16);
    }

    /** "inside outside count" lines, the outside ids as this process sees them. */
    private static List<long[]> idMap(Path file) throws IOException {
        List<long[]> out = new ArrayList<>();
        for (String line : Files.readString(file).split("\n")) {
            String[] p = line.trim().split("\\s+");
            if (p.length == 3) out.add(new long[] {Long.parseLong(p[0]), Long.parseLong(p[1]), Long.parseLong(p[2])});
        }
        return out;
    }

    private static Map<String, String> environment(Path file) {
        Map<String, String> env = new LinkedHashMap<>();
        try {
            for (String kv : new String(Files.readAllBytes(file), StandardCharsets.UTF_8).split("\0")) {
                int eq = kv.indexOf('=');
                if (eq > 0) env.put(kv.substring(0, eq), kv.substring(eq + 1));
            }
        } catch (IOException e) {
            // unreadable (another user's process): the joined program starts with a bare PATH
        }
        return env;
    }
}
