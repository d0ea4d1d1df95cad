package dev.corral.plan;

import dev.corral.cgroup.CgroupPlan;
import dev.corral.cgroup.CgroupPlanner;
import dev.corral.ids.SubIdRange;
import dev.corral.seccomp.SeccompFilters;
import dev.corral.spec.Capability;
import dev.corral.spec.CgroupSpec;
import dev.corral.spec.Hardening;
import dev.corral.spec.IdMapping;
import dev.corral.spec.JailSpec;
import dev.corral.spec.MountSpec;
import dev.corral.spec.Namespace;
import dev.corral.spec.PassedSocket;
import dev.corral.spec.Problem;
import dev.corral.spec.Rlimit;
import dev.corral.spec.RootfsOverlay;
import dev.corral.spec.Seccomp;
import dev.corral.spec.SpecException;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Turns a {@link JailSpec} into a {@link LaunchPlan} for one host. Pure: everything it knows of the
 * host comes through {@link HostView}, so the same spec and view always give the same plan.
 * Every problem is collected and reported at once; a spec with any problem gets no plan.
 */
public final class Planner {
    /** Kernel limit on lines in uid_map/gid_map (since Linux 4.15). */
    static final int MAX_MAP_LINES = 340;
    /** Kernel limit on one write to uid_map/gid_map: less than a page (x86-64 and arm64 with 4 KiB pages). */
    static final int MAX_MAP_BYTES = 4096;
    static final int MAX_HOSTNAME_BYTES = 64;
    /** How much of a command line the plan's words (and an exec's error) show. */
    static final int MAX_WORDS = 300;
    static final String DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    /** Host devices bound into a minimal /dev (a user namespace cannot mknod). */
    /** Top-level host entries the default jail does not show: it mounts its own (or none). */
    static final Set<String> HOST_ENTRIES_REPLACED = Set.of("proc", "dev", "tmp", "lost+found");
    static final List<String> HIDEPID = List.of("0", "1", "2", "4", "off", "noaccess", "invisible", "ptraceable");
    static final List<String> DEV_NODES = List.of("null", "zero", "full", "random", "urandom", "tty");
    /** As many as the executor takes (PASS_FD_MAX in native/src/exec.h). */
    public static final int MAX_PASSED_SOCKETS = 64;
    /** As many idmapped mounts as the executor takes (IDMAP_FD_MAX in native/src/exec.h). */
    public static final int MAX_IDMAPPED_MOUNTS = 16;
    /** systemd's socket activation variables: corral sets them, or nobody does. */
    static final List<String> SOCKET_ACTIVATION_ENV = List.of("LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES");

    private final HostView host;

    public Planner(HostView host) {
        this.host = host;
    }

    public LaunchPlan plan(JailSpec spec) throws SpecException {
        return new Run(spec).plan();
    }

    /** The namespaces created in the nested user namespace when the mounts are locked. */
    private static final long LOCK_CREATES = Namespace.NET.cloneFlag() | Namespace.UTS.cloneFlag() | Namespace.IPC.cloneFlag();

    /**
     * Whether the jail's mounts are locked: when its program gets CAP_SYS_ADMIN in a user
     * namespace of its own, the only capability that could undo them (see planLockMounts).
     */
    public static boolean locksMounts(JailSpec spec) {
        return spec.hardening().capabilities().contains(Capability.SYS_ADMIN)
                && spec.unshares(Namespace.USER) && spec.unshares(Namespace.MOUNT);
    }

    /** A map of a user namespace onto its parent's same ids: "inside inside count" for each range. */
    static String identityMap(List<IdMapping> maps) {
        StringBuilder text = new StringBuilder();
        for (IdMapping m : maps) text.append(m.inside()).append(' ').append(m.inside()).append(' ').append(m.count()).append('\n');
        return text.toString();
    }

    /** One planning pass: collects problems while it builds the steps. */
    private final class Run {
        private final JailSpec spec;
        private final List<Problem> problems = new ArrayList<>();
        private final List<Step> steps = new ArrayList<>();
        private int nextSlot;
        /** The overlay's upper directory, whose files hide the base's, or null. */
        private String upper;
        /** Slots of the clones made for idmapping before "go": the rootfs's, and each idmapped bind's. */
        private Integer rootIdmapSlot;
        private final Map<MountSpec, Integer> bindIdmapSlots = new java.util.IdentityHashMap<>();

        Run(JailSpec spec) {
            this.spec = spec;
        }

        private String at(String field) {
            return spec.labels().of(field);
        }

        private void problem(String where, String message) {
            problems.add(new Problem(where, message));
        }

        LaunchPlan plan() throws SpecException {
            if (!checkNoNulBytes()) throw new SpecException(problems);
            checkCommand();
            checkNamespaces();
            List<LaunchPlan.Join> joins = checkJoins();
            IdMapPlan maps = planIdMaps();
            String root = checkRootfs();
            RootfsOverlay overlay = checkOverlay(root);
            if (overlay != null) upper = overlay.upper();
            // With joins, the clone makes no namespace: the process joins first, then unshares.
            boolean late = !spec.joins().isEmpty();
            if (late) planJoins(joins);
            planIdmappedMounts(maps, root);
            steps.add(Step.of(Op.WAIT_GO, "wait until the id maps are written"));
            if (late) planForkInto();
            CgroupPlan cgroup = spec.cgroup().effectiveMode() == CgroupSpec.Mode.NONE ? null
                    : CgroupPlanner.plan(spec.cgroup(), host.cgroups(), spec.labels(), problems).orElse(null);
            if (spec.unshares(Namespace.CGROUP)) {
                // Unshared only now, once the jail sits in its cgroup, so that cgroup is its "/".
                steps.add(Step.of(Op.UNSHARE, "enter a new cgroup namespace: the jail's cgroup is its /",
                        Long.toHexString(Namespace.CGROUP.cloneFlag())));
            }
            int[] layers = overlay != null && spec.unshares(Namespace.MOUNT) ? planOverlayLayers(root, overlay) : null;
            if (maps != null && rootIsMapped(maps)) {
                // Until now the process runs as the caller's host ids, which the new maps may not
                // cover; files it creates (mount points) need an owner that exists inside.
                steps.add(Step.of(Op.SETGID, "become gid 0 of the new user namespace", "0"));
                steps.add(Step.of(Op.SETUID, "become uid 0 of the new user namespace", "0"));
            } else if (spec.joins(Namespace.USER) && spec.unshares(Namespace.MOUNT)) {
                // The same for a joined user namespace, whose maps corral cannot know: the kernel
                // refuses (EINVAL) if its 0 is unmapped.
                steps.add(Step.of(Op.SETGID, "become gid 0 of the joined user namespace", "0"));
                steps.add(Step.of(Op.SETUID, "become uid 0 of the joined user namespace", "0"));
            }
            if (spec.unshares(Namespace.MOUNT)) planFilesystem(root, overlay, layers);
            else if (!spec.mounts().isEmpty()) {
                problem(at("mounts"), spec.joins(Namespace.MOUNT) ? "mounts need a new mount namespace, not a joined one"
                        : "mounts need the mount namespace");
            }
            if (locksMounts(spec)) planLockMounts(maps);
            planUts();
            if (spec.unshares(Namespace.NET)) steps.add(Step.of(Op.LO_UP, "bring up the loopback interface lo"));
            if (spec.init() && spec.unshares(Namespace.PID)) {
                steps.add(Step.of(Op.FORK_INIT, "fork: a tiny init stays PID 1 (reaps, forwards signals), the app continues"));
            }
            Hardening h = spec.hardening();
            if (spec.takeTerminal()) {
                // Job control needs the caller's terminal; keystroke injection (TIOCSTI) is
                // refused by the seccomp filter instead of by a new session.
                steps.add(Step.of(Op.TAKE_TERMINAL, "make the app the terminal's foreground process group"));
            } else if (h.newSession()) {
                steps.add(Step.of(Op.SETSID, "start a new session, away from the caller's terminal"));
            }
            planPassedSockets();
            String cwd = spec.workingDirectory() == null ? "/" : spec.workingDirectory();
            if (!cwd.startsWith("/")) problem(at("workingDirectory"), "must be an absolute path inside the jail: " + cwd);
            steps.add(Step.of(Op.CHDIR, "change directory to " + cwd, cwd));
            planRlimits(h);
            String filter = planSeccompFilter(h);
            steps.add(Step.of(Op.CAP_BOUND, "drop every capability outside " + capNames(h.capabilities())
                    + " from the bounding set", Long.toHexString(Capability.mask(h.capabilities()))));
            if (filter != null && !h.noNewPrivs()) {
                // Without no_new_privs the kernel wants CAP_SYS_ADMIN to load a filter: load it
                // while the process still has it.
                steps.add(Step.of(Op.SECCOMP, seccompWords(h), filter));
            }
            long finalUid = planIdentity(maps, root, h);
            long ambient = finalUid == 0 ? 0 : Capability.mask(h.capabilities());
            steps.add(Step.of(Op.CAPS, "set the capabilities to " + capNames(h.capabilities())
                    + (ambient != 0 ? " (ambient too, as uid " + finalUid + " is not root)" : ""),
                    Long.toHexString(Capability.mask(h.capabilities())), Long.toHexString(ambient)));
            if (h.noNewPrivs()) {
                steps.add(Step.of(Op.NO_NEW_PRIVS, "set no_new_privs: exec can never gain privileges"));
                if (filter != null) steps.add(Step.of(Op.SECCOMP, seccompWords(h), filter));
            }
            planExec();
            if (!problems.isEmpty()) throw new SpecException(problems);
            List<String> names = new ArrayList<>();
            long cloned = newNamespaceFlags();
            for (Namespace ns : Namespace.values()) {
                if ((cloned & ns.cloneFlag()) != 0) names.add(ns.userName());
            }
            List<Integer> passedFds = spec.passedSockets().stream().map(PassedSocket::fd).toList();
            return new LaunchPlan(late ? 0 : newNamespaceFlags(), names, maps, cgroup, steps, passedFds, joins);
        }

