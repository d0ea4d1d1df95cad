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
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParseResult;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The flags that describe a jail, shared by {@code run} and {@code plan}; declared in code, not
 * with picocli's annotations (see {@link Flags} for why).
 */
final class JailOptions {
    private final Flags flags = new Flags();

    /** Keeps a namespace of the caller's (everything is unshared by default). */
    final Flags.Flag shareUser = flags.flag("--share-user", "Keep the caller's user namespace (needs root).");
    final Flags.Flag shareMount = flags.flag("--share-mount", "Keep the caller's mount namespace.");
    final Flags.Flag sharePid = flags.flag("--share-pid", "Keep the caller's pid namespace.");
    final Flags.Flag shareNet = flags.flag("--share-net", "Keep the caller's network namespace.");
    final Flags.Flag shareUts = flags.flag("--share-uts", "Keep the caller's uts namespace (hostname).");
    final Flags.Flag shareIpc = flags.flag("--share-ipc", "Keep the caller's ipc namespace.");
    final Flags.Flag shareCgroup = flags.flag("--share-cgroup", "Keep the caller's cgroup namespace.");
    final Flags.Flag shareTime = flags.flag("--share-time", "Keep the caller's time namespace.");

    final Flags.Flag unshareUser = flags.flag("--unshare-user", "Unshare the user namespace (the default; for scripts).");
    final Flags.Flag unshareMount = flags.flag("--unshare-mount", "Unshare the mount namespace (the default).");
    final Flags.Flag unsharePid = flags.flag("--unshare-pid", "Unshare the pid namespace (the default).");
    final Flags.Flag unshareNet = flags.flag("--unshare-net", "Unshare the network namespace (the default).");
    final Flags.Flag unshareUts = flags.flag("--unshare-uts", "Unshare the uts namespace (the default).");
    final Flags.Flag unshareIpc = flags.flag("--unshare-ipc", "Unshare the ipc namespace (the default).");
    final Flags.Flag unshareCgroup = flags.flag("--unshare-cgroup", "Unshare the cgroup namespace (the default).");
    final Flags.Flag unshareTime = flags.flag("--unshare-time", "Unshare the time namespace (the default where the kernel has one).");

    /** Joins an existing namespace by path (OCI's namespaces[].path) instead of unsharing it. */
    final Flags.Value<String> joinUser = flags.value("--join-user", "PATH", "Join this user namespace (/proc/PID/ns/user); first, as it owns the others.");
    final Flags.Value<String> joinMount = flags.value("--join-mount", "PATH", "Join this mount namespace (/proc/PID/ns/mnt).");
    final Flags.Value<String> joinPid = flags.value("--join-pid", "PATH", "Join this pid namespace (/proc/PID/ns/pid).");
    final Flags.Value<String> joinNet = flags.value("--join-net", "PATH", "Join this network namespace (/run/netns/NAME, /proc/PID/ns/net).");
    final Flags.Value<String> joinUts = flags.value("--join-uts", "PATH", "Join this uts namespace (/proc/PID/ns/uts).");
    final Flags.Value<String> joinIpc = flags.value("--join-ipc", "PATH", "Join this ipc namespace (/proc/PID/ns/ipc).");
    final Flags.Value<String> joinCgroup = flags.value("--join-cgroup", "PATH", "Join this cgroup namespace (/proc/PID/ns/cgroup).");
    final Flags.Value<String> joinTime = flags.value("--join-time", "PATH", "Join this time namespace (/proc/PID/ns/time).");

