package dev.corral.launch;

import dev.corral.JailBuilder.StdioMode;
import dev.corral.JailSetupException;
import dev.corral.JailedProcess;
import dev.corral.OutputSink;
import dev.corral.launch.SpareExecutor.Spawned;
import dev.corral.launch.SpareExecutor.Streams;
import dev.corral.plan.HostView;
import dev.corral.plan.IdMapPlan;
import dev.corral.cgroup.CgroupVersion;
import dev.corral.cgroup.JailCgroup;
import dev.corral.plan.LaunchPlan;
import dev.corral.plan.Op;
import dev.corral.plan.Step;
import dev.corral.plan.PlanEncoder;
import dev.corral.plan.Planner;
import dev.corral.rootfs.LayerStore;
import dev.corral.ids.IdAllocationException;
import dev.corral.ids.IdRange;
import dev.corral.ids.RangeAllocator;
import dev.corral.spec.AutoIdRange;
import dev.corral.plan.NamespaceFile;
import dev.corral.spec.JailSpec;
import dev.corral.spec.Namespace;
import dev.corral.spec.SpecException;
import dev.corral.sys.EventLoop;
import dev.corral.sys.Libc;
import dev.corral.sys.NamespaceFiles;
import dev.corral.sys.NativeException;
import dev.corral.sys.Sockets;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;

/**
 * Drives the executor: plans the spec, spawns the executor with the plan on a pipe, writes the
 * id maps when it reports the cloned pid, says "go", and returns once the program has been exec'd.
 * Thread-safe; one per JVM is enough ({@link #shared()}).
 */
public final class Launcher {
    private static final class Holder {
        static final Launcher SHARED = new Launcher(new LocalHost());
    }

    /** Descriptors the executor expects (see native/src/exec.h). */
    static final int PLAN_FD = 3, EVENT_FD = 4;
    /** Child ends are moved at or above this so no dup2 in the child clobbers another. */
    private static final int HIGH_FD = 10;
    /** Where the executor takes the program's passed descriptors (PASS_FD_BASE in exec.h). */
    static final int PASS_FD_BASE = 100;
    /** Where it takes the namespaces to join, one slot per type and one for an outer user namespace (JOIN_FD_BASE, JOIN_FD_MAX). */
    static final int JOIN_FD_BASE = PASS_FD_BASE + Planner.MAX_PASSED_SOCKETS, JOIN_FD_MAX = 9;
    /** Where it takes a running jail's root and cwd, for a process that joins it (ROOT_FD, CWD_FD). */
    static final int ROOT_FD = JOIN_FD_BASE + JOIN_FD_MAX, CWD_FD = ROOT_FD + 1;
    /** Descriptors for those ranges are copied at or above this first, clear of every target of a dup2. */
    static final int SOURCE_FD = CWD_FD + 1;

    private final HostView host;
    private Executor executor;
    private final SpareExecutor spare = new SpareExecutor(this::spawnSpare);

    /**
     * Makes no native call: the executor is loaded at the first spawn, so that a caller (the CLI)
     * can plan on one thread while another spawns ahead and makes the JVM's first native call.
     */
    public Launcher(HostView host) {
        this.host = host;
    }

    /** The executor, loaded into its sealed memfd at the first spawn. */
    synchronized Executor executor() {
        if (executor == null) executor = Executor.load(SOURCE_FD);
        return executor;
    }

    /** The executor spawned ahead of the next start (tests look at it). */
    SpareExecutor spare() {
        return spare;
    }

    public static Launcher shared() {
        return Holder.SHARED;
    }

    /**
     * Spawns, on the calling thread, the executor that the next start with {@code stdio} (and
     * nothing to hand over: no passed sockets, no joins) will take. For a program with other work
     * before its start, such as the CLI parsing its arguments: the spawn, and the JVM's first
     * native call, then overlap that work. A start that comes first waits for it.
     */
    public void spawnAhead(StdioMode stdio) {
        spare.makeNow(stdio == StdioMode.PIPE ? Streams.PIPE : Streams.INHERIT);
    }

    /**
     * Ends the executor {@link #spawnAhead} made if no start took it, and waits for it to exit;
     * for a program that ends without starting a jail.
     */
    public void dropSpawnedAhead() {
        spare.dropAhead();
    }