        /**
         * The namespaces the jail creates at once: all but cgroup, which waits for the jail's
         * cgroup, and those that locking the mounts creates, so that the program's own user
         * namespace owns them.
         */
        private long newNamespaceFlags() {
            long flags = 0;
            for (Namespace ns : Namespace.values()) {
                if (spec.unshares(ns) && ns != Namespace.CGROUP) flags |= ns.cloneFlag();
            }
            return locksMounts(spec) ? flags & ~LOCK_CREATES : flags;
        }

        /**
         * The mounts made so far belong to the jail's user namespace, whose CAP_SYS_ADMIN could
         * unmount them or remount them writable. Copied into a mount namespace of a nested user
         * namespace, they are locked by the kernel. The nested one maps the outer one's ids to
         * themselves, so nothing else changes for the program; the network, uts and ipc
         * namespaces are created there too, so that its capabilities still reach them.
         */
        private void planLockMounts(IdMapPlan maps) {
            String proc = null;
            if (spec.automount().procfs() && ownsProc()) proc = "/proc";
            else for (MountSpec m : spec.mounts()) if (m instanceof MountSpec.Proc p && proc == null) proc = p.target();
            if (proc == null) {
                problem(at("capabilities"), "with CAP_SYS_ADMIN corral locks the jail's mounts (else the jail could"
                        + " unmount or remount them), which it does through a /proc of the jail's own; this jail has"
                        + " none: give it one (a pid namespace and /proc) or leave out CAP_SYS_ADMIN");
                return;
            }
            Long pids = spec.cgroup().limits() == null ? null : spec.cgroup().limits().pids();
            if (pids != null && pids < 2 && spec.cgroup().effectiveMode() != CgroupSpec.Mode.NONE) {
                problem(at("limits.pids"), pids + " leaves no room for the helper that locks the mounts (with"
                        + " CAP_SYS_ADMIN): it runs beside the jail's first process, so at least 2");
            }
            long flags = Namespace.USER.cloneFlag() | Namespace.MOUNT.cloneFlag();
            List<String> also = new ArrayList<>();
            for (Namespace ns : Namespace.values()) {
                if ((ns.cloneFlag() & LOCK_CREATES) != 0 && spec.unshares(ns)) {
                    flags |= ns.cloneFlag();
                    also.add(ns.userName());
                }
            }
            steps.add(Step.of(Op.LOCK_MOUNTS, "lock the mounts: enter a nested user namespace (its ids the same,"
                            + " written by a helper through " + proc + ") and a copy of the mount namespace, where the"
                            + " kernel lets no mount be undone" + (also.isEmpty() ? "" : "; create the "
                            + String.join(", ", also) + " namespaces there"),
                    Long.toHexString(flags), proc, identityMap(maps.uid()), identityMap(maps.gid())));
        }

        /**
         * A path with a NUL byte cannot name a file (the kernel reads up to the NUL), so every
         * path is checked before any is looked up on the host; only JSON can carry one.
         */
        private boolean checkNoNulBytes() {
            int before = problems.size();
            nulCheck(spec.rootfs(), at("rootfs"));
            if (spec.overlay() != null) {
                nulCheck(spec.overlay().upper(), at("rootfsUpper"));
                nulCheck(spec.overlay().work(), at("rootfsWork"));
            }
            nulCheck(spec.workingDirectory(), at("workingDirectory"));
            for (MountSpec m : spec.mounts()) {
                nulCheck(m.target(), m.origin());
                if (m instanceof MountSpec.Bind b) nulCheck(b.source(), b.origin());
                if (m instanceof MountSpec.Symlink l) nulCheck(l.linkTarget(), l.origin());
            }
            return problems.size() == before;
        }

        private void nulCheck(String path, String where) {
            if (path != null && path.indexOf('\0') >= 0) problem(where, "path holds a NUL byte: " + path.replace('\0', '?'));
        }

        private void checkCommand() {
            if (spec.command().isEmpty() || spec.command().getFirst().isEmpty()) {
                problem(at("command"), "no program to run");
            }
            for (String a : spec.command()) {
                if (a.indexOf('\0') >= 0) problem(at("command"), "an argument holds a NUL byte");
            }
        }

        private void checkNamespaces() {
            boolean anyOther = spec.namespaces().stream().anyMatch(ns -> ns != Namespace.USER);
            // Inside a joined user namespace the jail has every capability, as in a new one.
            boolean ownUserns = spec.unshares(Namespace.USER) || spec.joins(Namespace.USER);
            if (!ownUserns && anyOther && host.euid() != 0) {
                problem(at("namespaces"), "creating namespaces without a user namespace needs root"
                        + " (CAP_SYS_ADMIN); keep the user namespace or run as root");
            }
        }

        // ---- joined namespaces ------------------------------------------------------------------