    final Flags.Values uidMaps = flags.repeatable("--uid-map", "INSIDE:OUTSIDE:COUNT",
            "Map a uid range (repeatable). Default: your euid is 0 inside.");
    final Flags.Values gidMaps = flags.repeatable("--gid-map", "INSIDE:OUTSIDE:COUNT", "Map a gid range (repeatable).");
    final Flags.Value<String> userns = flags.value("--userns", "auto",
            "auto: map ids 0-65535 to a free 65536-id range of the id pool, held while the jail runs.");
    final Flags.Values idPool = flags.repeatable("--id-pool", "START:COUNT",
            "With --userns auto: take ranges from these host ids, uids and gids alike (repeatable)."
                    + " Default: your ranges in /etc/subuid and /etc/subgid.");
    final Flags.Value<Path> idState = flags.value("--id-state", "FILE", Path.class,
            "With --userns auto: where allocated ranges are recorded (default /var/lib/corral/ids.json"
                    + " as root, $XDG_STATE_HOME/corral/ids.json otherwise).");
    final Flags.Value<Long> uid = flags.value("--uid", "UID", Long.class, "Run as this uid inside.");
    final Flags.Value<Long> gid = flags.value("--gid", "GID", Long.class, "Run with this gid inside.");
    final Flags.Value<String> user = flags.value("--user", "NAME", "Run as this user of the jail's /etc/passwd.");
    final Flags.Value<String> group = flags.value("--group", "NAME", "Run with this group of the jail's /etc/group.");

    final Flags.Value<String> rootfs = flags.value("--rootfs", "DIR", "Use DIR as the root (pivot_root). Default: the host's / read-only.");
    final Flags.Flag rootfsIdmap = flags.flag("--rootfs-idmap", "Show the rootfs through an idmapped mount with the jail's id mapping:"
            + " files owned by 0-65535 on disk are the jail's 0-65535 whatever host range it runs as (--userns auto), without"
            + " a chown. Needs root and ext4, xfs, btrfs, tmpfs or overlayfs; elsewhere see 'corral rootfs shift'.");
    final Flags.Flag rootfsOverlay = flags.flag("--rootfs-overlay", "The --rootfs is a base never written: the jail's changes go to a"
            + " layer of its own (overlayfs), for this run only unless --overlay-upper names where to keep them.");
    final Flags.Value<String> overlayUpper = flags.value("--overlay-upper", "DIR", "With --rootfs-overlay (implied): keep the jail's"
            + " changes in DIR (made if missing, owned by the jail's root).");
    final Flags.Value<String> overlayWork = flags.value("--overlay-work", "DIR", "overlayfs's work directory, on the filesystem"
            + " of --overlay-upper (default: DIR.work beside it).");
    final Flags.Flag noAutomount = flags.flag("--no-automount", "Do not mount /proc, /tmp and /dev by default.");

    /** The mount flags, each repeatable: the mounts are made in their order on the command line, across flags. */
    final Flags.Values bind = flags.repeatable("--bind", "SRC[:DST]", "Bind SRC to DST (default: the same path).");
    final Flags.Values roBind = flags.repeatable("--ro-bind", "SRC[:DST]", "Bind SRC to DST read-only.");
    final Flags.Values bindIdmap = flags.repeatable("--bind-idmap", "SRC[:DST]", "Bind SRC to DST through an idmapped mount (as --rootfs-idmap).");
    final Flags.Values roBindIdmap = flags.repeatable("--ro-bind-idmap", "SRC[:DST]", "Bind SRC to DST read-only through an idmapped mount.");
    final Flags.Values tmpfs = flags.repeatable("--tmpfs", "DST", "Mount a fresh tmpfs on DST.");
    final Flags.Values proc = flags.repeatable("--proc", "DST", "Mount a fresh procfs on DST.");
    final Flags.Values devMount = flags.repeatable("--dev", "DST", "Mount a minimal /dev on DST.");
    final Flags.Values dir = flags.repeatable("--dir", "DST", "Create an empty directory DST.");
    final Flags.Values symlink = flags.repeatable("--symlink", "TARGET:DST", "Create a symlink DST pointing at TARGET.");
    private final List<Flags.Values> mountFlags = List.of(bind, roBind, bindIdmap, roBindIdmap, tmpfs, proc, devMount, dir, symlink);

