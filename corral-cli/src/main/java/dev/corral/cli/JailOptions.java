package dev.corral.cli;

import dev.corral.spec.RootfsOverlay;
import dev.corral.JailBuilder;
import dev.corral.config.AppConfig;
import dev.corral.spec.Capability;
import dev.corral.spec.CgroupSpec;
import dev.corral.spec.Quantities;
import dev.corral.spec.IdMapping;
import dev.corral.spec.Labels;
import dev.corral.spec.MountSpec;
import dev.corral.spec.Namespace;
import dev.corral.spec.Problem;
import dev.corral.spec.Rlimit;
import dev.corral.spec.Seccomp;
import dev.corral.spec.SpecException;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The flags that describe a jail, shared by {@code run} and {@code plan}. */
final class JailOptions {
    /** Keeps a namespace of the caller's (everything is unshared by default). */
    @Option(names = "--share-user", description = "Keep the caller's user namespace (needs root).")
    boolean shareUser;
    @Option(names = "--share-mount", description = "Keep the caller's mount namespace.")
    boolean shareMount;
    @Option(names = "--share-pid", description = "Keep the caller's pid namespace.")
    boolean sharePid;
    @Option(names = "--share-net", description = "Keep the caller's network namespace.")
    boolean shareNet;
    @Option(names = "--share-uts", description = "Keep the caller's uts namespace (hostname).")
    boolean shareUts;
    @Option(names = "--share-ipc", description = "Keep the caller's ipc namespace.")
    boolean shareIpc;
    @Option(names = "--share-cgroup", description = "Keep the caller's cgroup namespace.")
    boolean shareCgroup;
    @Option(names = "--share-time", description = "Keep the caller's time namespace.")
    boolean shareTime;

    @Option(names = "--unshare-user", description = "Unshare the user namespace (the default; for scripts).")
    boolean unshareUser;
    @Option(names = "--unshare-mount", description = "Unshare the mount namespace (the default).")
    boolean unshareMount;
    @Option(names = "--unshare-pid", description = "Unshare the pid namespace (the default).")
    boolean unsharePid;
    @Option(names = "--unshare-net", description = "Unshare the network namespace (the default).")
    boolean unshareNet;
    @Option(names = "--unshare-uts", description = "Unshare the uts namespace (the default).")
    boolean unshareUts;
    @Option(names = "--unshare-ipc", description = "Unshare the ipc namespace (the default).")
    boolean unshareIpc;
    @Option(names = "--unshare-cgroup", description = "Unshare the cgroup namespace (the default).")
    boolean unshareCgroup;
    @Option(names = "--unshare-time", description = "Unshare the time namespace (the default where the kernel has one).")
    boolean unshareTime;

    /** Joins an existing namespace by path (OCI's namespaces[].path) instead of unsharing it. */
    @Option(names = "--join-user", paramLabel = "PATH", description = "Join this user namespace (/proc/PID/ns/user); first, as it owns the others.")
    String joinUser;
    @Option(names = "--join-mount", paramLabel = "PATH", description = "Join this mount namespace (/proc/PID/ns/mnt).")
    String joinMount;
    @Option(names = "--join-pid", paramLabel = "PATH", description = "Join this pid namespace (/proc/PID/ns/pid).")
    String joinPid;
    @Option(names = "--join-net", paramLabel = "PATH", description = "Join this network namespace (/run/netns/NAME, /proc/PID/ns/net).")
    String joinNet;
    @Option(names = "--join-uts", paramLabel = "PATH", description = "Join this uts namespace (/proc/PID/ns/uts).")
    String joinUts;
    @Option(names = "--join-ipc", paramLabel = "PATH", description = "Join this ipc namespace (/proc/PID/ns/ipc).")
    String joinIpc;
    @Option(names = "--join-cgroup", paramLabel = "PATH", description = "Join this cgroup namespace (/proc/PID/ns/cgroup).")
    String joinCgroup;
    @Option(names = "--join-time", paramLabel = "PATH", description = "Join this time namespace (/proc/PID/ns/time).")
    String joinTime;