        /**
         * The namespaces to join, the user namespace first (it owns the others), each checked
         * with the kernel (through the host view) to be a namespace of its type.
         */
        private List<LaunchPlan.Join> checkJoins() {
            List<LaunchPlan.Join> joins = new ArrayList<>();
            Map<Namespace, NamespaceFile> files = new LinkedHashMap<>();
            for (Namespace ns : Namespace.values()) { // USER comes first
                String path = spec.joins().get(ns);
                if (path == null) continue;
                String where = at("join." + ns.userName());
                if (spec.unshares(ns)) {
                    problem(where, "the " + ns.displayName() + " namespace is both joined and new;"
                            + " a jail joins a namespace or creates one");
                    continue;
                }
                if (!path.startsWith("/") || path.indexOf('\0') >= 0) {
                    problem(where, "must be an absolute path: " + path);
                    continue;
                }
                NamespaceFile f = host.namespaceFile(path);
                if (f.problem() != null) {
                    problem(where, path + ": " + f.problem() + " (" + NamespaceFile.expected(ns) + ")");
                } else if (f.type() != ns) {
                    problem(where, NamespaceFile.mismatch(path, ns, f.type()));
                } else if (ns == Namespace.USER && f.callers()) {
                    // The kernel refuses (EINVAL) to enter the user namespace one is in.
                    problem(where, path + " is the caller's own user namespace: share it instead of joining it");
                } else {
                    files.put(ns, f);
                    joins.add(new LaunchPlan.Join(ns, path, where));
                }
            }
            checkJoinOwners(files);
            return joins;
        }

        /**
         * setns wants CAP_SYS_ADMIN over the user namespace that owns the target, and in the
         * caller's own. Root has both until it joins a user namespace; after that, only over what
         * that namespace owns. Anyone else has neither until it joins the owning user namespace.
         */
        private void checkJoinOwners(Map<Namespace, NamespaceFile> files) {
            NamespaceFile user = files.get(Namespace.USER);
            for (var e : files.entrySet()) {
                Namespace ns = e.getKey();
                if (ns == Namespace.USER) continue;
                String where = at("join." + ns.userName()), path = spec.joins().get(ns);
                if (user != null && !e.getValue().owners().contains(user.id())) {
                    problem(where, path + " belongs to another user namespace than the joined one ("
                            + spec.joins().get(Namespace.USER) + "): once in that, a jail can join only what it owns"
                            + " (the kernel wants CAP_SYS_ADMIN over the owner of what it joins)");
                } else if (user == null && host.euid() != 0) {
                    problem(where, "joining a namespace needs root, or also joining the user namespace that owns it"
                            + " (the kernel wants CAP_SYS_ADMIN over that)");
                }
            }
        }

        /**
         * Before "go", in a process cloned into no new namespace: drop the caller's groups
         * (a joined user namespace may deny setgroups later), join, then create the new
         * namespaces. The order is the kernel's: from inside a new user namespace nothing
         * outside it can be joined, and after joining a user namespace only what it owns.
         */
        private void planJoins(List<LaunchPlan.Join> joins) {
            if (spec.joins(Namespace.USER) && host.euid() == 0) {
                steps.add(new Step(Op.SETGROUPS, List.of(), "drop the caller's supplementary groups before joining"
                        + " the user namespace (it may deny setgroups)"));
            }
            for (int i = 0; i < joins.size(); i++) {
                LaunchPlan.Join j = joins.get(i);
                String words = "join the " + j.namespace().displayName() + " namespace " + j.path();
                if (i == 0) {
                    words += j.namespace() == Namespace.USER ? " (first, as it owns the others; " : " (";
                    words += "not dumpable from here on: nothing in a joined namespace can ptrace the setup)";
                }
                steps.add(Step.of(Op.SETNS, words, String.valueOf(i), Long.toHexString(j.namespace().cloneFlag())));
            }
            long flags = newNamespaceFlags();
            if (flags != 0) {
                List<String> names = new ArrayList<>();
                for (Namespace ns : Namespace.values()) {
                    if ((flags & ns.cloneFlag()) != 0) names.add(ns.userName());
                }
                steps.add(Step.of(Op.UNSHARE, "create the new namespaces " + String.join(", ", names)
                        + " (after the joins: from a new user namespace none would be allowed)", Long.toHexString(flags)));
            }
        }

        /** A pid or time namespace joined or created after clone takes only the children. */
        private void planForkInto() {
            List<String> which = new ArrayList<>();
            for (Namespace ns : List.of(Namespace.PID, Namespace.TIME)) {
                if (spec.unshares(ns) || spec.joins(ns)) which.add(ns.userName());
            }
            if (which.isEmpty()) return;
            steps.add(Step.of(Op.FORK_INTO, "fork into the " + String.join(" and ", which) + " namespace"
                    + (which.size() > 1 ? "s" : "") + ": the child carries on inside, in this process's place (its"
                    + " parent is corral's monitor)"));
        }

        // ---- identity -------------------------------------------------------------------------

        private IdMapPlan planIdMaps() {
            if (spec.autoIds() != null) {
                // The launcher replaces an automatic range by the allocated maps before planning.
                String where = at("autoIds");
                if (!spec.unshares(Namespace.USER)) {
                    problem(where, spec.joins(Namespace.USER) ? "an automatic id range needs a new user namespace"
                            + " (a joined one has its own maps)" : "an automatic id range needs the user namespace");
                }
                else if (!spec.uidMap().isEmpty() || !spec.gidMap().isEmpty()) {
                    problem(where, "an automatic id range replaces the uid and gid maps: give one or the other");
                } else problem(where, "the automatic id range is not allocated yet (plan through dev.corral.launch.Launcher)");
            }
            if (!spec.unshares(Namespace.USER)) {
                String why = spec.joins(Namespace.USER) ? "id maps need a new user namespace (a joined one has its own)"
                        : "id maps need the user namespace";
                if (!spec.uidMap().isEmpty()) problem(at("uidMap"), why);
                if (!spec.gidMap().isEmpty()) problem(at("gidMap"), why);
                return null;
            }
            List<IdMapping> uid = spec.uidMap().isEmpty()
                    ? List.of(new IdMapping(0, host.euid(), 1, at("uidMap"))) : spec.uidMap();
            List<IdMapping> gid = spec.gidMap().isEmpty()
                    ? List.of(new IdMapping(0, host.egid(), 1, at("gidMap"))) : spec.gidMap();
            checkMap(uid, at("uidMap"));
            checkMap(gid, at("gidMap"));
            if (host.euid() == 0) return new IdMapPlan(uid, gid, false, false);
            boolean uidSelf = onlySelf(uid, host.euid());
            boolean gidSelf = onlySelf(gid, host.egid());
            if (uidSelf && gidSelf) return new IdMapPlan(uid, gid, true, false);
            // A normal user maps anything beyond its own ids only through subordinate ranges.
            checkOwned(uid, host.euid(), host.subuids(), "/etc/subuid");
            checkOwned(gid, host.egid(), host.subgids(), "/etc/subgid");
            if (!host.idMapHelpers()) {
                problem(at("uidMap"), "mapping subordinate ids needs newuidmap and newgidmap (Debian: apt-get install uidmap)");
            }
            // newgidmap denies setgroups itself when the gid map holds the caller's own gid alone,
            // no subordinate range (shadow's fix for CVE-2018-7169): the jail cannot setgroups then.
            return new IdMapPlan(uid, gid, gidSelf, true);
        }

        private static boolean onlySelf(List<IdMapping> map, long id) {
            return map.size() == 1 && map.getFirst().outside() == id && map.getFirst().count() == 1;
        }

