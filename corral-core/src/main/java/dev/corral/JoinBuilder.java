package dev.corral;

import dev.corral.cgroup.CgroupDetector;
import dev.corral.join.Confinement;
import dev.corral.join.JailDescriptors;
import dev.corral.join.JoinPlanner;
import dev.corral.join.ProcessFacts;
import dev.corral.launch.Launcher;
import dev.corral.launch.LocalHost;
import dev.corral.plan.LaunchPlan;
import dev.corral.spec.Hardening;
import dev.corral.spec.JailSpec;
import dev.corral.spec.Namespace;
import dev.corral.spec.Problem;
import dev.corral.spec.Rlimit;
import dev.corral.spec.SpecException;
import dev.corral.sys.Libc;
import dev.corral.sys.SeccompFilterReader;

import java.io.IOException;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Starts a new process inside a running jail, as {@code docker exec} does: in every namespace of
 * the jail's program (the user namespace first), in its cgroups, root and working directory, as
 * its uid and gid, with no more capabilities than it has, its no_new_privs and its seccomp filter.
 * A joined process is never less confined than the program.
 *
 * <pre>{@code
 * JailedProcess jail = new JailBuilder().command("sleep", "1000").start();
 * JailedProcess p = new JoinBuilder().jail(jail.jailPid()).hardening(Hardening.DEFAULT)
 *         .command("ps", "-e").start();
 * }</pre>
 *
 * <p>The jail is named by the host pid of any of its processes (corral's own monitor and init are
 * followed to the program), or by descriptors received over a setns socket. When the jail's
 * {@link Hardening} is known (it was started by corral from a spec), its capabilities and seccomp
 * filter are the spec's, narrowed to what the program holds now; when it is not, they are read
 * from /proc/PID/status, and the program's seccomp filters are fetched from the kernel
 * ({@code PTRACE_SECCOMP_GET_FILTER}, root only): without them, nothing joins (fail closed).
 */
public final class JoinBuilder {
    private long pid = -1;
    private JailDescriptors received;
    private Hardening hardening;
    private final List<String> command = new ArrayList<>();
    private final Map<String, String> environment = new LinkedHashMap<>();
    private final Set<Namespace> skip = EnumSet.noneOf(Namespace.class);
    private String workingDirectory;
    private boolean takeTerminal;
    private JailBuilder.StdioMode stdio = JailBuilder.StdioMode.PIPE;

    /** The jail, by the host pid of its program, or of corral's monitor or init around it. */
    public JoinBuilder jail(long pid) {
        this.pid = pid;
        return this;
    }

    /**
     * The jail as descriptors received over a setns socket (the caller keeps and closes them); its
     * pid names the program, for the identity and confinement.
     */
    public JoinBuilder jail(JailDescriptors descriptors) {
        this.received = descriptors;
        this.pid = descriptors.pid();
        return this;
    }

    /** The jail's hardening, when known: its spec's (a daemon's application, a library jail). */
    public JoinBuilder hardening(Hardening hardening) {
        this.hardening = hardening;
        return this;
    }

    /** The hardening of the spec the jail was started from. */
    public JoinBuilder spec(JailSpec spec) {
        return hardening(spec.hardening());
    }

    public JoinBuilder command(String... argv) {
        return command(List.of(argv));
    }

    public JoinBuilder command(List<String> argv) {
        command.clear();
        command.addAll(argv);
        return this;
    }

    /** Set on top of the program's own environment (read from /proc/PID/environ). */
    public JoinBuilder env(String key, String value) {
        environment.put(key, value);
        return this;
    }

    /** Leaves one of the jail's namespaces unjoined (as nsenter without that flag). */
    public JoinBuilder skip(Namespace ns) {
        skip.add(ns);
        return this;
    }

    /** A directory inside the jail; by default the program's own cwd. */
    public JoinBuilder workingDirectory(String dir) {
        this.workingDirectory = dir;
        return this;
    }

    /** Make the process the caller's terminal's foreground job (interactive use), instead of a new session. */
    public JoinBuilder takeTerminal(boolean take) {
        this.takeTerminal = take;
        return this;
    }

    public JoinBuilder stdio(JailBuilder.StdioMode mode) {
        this.stdio = mode;
        return this;
    }

    /** Reads the jail, opens it and plans; the plan is printed by {@code corral exec --dry-run}. */
    public LaunchPlan plan() throws SpecException, JailSetupException {
        try (Prepared p = prepare()) {
            return p.plan();
        }
    }

    /** Starts the process in the jail; returns once it has been exec'd there. */
    public JailedProcess start() throws SpecException, JailSetupException, IOException {
        try (Prepared p = prepare()) {
            return p.launch(); // prepare() has just made sure the program is the process it read
        }
    }