    final Flags.Value<String> hostname = flags.value("--hostname", "NAME", "Hostname inside (uts namespace).");
    final Flags.Value<String> chdir = flags.value("--chdir", "DIR", "Working directory inside (default /).");
    final Flags.Values env = flags.repeatable("--env", "KEY=VALUE", "Set a variable (repeatable).");
    final Flags.Flag clearEnv = flags.flag("--clear-env", "Start from an empty environment instead of yours.");
    final Flags.Flag asPid1 = flags.flag("--as-pid-1", "Run the program as PID 1 (no init; NGINX Unit's behaviour).");
    final Flags.Value<Path> config = flags.value("--config", "FILE", Path.class, "One application in NGINX Unit's JSON shape; flags add to it.");

    static final String DEFAULT_CAPS = "CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP NET_BIND_SERVICE SYS_CHROOT";

    final Flags.Values capAdd = flags.repeatable("--cap-add", "CAP[,CAP...]", ",",
            "Give the program a capability (over its own user namespace) beyond the default set; ALL for every one.");
    final Flags.Values capDrop = flags.repeatable("--cap-drop", "CAP[,CAP...]", ",",
            "Take a capability away; ALL for every one. Default set: " + DEFAULT_CAPS + ".");
    final Flags.Flag newPrivs = flags.flag("--new-privs", "Do not set no_new_privs (setuid binaries work again). Not recommended.");
    final Flags.Value<String> seccomp = flags.value("--seccomp", "FILE|unconfined",
            "An OCI/Docker seccomp profile instead of corral's default filter, or 'unconfined' for none.");
    final Flags.Flag allowUserns = flags.flag("--allow-userns", "Let the program create nested user namespaces (cgroup namespaces stay refused).");
    final Flags.Values rlimits = flags.repeatable("--rlimit", "NAME=SOFT[:HARD]",
            "A resource limit, e.g. nofile=1024:4096, as=2G, core=0 (repeatable; 'unlimited' allowed).");
    final Flags.Value<String> procHidepid = flags.value("--proc-hidepid", "MODE",
            "hidepid= for the jail's /proc: 0, 1, 2, 4, off, noaccess, invisible, ptraceable.");
    final Flags.Flag noNewSession = flags.flag("--no-new-session", "Keep the caller's session (default: setsid).");

    final Flags.Value<String> memory = flags.value("--memory", "SIZE", "Memory limit of the whole jail, e.g. 256M or 1G (no swap unless --memory-swap).");
    final Flags.Value<String> memorySwap = flags.value("--memory-swap", "SIZE", "Swap the jail may use on top of --memory (default 0).");
    final Flags.Value<String> pids = flags.value("--pids", "N", "Most processes and threads in the jail at once.");
    final Flags.Value<String> cpu = flags.value("--cpu", "CORES", "CPU time limit: cores (0.5, 2) or a percentage of one core (50%%).");
    final Flags.Value<String> cpuWeight = flags.value("--cpu-weight", "N", "Relative CPU share, 1-10000 (default 100).");
    final Flags.Value<String> ioWeight = flags.value("--io-weight", "N", "Relative block I/O share, 1-10000 (default 100; 1-1000 on cgroup v1).");
    final Flags.Value<String> cpuset = flags.value("--cpuset", "CPUS", "CPUs the jail may use, e.g. 0-1 or 0,2.");
    final Flags.Value<String> cgroupPath = flags.value("--cgroup-path", "PATH",
            "The jail's cgroup: relative to corral's own, or absolute from the hierarchy's root (NGINX Unit's isolation.cgroup.path).");
    final Flags.Flag noCgroup = flags.flag("--no-cgroup", "No cgroup of the jail's own (no limits, no accounting, no whole-tree kill).");

    final Flags.Values command = flags.positionals("COMMAND", "The program and its arguments (after --).");

    final List<Problem> problems = new ArrayList<>();

    /** Adds these flags and COMMAND to a command's spec. */
    void addTo(CommandSpec spec) {
        flags.addTo(spec);
    }

