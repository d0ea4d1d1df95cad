package dev.corral;

import dev.corral.launch.Launcher;
import dev.corral.ids.RangeAllocator;
import dev.corral.spec.AutoIdRange;
import dev.corral.spec.RootfsOverlay;
import dev.corral.spec.Automount;
import dev.corral.spec.Capability;
import dev.corral.spec.CgroupSpec;
import dev.corral.spec.ResourceLimits;
import dev.corral.spec.Hardening;
import dev.corral.spec.Rlimit;
import dev.corral.spec.Seccomp;
import dev.corral.spec.IdMapping;
import dev.corral.spec.JailSpec;
import dev.corral.spec.Labels;
import dev.corral.spec.MountSpec;
import dev.corral.spec.Namespace;
import dev.corral.spec.PassedSocket;
import dev.corral.spec.SpecException;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Builds a jail and starts a program in it, the way {@link ProcessBuilder} starts a plain one.
 *
 * <p>By default every namespace is unshared (user, mount, pid, net, uts, ipc, cgroup, and time
 * where the kernel has it), the caller's uid and gid are root inside, the host's {@code /} is
 * visible read-only with a private {@code /tmp}, a fresh {@code /proc} and a minimal {@code /dev},
 * and a tiny init is PID 1.
 *
 * <pre>{@code
 * JailedProcess p = new JailBuilder()
 *         .command("sh", "-c", "echo hello from $(hostname)")
 *         .hostname("sandbox")
 *         .readOnlyBind("/srv/data", "/data")
 *         .start();
 * String out = new String(p.getInputStream().readAllBytes());
 * int status = p.waitFor();
 * }</pre>
 *
 * <p>Invalid settings are reported all at once by {@link #build()} and {@link #start()} as a
 * {@link SpecException}; a jail that cannot be set up fails with {@link JailSetupException} and
 * nothing is left running.
 */
public final class JailBuilder {
    private final List<String> command = new ArrayList<>();
    private final Set<Namespace> namespaces = EnumSet.complementOf(EnumSet.of(Namespace.TIME));
    private final Map<Namespace, String> joins = new java.util.EnumMap<>(Namespace.class);
    private boolean timeNamespaceDefault = true;
    private final List<IdMapping> uidMap = new ArrayList<>();
    private final List<IdMapping> gidMap = new ArrayList<>();
    private String rootfs;
    private RootfsOverlay overlay;
    private boolean rootfsIdmap;
    private Automount automount = Automount.ALL;
    private final List<MountSpec> mounts = new ArrayList<>();
    private String hostname;
    private String workingDirectory;
    private final Map<String, String> environment = new LinkedHashMap<>();
    private boolean clearEnvironment;
    private Long uid;
    private Long gid;
    private String user;
    private String group;
    private boolean init = true;
    private boolean takeTerminal;
    private Labels labels = Labels.FIELD_NAMES;
    private final Set<Capability> capabilities = EnumSet.copyOf(Capability.DEFAULT);
    private boolean noNewPrivs = true;
    private Seccomp seccomp = Seccomp.DEFAULT;
    private boolean allowUserns;
    private final List<Rlimit> rlimits = new ArrayList<>();
    private boolean newSession = true;
    private String procHidepid;
    private StdioMode stdio = StdioMode.PIPE;
    private OutputSink output;
    private ResourceLimits limits = ResourceLimits.NONE;
    private String cgroupPath;
    private CgroupSpec.Mode cgroupMode = CgroupSpec.Mode.AUTO;
    private final List<ListeningSocket> listeningSockets = new ArrayList<>();
    private AutoIdRange autoIds;

    /** How the jailed program's stdin, stdout and stderr are connected. */
    public enum StdioMode {
        /** Pipes, read and written through the {@link JailedProcess} streams. */
        PIPE,
        /** The caller's own stdin, stdout and stderr. */
        INHERIT
    }

    public JailBuilder command(String... argv) {
        return command(Arrays.asList(argv));
    }

    public JailBuilder command(List<String> argv) {
        command.clear();
        command.addAll(argv);
        return this;
    }

    /** Unshares {@code ns} (the default for every namespace), instead of joining one. */
    public JailBuilder unshare(Namespace ns) {
        namespaces.add(ns);
        joins.remove(ns);
        if (ns == Namespace.TIME) timeNamespaceDefault = false;
        return this;
    }

    /** Keeps the caller's {@code ns}, instead of unsharing or joining one. */
    public JailBuilder share(Namespace ns) {
        namespaces.remove(ns);
        joins.remove(ns);
        if (ns == Namespace.TIME) timeNamespaceDefault = false;
        return this;
    }

    /** Replaces the set of unshared namespaces; those in {@code set} are no longer joined. */
    public JailBuilder namespaces(Set<Namespace> set) {
        namespaces.clear();
        namespaces.addAll(set);
        set.forEach(joins::remove);
        timeNamespaceDefault = false;
        return this;
    }

    /**
     * Joins the existing namespace at {@code path} instead of unsharing {@code ns}: a
     * {@code /proc/PID/ns/} file or a bind mount of one, such as {@code /run/netns/NAME} made by
     * {@code ip netns add} (OCI's {@code namespaces[].path}). The path must be a namespace of
     * that type, which is checked before anything starts.
     *
     * <p>The jail joins before it creates its new namespaces (the user namespace first), so a
     * jail with a new user namespace may join namespaces of the host's. The program cannot
     * administer those (it has no capability over them), and only root may join them: anyone
     * else joins, with {@code join(USER, ...)}, the user namespace that owns them too. A joined
     * pid or time namespace takes only children, so the jail's first process forks into it and
     * its child takes its place (the monitor's child from then on), as for a new pid namespace
     * made after joins.
     */
    public JailBuilder join(Namespace ns, String path) {
        joins.put(Objects.requireNonNull(ns), Objects.requireNonNull(path));
        namespaces.remove(ns);
        if (ns == Namespace.TIME) timeNamespaceDefault = false;
        return this;
    }

    public JailBuilder uidMap(long inside, long outside, long count) {
        uidMap.add(new IdMapping(inside, outside, count, "uidMap[" + uidMap.size() + "]"));
        return this;
    }

    public JailBuilder gidMap(long inside, long outside, long count) {
        gidMap.add(new IdMapping(inside, outside, count, "gidMap[" + gidMap.size() + "]"));
        return this;
    }

    public JailBuilder uidMap(IdMapping mapping) {
        uidMap.add(mapping);
        return this;
    }

    public JailBuilder gidMap(IdMapping mapping) {
        gidMap.add(mapping);
        return this;
    }

    /**
     * Maps the jail's ids 0..65535 to a 65,536-wide range of host ids no other jail has, taken
     * from the caller's /etc/subuid and /etc/subgid ranges when the jail starts and given back
     * when it ends (recorded in {@link RangeAllocator#defaultStateFile()}). Instead of
     * {@link #uidMap}/{@link #gidMap}; written directly as root, through newuidmap/newgidmap
     * otherwise.
     */
    public JailBuilder autoIdRange() {
        return autoIdRange(null, null);
    }

    /**
     * As {@link #autoIdRange()}, from {@code allocator}; with a {@code name}, the range is kept
     * under that name and is the same at every start until {@link RangeAllocator#release}d.
     *
     * @param allocator the pool and the allocation file, or null for the defaults
     * @param name      a stable allocation's name, or null for a range held while the jail runs
     */
    public JailBuilder autoIdRange(RangeAllocator allocator, String name) {
        this.autoIds = new AutoIdRange(allocator, name);
        return this;
    }

    /** Uses {@code dir} as the jail's root (entered with pivot_root). */
    public JailBuilder rootfs(String dir) {
        this.rootfs = dir;
        return this;
    }

    /**
     * The {@link #rootfs} is a base shared with other jails and never written: the jail sees it
     * through an overlayfs, and its changes go to a layer of its own, here one corral places in
     * its state directory for this run and removes when the jail ends.
     */
    public JailBuilder rootfsOverlay() {
        return rootfsOverlay(RootfsOverlay.temporary());
    }

    /**
     * As {@link #rootfsOverlay()}, with the layer's place chosen: a directory of one's own
     * ({@code new RootfsOverlay("/srv/web/changes", null, null, null)}, kept), or a layer kept by
     * name in a store. Null for no overlay.
     */
    public JailBuilder rootfsOverlay(RootfsOverlay overlay) {
        this.overlay = overlay;
        return this;
    }

    /**
     * Shows the rootfs through an idmapped mount with the jail's own id mapping, so a tree owned
     * by 0..65535 on disk is owned by the jail's 0..65535 whatever host range it runs as (say,
     * {@link #autoIdRange()}), without a chown. Needs root and a filesystem that supports
     * idmapped mounts (ext4, xfs, btrfs, tmpfs, overlayfs...); elsewhere make a shifted copy
     * ({@code corral rootfs shift}).
     */
    public JailBuilder rootfsIdmap(boolean idmap) {
        this.rootfsIdmap = idmap;
        return this;
    }

    /** As {@link #bind}, through an idmapped mount with the jail's id mapping (see {@link #rootfsIdmap}). */
    public JailBuilder idmappedBind(String source, String target, boolean readOnly) {
        return mount(new MountSpec.Bind(source, target, readOnly, true, (readOnly ? "ro-bind-idmap " : "bind-idmap ") + source));
    }

    public JailBuilder automount(Automount automount) {
        this.automount = Objects.requireNonNull(automount);
        return this;
    }

    public JailBuilder bind(String source, String target) {
        return mount(new MountSpec.Bind(source, target, false, "bind " + source));
    }

    public JailBuilder readOnlyBind(String source, String target) {
        return mount(new MountSpec.Bind(source, target, true, "ro-bind " + source));
    }

    public JailBuilder tmpfs(String target) {
        return mount(new MountSpec.Tmpfs(target, "tmpfs " + target));
    }

    public JailBuilder proc(String target) {
        return mount(new MountSpec.Proc(target, "proc " + target));
    }

    public JailBuilder dev(String target) {
        return mount(new MountSpec.Dev(target, "dev " + target));
    }

    public JailBuilder dir(String target) {
        return mount(new MountSpec.Dir(target, "dir " + target));
    }

    public JailBuilder symlink(String linkTarget, String path) {
        return mount(new MountSpec.Symlink(linkTarget, path, "symlink " + path));
    }

    public JailBuilder mount(MountSpec mount) {
        mounts.add(Objects.requireNonNull(mount));
        return this;
    }

    public JailBuilder hostname(String hostname) {
        this.hostname = hostname;
        return this;
    }

    public JailBuilder workingDirectory(String dir) {
        this.workingDirectory = dir;
        return this;
    }

    public JailBuilder env(String key, String value) {
        environment.put(key, value);
        return this;
    }

    /** Starts from an empty environment instead of the caller's. */
    public JailBuilder clearEnvironment(boolean clear) {
        this.clearEnvironment = clear;
        return this;
    }

    public JailBuilder uid(long uid) {
        this.uid = uid;
        return this;
    }

    public JailBuilder gid(long gid) {
        this.gid = gid;
        return this;
    }

    /** Runs as {@code name} from the jail's own /etc/passwd. */
    public JailBuilder user(String name) {
        this.user = name;
        return this;
    }

    /** Runs with group {@code name} from the jail's own /etc/group. */
    public JailBuilder group(String name) {
        this.group = name;
        return this;
    }

    /** With {@code false} the program itself is PID 1 (NGINX Unit's behaviour). */
    public JailBuilder init(boolean init) {
        this.init = init;
        return this;
    }

    /** Gives the program the caller's terminal as its foreground job (for interactive shells). */
    public JailBuilder takeTerminal(boolean take) {
        this.takeTerminal = take;
        return this;
    }

    public JailBuilder stdio(StdioMode mode) {
        this.stdio = Objects.requireNonNull(mode);
        this.output = null;
        return this;
    }

    /**
     * Sends the program's stdout and stderr to {@code sink} (stdin empty) instead of the
     * process's streams: no thread waits on them, which is what a host of many jails wants.
     */
    public JailBuilder output(OutputSink sink) {
        this.output = Objects.requireNonNull(sink);
        return this;
    }

    /** How errors name the settings; front ends use it to speak in flags or JSON paths. */
    public JailBuilder labels(Labels labels) {
        this.labels = Objects.requireNonNull(labels);
        return this;
    }

    /**
     * Gives the program {@code cap} (over its own user namespace) on top of the default set.
     * {@link Capability#SYS_ADMIN} would let it unmount and remount the jail's mounts, so with it
     * the mounts are locked in a nested user namespace (its pid namespace then belongs to the
     * outer one, and a jail without a {@code /proc} of its own is refused).
     */
    public JailBuilder addCapability(Capability cap) {
        capabilities.add(cap);
        return this;
    }

    public JailBuilder dropCapability(Capability cap) {
        capabilities.remove(cap);
        return this;
    }

    /** Replaces the capability set; an empty set leaves the program none. */
    public JailBuilder capabilities(Set<Capability> caps) {
        capabilities.clear();
        capabilities.addAll(caps);
        return this;
    }

    /**
     * With {@code false}, no_new_privs is not set and setuid binaries in the jail can raise
     * privileges again (NGINX Unit's {@code new_privs: true}). On by default.
     */
    public JailBuilder noNewPrivs(boolean on) {
        this.noNewPrivs = on;
        return this;
    }

    /** {@link Seccomp#DEFAULT}, {@link Seccomp#UNCONFINED} or an OCI profile file. */
    public JailBuilder seccomp(Seccomp seccomp) {
        this.seccomp = Objects.requireNonNull(seccomp);
        return this;
    }

    /** Lets the program create nested user namespaces (the default filter refuses them). */
    public JailBuilder allowUserNamespaces(boolean allow) {
        this.allowUserns = allow;
        return this;
    }

    /** Sets a resource limit; {@link Rlimit#UNLIMITED} for none. */
    public JailBuilder rlimit(Rlimit.Resource resource, long soft, long hard) {
        return rlimit(new Rlimit(resource, soft, hard, "rlimit " + resource.name().toLowerCase()));
    }

    public JailBuilder rlimit(Rlimit limit) {
        rlimits.add(Objects.requireNonNull(limit));
        return this;
    }

    /** With {@code false} the program stays in the caller's session (default: a new one). */
    public JailBuilder newSession(boolean on) {
        this.newSession = on;
        return this;
    }

    /** {@code hidepid=} for the jail's /proc: 0, 1, 2, 4 or off, noaccess, invisible, ptraceable. */
    public JailBuilder procHidepid(String value) {
        this.procHidepid = value;
        return this;
    }

    /** Limits the memory of the whole jail, in bytes (without swap unless {@link #memorySwapLimit}). */
    public JailBuilder memoryLimit(long bytes) {
        limits = limits.withMemory(bytes);
        return this;
    }

    /** Lets the jail swap this many bytes on top of its memory limit. */
    public JailBuilder memorySwapLimit(long bytes) {
        limits = limits.withMemorySwap(bytes);
        return this;
    }

    /** Limits the number of processes and threads in the jail. */
    public JailBuilder pidsLimit(long count) {
        limits = limits.withPids(count);
        return this;
    }

    /** Limits the jail to {@code cores} of CPU time (0.5: half of one core). */
    public JailBuilder cpuLimit(double cores) {
        limits = limits.withCpu(cores);
        return this;
    }

    /** The jail's relative CPU weight, 1..10000 (100 is every cgroup's default). */
    public JailBuilder cpuWeight(long weight) {
        limits = limits.withCpuWeight(weight);
        return this;
    }

    /** The jail's relative block I/O weight, 1..10000 (100 is the default). */
    public JailBuilder ioWeight(long weight) {
        limits = limits.withIoWeight(weight);
        return this;
    }

    /** The CPUs the jail may run on, as the kernel lists them ("0-2,4"). */
    public JailBuilder cpuset(String cpus) {
        limits = limits.withCpuset(cpus);
        return this;
    }

    public JailBuilder limits(ResourceLimits limits) {
        this.limits = Objects.requireNonNull(limits);
        return this;
    }

    /**
     * The jail's cgroup, as NGINX Unit's {@code isolation.cgroup.path}: relative to corral's own
     * cgroup, or absolute from the hierarchy's root. Default: a fresh {@code corral-...} cgroup.
     */
    public JailBuilder cgroupPath(String path) {
        this.cgroupPath = path;
        return this;
    }

    /**
     * Whether the jail gets a cgroup of its own: {@code AUTO} (default) whenever this user can
     * create one, {@code REQUIRED} to fail rather than run without (accounting needs one),
     * {@code NONE} to stay in the caller's. Limits and a path always require one.
     */
    public JailBuilder cgroup(CgroupSpec.Mode mode) {
        this.cgroupMode = Objects.requireNonNull(mode);
        return this;
    }

    /**
     * Hands {@code sockets}, in order, to the program as fds 3, 4, ... under systemd's socket
     * activation protocol: {@code LISTEN_FDS} is their count, {@code LISTEN_PID} the program's own
     * pid (in its pid namespace: 2 under the tiny init, 1 with {@code init(false)}) and
     * {@code LISTEN_FDNAMES} their names joined by ':'. Replaces sockets given before. They stay
     * the caller's, and must stay open until {@link #start()} returns; after that the program
     * has its own copies, and the same sockets can be passed to the next jail (a reload). Every
     * other descriptor but stdio stays closed in the program.
     */
    public JailBuilder passListeningSockets(List<ListeningSocket> sockets) {
        listeningSockets.clear();
        sockets.forEach(this::passListeningSocket);
        return this;
    }

    /** Adds one socket after those already passed; see {@link #passListeningSockets}. */
    public JailBuilder passListeningSocket(ListeningSocket socket) {
        listeningSockets.add(Objects.requireNonNull(socket));
        return this;
    }

    public StdioMode stdio() {
        return stdio;
    }

    /** The specification as set so far, with the time namespace added where the kernel has one. */
    public JailSpec build() {
        Set<Namespace> ns = EnumSet.noneOf(Namespace.class);
        ns.addAll(namespaces);
        if (timeNamespaceDefault && Launcher.kernelHasTimeNamespace()) ns.add(Namespace.TIME);
        return new JailSpec(command, ns, joins, uidMap, gidMap, rootfs, automount, mounts, hostname,
                workingDirectory, environment, clearEnvironment, uid, gid, user, group, init,
                takeTerminal, new Hardening(capabilities, noNewPrivs, seccomp, allowUserns, rlimits, newSession,
                        procHidepid), new CgroupSpec(cgroupMode, cgroupPath, limits),
                listeningSockets.stream().map(l -> new PassedSocket(l.fd(), l.name())).toList(), labels, autoIds,
                overlay, rootfsIdmap);
    }

    /**
     * Checks the specification against this host, sets up the jail and starts the program.
     * Returns once the program has been exec'd inside the finished jail.
     */
    public JailedProcess start() throws SpecException, JailSetupException, IOException {
        return output != null ? Launcher.shared().start(build(), output) : Launcher.shared().start(build(), stdio);
    }
}