    @Option(names = "--uid-map", paramLabel = "INSIDE:OUTSIDE:COUNT",
            description = "Map a uid range (repeatable). Default: your euid is 0 inside.")
    List<String> uidMaps = new ArrayList<>();
    @Option(names = "--gid-map", paramLabel = "INSIDE:OUTSIDE:COUNT", description = "Map a gid range (repeatable).")
    List<String> gidMaps = new ArrayList<>();
    @Option(names = "--userns", paramLabel = "auto",
            description = "auto: map ids 0-65535 to a free 65536-id range of the id pool, held while the jail runs.")
    String userns;
    @Option(names = "--id-pool", paramLabel = "START:COUNT",
            description = "With --userns auto: take ranges from these host ids, uids and gids alike (repeatable)."
                    + " Default: your ranges in /etc/subuid and /etc/subgid.")
    List<String> idPool = new ArrayList<>();
    @Option(names = "--id-state", paramLabel = "FILE",
            description = "With --userns auto: where allocated ranges are recorded (default /var/lib/corral/ids.json"
                    + " as root, $XDG_STATE_HOME/corral/ids.json otherwise).")
    Path idState;
    @Option(names = "--uid", paramLabel = "UID", description = "Run as this uid inside.")
    Long uid;
    @Option(names = "--gid", paramLabel = "GID", description = "Run with this gid inside.")
    Long gid;
    @Option(names = "--user", paramLabel = "NAME", description = "Run as this user of the jail's /etc/passwd.")
    String user;
    @Option(names = "--group", paramLabel = "NAME", description = "Run with this group of the jail's /etc/group.")
    String group;

    @Option(names = "--rootfs", paramLabel = "DIR", description = "Use DIR as the root (pivot_root). Default: the host's / read-only.")
    String rootfs;
    @Option(names = "--rootfs-idmap", description = "Show the rootfs through an idmapped mount with the jail's id mapping:"
            + " files owned by 0-65535 on disk are the jail's 0-65535 whatever host range it runs as (--userns auto), without"
            + " a chown. Needs root and ext4, xfs, btrfs, tmpfs or overlayfs; elsewhere see 'corral rootfs shift'.")
    boolean rootfsIdmap;
    @Option(names = "--rootfs-overlay", description = "The --rootfs is a base never written: the jail's changes go to a"
            + " layer of its own (overlayfs), for this run only unless --overlay-upper names where to keep them.")
    boolean rootfsOverlay;
    @Option(names = "--overlay-upper", paramLabel = "DIR", description = "With --rootfs-overlay (implied): keep the jail's"
            + " changes in DIR (made if missing, owned by the jail's root).")
    String overlayUpper;
    @Option(names = "--overlay-work", paramLabel = "DIR", description = "overlayfs's work directory, on the filesystem"
            + " of --overlay-upper (default: DIR.work beside it).")
    String overlayWork;
    @Option(names = "--no-automount", description = "Do not mount /proc, /tmp and /dev by default.")
    boolean noAutomount;

    /** Mount flags keep their order on the command line, so they are collected in one list. */
    final List<MountSpec> mounts = new ArrayList<>();
    final List<Problem> problems = new ArrayList<>();

    @Option(names = "--bind", paramLabel = "SRC[:DST]", description = "Bind SRC to DST (default: the same path).")
    void bind(String value) {
        addBind(value, "--bind", false);
    }

    @Option(names = "--ro-bind", paramLabel = "SRC[:DST]", description = "Bind SRC to DST read-only.")
    void roBind(String value) {
        addBind(value, "--ro-bind", true);
    }

    @Option(names = "--bind-idmap", paramLabel = "SRC[:DST]", description = "Bind SRC to DST through an idmapped mount (as --rootfs-idmap).")
    void bindIdmap(String value) {
        addBind(value, "--bind-idmap", false, true);
    }

