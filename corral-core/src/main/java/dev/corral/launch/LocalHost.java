package dev.corral.launch;

import dev.corral.ids.SubIdRange;
import dev.corral.ids.SubIds;
import dev.corral.plan.HostView;
import dev.corral.plan.NamespaceFile;
import dev.corral.spec.Namespace;
import dev.corral.sys.NamespaceFiles;
import dev.corral.sys.NativeException;
import dev.corral.sys.Libc;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The {@link HostView} of the machine this JVM runs on. */
public final class LocalHost implements HostView {
    private static final long MAX_TEXT = 1 << 20;
    /** From /proc, not geteuid(2): the planner needs them, and should not wait for a cold JVM's first native call. */
    private final int euid;
    private final int egid;
    private volatile String userName;

    @Override public int euid() { return euid; }

    /** "v1" or "v2" to drive that cgroup interface, null to decide from the host (and CORRAL_CGROUP). */
    private final String cgroupInterface;

    public LocalHost() {
        this(null);
    }

    public LocalHost(String cgroupInterface) {
        this.cgroupInterface = cgroupInterface;
        int[] ids = dev.corral.sys.KernelFiles.effectiveIds();
        this.euid = ids[0];
        this.egid = ids[1];
    }

    @Override
    public dev.corral.cgroup.CgroupView cgroups() {
        return cgroupInterface == null ? dev.corral.cgroup.CgroupDetector.detect()
                : dev.corral.cgroup.CgroupDetector.detect(cgroupInterface);
    }

    @Override public int egid() { return egid; }

    @Override public Map<String, String> environment() { return System.getenv(); }

    @Override public List<SubIdRange> subuids() { return SubIds.of(Path.of("/etc/subuid"), userName(), euid); }

    @Override public List<SubIdRange> subgids() { return SubIds.of(Path.of("/etc/subgid"), userName(), euid); }

    @Override
    public boolean idMapHelpers() {
        return Files.isExecutable(Path.of("/usr/bin/newuidmap")) && Files.isExecutable(Path.of("/usr/bin/newgidmap"));
    }

    @Override
    public PathKind kind(String path) {
        // One stat (a default jail asks this for each of its /dev nodes at every start).
        java.nio.file.attribute.BasicFileAttributes a;
        try {
            a = Files.readAttributes(Path.of(path), java.nio.file.attribute.BasicFileAttributes.class);
        } catch (IOException | SecurityException e) {
            return PathKind.MISSING; // as Files.exists has it: not known to exist
        }
        if (a.isDirectory()) return PathKind.DIRECTORY;
        return a.isRegularFile() ? PathKind.FILE : PathKind.OTHER;
    }

    @Override
    public String whyMissing(String path) {
        try {
            Files.readAttributes(Path.of(path), java.nio.file.attribute.BasicFileAttributes.class);
            return "does not exist";
        } catch (java.nio.file.AccessDeniedException e) {
            return "is not reachable by uid " + euid + " (permission denied on the way)";
        } catch (IOException | SecurityException e) {
            return "does not exist";
        }
    }

    @Override
    public long[] rlimit(dev.corral.spec.Rlimit.Resource resource) {
        return dev.corral.sys.Libc.getrlimit(resource.number());
    }

    /** Every limit of this process ({soft, hard}, -1 meaning unlimited), asked of the kernel. */
    public static Map<dev.corral.spec.Rlimit.Resource, long[]> ownRlimits() {
        Map<dev.corral.spec.Rlimit.Resource, long[]> out = new java.util.EnumMap<>(dev.corral.spec.Rlimit.Resource.class);
        for (dev.corral.spec.Rlimit.Resource r : dev.corral.spec.Rlimit.Resource.values()) {
            out.put(r, dev.corral.sys.Libc.getrlimit(r.number()));
        }
        return out;
    }

    /** Every limit from the text of a /proc/PID/limits file, split once. */
    public static Map<dev.corral.spec.Rlimit.Resource, long[]> rlimits(String limitsText) {
        String[] lines = limitsText.split("\n");
        Map<dev.corral.spec.Rlimit.Resource, long[]> out = new java.util.EnumMap<>(dev.corral.spec.Rlimit.Resource.class);
        for (dev.corral.spec.Rlimit.Resource r : dev.corral.spec.Rlimit.Resource.values()) out.put(r, rlimitOf(lines, r));
        return out;
    }