        private void checkMap(List<IdMapping> map, String where) {
            if (map.size() > MAX_MAP_LINES) problem(where, "more than " + MAX_MAP_LINES + " ranges (the kernel's limit)");
            else {
                // The kernel takes a map in one write of less than a page (EINVAL at setup otherwise).
                int bytes = map.stream().mapToInt(m -> m.mapLine().length() + 1).sum();
                if (bytes >= MAX_MAP_BYTES) problem(where, "the ranges take " + bytes + " bytes as a map; the kernel takes under " + MAX_MAP_BYTES);
            }
            for (int i = 0; i < map.size(); i++) {
                IdMapping m = map.get(i);
                if (m.count() < 1) problem(m.origin(), "range size must be at least 1, not " + m.count());
                if (m.inside() < 0 || m.outside() < 0) problem(m.origin(), "ids cannot be negative");
                if (m.inside() + m.count() - 1 > IdMapping.MAX_ID || m.outside() + m.count() - 1 > IdMapping.MAX_ID) {
                    problem(m.origin(), "range runs past the largest id " + IdMapping.MAX_ID);
                }
                for (int j = 0; j < i; j++) {
                    IdMapping o = map.get(j);
                    if (m.overlapsInside(o)) problem(m.origin(), "inside ids overlap " + o.origin());
                    else if (m.overlapsOutside(o)) problem(m.origin(), "outside ids overlap " + o.origin());
                }
            }
        }

        private void checkOwned(List<IdMapping> map, long self, List<SubIdRange> ranges, String file) {
            for (IdMapping m : map) {
                boolean own = m.outside() == self && m.count() == 1;
                boolean delegated = ranges.stream().anyMatch(r -> r.contains(m.outside(), m.count()));
                if (!own && !delegated) {
                    problem(m.origin(), "maps host ids " + m.outside() + ".." + (m.outside() + m.count() - 1)
                            + " which this user (" + self + ") does not own: only its own id and the ranges in "
                            + file + " " + describe(ranges));
                }
            }
        }

        private static String describe(List<SubIdRange> ranges) {
            if (ranges.isEmpty()) return "(none for this user)";
            return ranges.stream().map(r -> r.start() + ".." + (r.start() + r.count() - 1)).toList().toString();
        }

        /** Adds the steps that set groups, gid and uid; returns the uid the program runs as. */
        private long planIdentity(IdMapPlan maps, String root, Hardening h) {
            boolean userns = maps != null;
            Long uid = spec.uid();
            Long gid = spec.gid();
            List<Long> groups = new ArrayList<>();
            String passwdRoot = root == null ? "" : root;
            // An empty name would match a malformed passwd line, and every group whose member list is empty.
            if (spec.user() != null && spec.user().isEmpty()) problem(at("user"), "empty user name");
            else if (spec.user() != null) {
                Optional<Passwd.Entry> e = passwd(passwdRoot).flatMap(p -> p.user(spec.user()));
                if (e.isEmpty()) {
                    problem(at("user"), "no user \"" + spec.user() + "\" in " + passwdRoot + "/etc/passwd");
                } else {
                    if (uid == null) uid = e.get().uid();
                    if (gid == null && spec.group() == null) gid = e.get().gid();
                    groups.addAll(group(passwdRoot).map(g -> g.groupsOf(spec.user())).orElse(List.of()));
                }
            }
            if (spec.group() != null && spec.group().isEmpty()) problem(at("group"), "empty group name");
            else if (spec.group() != null) {
                Optional<Long> g = group(passwdRoot).flatMap(p -> p.gid(spec.group()));
                if (g.isEmpty()) problem(at("group"), "no group \"" + spec.group() + "\" in " + passwdRoot + "/etc/group");
                else if (gid == null) gid = g.get();
            }
            boolean joinedUserns = spec.joins(Namespace.USER);
            if (joinedUserns) {
                // Root of the joined namespace by default, as nsenter does; its maps are its own, so
                // the kernel checks that the ids are mapped (EINVAL otherwise).
                if (uid == null) uid = 0L;
                if (gid == null) gid = 0L;
            } else if (!userns) {
                if ((uid != null && uid != host.euid()) || (gid != null && gid != host.egid())) {
                    if (host.euid() != 0) problem(at("uid"), "switching to another user without a user namespace needs root");
                }
                if (uid == null && gid == null) return host.euid(); // keep the caller's identity
                if (gid == null) gid = (long) host.egid();
                if (uid == null) uid = (long) host.euid();
            } else {
                if (uid == null) uid = 0L;
                if (gid == null) gid = 0L;
                // Neither asked for: the program runs as 0, and it is the map that leaves 0 out.
                checkMapped(uid, maps.uid(), at(spec.uid() != null ? "uid" : spec.user() != null ? "user" : "uidMap"), "uid");
                checkMapped(gid, maps.gid(), at(spec.gid() != null ? "gid" : spec.group() != null ? "group"
                        : spec.user() != null ? "user" : "gidMap"), "gid");
                groups.removeIf(g -> maps.gid().stream().noneMatch(m -> m.coversInside(g)));
            }
            if (uid < 0 || uid > IdMapping.MAX_ID) problem(at("uid"), "out of range: " + uid);
            if (gid < 0 || gid > IdMapping.MAX_ID) problem(at("gid"), "out of range: " + gid);
            boolean canSetgroups = !userns || !maps.denySetgroups();
            if (joinedUserns) {
                // The caller's groups were dropped before joining (as root); a joined namespace
                // may deny setgroups, so it is asked only for groups the spec names.
                groups.remove(gid);
                if (!groups.isEmpty()) {
                    steps.add(new Step(Op.SETGROUPS, groups.stream().map(String::valueOf).toList(),
                            "set supplementary groups " + groups));
                }
            } else if (canSetgroups) {
                groups.remove(gid);
                steps.add(new Step(Op.SETGROUPS, groups.stream().map(String::valueOf).toList(),
                        groups.isEmpty() ? "drop supplementary groups" : "set supplementary groups " + groups));
            }
            steps.add(Step.of(Op.SETGID, "set gid " + gid, String.valueOf(gid)));
            if (uid != 0 && !h.capabilities().isEmpty()) {
                steps.add(Step.of(Op.KEEP_CAPS, "keep the permitted capabilities across the change of uid"));
            }
            steps.add(Step.of(Op.SETUID, "set uid " + uid, String.valueOf(uid)));
            return uid;
        }

        // ---- hardening ------------------------------------------------------------------------

        private void planRlimits(Hardening h) {
            for (Rlimit r : h.rlimits()) {
                String name = r.resource().name().toLowerCase(java.util.Locale.ROOT);
                if (!Rlimit.atMost(r.soft(), r.hard())) {
                    problem(r.origin(), "soft limit " + Rlimit.show(r.soft()) + " is above the hard limit "
                            + Rlimit.show(r.hard()));
                    continue;
                }
                long callerHard = host.rlimit(r.resource())[1];
                if (!Rlimit.atMost(r.hard(), callerHard) && !host.canRaiseHardLimits()) {
                    problem(r.origin(), "hard limit " + Rlimit.show(r.hard()) + " is above yours ("
                            + Rlimit.show(callerHard) + "); raising a hard limit needs CAP_SYS_RESOURCE on the host");
                    continue;
                }
                steps.add(Step.of(Op.RLIMIT, "limit " + name + " to " + Rlimit.show(r.soft()) + " (hard "
                        + Rlimit.show(r.hard()) + ")", String.valueOf(r.resource().number()),
                        r.soft() < 0 ? "inf" : Long.toString(r.soft()), r.hard() < 0 ? "inf" : Long.toString(r.hard())));
            }
        }