    @Option(names = "--ro-bind-idmap", paramLabel = "SRC[:DST]", description = "Bind SRC to DST read-only through an idmapped mount.")
    void roBindIdmap(String value) {
        addBind(value, "--ro-bind-idmap", true, true);
    }

    private void addBind(String value, String flag, boolean readOnly) {
        addBind(value, flag, readOnly, false);
    }

    private void addBind(String value, String flag, boolean readOnly, boolean idmap) {
        String[] sd = splitPair(value, flag);
        if (sd != null) mounts.add(new MountSpec.Bind(sd[0], sd[1], readOnly, idmap, flag + " " + value));
    }

    @Option(names = "--tmpfs", paramLabel = "DST", description = "Mount a fresh tmpfs on DST.")
    void tmpfs(String dst) {
        mounts.add(new MountSpec.Tmpfs(dst, "--tmpfs " + dst));
    }

    @Option(names = "--proc", paramLabel = "DST", description = "Mount a fresh procfs on DST.")
    void proc(String dst) {
        mounts.add(new MountSpec.Proc(dst, "--proc " + dst));
    }

    @Option(names = "--dev", paramLabel = "DST", description = "Mount a minimal /dev on DST.")
    void dev(String dst) {
        mounts.add(new MountSpec.Dev(dst, "--dev " + dst));
    }

    @Option(names = "--dir", paramLabel = "DST", description = "Create an empty directory DST.")
    void dir(String dst) {
        mounts.add(new MountSpec.Dir(dst, "--dir " + dst));
    }

    @Option(names = "--symlink", paramLabel = "TARGET:DST", description = "Create a symlink DST pointing at TARGET.")
    void symlink(String value) {
        int colon = value.lastIndexOf(':');
        if (colon <= 0 || colon == value.length() - 1) {
            problems.add(new Problem("--symlink " + value, "expected TARGET:DST"));
            return;
        }
        mounts.add(new MountSpec.Symlink(value.substring(0, colon), value.substring(colon + 1), "--symlink " + value));
    }

    @Option(names = "--hostname", paramLabel = "NAME", description = "Hostname inside (uts namespace).")
    String hostname;
    @Option(names = "--chdir", paramLabel = "DIR", description = "Working directory inside (default /).")
    String chdir;
    @Option(names = "--env", paramLabel = "KEY=VALUE", description = "Set a variable (repeatable).")
    List<String> env = new ArrayList<>();
    @Option(names = "--clear-env", description = "Start from an empty environment instead of yours.")
    boolean clearEnv;
    @Option(names = "--as-pid-1", description = "Run the program as PID 1 (no init; NGINX Unit's behaviour).")
    boolean asPid1;
    @Option(names = "--config", paramLabel = "FILE", description = "One application in NGINX Unit's JSON shape; flags add to it.")
    Path config;

    @Option(names = "--cap-add", paramLabel = "CAP[,CAP...]", split = ",",
            description = "Give the program a capability (over its own user namespace) beyond the default set; ALL for every one.")
    List<String> capAdd = new ArrayList<>();
    @Option(names = "--cap-drop", paramLabel = "CAP[,CAP...]", split = ",",
            description = "Take a capability away; ALL for every one. Default set: " + DEFAULT_CAPS + ".")
    List<String> capDrop = new ArrayList<>();
    @Option(names = "--new-privs", description = "Do not set no_new_privs (setuid binaries work again). Not recommended.")
    boolean newPrivs;
    @Option(names = "--seccomp", paramLabel = "FILE|unconfined",
            description = "An OCI/Docker seccomp profile instead of corral's default filter, or 'unconfined' for none.")
    String seccomp;
    @Option(names = "--allow-userns", description = "Let the program create nested user namespaces.")
    boolean allowUserns;
    @Option(names = "--rlimit", paramLabel = "NAME=SOFT[:HARD]",
            description = "A resource limit, e.g. nofile=1024:4096, as=2G, core=0 (repeatable; 'unlimited' allowed).")
    List<String> rlimits = new ArrayList<>();
    @Option(names = "--proc-hidepid", paramLabel = "MODE",
            description = "hidepid= for the jail's /proc: 0, 1, 2, 4, off, noaccess, invisible, ptraceable.")
    String procHidepid;
    @Option(names = "--no-new-session", description = "Keep the caller's session (default: setsid).")
    boolean noNewSession;

