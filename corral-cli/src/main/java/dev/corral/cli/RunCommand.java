package dev.corral.cli;

import dev.corral.JailBuilder;
import dev.corral.JailSetupException;
import dev.corral.JailedProcess;
import dev.corral.launch.Launcher;
import dev.corral.plan.LaunchPlan;
import dev.corral.spec.CgroupSpec;
import dev.corral.spec.Problem;
import dev.corral.spec.SpecException;
import dev.corral.sys.Libc;
import dev.corral.sys.Terminal;
import picocli.CommandLine.Model.CommandSpec;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code corral run}: its options are declared in code (see {@link Flags}), as it is the command that must start fast. */
final class RunCommand implements Callable<Integer> {
    static final String[] DESCRIPTION = {"Run COMMAND in a new jail and exit with its status (n, or 128+N for signal N).",
            "By default every namespace is new, your uid and gid are root inside, the host's / is"
                    + " read-only with a private /tmp, a fresh /proc and a minimal /dev, and a tiny init is PID 1."};

    private final CommandSpec spec = CommandSpec.wrapWithoutInspection(this);
    private final Flags flags = new Flags();
    private final JailOptions jail = new JailOptions();
    private final Flags.Flag dryRun = flags.flag("--dry-run", "Print the plan, every step in order, and exit without running anything.");
    private final Flags.Flag stats = flags.flag("--stats",
            "At exit, print what the jail used (cpu time, memory current and peak, pids, OOM kills) to stderr.");

    RunCommand() {
        spec.name("run");
        spec.usageMessage().description(DESCRIPTION).footer("", "Examples:", "  corral run -- sh",
                "  corral run --rootfs /srv/rootfs --hostname web --ro-bind /srv/data:/data -- /bin/app",
                "  corral run --config app.json");
        Flags.standardHelp(spec);
        flags.addTo(spec);
        jail.addTo(spec);
    }

    /** What picocli is given: this command's spec, which calls back {@link #call()}. */
    CommandSpec spec() {
        return spec;
    }

    @Override
    public Integer call() {
        if (dryRun.on()) return printPlan(jail, spec);
        try {
            JailBuilder b = jail.toBuilder(spec.commandLine().getParseResult());
            if (stats.on()) {
                if (jail.noCgroup.on()) return report(new SpecException(List.of(new Problem("--stats", "needs a cgroup; drop --no-cgroup"))));
                b.cgroup(CgroupSpec.Mode.REQUIRED);
            }
            jail.warnings.forEach(w -> System.err.println("corral: warning: " + w));
            boolean terminal = Terminal.isForeground(0);
            b.stdio(JailBuilder.StdioMode.INHERIT).takeTerminal(terminal);
            SignalForwarder signals = SignalForwarder.install();
            int status;
            JailedProcess p;
            try {
                p = b.start();
                signals.attach(p);
                status = p.waitFor();
            } finally {
                // The jail made its program the terminal's foreground group; with it gone, the
                // terminal is ours again (a script's next command must not find it held by no one).
                if (terminal) Libc.takeTerminalBack(0);
            }
            p.stats().ifPresent(s -> {
                if (s.oomKills() > 0) {
                    System.err.println("corral: the jail hit its memory limit: the kernel killed " + s.oomKills()
                            + " process" + (s.oomKills() == 1 ? "" : "es") + " in it (out of memory)");
                }
                if (stats.on()) System.err.println(s.describe().lines().map(l -> "corral: " + l).collect(java.util.stream.Collectors.joining("\n")));
            });
            return status;
        } catch (SpecException | JailSetupException | IOException | InterruptedException e) {
            return failed(e);
        }
    }

    /** Counted down once the executor spawned ahead is there (or could not be made). */
    private static final java.util.concurrent.CountDownLatch SPAWNED_AHEAD = new java.util.concurrent.CountDownLatch(1);
    private static volatile boolean spawningAhead;

    /**
     * Spawns the executor, on a thread of its own, while the main thread parses the arguments and
     * plans: a cold JVM's first native call (~25 ms) and the spawn then cost no time of their own
     * (on a machine with a second CPU). Not for a command line that asks only for help, a version
     * or a plan. (It also made a plan ahead, thrown away, to warm the planner; once parsing took
     * ~15 ms instead of ~100, that plan only competed with the real one: 204 ms without it against
     * 218 with it, interleaved, on a busy machine.)
     */
    static void spawnAhead(String[] args) {
        for (String a : args) {
            if (a.equals("--")) break;
            if (a.equals("--dry-run") || a.equals("-h") || a.equals("--help") || a.equals("-V") || a.equals("--version")) return;
        }
        spawningAhead = true;
        Thread.ofPlatform().daemon().name("corral-spawn-ahead").start(() -> {
            try {
                Launcher.shared().spawnAhead(JailBuilder.StdioMode.INHERIT);
            } finally {
                SPAWNED_AHEAD.countDown();
            }
        });
    }

    /**
     * After the command: the executor spawned ahead, if no jail took it (a usage error, a bad
     * spec), is ended and reaped here rather than left to init.
     */
    static void dropSpawnedAhead() {
        if (!spawningAhead) return;
        try {
            SPAWNED_AHEAD.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        Launcher.shared().dropSpawnedAhead();
    }

    /** Why a jail could not be started or followed, said once; the exit status it means. */
    static int failed(Exception e) {
        return switch (e) {
            case SpecException s -> report(s);
            case JailSetupException j -> {
                System.err.println("corral: " + j.getMessage());
                yield j.exitStatus();
            }
            case InterruptedException i -> {
                Thread.currentThread().interrupt();
                yield ExitCodes.SETUP_FAILED;
            }
            default -> {
                System.err.println("corral: " + e.getMessage());
                yield ExitCodes.SETUP_FAILED;
            }
        };
    }

    /** Prints the plan of the jail {@code jail} describes, as parsed for the command {@code spec}. */
    static Integer printPlan(JailOptions jail, CommandSpec spec) {
        try {
            LaunchPlan plan = Launcher.shared().plan(jail.toBuilder(spec.commandLine().getParseResult()).build());
            plan.describe().forEach(System.out::println);
            return 0;
        } catch (SpecException e) {
            return report(e);
        }
    }

    static int report(SpecException e) {
        for (Problem p : e.problems()) System.err.println("corral: " + p);
        return ExitCodes.USAGE;
    }
}