    /**
     * A join read, opened and planned once, to be started any number of times: the jail's
     * descriptors stay open (as a setns socket's are) until {@link #close()}. What the process is
     * held to is what the program held when this was prepared. Each start first checks that the
     * program is still the same process.
     */
    public static final class Prepared implements AutoCloseable {
        private final LaunchPlan plan;
        private final JailDescriptors descriptors;
        private final List<Namespace> joined;
        private final boolean owned;
        private final long program, startTime;
        private final JailBuilder.StdioMode stdio;

        private Prepared(LaunchPlan plan, JailDescriptors descriptors, List<Namespace> joined, boolean owned,
                         long program, long startTime, JailBuilder.StdioMode stdio) {
            this.plan = plan;
            this.descriptors = descriptors;
            this.joined = List.copyOf(joined);
            this.owned = owned;
            this.program = program;
            this.startTime = startTime;
            this.stdio = stdio;
        }

        public LaunchPlan plan() {
            return plan;
        }

        public JailedProcess start() throws JailSetupException, IOException {
            long now;
            try {
                now = ProcessFacts.startTime(program);
            } catch (IOException e) {
                now = -1;
            }
            if (now != startTime) throw new JailSetupException("process " + program + " has ended: its jail is gone", 3, 125);
            return launch();
        }

        private JailedProcess launch() throws JailSetupException, IOException {
            return Launcher.shared().start(plan, stdio, descriptors.opened(joined));
        }

        /** Closes the jail's descriptors (those received from a setns socket stay the caller's). */
        @Override
        public void close() {
            if (owned) descriptors.close();
        }
    }

    /** Reads the jail, opens it and plans, for {@link Prepared#start()} once or many times. */
    public Prepared prepare() throws SpecException, JailSetupException {
        List<Problem> problems = new ArrayList<>();
        if (pid <= 0) problems.add(new Problem("jail", "no jail to join: give the pid of one of its processes"));
        if (command.isEmpty() || command.getFirst().isEmpty()) problems.add(new Problem("command", "no program to run"));
        for (String a : command) if (a.indexOf('\0') >= 0) problems.add(new Problem("command", "an argument holds a NUL byte"));
        environment.forEach((k, v) -> {
            if (k.isEmpty() || k.indexOf('=') >= 0 || k.indexOf('\0') >= 0 || v.indexOf('\0') >= 0) {
                problems.add(new Problem("environment", "bad variable name or value: " + k));
            }
        });
        if (workingDirectory != null && !workingDirectory.startsWith("/")) {
            problems.add(new Problem("workingDirectory", "must be an absolute path inside the jail: " + workingDirectory));
        }
        if (!problems.isEmpty()) throw new SpecException(problems);
        long program = received != null ? pid : ProcessFacts.program(pid);
        ProcessFacts facts;
        try {
            facts = ProcessFacts.read(program);
        } catch (IOException e) {
            throw new JailSetupException("cannot read process " + program + ": " + e.getMessage(), 3 /* ESRCH */, 125);
        }
        JailDescriptors fds = received != null ? received : JailDescriptors.open(program, skip);
        boolean owned = received == null;
        try {
            // Everything was read and opened from one process: make sure it still is the same one.
            long start;
            try {
                start = ProcessFacts.startTime(program);
            } catch (IOException e) {
                start = -1;
            }
            if (start != facts.startTime()) {
                throw new JailSetupException("process " + program + " ended while it was being joined", 3, 125);
            }
            Map<Rlimit.Resource, long[]> own = LocalHost.ownRlimits();
            Confinement c = Confinement.of(facts, hardening, own, SeccompFilterReader::filters);
            Map<String, String> env = new LinkedHashMap<>(facts.environment());
            List.of("LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES").forEach(env::remove);
            env.putAll(environment);
            if (skip.contains(Namespace.USER)) {
                throw new SpecException("skip", "the user namespace is always joined when the jail has one of its own:"
                        + " a process outside it would hold its capabilities over the host");
            }
            fds.requireUserNamespace();
            List<Namespace> namespaces = fds.namespaces();
            namespaces.removeAll(skip);
            namespaces.removeIf(fds::isOwn);
            namespaces = fds.joinOrder(namespaces);
            boolean root = Libc.geteuid() == 0;
            List<String> cgroups;
            try {
                cgroups = CgroupDetector.differingDirs(facts.cgroups());
            } catch (IllegalStateException e) {
                throw new JailSetupException("process " + program + ": " + e.getMessage()
                        + "; a process that does not enter it would escape the jail's limits", 2, 125);
            }
            boolean enterRoot = namespaces.contains(Namespace.MOUNT) || root;
            LaunchPlan plan = new JoinPlanner(program, namespaces, cgroups, enterRoot, root, c, command, env,
                    takeTerminal, workingDirectory).plan();
            return new Prepared(plan, fds, namespaces, owned, program, facts.startTime(), stdio);
        } catch (SpecException | JailSetupException | RuntimeException e) {
            if (owned) fds.close();
            throw e;
        }
    }
}