        /** The filter as hex of its sock_filter array, or null for none. */
        private String planSeccompFilter(Hardening h) {
            Seccomp sc = h.seccomp();
            if (sc.kind() == Seccomp.Kind.UNCONFINED) return null;
            if (!SeccompFilters.supportedHere()) {
                problem(sc.origin(), "corral generates seccomp filters for x86_64 only so far;"
                        + " run without one only by asking for it (seccomp unconfined)");
                return null;
            }
            byte[] bpf;
            if (sc.kind() == Seccomp.Kind.DEFAULT) {
                bpf = SeccompFilters.defaultFilter(h.allowUserns());
            } else {
                Optional<String> text = host.readFile(sc.profile());
                if (text.isEmpty()) {
                    problem(sc.origin(), "cannot read the seccomp profile " + sc.profile());
                    return null;
                }
                try {
                    bpf = SeccompFilters.fromOciProfile(text.get(), sc.profile(), h.capabilities());
                } catch (SpecException e) {
                    problems.addAll(e.problems());
                    return null;
                }
            }
            return java.util.HexFormat.of().formatHex(bpf);
        }

        private String seccompWords(Hardening h) {
            return switch (h.seccomp().kind()) {
                case DEFAULT -> "load corral's default seccomp filter"
                        + (h.allowUserns() ? " (nested user namespaces allowed)" : "");
                case PROFILE -> "load the seccomp profile " + h.seccomp().profile();
                case UNCONFINED -> "no seccomp filter";
            };
        }

        private static String capNames(java.util.Set<Capability> caps) {
            if (caps.isEmpty()) return "none";
            return caps.stream().sorted().map(Capability::capName).collect(java.util.stream.Collectors.joining(","));
        }

        /** OCI's masked and read-only paths, under each /proc the jail mounts and under /sys. */
        private void planMasks() {
            List<String> procs = new ArrayList<>();
            if (spec.automount().procfs() && ownsProc()) procs.add("/proc");
            for (MountSpec m : spec.mounts()) if (m instanceof MountSpec.Proc p) procs.add(p.target());
            for (String path : Hardening.MASKED_PATHS) {
                for (String target : under(path, procs)) {
                    steps.add(Step.of(Op.MASK, "mask " + target + " (if present)", target));
                }
            }
            for (String path : Hardening.READONLY_PATHS) {
                for (String target : under(path, procs)) {
                    steps.add(Step.of(Op.READONLY, "make " + target + " read-only (if present)", target));
                }
            }
        }

        private static List<String> under(String path, List<String> procs) {
            if (!path.startsWith("/proc/")) return List.of(path);
            return procs.stream().map(p -> p + path.substring("/proc".length())).toList();
        }

        private void checkMapped(long id, List<IdMapping> map, String where, String kind) {
            if (map.stream().noneMatch(m -> m.coversInside(id))) {
                problem(where, kind + " " + id + " is not mapped in the jail's user namespace (map: "
                        + map.stream().map(IdMapping::mapLine).toList() + ")");
            }
        }

        private Optional<Passwd> passwd(String root) {
            return jailFile(root, "/etc/passwd").map(Passwd::parse);
        }

        private Optional<Passwd> group(String root) {
            return jailFile(root, "/etc/group").map(Passwd::parse);
        }

        /** A file of the jail's root: an overlay's upper directory first (what a jail wrote), then the base. */
        private Optional<String> jailFile(String root, String path) {
            Optional<String> changed = upper == null ? Optional.empty() : host.readFile(upper + path);
            return changed.isPresent() ? changed : host.readFile(root + path);
        }

        // ---- idmapped mounts ------------------------------------------------------------------

        /**
         * The rootfs and the binds asked to be idmapped: each is cloned, detached, by the jail's
         * first process before the id maps exist (OP_IDMAP_TREE), and given the mapping of the
         * jail's user namespace by the monitor once they are written (OP_IDMAP): the kernel wants
         * CAP_SYS_ADMIN over the filesystem's owner for that, which only the host side has. The
         * mount then shows on-disk ids through the jail's own map: whatever host range the jail
         * runs as, a file owned by 0 on disk is its root's, and what it creates is stored as 0.
         */
        private void planIdmappedMounts(IdMapPlan maps, String root) {
            List<MountSpec.Bind> binds = new ArrayList<>();
            for (MountSpec m : spec.mounts()) if (m instanceof MountSpec.Bind b && b.idmap()) binds.add(b);
            boolean rootfs = spec.rootfsIdmap();
            if (!rootfs && binds.isEmpty()) return;
            String first = rootfs ? at("rootfsIdmap") : binds.getFirst().origin();
            if (rootfs && spec.rootfs() == null) {
                problem(at("rootfsIdmap"), "an idmapped rootfs needs a rootfs (the default jail shows the host's own ids)");
                rootfs = false;
            }
            if (maps == null) {
                problem(first, "an idmapped mount takes the mapping of the jail's own user namespace: it needs a new one"
                        + (spec.joins(Namespace.USER) ? " (not a joined one)" : ""));
                return;
            }
            if (!spec.unshares(Namespace.MOUNT)) return; // the rootfs and mounts say so themselves
            if (host.euid() != 0) {
                problem(first, "idmapped mounts need root: the kernel wants CAP_SYS_ADMIN over the user namespace that"
                        + " owns the filesystem (the host's); as a normal user make a shifted copy instead:"
                        + " corral rootfs shift SRC DST --uid-base N");
                return;
            }
            int count = (rootfs ? 1 : 0) + binds.size();
            if (count > MAX_IDMAPPED_MOUNTS) {
                problem(first, count + " idmapped mounts; at most " + MAX_IDMAPPED_MOUNTS + " per jail");
                return;
            }
            String mapping = describeIdmap(maps);
            int k = 0;
            if (rootfs && root != null) {
                rootIdmapSlot = slot();
                if (spec.overlay() != null) {
                    // The overlay's lower layer: the base alone (overlayfs sees no submounts), read-only.
                    planIdmap(rootIdmapSlot, k++, root, false, true, "the base", at("rootfsIdmap"), mapping);
                } else {
                    planIdmap(rootIdmapSlot, k++, root, true, false, "the rootfs", at("rootfsIdmap"), mapping);
                }
            }
            for (MountSpec.Bind b : binds) {
                String src = b.source();
                if (!src.startsWith("/")) {
                    problem(b.origin(), "source must be an absolute path: " + src);
                    continue;
                }
                if (host.kind(src) == HostView.PathKind.MISSING) {
                    problem(b.origin(), "source " + host.whyMissing(src) + ": " + src);
                    continue;
                }
                int slot = slot();
                bindIdmapSlots.put(b, slot);
                planIdmap(slot, k++, src, true, b.readOnly(), src, b.origin(), mapping);
            }
        }

        private void planIdmap(int slot, int k, String path, boolean recursive, boolean readOnly, String what, String where,
                               String mapping) {
            String rec = recursive ? "1" : "0";
            steps.add(Step.of(Op.IDMAP_TREE, "clone " + what + (what.equals(path) ? "" : " " + path)
                            + (recursive ? "" : " (without the mounts under it)") + (readOnly ? " read-only" : "")
                            + ", detached, to be idmapped (" + where + ")",
                    String.valueOf(slot), String.valueOf(k), path, rec, readOnly ? "1" : "0"));
            steps.add(Step.of(Op.IDMAP, "idmap the clone of " + path + " with the jail's user namespace (the monitor,"
                    + " outside the jail, once the maps are written): " + mapping, String.valueOf(k), rec, path, where));
        }

        /** "on-disk uids 0-65535 are the jail's 0-65535 (host 131072-196607) ...". */
        private static String describeIdmap(IdMapPlan maps) {
            return "on-disk uids " + ranges(maps.uid()) + " and gids " + ranges(maps.gid())
                    + " are the jail's own, stored as such whatever host ids it runs as; others show as nobody";
        }