    @Option(names = "--memory", paramLabel = "SIZE", description = "Memory limit of the whole jail, e.g. 256M or 1G (no swap unless --memory-swap).")
    String memory;
    @Option(names = "--memory-swap", paramLabel = "SIZE", description = "Swap the jail may use on top of --memory (default 0).")
    String memorySwap;
    @Option(names = "--pids", paramLabel = "N", description = "Most processes and threads in the jail at once.")
    String pids;
    @Option(names = "--cpu", paramLabel = "CORES", description = "CPU time limit: cores (0.5, 2) or a percentage of one core (50%%).")
    String cpu;
    @Option(names = "--cpu-weight", paramLabel = "N", description = "Relative CPU share, 1-10000 (default 100).")
    String cpuWeight;
    @Option(names = "--io-weight", paramLabel = "N", description = "Relative block I/O share, 1-10000 (default 100; 1-1000 on cgroup v1).")
    String ioWeight;
    @Option(names = "--cpuset", paramLabel = "CPUS", description = "CPUs the jail may use, e.g. 0-1 or 0,2.")
    String cpuset;
    @Option(names = "--cgroup-path", paramLabel = "PATH",
            description = "The jail's cgroup: relative to corral's own, or absolute from the hierarchy's root (NGINX Unit's isolation.cgroup.path).")
    String cgroupPath;
    @Option(names = "--no-cgroup", description = "No cgroup of the jail's own (no limits, no accounting, no whole-tree kill).")
    boolean noCgroup;

    static final String DEFAULT_CAPS = "CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP NET_BIND_SERVICE SYS_CHROOT";

    @Parameters(paramLabel = "COMMAND", arity = "0..*", description = "The program and its arguments (after --).")
    List<String> command = new ArrayList<>();

    private static final Map<String, String> FLAG_LABELS = Map.ofEntries(
            Map.entry("command", "COMMAND"), Map.entry("namespaces", "--share-*"),
            Map.entry("uidMap", "--uid-map"), Map.entry("gidMap", "--gid-map"), Map.entry("rootfs", "--rootfs"),
            Map.entry("rootfsIdmap", "--rootfs-idmap"),
            Map.entry("rootfsOverlay", "--rootfs-overlay"), Map.entry("rootfsUpper", "--overlay-upper"),
            Map.entry("rootfsWork", "--overlay-work"),
            Map.entry("mounts", "mount flags"), Map.entry("hostname", "--hostname"),
            Map.entry("workingDirectory", "--chdir"), Map.entry("environment", "--env"), Map.entry("uid", "--uid"),
            Map.entry("gid", "--gid"), Map.entry("user", "--user"), Map.entry("group", "--group"),
            Map.entry("automount.procfs", "--proc"), Map.entry("automount.tmpfs", "--tmpfs"),
            Map.entry("procHidepid", "--proc-hidepid"), Map.entry("limits.memory", "--memory"),
            Map.entry("limits.memorySwap", "--memory-swap"), Map.entry("limits.pids", "--pids"),
            Map.entry("limits.cpu", "--cpu"), Map.entry("limits.cpuWeight", "--cpu-weight"),
            Map.entry("limits.ioWeight", "--io-weight"), Map.entry("limits.cpuset", "--cpuset"),
            Map.entry("cgroupPath", "--cgroup-path"), Map.entry("cgroup", "--stats"), Map.entry("autoIds", "--userns auto"),
            Map.entry("join.user", "--join-user"), Map.entry("join.mount", "--join-mount"),
            Map.entry("join.pid", "--join-pid"), Map.entry("join.net", "--join-net"), Map.entry("join.uts", "--join-uts"),
            Map.entry("join.ipc", "--join-ipc"), Map.entry("join.cgroup", "--join-cgroup"),
            Map.entry("join.time", "--join-time"));

