package dev.corral.cgroup;

import dev.corral.JailSetupException;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A jail's cgroup on the host, made from a {@link CgroupPlan} before the jail is cloned. The
 * executor's monitor moves the jail's first process into it before "go", kills what is left in it
 * at the end and removes it (also when this JVM is gone); this side creates it, writes the limits
 * and reads the accounting.
 */
public final class JailCgroup {
    private static final AtomicLong SEQUENCE = new AtomicLong();
    private static final int MAX_NAME_TRIES = 100;

    private final CgroupPlan plan;
    /** The jail's cgroup in each hierarchy, in the plan's order. */
    private final List<Path> dirs;
    /** Directories this jail created, parents before children. */
    private final List<Path> created;

    private JailCgroup(CgroupPlan plan, List<Path> dirs, List<Path> created) {
        this.plan = plan;
        this.dirs = List.copyOf(dirs);
        this.created = List.copyOf(created);
    }

    /** One directory the monitor handles: join it, kill what is left, remove it. */
    public record MonitorEntry(String dir, boolean join, CgroupPlan.Kill kill, boolean remove) {}

    public CgroupVersion version() {
        return plan.version();
    }

    public List<Path> dirs() {
        return dirs;
    }

    /** Creates the cgroup and writes its limits; on failure removes whatever it made. */
    public static JailCgroup create(CgroupPlan plan) throws JailSetupException {
        StaleCgroups.sweepOnce(plan);
        List<Path> created = new ArrayList<>();
        try {
            if (plan.moveSelfTo() != null) moveSelf(Path.of(plan.moveSelfTo()));
            for (String c : plan.enable()) enable(Path.of(plan.parent()), c);
            List<Path> dirs = makeDirs(plan, created);
            for (int i = 0; i < dirs.size(); i++) configure(plan, plan.dirs().get(i), dirs.get(i));
            return new JailCgroup(plan, dirs, created);
        } catch (JailSetupException e) {
            removeQuietly(created);
            throw e;
        }
    }

    private static void moveSelf(Path leaf) throws JailSetupException {
        try {
            Files.createDirectory(leaf);
        } catch (FileAlreadyExistsException e) {
            // made by an earlier jail of this process
        } catch (IOException e) {
            throw failure("create " + leaf, e);
        }
        write(leaf.resolve("cgroup.procs"), Long.toString(ProcessHandle.current().pid()));
    }

    private static void enable(Path parent, String controller) throws JailSetupException {
        write(parent.resolve("cgroup.subtree_control"), "+" + controller);
    }

    private static List<Path> makeDirs(CgroupPlan plan, List<Path> created) throws JailSetupException {
        boolean generated = plan.dirs().getFirst().path().endsWith("/" + CgroupPlan.GENERATED);
        for (int attempt = 0; ; attempt++) {
            String name = "corral-" + ProcessHandle.current().pid() + "-" + SEQUENCE.incrementAndGet();
            List<Path> dirs = new ArrayList<>();
            int mark = created.size();
            try {
                for (CgroupPlan.Dir d : plan.dirs()) {
                    String p = generated ? d.path().substring(0, d.path().length() - CgroupPlan.GENERATED.length()) + name : d.path();
                    Path dir = Path.of(p);
                    if (generated) {
                        Files.createDirectory(dir);
                        created.add(dir);
                    } else {
                        makeWithParents(plan, dir, created);
                    }
                    dirs.add(dir);
                }
                return dirs;
            } catch (FileAlreadyExistsException e) {
                // A cgroup left by an earlier process with the same pid: take the next name.
                removeQuietly(created.subList(mark, created.size()));
                created.subList(mark, created.size()).clear();
                if (attempt >= MAX_NAME_TRIES) throw failure("create a cgroup named " + name, e);
            } catch (IOException e) {
                throw failure("create cgroup", e);
            }
        }
    }

    /** Unit's cgroup path: made with its parents; an existing one must be empty. */
    private static void makeWithParents(CgroupPlan plan, Path dir, List<Path> created) throws IOException, JailSetupException {
        List<Path> missing = new ArrayList<>();
        for (Path p = dir; p != null && !Files.isDirectory(p); p = p.getParent()) missing.addFirst(p);
        for (Path p : missing) {
            if (plan.version() == CgroupVersion.V2 && p != dir) {
                // An intermediate v2 cgroup passes the controllers on to the jail's.
                Files.createDirectory(p);
                created.add(p);
                for (String c : plan.dirs().getFirst().controllers()) enable(p, c);
                continue;
            }
            Files.createDirectory(p);
            created.add(p);
        }
        if (missing.isEmpty() && !read(dir.resolve("cgroup.procs")).isBlank()) {
            throw new JailSetupException("cgroup " + dir + " is in use by other processes; a jail needs a cgroup of its own", 16, 125);
        }
    }

    private static void configure(CgroupPlan plan, CgroupPlan.Dir d, Path dir) throws JailSetupException {
        if (plan.version() == CgroupVersion.V1 && d.controllers().contains("cpuset")) {
            // A new v1 cpuset has no CPUs and no memory nodes: nothing could join it. Inherit both.
            Path parent = dir.getParent();
            write(dir.resolve("cpuset.cpus"), read(parent.resolve("cpuset.cpus")).strip());
            write(dir.resolve("cpuset.mems"), read(parent.resolve("cpuset.mems")).strip());
        }
        for (CgroupPlan.Setting s : d.settings()) {
            Path file = dir.resolve(s.file());
            if (s.optional() && !Files.exists(file)) continue;
            write(file, s.value());
        }
    }