    /** Whether the running kernel has time namespaces (5.6 and later); it cannot change under us. */
    public static boolean kernelHasTimeNamespace() {
        return TimeNamespace.PRESENT;
    }

    private static final class TimeNamespace {
        static final boolean PRESENT = Files.exists(Path.of("/proc/self/ns/time"));
    }

    /**
     * Plans {@code spec} for this host. An automatic id range shows as the range a start would
     * take now (nothing is allocated).
     */
    public LaunchPlan plan(JailSpec spec) throws SpecException {
        if (allocates(spec)) {
            try {
                spec = withRange(spec, spec.autoIds().allocatorOrDefault().peek(spec.autoIds().name()));
            } catch (IdAllocationException e) {
                throw new SpecException(spec.labels().of("autoIds"), e.getMessage());
            }
        }
        return new Planner(host).plan(OverlayLayers.place(spec, true).spec());
    }

    /**
     * Plans and starts {@code spec}. An automatic id range is allocated first: a named one is
     * kept, an unnamed one is given back when the jail ends (or the start fails).
     */
    public JailedProcess start(JailSpec spec, StdioMode stdio) throws SpecException, JailSetupException, IOException {
        return start(spec, stdio, null);
    }

    /**
     * Plans and starts {@code spec} with its stdout and stderr going to {@code sink} (one pipe,
     * read by the event loop) and an empty stdin: the streams of the process are empty.
     */
    public JailedProcess start(JailSpec spec, OutputSink sink) throws SpecException, JailSetupException, IOException {
        return start(spec, StdioMode.PIPE, java.util.Objects.requireNonNull(sink));
    }

    private JailedProcess start(JailSpec spec, StdioMode stdio, OutputSink sink)
            throws SpecException, JailSetupException, IOException {
        if (!allocates(spec)) return startPlaced(spec, stdio, sink, false);
        AutoIdRange auto = spec.autoIds();
        RangeAllocator allocator = auto.allocatorOrDefault();
        RangeAllocator.Lease lease = null;
        IdRange range;
        try {
            if (auto.name() != null) {
                range = allocator.allocate(auto.name());
            } else {
                lease = allocator.lease();
                range = lease.range();
            }
        } catch (IdAllocationException e) {
            throw new SpecException(spec.labels().of("autoIds"), e.getMessage());
        }
        try {
            JailedProcess p = startPlaced(withRange(spec, range), stdio, sink, lease != null);
            if (lease != null) ((MonitoredJail) p).whenGone(lease::close);
            return p;
        } catch (SpecException | JailSetupException | IOException | RuntimeException e) {
            if (lease != null) lease.close();
            throw e;
        }
    }

    /**
     * Plans and starts a spec whose ids are known: an overlay's layer is placed and its
     * directories made for the jail's root first; a layer for this run only is removed when the
     * jail ends (or fails to start). {@code leased}: an id range goes back when the jail is gone.
     */
    private JailedProcess startPlaced(JailSpec spec, StdioMode stdio, OutputSink sink, boolean leased)
            throws SpecException, JailSetupException, IOException {
        OverlayLayers.Placement placement = OverlayLayers.place(spec, false);
        LaunchPlan plan = new Planner(host).plan(placement.spec());
        LayerStore.Layer temporary = placement.layer() != null && placement.layer().temporary() ? placement.layer() : null;
        if (temporary != null) {
            for (Path stale : OverlayLayers.staleRunLayers(temporary.dir().getParent())) {
                removeQuietly(new LayerStore.Layer(stale, stale.resolve("upper"), stale.resolve("work"), true));
            }
        }
        try {
            OverlayLayers.prepare(placement, plan, host, this);
            JailedProcess p = start(plan, stdio, sink, leased || temporary != null);
            if (temporary != null) ((MonitoredJail) p).whenGone(() -> removeQuietly(temporary));
            return p;
        } catch (JailSetupException | IOException | RuntimeException e) {
            if (temporary != null) removeQuietly(temporary);
            throw e;
        }
    }

    /**
     * Removes an overlay layer corral placed (the daemon: when its application is deleted), with
     * everything the jail wrote there.
     */
    public void removeLayer(LayerStore.Layer layer) throws JailSetupException, IOException {
        OverlayLayers.remove(layer.dir(), host, this);
    }