        private static String ranges(List<IdMapping> map) {
            return String.join(", ", map.stream().map(m -> m.count() == 1 ? String.valueOf(m.inside())
                    : m.inside() + "-" + (m.inside() + m.count() - 1)).toList());
        }

        // ---- filesystem -----------------------------------------------------------------------

        private String checkRootfs() {
            String rootfs = spec.rootfs();
            if (rootfs == null) return null;
            String where = at("rootfs");
            if (!spec.unshares(Namespace.MOUNT)) {
                problem(where, spec.joins(Namespace.MOUNT) ? "a rootfs needs a new mount namespace, not a joined one"
                        : "a rootfs needs the mount namespace");
                return null;
            }
            if (!rootfs.startsWith("/")) {
                problem(where, "must be an absolute path: " + rootfs);
                return null;
            }
            switch (host.kind(rootfs)) {
                case MISSING -> {
                    String why = host.whyMissing(rootfs); // asked only now: a second stat, on the failure path alone
                    problem(where, why.equals("does not exist") ? "no such directory: " + rootfs : rootfs + " " + why);
                }
                case DIRECTORY -> {
                    String real = host.realPath(rootfs).orElse(rootfs);
                    if (real.equals("/")) problem(where, "the host's / cannot be the rootfs (leave rootfs unset for the default jail)");
                    return real;
                }
                default -> problem(where, "not a directory: " + rootfs);
            }
            return null;
        }

        /**
         * The overlay's layer directories, checked: absolute, apart from each other and from the
         * base, on one filesystem that can hold an upper layer. Missing ones are made at start.
         */
        private RootfsOverlay checkOverlay(String base) {
            RootfsOverlay o = spec.overlay();
            if (o == null) return null;
            if (spec.rootfs() == null) {
                problem(at("rootfsOverlay"), "an overlay needs a rootfs to be its base");
                return null;
            }
            if (base == null) return null; // the rootfs's problem is reported
            if (o.upper() == null && o.work() != null) {
                problem(at("rootfsWork"), "a work directory goes with an upper directory on its filesystem: give both, or neither");
                return null;
            }
            if (!o.placed()) {
                problem(at("rootfsOverlay"), "the overlay's layer is not placed yet (plan through dev.corral.launch.Launcher)");
                return null;
            }
            String upper = checkLayerDir(o.upper(), at("rootfsUpper"));
            String work = checkLayerDir(o.work(), at("rootfsWork"));
            if (upper == null || work == null) return null;
            if (nested(upper, work)) {
                problem(at("rootfsWork"), "the work directory " + work + " and the upper directory " + upper
                        + " must be apart, neither inside the other");
                return null;
            }
            for (String[] layer : new String[][] {{upper, "rootfsUpper"}, {work, "rootfsWork"}}) {
                if (nested(base, layer[0])) {
                    problem(at(layer[1]), layer[0] + " and the base " + base + " must be apart, neither inside the other");
                    return null;
                }
            }
            Optional<HostView.Filesystem> upperFs = host.filesystem(upper), workFs = host.filesystem(work);
            if (upperFs.isPresent() && upperFs.get().type().equals("overlay")) {
                problem(at("rootfsUpper"), upper + " is on an overlayfs, which cannot hold the upper layer of another"
                        + " overlay; choose a directory on a disk filesystem (ext4, xfs, btrfs) or tmpfs");
            } else if (upperFs.isPresent() && workFs.isPresent() && upperFs.get().device() != workFs.get().device()) {
                problem(at("rootfsWork"), work + " is on another filesystem than the upper directory " + upper
                        + "; overlayfs needs both on one");
            }
            return o.at(upper, work);
        }

        /** An absolute, normalised layer directory (its real path if it exists), or null. */
        private String checkLayerDir(String path, String where) {
            if (!path.startsWith("/") || path.indexOf('\0') >= 0) {
                problem(where, "must be an absolute path: " + path);
                return null;
            }
            String normal = java.nio.file.Path.of(path).normalize().toString();
            return switch (host.kind(normal)) {
                case MISSING -> normal;
                case DIRECTORY -> host.realPath(normal).orElse(normal);
                default -> {
                    problem(where, "not a directory: " + path);
                    yield null;
                }
            };
        }

        private static boolean nested(String a, String b) {
            return a.equals(b) || a.startsWith(b.endsWith("/") ? b : b + "/") || b.startsWith(a.endsWith("/") ? a : a + "/");
        }

        private void planFilesystem(String root, RootfsOverlay overlay, int[] layers) {
            steps.add(Step.of(Op.MAKE_PRIVATE, "make every mount private, so nothing propagates to the host", "private"));
            // An idmapped base is the root itself, or an overlay's lower layer under a root of its own.
            int rootSlot = rootIdmapSlot != null && overlay == null ? rootIdmapSlot : slot();
            // Every host path is cloned before the new root is attached, while the host's tree is
            // still in view; attaching happens afterwards, in order, beneath the new root.
            List<Runnable> attach = new ArrayList<>();
            boolean tmpfsRoot = root == null && !hostRootCanBeCloned();
            if (root == null && !tmpfsRoot) {
                steps.add(Step.of(Op.OPEN_TREE, "clone the host's / recursively, read-only",
                        String.valueOf(rootSlot), "/", "1", "1"));
            } else if (root == null) {
                steps.add(Step.of(Op.NEW_FS, "make a tmpfs to be the new root", String.valueOf(rootSlot),
                        "tmpfs", "tmpfs", "mode=0755", "nosuid,nodev"));
                planHostEntries(attach);
            } else if (overlay != null) {
                planOverlayRoot(rootSlot, overlay, layers);
            } else if (rootIdmapSlot == null) {
                steps.add(Step.of(Op.OPEN_TREE, "clone the rootfs " + root,
                        String.valueOf(rootSlot), root, "1", "0"));
            }
            planAutomounts(attach);
            for (MountSpec m : spec.mounts()) planMount(m, attach);
            // An overlay, or an idmapped rootfs, is staged on /tmp too: it was cloned as the caller,
            // and the jail's root may not reach the base by its path.
            boolean onTmp = root == null || overlay != null || rootIdmapSlot != null;
            String stage = onTmp ? "/tmp" : root;
            if (onTmp && host.kind(stage) != HostView.PathKind.DIRECTORY) {
                problem(at("rootfs"), (root == null ? "the default jail" : overlay != null ? "an overlay rootfs"
                        : "an idmapped rootfs") + " is staged on /tmp,"
                        + " which this host lacks");
            }
            steps.add(Step.of(Op.ATTACH_ROOT, "attach the new root at " + stage + " (in the jail's mount namespace only)",
                    String.valueOf(rootSlot), stage));
            attach.forEach(Runnable::run);
            planMasks();
            if (tmpfsRoot) {
                steps.add(Step.of(Op.SET_ATTRS, "make the new root's own tmpfs read-only", "/", "ro"));
            }
            steps.add(Step.of(Op.PIVOT_ROOT, "pivot_root into the new root and detach the old one"));
        }

        /**
         * An overlay's layers, taken while the process still has the caller's ids (before it
         * becomes the jail's root, who may not pass through the caller's home): the base cloned
         * read-only (non-recursive: overlayfs sees no submounts), and the upper and work
         * directories opened. Returns their slots: lower, upper, work. An idmapped base was cloned
         * before "go" (planIdmappedMounts): its slot is the lower layer.
         */
        private int[] planOverlayLayers(String base, RootfsOverlay overlay) {
            int lower = rootIdmapSlot != null ? rootIdmapSlot : slot(), upper = slot(), work = slot();
            if (rootIdmapSlot == null) {
                steps.add(Step.of(Op.OPEN_TREE, "clone the base " + base + " read-only (the overlay's lower layer)",
                        String.valueOf(lower), base, "0", "1"));
            }
            steps.add(Step.of(Op.OPEN_DIR, "open the upper directory " + overlay.upper() + " (as the caller)",
                    String.valueOf(upper), overlay.upper()));
            steps.add(Step.of(Op.OPEN_DIR, "open the work directory " + overlay.work() + " (as the caller)",
                    String.valueOf(work), overlay.work()));
            return new int[] {lower, upper, work};
        }