    private static void write(Path file, String value) throws JailSetupException {
        try (OutputStream out = Files.newOutputStream(file, StandardOpenOption.WRITE)) {
            out.write(value.getBytes(StandardCharsets.US_ASCII));
        } catch (NoSuchFileException e) {
            throw new JailSetupException("cgroup: " + file + " does not exist (the kernel or its configuration lacks it)", 2, 125);
        } catch (IOException e) {
            throw new JailSetupException("cgroup: cannot write \"" + value + "\" to " + file + ": " + e.getMessage(), 0, 125);
        }
    }

    private static JailSetupException failure(String what, IOException e) {
        String reason = e instanceof FileAlreadyExistsException ? "already exists"
                : e instanceof java.nio.file.AccessDeniedException ? "permission denied"
                : e instanceof NoSuchFileException ? "no such file or directory" : null;
        if (e instanceof java.nio.file.FileSystemException f) {
            if (reason == null) reason = f.getReason();
            if (f.getFile() != null && !what.contains(f.getFile())) what = what + " " + f.getFile();
        }
        return new JailSetupException("cgroup: " + what + ": " + (reason == null ? e.getMessage() : reason), 0, 125);
    }

    static String read(Path file) {
        return CgroupDetector.read(file);
    }

    /** The directories for the monitor, in order: the jail's (joined), then created parents, deepest first. */
    public List<MonitorEntry> monitorEntries() {
        List<MonitorEntry> out = new ArrayList<>();
        for (int i = 0; i < dirs.size(); i++) {
            Path d = dirs.get(i);
            out.add(new MonitorEntry(d.toString(), true, plan.dirs().get(i).kill(), created.contains(d)));
        }
        for (Path p : created.reversed()) {
            if (!dirs.contains(p)) out.add(new MonitorEntry(p.toString(), false, CgroupPlan.Kill.NONE, true));
        }
        return out;
    }

    /** For a jail that never started: removes what {@link #create} made. */
    public void removeQuietly() {
        removeQuietly(created);
    }

    /**
     * Removes the cgroup once its processes are gone, waiting up to {@code patience}; used when
     * the monitor could not do it. Whatever is still inside after that is left alone.
     */
    public void removeWhenEmpty(java.time.Duration patience) {
        long deadline = System.nanoTime() + patience.toNanos();
        while (System.nanoTime() < deadline && dirs.stream().anyMatch(d -> !read(d.resolve("cgroup.procs")).isBlank())) {
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        removeQuietly(created);
    }

    private static void removeQuietly(List<Path> paths) {
        for (Path p : paths.reversed()) {
            try {
                Files.deleteIfExists(p);
            } catch (IOException ignored) {
                // still in use or already gone: nothing more to do here
            }
        }
    }

    /** The jail's accounting now; -1 for what this host does not tell. */
    public CgroupStats stats() {
        return plan.version() == CgroupVersion.V1 ? statsV1() : statsV2();
    }

    private Path dirWith(String controller) {
        for (int i = 0; i < dirs.size(); i++) {
            if (plan.dirs().get(i).controllers().contains(controller)) return dirs.get(i);
        }
        return null;
    }

    private CgroupStats statsV1() {
        Path mem = dirWith("memory"), pids = dirWith("pids"), acct = dirWith("cpuacct");
        long cpu = acct == null ? -1 : number(acct.resolve("cpuacct.usage"));
        return new CgroupStats("v1", cpu < 0 ? -1 : cpu / 1000,
                mem == null ? -1 : number(mem.resolve("memory.usage_in_bytes")),
                mem == null ? -1 : number(mem.resolve("memory.max_usage_in_bytes")),
                pids == null ? -1 : number(pids.resolve("pids.current")),
                mem == null ? -1 : field(mem.resolve("memory.oom_control"), "oom_kill"));
    }

    private CgroupStats statsV2() {
        Path d = dirs.getFirst();
        boolean mem = Files.exists(d.resolve("memory.current"));
        return new CgroupStats("v2", field(d.resolve("cpu.stat"), "usage_usec"),
                mem ? number(d.resolve("memory.current")) : -1,
                mem ? number(d.resolve("memory.peak")) : -1,
                Files.exists(d.resolve("pids.current")) ? number(d.resolve("pids.current")) : -1,
                mem ? field(d.resolve("memory.events"), "oom_kill") : -1);
    }

    private static long number(Path file) {
        try {
            return Long.parseLong(read(file).strip());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** The value of "key N" in a flat-keyed file such as cpu.stat or memory.events. */
    private static long field(Path file, String key) {
        for (String line : read(file).split("\n")) {
            String[] f = line.trim().split("\\s+");
            if (f.length == 2 && f[0].equals(key)) {
                try {
                    return Long.parseLong(f[1]);
                } catch (NumberFormatException e) {
                    return -1;
                }
            }
        }
        return -1;
    }
}