    private void removeQuietly(LayerStore.Layer layer) {
        try {
            removeLayer(layer);
        } catch (JailSetupException | IOException | RuntimeException e) {
            System.err.println("corral: cannot remove the overlay layer " + layer.dir() + ": " + e.getMessage());
        }
    }

    /** An automatic range the launcher can allocate (else the planner says what is wrong). */
    private static boolean allocates(JailSpec spec) {
        return spec.autoIds() != null && spec.unshares(Namespace.USER) && spec.uidMap().isEmpty() && spec.gidMap().isEmpty();
    }

    private static JailSpec withRange(JailSpec spec, IdRange range) {
        String origin = spec.labels().of("autoIds");
        return spec.withIdMaps(List.of(range.uidMapping(origin)), List.of(range.gidMapping(origin)));
    }

    public JailedProcess start(LaunchPlan plan, StdioMode stdio) throws JailSetupException, IOException {
        return start(plan, stdio, (OutputSink) null, false);
    }

    /** {@code waitsForTeardown}: work waits on the jail's end (see MonitoredJail), so waitFor() does too. */
    private JailedProcess start(LaunchPlan plan, StdioMode stdio, OutputSink sink, boolean waitsForTeardown)
            throws JailSetupException, IOException {
        JailCgroup cgroup = plan.cgroup() == null ? null : JailCgroup.create(plan.cgroup());
        try {
            return start(plan, stdio, sink, cgroup, null, waitsForTeardown);
        } catch (JailSetupException | IOException | RuntimeException e) {
            // The monitor removes the cgroup once it has run; if it never did, it is ours to remove.
            if (cgroup != null) cgroup.removeQuietly();
            throw e;
        }
    }

    /**
     * The plan's steps, then the monitor's: the id maps it writes (unless newuidmap/newgidmap
     * must, which Java runs), and one step per cgroup directory.
     */
    static List<Step> stepsFor(LaunchPlan plan, JailCgroup cgroup) {
        IdMapPlan maps = plan.idMaps();
        boolean helpers = maps != null && maps.useHelpers();
        if (cgroup == null && helpers) return plan.steps();
        List<Step> all = new ArrayList<>(plan.steps());
        if (!helpers) all.add(IdMapWriter.monitorStep(maps));
        if (cgroup == null) return all;
        // cgroup v2 has one hierarchy, and clone3 can create the jail in it (CLONE_INTO_CGROUP): no
        // migration, which waits for an RCU grace period (7-13 ms measured on an idle host).
        boolean bornIn = cgroup.version() == CgroupVersion.V2;
        for (JailCgroup.MonitorEntry e : cgroup.monitorEntries()) {
            String join = !e.join() ? "0" : bornIn ? "2" : "1";
            String words = !e.join() ? "remove the emptied cgroup " + e.dir()
                    : bornIn ? "create the jail in cgroup " + e.dir() : "move the jail into cgroup " + e.dir();
            all.add(new Step(Op.CGROUP, List.of(e.dir(), join, e.kill().word(), e.remove() ? "1" : "0"), words));
        }
        return all;
    }

    /**
     * Descriptors a plan that joins a running jail takes instead of paths: one open namespace
     * file per {@link LaunchPlan#joins()} entry (in order), the jail's root and working directory
     * ({@code cwd} may be -1). The caller keeps and closes them; the executor gets copies.
     */
    public record Opened(List<Integer> namespaces, int root, int cwd) {
        public Opened {
            namespaces = List.copyOf(namespaces);
        }
    }

    /** Starts a plan that joins a running jail (see {@link dev.corral.JoinBuilder}) with its descriptors. */
    public JailedProcess start(LaunchPlan plan, StdioMode stdio, Opened opened) throws JailSetupException, IOException {
        if (plan.cgroup() != null) throw new IllegalArgumentException("a joining plan has no cgroup of its own");
        return start(plan, stdio, null, null, opened, false);
    }