    /** The builder these flags describe, on top of --config when given. */
    JailBuilder toBuilder() throws SpecException {
        JailBuilder b = config != null ? AppConfig.load(config) : new JailBuilder().labels(Labels.of(FLAG_LABELS));
        applyNamespaces(b);
        for (String m : uidMaps) parseMap(m, "--uid-map").ifPresent(b::uidMap);
        for (String m : gidMaps) parseMap(m, "--gid-map").ifPresent(b::gidMap);
        applyIdRange(b);
        if (uid != null) b.uid(uid);
        if (gid != null) b.gid(gid);
        if (user != null) b.user(user);
        if (group != null) b.group(group);
        if (rootfs != null) b.rootfs(absolute(rootfs));
        if (rootfsIdmap) b.rootfsIdmap(true);
        if (rootfsOverlay || overlayUpper != null || overlayWork != null) {
            b.rootfsOverlay(new RootfsOverlay(overlayUpper == null ? null : absolute(overlayUpper),
                    overlayWork == null ? null : absolute(overlayWork), null, null));
        }
        if (noAutomount) b.automount(dev.corral.spec.Automount.NONE);
        for (MountSpec m : mounts) b.mount(m);
        if (hostname != null) b.hostname(hostname);
        if (chdir != null) b.workingDirectory(chdir);
        for (String kv : env) {
            int eq = kv.indexOf('=');
            if (eq <= 0) problems.add(new Problem("--env " + kv, "expected KEY=VALUE"));
            else b.env(kv.substring(0, eq), kv.substring(eq + 1));
        }
        if (clearEnv) b.clearEnvironment(true);
        if (asPid1) b.init(false);
        applyHardening(b);
        applyLimits(b);
        if (!command.isEmpty()) b.command(command);
        else if (config == null) problems.add(new Problem("COMMAND", "no program given: corral run [OPTIONS] -- COMMAND [ARGS...]"));
        if (!problems.isEmpty()) throw new SpecException(problems);
        idmapWarnings(b.build());
        return b;
    }

    /**
     * Through a writable idmapped mount the jail's root writes as the owner on disk: as host
     * root. A setuid file it leaves there is setuid root for the host. Said once per mount.
     */
    private void idmapWarnings(dev.corral.spec.JailSpec spec) {
        String why = ": the jail's root writes there as uid 0 on disk (a setuid file it makes is setuid root on the host);";
        if (spec.rootfsIdmap() && spec.rootfs() != null && spec.overlay() == null) {
            warnings.add(spec.labels().of("rootfsIdmap") + why + " add --rootfs-overlay to keep " + spec.rootfs() + " unwritten");
        }
        for (MountSpec m : spec.mounts()) {
            if (m instanceof MountSpec.Bind bind && bind.idmap() && !bind.readOnly()) {
                warnings.add(bind.origin() + why + " use --ro-bind-idmap unless " + bind.source() + " is the jail's alone");
            }
        }
    }

    /**
     * --userns auto, or "uidmap": "auto" in --config: a range from --id-pool (else the caller's
     * subordinate ids), recorded in --id-state (else the default file), held while the jail runs.
     */
    private void applyIdRange(JailBuilder b) {
        if (userns != null) {
            if (userns.equals("auto")) b.autoIdRange();
            else problems.add(new Problem("--userns " + userns, "expected \"auto\""));
        }
        List<dev.corral.ids.SubIdRange> pool = new ArrayList<>();
        for (String p : idPool) {
            try {
                pool.add(dev.corral.ids.IdPool.parseRange(p));
            } catch (IllegalArgumentException e) {
                problems.add(new Problem("--id-pool " + p, e.getMessage()));
            }
        }
        if (idPool.isEmpty() && idState == null) return;
        if (b.build().autoIds() == null) {
            problems.add(new Problem(idPool.isEmpty() ? "--id-state" : "--id-pool", "only with --userns auto (or \"uidmap\": \"auto\")"));
            return;
        }
        try {
            var allocator = dev.corral.ids.RangeAllocator.of(idState != null ? Path.of(absolute(idState.toString())) : null, pool);
            b.autoIdRange(allocator, null);
        } catch (IllegalArgumentException e) {
            problems.add(new Problem("--id-pool", e.getMessage()));
        }
    }