    private static final Map<String, String> FLAG_LABELS = Map.ofEntries(
            Map.entry("command", "COMMAND"), Map.entry("namespaces", "--share-*"),
            Map.entry("uidMap", "--uid-map"), Map.entry("gidMap", "--gid-map"), Map.entry("rootfs", "--rootfs"),
            Map.entry("rootfsIdmap", "--rootfs-idmap"),
            Map.entry("rootfsOverlay", "--rootfs-overlay"), Map.entry("rootfsUpper", "--overlay-upper"),
            Map.entry("rootfsWork", "--overlay-work"),
            Map.entry("mounts", "mount flags"), Map.entry("hostname", "--hostname"), Map.entry("capabilities", "--cap-add"),
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

    /** The builder these flags describe, on top of --config when given; {@code parsed} is the command line's parse. */
    JailBuilder toBuilder(ParseResult parsed) throws SpecException {
        // The mount flags first: their problems come first, in their order on the command line.
        List<MountSpec> mounts = mounts(parsed);
        JailBuilder b = config.given() ? AppConfig.load(config.get()) : new JailBuilder().labels(Labels.of(FLAG_LABELS));
        applyNamespaces(b);
        for (String m : uidMaps.get()) parseMap(m, "--uid-map").ifPresent(b::uidMap);
        for (String m : gidMaps.get()) parseMap(m, "--gid-map").ifPresent(b::gidMap);
        applyIdRange(b);
        if (uid.given()) b.uid(uid.get());
        if (gid.given()) b.gid(gid.get());
        if (user.given()) b.user(user.get());
        if (group.given()) b.group(group.get());
        if (rootfs.given()) b.rootfs(absolute(rootfs.get()));
        if (rootfsIdmap.on()) b.rootfsIdmap(true);
        if (rootfsOverlay.on() || overlayUpper.given() || overlayWork.given()) {
            b.rootfsOverlay(new RootfsOverlay(overlayUpper.given() ? absolute(overlayUpper.get()) : null,
                    overlayWork.given() ? absolute(overlayWork.get()) : null, null, null));
        }
        if (noAutomount.on()) b.automount(dev.corral.spec.Automount.NONE);
        for (MountSpec m : mounts) b.mount(m);
        if (hostname.given()) b.hostname(hostname.get());
        if (chdir.given()) b.workingDirectory(chdir.get());
        for (String kv : env.get()) {
            int eq = kv.indexOf('=');
            if (eq <= 0) problems.add(new Problem("--env " + kv, "expected KEY=VALUE"));
            else b.env(kv.substring(0, eq), kv.substring(eq + 1));
        }
        if (clearEnv.on()) b.clearEnvironment(true);
        if (asPid1.on()) b.init(false);
        applyHardening(b);
        applyLimits(b);
        if (!command.get().isEmpty()) b.command(command.get());
        else if (!config.given()) problems.add(new Problem("COMMAND", "no program given: corral run [OPTIONS] -- COMMAND [ARGS...]"));
        if (!problems.isEmpty()) throw new SpecException(problems);
        dev.corral.spec.JailSpec built = b.build();
        idmapWarnings(built);
        mountCapabilityWarning(built);
        return b;
    }

    /**
     * The mounts the mount flags ask for, in their order on the command line: picocli keeps each
     * flag's values apart, and its list of matched arguments gives the order across flags.
     */
    private List<MountSpec> mounts(ParseResult parsed) {
        List<MountSpec> mounts = new ArrayList<>();
        int[] taken = new int[mountFlags.size()];
        for (ArgSpec arg : parsed.matchedArgs()) {
            for (int i = 0; i < mountFlags.size(); i++) {
                Flags.Values flag = mountFlags.get(i);
                if (flag.is(arg)) mount(flag, flag.get().get(taken[i]++), mounts);
            }
        }
        return mounts;
    }

    private void mount(Flags.Values flag, String value, List<MountSpec> mounts) {
        if (flag == bind) addBind(value, "--bind", false, false, mounts);
        else if (flag == roBind) addBind(value, "--ro-bind", true, false, mounts);
        else if (flag == bindIdmap) addBind(value, "--bind-idmap", false, true, mounts);
        else if (flag == roBindIdmap) addBind(value, "--ro-bind-idmap", true, true, mounts);
        else if (flag == tmpfs) mounts.add(new MountSpec.Tmpfs(value, "--tmpfs " + value));
        else if (flag == proc) mounts.add(new MountSpec.Proc(value, "--proc " + value));
        else if (flag == devMount) mounts.add(new MountSpec.Dev(value, "--dev " + value));
        else if (flag == dir) mounts.add(new MountSpec.Dir(value, "--dir " + value));
        else if (flag == symlink) addSymlink(value, mounts);
    }

    private void addBind(String value, String flag, boolean readOnly, boolean idmap, List<MountSpec> mounts) {
        String[] sd = splitPair(value, flag);
        if (sd != null) mounts.add(new MountSpec.Bind(sd[0], sd[1], readOnly, idmap, flag + " " + value));
    }

    private void addSymlink(String value, List<MountSpec> mounts) {
        int colon = value.lastIndexOf(':');
        if (colon <= 0 || colon == value.length() - 1) {
            problems.add(new Problem("--symlink " + value, "expected TARGET:DST"));
            return;
        }
        mounts.add(new MountSpec.Symlink(value.substring(0, colon), value.substring(colon + 1), "--symlink " + value));
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
     * With CAP_SYS_ADMIN over the user namespace that owns the jail's mounts, the program can
     * unmount and remount them, undoing the read-only host /, the read-only binds and the /proc
     * masks. In a user namespace of its own the planner locks them (Planner.locksMounts); in the
     * host's or a joined one it cannot, and says so here.
     */
    private void mountCapabilityWarning(dev.corral.spec.JailSpec spec) {
        if (!spec.hardening().capabilities().contains(Capability.SYS_ADMIN) || !spec.unshares(dev.corral.spec.Namespace.MOUNT)
                || dev.corral.plan.Planner.locksMounts(spec)) return;
        warnings.add("CAP_SYS_ADMIN in a user namespace the jail does not create (" + (spec.joins(dev.corral.spec.Namespace.USER)
                ? "a joined one" : "the host's") + "): corral locks the mounts only in one it creates, so its program"
                + " can unmount and remount them, undoing the read-only host /, read-only binds and /proc masks (as host"
                + " root: /proc/sys and every host file it sees)");
    }

    /**
     * --userns auto, or "uidmap": "auto" in --config: a range from --id-pool (else the caller's
     * subordinate ids), recorded in --id-state (else the default file), held while the jail runs.
     */
    private void applyIdRange(JailBuilder b) {
        if (userns.given()) {
            if (userns.get().equals("auto")) b.autoIdRange();
            else problems.add(new Problem("--userns " + userns.get(), "expected \"auto\""));
        }
        List<dev.corral.ids.SubIdRange> pool = new ArrayList<>();
        for (String p : idPool.get()) {
            try {
                pool.add(dev.corral.ids.IdPool.parseRange(p));
            } catch (IllegalArgumentException e) {
                problems.add(new Problem("--id-pool " + p, e.getMessage()));
            }
        }
        if (idPool.get().isEmpty() && !idState.given()) return;
        if (b.build().autoIds() == null) {
            problems.add(new Problem(idPool.get().isEmpty() ? "--id-state" : "--id-pool", "only with --userns auto (or \"uidmap\": \"auto\")"));
            return;
        }
        try {
            var allocator = dev.corral.ids.RangeAllocator.of(idState.given() ? Path.of(absolute(idState.get().toString())) : null, pool);
            b.autoIdRange(allocator, null);
        } catch (IllegalArgumentException e) {
            problems.add(new Problem("--id-pool", e.getMessage()));
        }
    }

    /** Warnings for the user: things asked for that make the jail weaker. */
    final List<String> warnings = new ArrayList<>();

    private void applyHardening(JailBuilder b) {
        for (String c : capDrop.get()) capability(c, "--cap-drop", b::dropCapability, () -> b.capabilities(java.util.Set.of()));
        for (String c : capAdd.get()) capability(c, "--cap-add", b::addCapability,
                () -> b.capabilities(java.util.EnumSet.allOf(Capability.class)));
        if (newPrivs.on()) {
            b.noNewPrivs(false);
            warnings.add("--new-privs: no_new_privs is off; setuid programs in the jail can gain privileges");
        }
        if (seccomp.given()) {
            if (seccomp.get().equals("unconfined")) {
                b.seccomp(Seccomp.UNCONFINED);
                warnings.add("--seccomp unconfined: no seccomp filter (module loading, keyctl, bpf, TIOCSTI,"
                        + " nested user namespaces... are left to the kernel's other checks)");
            } else {
                b.seccomp(Seccomp.profile(absolute(seccomp.get()), "--seccomp " + seccomp.get()));
            }
        }
        if (allowUserns.on()) b.allowUserNamespaces(true);
        for (String r : rlimits.get()) parseRlimit(r).ifPresent(b::rlimit);
        if (procHidepid.given()) b.procHidepid(procHidepid.get());
        if (noNewSession.on()) b.newSession(false);
    }

    private void applyLimits(JailBuilder b) {
        size(memory, b::memoryLimit);
        size(memorySwap, b::memorySwapLimit);
        whole(pids, b::pidsLimit);
        if (cpu.given()) {
            try {
                b.cpuLimit(Quantities.cores(cpu.get()));
            } catch (IllegalArgumentException e) {
                problems.add(new Problem("--cpu " + cpu.get(), e.getMessage()));
            }
        }
        whole(cpuWeight, b::cpuWeight);
        whole(ioWeight, b::ioWeight);
        if (cpuset.given()) b.cpuset(cpuset.get());
        if (cgroupPath.given()) b.cgroupPath(cgroupPath.get());
        if (noCgroup.on()) {
            if (memory.given() || memorySwap.given() || pids.given() || cpu.given() || cpuWeight.given()
                    || ioWeight.given() || cpuset.given() || cgroupPath.given()) {
                problems.add(new Problem("--no-cgroup", "conflicts with the limits and --cgroup-path, which need a cgroup"));
            }
            b.cgroup(CgroupSpec.Mode.NONE);
        }
    }

    private void size(Flags.Value<String> flag, java.util.function.LongConsumer set) {
        if (!flag.given()) return;
        try {
            set.accept(Quantities.bytes(flag.get()));
        } catch (IllegalArgumentException e) {
            problems.add(new Problem(flag.name() + " " + flag.get(), e.getMessage()));
        }
    }

    private void whole(Flags.Value<String> flag, java.util.function.LongConsumer set) {
        if (!flag.given()) return;
        try {
            set.accept(Long.parseLong(flag.get().strip()));
        } catch (NumberFormatException e) {
            problems.add(new Problem(flag.name() + " " + flag.get(), "expected a whole number"));
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
        namespace(b, Namespace.USER, shareUser, unshareUser, joinUser);
        namespace(b, Namespace.MOUNT, shareMount, unshareMount, joinMount);
        namespace(b, Namespace.PID, sharePid, unsharePid, joinPid);
        namespace(b, Namespace.NET, shareNet, unshareNet, joinNet);
        namespace(b, Namespace.UTS, shareUts, unshareUts, joinUts);
        namespace(b, Namespace.IPC, shareIpc, unshareIpc, joinIpc);
        namespace(b, Namespace.CGROUP, shareCgroup, unshareCgroup, joinCgroup);
        namespace(b, Namespace.TIME, shareTime, unshareTime, joinTime);
    }

    private void namespace(JailBuilder b, Namespace ns, Flags.Flag shareFlag, Flags.Flag unshareFlag, Flags.Value<String> joinFlag) {
        boolean share = shareFlag.on(), unshare = unshareFlag.on();
        String join = joinFlag.get();
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

    private java.util.Optional<IdMapping> parseMap(String value, String flag) {
        String[] f = value.split(":", -1);
        String where = flag + " " + value;
        if (f.length != 3) {
            problems.add(new Problem(where, "expected INSIDE:OUTSIDE:COUNT"));
            return java.util.Optional.empty();
        }
        try {
            // Digits only: parseLong would take "+1", and digits of other scripts ("\uff11").
            for (String n : f) if (n.isEmpty() || !n.chars().allMatch(ch -> ch >= '0' && ch <= '9')) throw new NumberFormatException(n);
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