    private JailedProcess start(LaunchPlan plan, StdioMode stdio, OutputSink sink, JailCgroup cgroup, Opened opened,
                                boolean waitsForTeardown)
            throws JailSetupException, IOException {
        Streams streams = sink != null ? Streams.SINK : stdio == StdioMode.PIPE ? Streams.PIPE : Streams.INHERIT;
        // A plan that hands the executor descriptors of its own (sockets to pass, a jail to join)
        // gives them to a spare with its plan, which its child cloned ahead cannot have.
        boolean plain = opened == null && plan.passedFds().isEmpty() && plan.joins().isEmpty();
        // The next spare clones its child ahead as this plan did, unless the jail is to be born in
        // a cgroup (v2: CLONE_INTO_CGROUP); a v1 cgroup is joined after the clone either way.
        boolean bornInCgroup = cgroup != null && cgroup.version() == CgroupVersion.V2;
        Spawned executor = spare.take(streams, bornInCgroup || !plain ? 0 : plan.cloneFlags());
        MonitoredJail jail;
        try {
            if (executor == null) executor = spawn(streams, plan, opened, 0);
            else giveToSpare(executor, plan, opened);
            if (sink != null) {
                int out = executor.stdout();
                // The loop's from now on, even if the start fails.
                executor = new Spawned(streams, executor.pid(), executor.control(), executor.events(), -1, -1, -1);
                watchOutput(out, sink);
            }
            List<Step> steps = stepsFor(plan, cgroup);
            Spawned handed = executor;
            executor = null; // the jail object takes the descriptors, closing each raw one as it goes
            try {
                jail = new MonitoredJail(handed.pid(), plan, steps, cgroup, waitsForTeardown, handed.control(),
                        handed.events(), handed.stdin(), handed.stdout(), handed.stderr());
            } catch (IOException e) {
                handed.kill(); // some of its descriptors may be taken already: none is closed twice
                throw e;
            }
            jail.begin(PlanEncoder.encode(plan.cloneFlags(), steps));
            return jail;
        } catch (NativeException e) {
            throw new JailSetupException("cannot start the executor: " + e.getMessage(), e.errno(), 125);
        } finally {
            if (executor != null) executor.discard();
        }
    }

    /**
     * What a plan hands the executor, in the executor's order: the sockets to pass, the
     * namespaces to join, a running jail's root and cwd (empty, or both). Copies at or above
     * SOURCE_FD, each in {@code childEnds}, to be closed once the executor has its own.
     */
    private record Handed(int[] passed, int[] joined, int[] rootAndCwd) {
        /** What a spare is spawned with: nothing. */
        static final Handed NONE = new Handed(new int[0], new int[0], new int[0]);

        static Handed of(LaunchPlan plan, Opened opened, List<Integer> childEnds) throws JailSetupException, NativeException {
            int[] passed = passedFds(plan, childEnds);
            int[] joined = opened == null ? joinedFds(plan, childEnds) : copies(opened.namespaces(), childEnds);
            // Without a cwd of its own the process starts at the root: both slots are always filled,
            // so nothing the caller happened to inherit at CWD_FD can stand in for one.
            int[] rootAndCwd = opened == null ? new int[0]
                    : copies(List.of(opened.root(), opened.cwd() < 0 ? opened.root() : opened.cwd()), childEnds);
            return new Handed(passed, joined, rootAndCwd);
        }

        int[] all() {
            return concat(concat(passed, joined), rootAndCwd);
        }
    }

    /** The byte a spare's descriptors come attached to, ahead of its plan (handover.c). */
    private static final byte[] HANDOVER = {'H'};

    /** Gives a spare, before its plan, what the plan hands the executor (possibly nothing). */
    private static void giveToSpare(Spawned spare, LaunchPlan plan, Opened opened) throws JailSetupException, NativeException {
        List<Integer> copies = new ArrayList<>();
        try {
            Sockets.sendWithFds(spare.control(), HANDOVER, Handed.of(plan, opened, copies).all());
        } finally {
            closeAll(copies); // the executor has its own now, or will not start
        }
    }