        /**
         * The overlayfs made from those, as the jail's root (its mounter, so what the jail writes is
         * the jail's), in its user namespace ({@code userxattr}: overlayfs keeps its whiteouts and
         * opaque markers in user.* xattrs there, so one layer serves every start, as root or not).
         */
        private void planOverlayRoot(int rootSlot, RootfsOverlay overlay, int[] layers) {
            // A layer removed after the run is never synced to disk (volatile); a kept one is.
            steps.add(Step.of(Op.OVERLAY, "make an overlayfs of them to be the new root; the jail's changes go to "
                            + overlay.upper() + " (work directory " + overlay.work() + (overlay.scratch() ? "; volatile:"
                            + " never synced, the layer goes with the run" : "") + ")",
                    String.valueOf(rootSlot), String.valueOf(layers[0]), String.valueOf(layers[1]), String.valueOf(layers[2]),
                    overlay.scratch() ? "userxattr,volatile" : "userxattr", "-"));
        }

        /**
         * The cheap default jail: one read-only clone of the host's whole tree. It serves when
         * /proc, /tmp and /dev are replaced (the host's own never show through) and every mount
         * point already exists on the host, since nothing can be created in a read-only tree.
         */
        private boolean hostRootCanBeCloned() {
            if (!spec.automount().all()) return false;
            if (!ownsProc()) return false; // the host's /proc would show through
            for (MountSpec m : spec.mounts()) {
                HostView.PathKind want = switch (m) {
                    case MountSpec.Bind b -> host.kind(b.source()) == HostView.PathKind.DIRECTORY
                            ? HostView.PathKind.DIRECTORY : HostView.PathKind.FILE;
                    case MountSpec.Symlink s -> null;
                    default -> HostView.PathKind.DIRECTORY;
                };
                if (want == null || !m.target().startsWith("/") || host.kind(m.target()) != want) return false;
            }
            return true;
        }

        /**
         * The default jail shows the host's top-level entries read-only on a tmpfs root, so that
         * mount points for binds can be made at the top without touching the host.
         */
        private void planHostEntries(List<Runnable> attach) {
            for (HostView.Entry e : host.list("/")) {
                if (HOST_ENTRIES_REPLACED.contains(e.name())) continue;
                String path = "/" + e.name();
                switch (e.kind()) {
                    case DIRECTORY, FILE -> {
                        int slot = slot();
                        boolean dir = e.kind() == HostView.PathKind.DIRECTORY;
                        steps.add(Step.of(Op.OPEN_TREE, "clone the host's " + path + " read-only",
                                String.valueOf(slot), path, dir ? "1" : "0", "1"));
                        attach.add(() -> steps.add(Step.of(Op.ATTACH, "mount the host's " + path + " on " + path,
                                String.valueOf(slot), path, dir ? "d" : "f")));
                    }
                    case SYMLINK -> attach.add(() -> steps.add(Step.of(Op.SYMLINK,
                            "symlink " + path + " -> " + e.linkTarget(), e.linkTarget(), path)));
                    default -> { } // sockets and fifos at the top of / are not carried over
                }
            }
        }

        private static boolean rootIsMapped(IdMapPlan maps) {
            return maps.uid().stream().anyMatch(m -> m.coversInside(0)) && maps.gid().stream().anyMatch(m -> m.coversInside(0));
        }

        /**
         * A fresh /proc can be mounted: the kernel wants CAP_SYS_ADMIN over the user namespace
         * that owns the pid namespace, which a jail in its own (new or joined) user namespace has
         * only for a new pid namespace, or for one joined along with its user namespace.
         */
        private boolean ownsProc() {
            if (spec.unshares(Namespace.PID)) return true;
            if (spec.joins(Namespace.USER)) return spec.joins(Namespace.PID);
            return !spec.unshares(Namespace.USER);
        }

        private int slot() {
            return nextSlot++;
        }

        private void planAutomounts(List<Runnable> attach) {
            var auto = spec.automount();
            if (auto.procfs() && ownsProc()) planMount(new MountSpec.Proc("/proc", "automount.procfs"), attach);
            if (auto.tmpfs()) planMount(new MountSpec.Tmpfs("/tmp", "automount.tmpfs"), attach);
            if (auto.devfs()) planMount(new MountSpec.Dev("/dev", "automount.devfs"), attach);
        }

        private void planMount(MountSpec m, List<Runnable> attach) {
            String target = checkTarget(m.target(), m.origin());
            if (target == null) return;
            switch (m) {
                case MountSpec.Bind b when b.idmap() -> {
                    // Cloned before "go" (planIdmappedMounts); a bad source is reported there.
                    Integer slot = bindIdmapSlots.get(b);
                    if (slot == null) return;
                    String type = host.kind(b.source()) == HostView.PathKind.DIRECTORY ? "d" : "f";
                    attach.add(() -> steps.add(Step.of(Op.ATTACH, "mount " + b.source() + " idmapped on " + target
                            + (b.readOnly() ? " (read-only)" : ""), String.valueOf(slot), target, type)));
                }
                case MountSpec.Bind b -> {
                    String src = b.source();
                    HostView.PathKind kind = src.startsWith("/") ? host.kind(src) : HostView.PathKind.MISSING;
                    if (!src.startsWith("/")) {
                        problem(b.origin(), "source must be an absolute path: " + src);
                        return;
                    }
                    if (kind == HostView.PathKind.MISSING) {
                        problem(b.origin(), "source " + host.whyMissing(src) + ": " + src);
                        return;
                    }
                    int slot = slot();
                    String ro = b.readOnly() ? "1" : "0";
                    steps.add(Step.of(Op.OPEN_TREE, "clone " + src + (b.readOnly() ? " read-only" : "") + " for " + target,
                            String.valueOf(slot), src, "1", ro));
                    String type = kind == HostView.PathKind.DIRECTORY ? "d" : "f";
                    attach.add(() -> steps.add(Step.of(Op.ATTACH,
                            "mount " + src + " on " + target + (b.readOnly() ? " (read-only)" : ""),
                            String.valueOf(slot), target, type)));
                }
                case MountSpec.Tmpfs t -> attach.add(() -> steps.add(Step.of(Op.MOUNT_FS,
                        "mount tmpfs on " + target, "tmpfs", "tmpfs", "mode=1777", target, "nosuid,nodev")));
                case MountSpec.Proc p -> {
                    if (!ownsProc()) {
                        problem(p.origin(), "a fresh /proc inside a user namespace needs the pid namespace");
                        return;
                    }
                    String hidepid = spec.hardening().procHidepid();
                    if (hidepid != null && !HIDEPID.contains(hidepid)) {
                        problem(at("procHidepid"), "expected one of " + HIDEPID + ", not " + hidepid);
                        return;
                    }
                    String options = hidepid == null ? "" : "hidepid=" + hidepid;
                    attach.add(() -> steps.add(Step.of(Op.MOUNT_FS, "mount proc on " + target
                                    + (hidepid == null ? "" : " (" + options + ")"),
                            "proc", "proc", options, target, "nosuid,nodev,noexec")));
                }
                case MountSpec.Dev d -> planDev(target, attach);
                case MountSpec.Dir d -> attach.add(() -> steps.add(Step.of(Op.MKDIR, "create directory " + target,
                        target, "755")));
                case MountSpec.Symlink s -> {
                    if (s.linkTarget().isEmpty() || s.linkTarget().indexOf('\0') >= 0) {
                        problem(s.origin(), "symlink target is empty or holds a NUL byte");
                        return;
                    }
                    attach.add(() -> steps.add(Step.of(Op.SYMLINK, "symlink " + target + " -> " + s.linkTarget(),
                            s.linkTarget(), target)));
                }
            }
        }