    /** Warnings for the user: things asked for that make the jail weaker. */
    final List<String> warnings = new ArrayList<>();

    private void applyHardening(JailBuilder b) {
        for (String c : capDrop) capability(c, "--cap-drop", b::dropCapability, () -> b.capabilities(java.util.Set.of()));
        for (String c : capAdd) capability(c, "--cap-add", b::addCapability,
                () -> b.capabilities(java.util.EnumSet.allOf(Capability.class)));
        if (newPrivs) {
            b.noNewPrivs(false);
            warnings.add("--new-privs: no_new_privs is off; setuid programs in the jail can gain privileges");
        }
        if (seccomp != null) {
            if (seccomp.equals("unconfined")) {
                b.seccomp(Seccomp.UNCONFINED);
                warnings.add("--seccomp unconfined: no seccomp filter (module loading, keyctl, bpf, TIOCSTI,"
                        + " nested user namespaces... are left to the kernel's other checks)");
            } else {
                b.seccomp(Seccomp.profile(absolute(seccomp), "--seccomp " + seccomp));
            }
        }
        if (allowUserns) b.allowUserNamespaces(true);
        for (String r : rlimits) parseRlimit(r).ifPresent(b::rlimit);
        if (procHidepid != null) b.procHidepid(procHidepid);
        if (noNewSession) b.newSession(false);
    }

    private void applyLimits(JailBuilder b) {
        size(memory, "--memory", b::memoryLimit);
        size(memorySwap, "--memory-swap", b::memorySwapLimit);
        whole(pids, "--pids", b::pidsLimit);
        if (cpu != null) {
            try {
                b.cpuLimit(Quantities.cores(cpu));
            } catch (IllegalArgumentException e) {
                problems.add(new Problem("--cpu " + cpu, e.getMessage()));
            }
        }
        whole(cpuWeight, "--cpu-weight", b::cpuWeight);
        whole(ioWeight, "--io-weight", b::ioWeight);
        if (cpuset != null) b.cpuset(cpuset);
        if (cgroupPath != null) b.cgroupPath(cgroupPath);
        if (noCgroup) {
            if (memory != null || memorySwap != null || pids != null || cpu != null || cpuWeight != null
                    || ioWeight != null || cpuset != null || cgroupPath != null) {
                problems.add(new Problem("--no-cgroup", "conflicts with the limits and --cgroup-path, which need a cgroup"));
            }
            b.cgroup(CgroupSpec.Mode.NONE);
        }
    }

    private void size(String value, String flag, java.util.function.LongConsumer set) {
        if (value == null) return;
        try {
            set.accept(Quantities.bytes(value));
        } catch (IllegalArgumentException e) {
            problems.add(new Problem(flag + " " + value, e.getMessage()));
        }
    }

    private void whole(String value, String flag, java.util.function.LongConsumer set) {
        if (value == null) return;
        try {
            set.accept(Long.parseLong(value.strip()));
        } catch (NumberFormatException e) {
            problems.add(new Problem(flag + " " + value, "expected a whole number"));
        }
    }

    private void capability(String name, String flag, java.util.function.Consumer<Capability> one, Runnable all) {
        if (name.equalsIgnoreCase("ALL")) {
            all.run();
            return;
        }
        Capability.parse(name).ifPresentOrElse(one, () -> problems.add(new Problem(flag + " " + name,
                "unknown capability; expected a name such as NET_ADMIN or CAP_NET_ADMIN, or ALL")));
    }