    private static long[] rlimitOf(String[] lines, dev.corral.spec.Rlimit.Resource resource) {
        // /proc/PID/limits lists the resources in RLIMIT_* order after a header line.
        int row = resource.number() + 1;
        if (row >= lines.length || lines[row].length() <= 26) return new long[] {-1, -1};
        String[] f = lines[row].substring(26).trim().split("\\s+");
        return new long[] {limitValue(f[0]), limitValue(f.length > 1 ? f[1] : f[0])};
    }

    private static long limitValue(String s) {
        try {
            return s.equals("unlimited") ? -1 : Long.parseLong(s);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    @Override
    public boolean canRaiseHardLimits() {
        String status = readFile("/proc/self/status").orElse("");
        long capEff = status.lines().filter(l -> l.startsWith("CapEff:")).findFirst()
                .map(l -> Long.parseUnsignedLong(l.substring(7).trim(), 16)).orElse(0L);
        boolean initialUserns = readFile("/proc/self/uid_map").map(m -> m.trim().split("\\s+"))
                .map(f -> f.length == 3 && f[0].equals("0") && f[1].equals("0") && f[2].equals("4294967295"))
                .orElse(false);
        return initialUserns && (capEff & (1L << 24)) != 0; // CAP_SYS_RESOURCE
    }

    @Override
    public List<Entry> list(String dir) {
        try (var stream = Files.list(Path.of(dir))) {
            return stream.sorted().map(LocalHost::entry).toList();
        } catch (IOException | java.io.UncheckedIOException e) {
            return List.of();
        }
    }

    private static Entry entry(Path p) {
        String name = p.getFileName().toString();
        if (Files.isSymbolicLink(p)) {
            try {
                return new Entry(name, PathKind.SYMLINK, Files.readSymbolicLink(p).toString());
            } catch (IOException e) {
                return new Entry(name, PathKind.OTHER, null);
            }
        }
        if (Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) return new Entry(name, PathKind.DIRECTORY, null);
        if (Files.isRegularFile(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) return new Entry(name, PathKind.FILE, null);
        return new Entry(name, PathKind.OTHER, null);
    }

    @Override
    public Optional<String> realPath(String path) {
        try {
            return Optional.of(Path.of(path).toRealPath().toString());
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    @Override
    public Optional<String> readFile(String path) {
        try {
            Path p = Path.of(path);
            if (!Files.isRegularFile(p) || Files.size(p) > MAX_TEXT) return Optional.empty();
            return Optional.of(Files.readString(p));
        } catch (IOException | java.io.UncheckedIOException e) {
            return Optional.empty();
        }
    }

    @Override
    public NamespaceFile namespaceFile(String path) {
        int fd;
        try {
            fd = NamespaceFiles.open(path);
        } catch (NativeException e) {
            return NamespaceFile.not(problemOf(e));
        }
        try {
            NamespaceFiles.Info info = NamespaceFiles.info(fd);
            Optional<Namespace> type = Namespace.ofCloneFlag(info.type());
            if (type.isEmpty()) return NamespaceFile.not("a namespace of a type corral does not know (0x" + Long.toHexString(info.type()) + ")");
            boolean callers;
            try {
                callers = info.id().equals(NamespaceFiles.callers(type.get().procName()));
            } catch (IOException e) {
                callers = false;
            }
            return NamespaceFile.of(type.get(), info.id(), info.owners(), callers);
        } catch (NativeException e) {
            return NamespaceFile.not(problemOf(e));
        } finally {
            Libc.close(fd);
        }
    }

    /** Why a path cannot be joined, in words. */
    static String problemOf(NativeException e) {
        return switch (e.errno()) {
            case 2 -> "no such file";
            case NamespaceFiles.ENOTTY -> "not a namespace file";
            case 13 -> "permission denied";
            default -> e.getMessage();
        };
    }

    /** The caller's login name from /etc/passwd (subuid files may name users either way). */
    private String userName() {
        String name = userName;
        if (name == null) {
            name = readFile("/etc/passwd").flatMap(text -> text.lines()
                    .map(l -> l.split(":"))
                    .filter(f -> f.length > 2 && f[2].equals(Integer.toString(euid)))
                    .map(f -> f[0]).findFirst()).orElse(Integer.toString(euid));
            userName = name;
        }
        return name;
    }

    @Override
    public Optional<Filesystem> filesystem(String path) {
        Path p = Path.of(path).toAbsolutePath().normalize();
        while (p != null && !Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) p = p.getParent();
        if (p == null) return Optional.empty();
        try {
            return Optional.of(new Filesystem(dev.corral.sys.FileSystemTypes.of(p.toString()),
                    ((Number) Files.getAttribute(p, "unix:dev")).longValue()));
        } catch (IOException | UnsupportedOperationException e) {
            return Optional.empty();
        }
    }
}