        private void planDev(String dev, List<Runnable> attach) {
            Map<String, Integer> slots = new LinkedHashMap<>();
            for (String node : DEV_NODES) {
                String src = "/dev/" + node;
                if (host.kind(src) == HostView.PathKind.MISSING) continue;
                int slot = slot();
                slots.put(node, slot);
                steps.add(Step.of(Op.OPEN_TREE, "clone the host's " + src + " for " + dev + "/" + node,
                        String.valueOf(slot), src, "0", "0"));
            }
            attach.add(() -> {
                steps.add(Step.of(Op.MOUNT_FS, "mount tmpfs on " + dev, "tmpfs", "tmpfs", "mode=0755", dev, "nosuid,noexec"));
                slots.forEach((node, slot) -> steps.add(Step.of(Op.ATTACH, "mount /dev/" + node + " on " + dev + "/" + node,
                        String.valueOf(slot), dev + "/" + node, "f")));
                steps.add(Step.of(Op.MOUNT_FS, "mount devpts on " + dev + "/pts", "devpts", "devpts",
                        "newinstance,ptmxmode=0666,mode=0620", dev + "/pts", "nosuid,noexec"));
                steps.add(Step.of(Op.SYMLINK, "symlink " + dev + "/ptmx -> pts/ptmx", "pts/ptmx", dev + "/ptmx"));
                steps.add(Step.of(Op.MOUNT_FS, "mount tmpfs on " + dev + "/shm", "tmpfs", "tmpfs", "mode=1777",
                        dev + "/shm", "nosuid,nodev"));
                String[][] links = {{"/proc/self/fd", "fd"}, {"/proc/self/fd/0", "stdin"},
                        {"/proc/self/fd/1", "stdout"}, {"/proc/self/fd/2", "stderr"}};
                for (String[] l : links) {
                    steps.add(Step.of(Op.SYMLINK, "symlink " + dev + "/" + l[1] + " -> " + l[0], l[0], dev + "/" + l[1]));
                }
            });
        }

        /** Absolute, normalised, no "." or ".." components, not the root itself. */
        private String checkTarget(String target, String where) {
            if (target == null || !target.startsWith("/")) {
                problem(where, "target must be an absolute path inside the jail: " + target);
                return null;
            }
            List<String> parts = new ArrayList<>();
            for (String p : target.split("/")) {
                if (p.isEmpty()) continue;
                if (p.equals("..") || p.equals(".")) {
                    problem(where, "target " + target + " has a '" + p + "' component (it could leave the jail's root)");
                    return null;
                }
                parts.add(p);
            }
            if (parts.isEmpty()) {
                problem(where, "target cannot be the jail's / itself");
                return null;
            }
            if (target.indexOf('\0') >= 0) {
                problem(where, "target holds a NUL byte");
                return null;
            }
            return "/" + String.join("/", parts);
        }

        private void planUts() {
            String name = spec.hostname();
            if (name == null) return;
            if (!spec.unshares(Namespace.UTS)) {
                problem(at("hostname"), spec.joins(Namespace.UTS)
                        ? "setting the hostname needs a new uts namespace (it would rename the joined one)"
                        : "setting the hostname needs the uts namespace");
                return;
            }
            int bytes = name.getBytes(StandardCharsets.UTF_8).length;
            if (bytes == 0 || bytes > MAX_HOSTNAME_BYTES) {
                problem(at("hostname"), "must be 1 to " + MAX_HOSTNAME_BYTES + " bytes, not " + bytes);
                return;
            }
            if (name.indexOf('\0') >= 0) {
                problem(at("hostname"), "holds a NUL byte");
                return;
            }
            steps.add(Step.of(Op.SETHOSTNAME, "set the hostname to " + name, name));
        }

        // ---- passed sockets -------------------------------------------------------------------

        /** After the fork of init, so only the program gets them, and before limits and hardening. */
        private void planPassedSockets() {
            List<PassedSocket> sockets = spec.passedSockets();
            if (sockets.isEmpty()) return;
            String where = at("passedSockets");
            int n = sockets.size();
            if (n > MAX_PASSED_SOCKETS) problem(where, n + " sockets; at most " + MAX_PASSED_SOCKETS + " can be passed");
            for (int i = 0; i < n; i++) {
                PassedSocket s = sockets.get(i);
                String nameProblem = PassedSocket.nameProblem(s.name());
                if (nameProblem != null) problem(where + "[" + i + "]", nameProblem);
                else if (s.fd() < 0) problem(where + "[" + i + "]", "socket \"" + s.name() + "\" is closed");
            }
            String fds = n == 1 ? "fd 3" : "fds 3-" + (2 + n);
            steps.add(Step.of(Op.PASS_FDS, "pass " + n + " listening socket" + (n == 1 ? "" : "s") + " as " + fds
                    + " (LISTEN_FDS=" + n + ", LISTEN_FDNAMES=" + fdNames() + ", LISTEN_PID=the program's pid)",
                    String.valueOf(n)));
        }

        private String fdNames() {
            return String.join(":", spec.passedSockets().stream().map(PassedSocket::name).toList());
        }

        private void planExec() {
            Map<String, String> env = new LinkedHashMap<>();
            if (!spec.clearEnvironment()) {
                env.putAll(host.environment());
                // The caller's own socket activation speaks of descriptors the jail never gets.
                SOCKET_ACTIVATION_ENV.forEach(env::remove);
            }
            boolean passing = !spec.passedSockets().isEmpty();
            spec.environment().forEach((k, v) -> {
                if (k.isEmpty() || k.indexOf('=') >= 0 || k.indexOf('\0') >= 0 || v.indexOf('\0') >= 0) {
                    problem(at("environment"), "bad variable name or value: " + k);
                } else if (passing && SOCKET_ACTIVATION_ENV.contains(k)) {
                    problem(at("environment"), k + " is set by corral for the passed sockets");
                } else {
                    env.put(k, v);
                }
            });
            env.putIfAbsent("PATH", DEFAULT_PATH);
            if (passing) {
                // LISTEN_PID is the executor's: only the program's own process knows its pid.
                env.put("LISTEN_FDS", String.valueOf(spec.passedSockets().size()));
                env.put("LISTEN_FDNAMES", fdNames());
            }
            if (spec.command().isEmpty()) return;
            List<String> args = new ArrayList<>();
            args.add(spec.command().getFirst());
            args.add(String.valueOf(spec.command().size()));
            args.addAll(spec.command());
            env.forEach((k, v) -> args.add(k + "=" + v));
            steps.add(new Step(Op.EXEC, args, "exec " + shortened(String.join(" ", spec.command()))));
        }

        /** A command line as words for the plan and its errors: a huge one (E2BIG) in part. */
        private static String shortened(String commandLine) {
            if (commandLine.length() <= MAX_WORDS) return commandLine;
            return commandLine.substring(0, MAX_WORDS) + "... (" + commandLine.length() + " characters)";
        }
    }
}