    private java.util.Optional<Rlimit> parseRlimit(String value) {
        String where = "--rlimit " + value;
        int eq = value.indexOf('=');
        if (eq <= 0) {
            problems.add(new Problem(where, "expected NAME=SOFT[:HARD]"));
            return java.util.Optional.empty();
        }
        var resource = Rlimit.Resource.parse(value.substring(0, eq));
        if (resource.isEmpty()) {
            problems.add(new Problem(where, "unknown resource; expected one of "
                    + java.util.Arrays.stream(Rlimit.Resource.values()).map(r -> r.name().toLowerCase()).toList()));
            return java.util.Optional.empty();
        }
        String[] sh = value.substring(eq + 1).split(":", -1);
        var soft = Rlimit.parseValue(sh[0]);
        var hard = sh.length > 1 ? Rlimit.parseValue(sh[1]) : soft;
        if (sh.length > 2 || soft.isEmpty() || hard.isEmpty()) {
            problems.add(new Problem(where, "expected whole numbers (optionally with K, M or G) or 'unlimited'"));
            return java.util.Optional.empty();
        }
        return java.util.Optional.of(new Rlimit(resource.get(), soft.get(), hard.get(), where));
    }

    private void applyNamespaces(JailBuilder b) {
        Object[][] table = {
                {Namespace.USER, shareUser, unshareUser, joinUser}, {Namespace.MOUNT, shareMount, unshareMount, joinMount},
                {Namespace.PID, sharePid, unsharePid, joinPid}, {Namespace.NET, shareNet, unshareNet, joinNet},
                {Namespace.UTS, shareUts, unshareUts, joinUts}, {Namespace.IPC, shareIpc, unshareIpc, joinIpc},
                {Namespace.CGROUP, shareCgroup, unshareCgroup, joinCgroup}, {Namespace.TIME, shareTime, unshareTime, joinTime}};
        for (Object[] row : table) {
            Namespace ns = (Namespace) row[0];
            boolean share = (Boolean) row[1], unshare = (Boolean) row[2];
            String join = (String) row[3];
            String name = ns.userName();
            if (share && unshare) {
                problems.add(new Problem("--share-" + name, "conflicts with --unshare-" + name));
            } else if (join != null && (share || unshare)) {
                problems.add(new Problem("--join-" + name + " " + join, "conflicts with --" + (share ? "share-" : "unshare-") + name));
            } else if (share) {
                b.share(ns);
            } else if (unshare) {
                b.unshare(ns);
            } else if (join != null) {
                b.join(ns, join.isEmpty() ? join : absolute(join));
            }
        }
    }

    private java.util.Optional<IdMapping> parseMap(String value, String flag) {
        String[] f = value.split(":", -1);
        String where = flag + " " + value;
        if (f.length != 3) {
            problems.add(new Problem(where, "expected INSIDE:OUTSIDE:COUNT"));
            return java.util.Optional.empty();
        }
        try {
            return java.util.Optional.of(new IdMapping(Long.parseLong(f[0]), Long.parseLong(f[1]), Long.parseLong(f[2]), where));
        } catch (NumberFormatException e) {
            problems.add(new Problem(where, "expected three whole numbers INSIDE:OUTSIDE:COUNT"));
            return java.util.Optional.empty();
        }
    }

    private String[] splitPair(String value, String flag) {
        int colon = value.indexOf(':');
        String src = colon < 0 ? value : value.substring(0, colon);
        String dst = colon < 0 ? value : value.substring(colon + 1);
        if (src.isEmpty() || dst.isEmpty()) {
            problems.add(new Problem(flag + " " + value, "expected SRC[:DST]"));
            return null;
        }
        return new String[] {absolute(src), colon < 0 ? absolute(src) : dst};
    }

    private static String absolute(String path) {
        return Path.of(path).toAbsolutePath().normalize().toString();
    }
}