    /**
     * Spawns an executor with its pipes, and what the plan hands it: passed sockets, namespaces
     * to join, a running jail's root and cwd. Without a plan, a spare: its plan channel is a
     * socket, on which what the plan hands it comes with the plan (see {@link #giveToSpare}).
     * Returns the parent's ends.
     */
    private Spawned spawn(Streams streams, LaunchPlan plan, Opened opened, long cloneAhead)
            throws JailSetupException, NativeException {
        List<Integer> parentEnds = new ArrayList<>();
        List<Integer> childEnds = new ArrayList<>();
        try {
            // Java writes, the executor reads
            int[] ctl = plan == null ? streamPair(childEnds, parentEnds) : pipe(childEnds, parentEnds, true);
            int[] events = pipe(childEnds, parentEnds, false); // executor writes, Java reads
            int[] from;
            int[] to;
            int[] in = null, out = null, err = null;
            switch (streams) {
                case SINK -> {
                    // One pipe for stdout and stderr, so the sink sees them in the order written.
                    in = pipe(childEnds, parentEnds, true);
                    out = pipe(childEnds, parentEnds, false);
                    handOver(parentEnds, in[1]);
                    Libc.close(in[1]); // the program reads end-of-file
                    from = new int[] {in[0], out[1], out[1], ctl[0], events[1]};
                    to = new int[] {0, 1, 2, PLAN_FD, EVENT_FD};
                }
                case PIPE -> {
                    in = pipe(childEnds, parentEnds, true);
                    out = pipe(childEnds, parentEnds, false);
                    err = pipe(childEnds, parentEnds, false);
                    from = new int[] {in[0], out[1], err[1], ctl[0], events[1]};
                    to = new int[] {0, 1, 2, PLAN_FD, EVENT_FD};
                }
                case INHERIT -> {
                    from = new int[] {ctl[0], events[1]};
                    to = new int[] {PLAN_FD, EVENT_FD};
                }
                default -> throw new IllegalArgumentException(streams.toString());
            }
            Handed handed = plan == null ? Handed.NONE : Handed.of(plan, opened, childEnds);
            from = concat(from, handed.all());
            to = concat(to, IntStream.range(0, handed.passed().length).map(i -> PASS_FD_BASE + i).toArray());
            to = concat(to, IntStream.range(0, handed.joined().length).map(i -> JOIN_FD_BASE + i).toArray());
            if (handed.rootAndCwd().length > 0) to = concat(to, new int[] {ROOT_FD, CWD_FD});
            // What was handed over, so that the executor closes anything else at once: the JVM's
            // stream descriptors are not close-on-exec, and another jail's pipe must not stay
            // open in this executor (least of all in a spare, which waits long).
            String handedOver = handed.passed().length + "," + handed.joined().length + "," + handed.rootAndCwd().length / 2
                    + (cloneAhead != 0 ? "," + Long.toHexString(cloneAhead) : "");
            int pid = Libc.spawn(executor().path(), List.of("corral-exec", handedOver), from, to);
            parentEnds.clear(); // the caller's now
            return new Spawned(streams, pid, ctl[1], events[0], streams == Streams.PIPE ? in[1] : -1,
                    out == null ? -1 : out[0], err == null ? -1 : err[0]);
        } finally {
            closeAll(childEnds);
            closeAll(parentEnds);
        }
    }

    private Spawned spawnSpare(Streams streams, long cloneAhead) throws NativeException {
        try {
            return spawn(streams, null, null, cloneAhead);
        } catch (JailSetupException e) {
            throw new IllegalStateException("an executor without a plan has nothing to check", e);
        }
    }

    /** {@code fd} is no longer ours to close on failure. */
    private static void handOver(List<Integer> parentEnds, int fd) {
        parentEnds.remove(Integer.valueOf(fd));
    }

    /** From now on the event loop reads {@code fd} into the sink, and closes it at its end. */
    private static void watchOutput(int fd, OutputSink sink) throws NativeException {
        EventLoop.shared().watch(fd, new EventLoop.Reader() {
            @Override
            public void data(byte[] b, int off, int len) {
                sink.write(b, off, len);
            }

            @Override
            public void end() {
                sink.closed();
            }
        });
    }

    /**
     * The namespaces to join, opened now and checked again to be of their type (the path may
     * have changed since the plan was made), at or above SOURCE_FD. Every one opened is in
     * {@code childEnds}, to be closed once the executor has its copies.
     */
    private static int[] joinedFds(LaunchPlan plan, List<Integer> childEnds) throws JailSetupException, NativeException {
        if (plan.joins().size() > JOIN_FD_MAX) throw new IllegalArgumentException("more namespaces to join than there are slots");
        int[] copies = new int[plan.joins().size()];
        for (int i = 0; i < copies.length; i++) {
            LaunchPlan.Join j = plan.joins().get(i);
            int fd;
            long type;
            try {
                fd = NamespaceFiles.open(j.path());
                childEnds.add(fd);
                type = NamespaceFiles.type(fd);
            } catch (NativeException e) {
                throw new JailSetupException(j.where() + ": " + j.path() + ": " + LocalHost.problemOf(e), e.errno(), 125);
            }
            if (type != j.namespace().cloneFlag()) {
                String actual = Namespace.ofCloneFlag(type).map(ns -> NamespaceFile.mismatch(j.path(), j.namespace(), ns))
                        .orElse(j.path() + " is not a " + j.namespace().displayName() + " namespace");
                throw new JailSetupException(j.where() + ": " + actual, 22 /* EINVAL */, 125);
            }
            copies[i] = Libc.fcntl(fd, Libc.F_DUPFD_CLOEXEC, SOURCE_FD);
            if (copies[i] < 0) throw new NativeException("pass namespace " + j.path(), Libc.errno());
            childEnds.add(copies[i]);
        }
        return copies;
    }

    /** Copies of descriptors the caller keeps, at or above SOURCE_FD (closed once the executor has its own). */
    private static int[] copies(List<Integer> fds, List<Integer> childEnds) throws NativeException {
        if (fds.size() > JOIN_FD_MAX) throw new IllegalArgumentException("more namespaces to join than there are slots");
        int[] copies = new int[fds.size()];
        for (int i = 0; i < copies.length; i++) {
            copies[i] = Libc.fcntl(fds.get(i), Libc.F_DUPFD_CLOEXEC, SOURCE_FD);
            if (copies[i] < 0) throw new NativeException("pass descriptor " + fds.get(i), Libc.errno());
            childEnds.add(copies[i]);
        }
        return copies;
    }

    /**
     * Copies of the descriptors to pass, at or above SOURCE_FD: a caller's descriptor may
     * have any number, and one in PASS_FD_BASE.. would be overwritten by an earlier dup2.
     */
    private static int[] passedFds(LaunchPlan plan, List<Integer> childEnds) throws NativeException {
        int[] copies = new int[plan.passedFds().size()];
        for (int i = 0; i < copies.length; i++) {
            int fd = plan.passedFds().get(i);
            copies[i] = Libc.fcntl(fd, Libc.F_DUPFD_CLOEXEC, SOURCE_FD);
            if (copies[i] < 0) throw new NativeException("pass listening socket (fd " + fd + ")", Libc.errno());
            childEnds.add(copies[i]);
        }
        return copies;
    }

    private static int[] concat(int[] a, int[] b) {
        int[] all = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }

    /** A pair of stream sockets whose child end ([0]) sits at or above HIGH_FD. */
    private static int[] streamPair(List<Integer> childEnds, List<Integer> parentEnds) throws NativeException {
        return placed(Sockets.streamPair(), 0, childEnds, parentEnds);
    }

    /** A pipe whose child end sits at or above HIGH_FD. */
    private static int[] pipe(List<Integer> childEnds, List<Integer> parentEnds, boolean childReads) throws NativeException {
        return placed(Libc.pipe(), childReads ? 0 : 1, childEnds, parentEnds);
    }

    /** Moves the child's end of the pair {@code p} at or above HIGH_FD, and lists both ends. */
    private static int[] placed(int[] p, int childIdx, List<Integer> childEnds, List<Integer> parentEnds) throws NativeException {
        int high = Libc.fcntl(p[childIdx], Libc.F_DUPFD_CLOEXEC, HIGH_FD);
        if (high < 0) {
            int errno = Libc.errno();
            Libc.close(p[0]);
            Libc.close(p[1]);
            throw new NativeException("fcntl(F_DUPFD_CLOEXEC)", errno);
        }
        Libc.close(p[childIdx]);
        p[childIdx] = high;
        childEnds.add(p[childIdx]);
        parentEnds.add(p[1 - childIdx]);
        return p;
    }

    private static void closeAll(List<Integer> fds) {
        for (int fd : fds) Libc.close(fd);
        fds.clear();
    }
}
