package dev.corral.cli;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

/**
 * {@code corral exec --pid}: a process joining a running jail sees what its program sees, as root
 * and as nobody; its status comes back; {@code -t} gives it the terminal; and a jail whose seccomp
 * filter the caller cannot read is not joined at all. The daemon's side ({@code corral exec APP},
 * the setns socket) is in {@link ExecDaemonCliIT}.
 */
class ExecCliIT {
    /** What a process sees of its jail: hostname, namespaces, cgroups, mounts, network devices, pid 2. */
    static final String SEES = "hostname; for n in user mnt pid net uts ipc cgroup time; do readlink /proc/self/ns/$n; done;"
            + " cat /proc/self/cgroup; cut -d' ' -f5 /proc/self/mountinfo | sort; cut -d: -f1 /proc/net/dev | sort;"
            + " id -u; id -g; grep -E '^(CapBnd|CapPrm|NoNewPrivs|Seccomp):' /proc/self/status";

    @BeforeAll
    static void asRoot() throws Exception {
        assumeThat(new com.sun.security.auth.module.UnixSystem().getUid()).as("these tests run as root and as nobody").isZero();
        EscapeProbe.build();
    }

    @Test
    void theJoinedProcessSeesWhatTheProgramSeesAsRoot() throws Exception {
        try (RunningJail jail = RunningJail.start(List.of(), List.of("--hostname", "inner", "--memory", "64M"), SEES)) {
            Cli.Result r = Cli.run("exec", "--pid", String.valueOf(jail.pid), "--", "/bin/sh", "-c", SEES + "; cat /proc/2/comm");
            assertThat(r.err()).isEmpty();
            assertThat(r.status()).isZero();
            assertThat(jail.seen).startsWith("inner\n").contains("memory:/\n").contains("Seccomp:\t2");
            // Mounts, devices and all: the same, and the program (sleep) is PID 2 in the same pid namespace.
            assertThat(r.out()).isEqualTo(jail.seen + "sleep\n");
        }
    }

    @Test
    void aJailInANetworkNamespaceOfIpNetnsAddIsJoined() throws Exception {
        try (var netns = dev.corral.testing.TestNetns.add("corral-exec-" + ProcessHandle.current().pid());
             RunningJail jail = RunningJail.start(List.of(), List.of("--join-net", netns.path()), "true")) {
            long inode = (Long) java.nio.file.Files.getAttribute(java.nio.file.Path.of(netns.path()), "unix:ino");
            // Its pid namespace was made after the join: the fork into it left the jail's init as
            // the monitor's child, with nothing of corral's in between; exec finds the program.
            assertThat(java.nio.file.Files.readString(java.nio.file.Path.of("/proc/" + jail.pid + "/comm"))).isEqualTo("corral-init\n");
            Cli.Result r = Cli.run("exec", "--pid", String.valueOf(jail.pid), "--", "sh", "-c",
                    "readlink /proc/self/ns/net; cat /proc/2/comm");
            assertThat(r.err()).isEmpty();
            assertThat(r.out()).isEqualTo("net:[" + inode + "]\nsleep\n");
        }
    }

    @Test
    void nobodyJoinsItsOwnJailWhenThereIsNoFilterToReproduce() throws Exception {
        try (RunningJail jail = RunningJail.start(Cli.NOBODY, List.of("--hostname", "nobodys", "--seccomp", "unconfined"), SEES)) {
            Cli.Result r = Cli.runAs(Cli.NOBODY, "exec", "--pid", String.valueOf(jail.pid), "--", "/bin/sh", "-c", SEES);
            assertThat(r.err()).isEmpty();
            assertThat(r.status()).isZero();
            assertThat(r.out()).startsWith("nobodys\n").isEqualTo(jail.seen);
        }
    }

    /**
     * A jail given CAP_SYS_ADMIN runs in a nested user namespace that locks its mounts, while its
     * pid, time and cgroup namespaces belong to the outer one. A normal user can join those only
     * from inside the outer one: exec joins it first. The joined process sees what the program
     * sees, in the nested namespace, and cannot undo the mounts either; the program is PID 3 (the
     * helper that wrote the nested maps was 2).
     */
    @Test
    void aJailWithLockedMountsIsJoinedAsRootAndAsNobody() throws Exception {
        String undo = "; mount -o remount,rw / && echo remounted; cat /proc/3/comm";
        for (List<String> as : List.of(List.<String>of(), Cli.NOBODY)) {
            try (RunningJail jail = RunningJail.start(as, List.of("--hostname", "locked", "--seccomp", "unconfined",
                    "--cap-add", "SYS_ADMIN"), SEES)) {
                Cli.Result r = Cli.runAs(as, "exec", "--pid", String.valueOf(jail.pid), "--", "/bin/sh", "-c", SEES + undo);
                assertThat(r.status()).as(r.err()).isZero();
                assertThat(jail.seen).startsWith("locked\n");
                assertThat(r.out()).as(as.toString()).isEqualTo(jail.seen + "sleep\n");
                assertThat(r.err()).contains("permission denied");
            }
        }
    }

    /**
     * The process that joined the jail forked into its pid namespace and ended: the command is the
     * monitor's own child, with nothing of corral's left between them, and holds only stdio.
     */
    @Test
    void theCommandIsTheMonitorsChildAndHoldsOnlyStdio() throws Exception {
        try (RunningJail jail = RunningJail.start(Cli.NOBODY, List.of("--seccomp", "unconfined"), "true")) {
            Process exec = new ProcessBuilder(Cli.command(Cli.NOBODY, "exec", "--pid", String.valueOf(jail.pid), "--",
                    "sh", "-c", "ls /proc/self/fd | tr '\\n' ' '; echo; exec sleep 1000"))
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .redirectError(ProcessBuilder.Redirect.INHERIT).start();
            try {
                String fds = new java.io.BufferedReader(new java.io.InputStreamReader(exec.getInputStream())).readLine();
                assertThat(fds).isEqualTo("0 1 2 3 "); // stdio, and ls's own directory
                ProcessHandle monitor = exec.toHandle().children().findFirst().orElseThrow();
                // The process that forked into the pid namespace ends at once, and the monitor reaps
                // it; the shell goes on to exec sleep after its line.
                long deadline = System.nanoTime() + 5_000_000_000L;
                while (monitor.children().count() > 1 && System.nanoTime() < deadline) Thread.sleep(10);
                assertThat(monitor.children().toList()).as("the monitor's children").hasSize(1);
                ProcessHandle command = monitor.children().findFirst().orElseThrow();
                java.nio.file.Path proc = java.nio.file.Path.of("/proc/" + command.pid());
                while (!java.nio.file.Files.readString(proc.resolve("comm")).equals("sleep\n") && System.nanoTime() < deadline) {
                    Thread.sleep(10);
                }
                assertThat(java.nio.file.Files.readString(proc.resolve("comm"))).isEqualTo("sleep\n");
                assertThat(java.nio.file.Files.getAttribute(proc.resolve("environ"), "unix:uid"))
                        .as("the command, dumpable again after exec, as nobody").isEqualTo(65534);
                try (var open = java.nio.file.Files.list(proc.resolve("fd"))) {
                    assertThat(open.map(p -> p.getFileName().toString()).sorted().toList()).containsExactly("0", "1", "2");
                }
                assertThat(java.nio.file.Files.readString(proc.resolve("status"))).contains("NoNewPrivs:\t1");
            } finally {
                exec.destroy();
                exec.waitFor();
            }
        }
    }

    @Test
    void aFilterTheCallerCannotReadMeansNothingJoins() throws Exception {
        try (RunningJail jail = RunningJail.start(Cli.NOBODY, List.of(), "true")) {
            Cli.Result r = Cli.runAs(Cli.NOBODY, "exec", "--pid", String.valueOf(jail.pid), "--", "/bin/sh", "-c", "echo joined");
            assertThat(r.status()).isEqualTo(125);
            assertThat(r.out()).isEmpty();
            assertThat(r.err()).isEqualTo("corral: process " + program(jail.pid) + " runs under a seccomp filter corral cannot"
                    + " read (ptrace: read the seccomp filters of process " + program(jail.pid) + ": Permission denied;"
                    + " reading another process's filters takes root), and no other filter is known to be no weaker:"
                    + " nothing joins it (with the jail's spec, as for a daemon's application, the filter is known)\n");
            // Root reads the filter from the kernel and joins with it.
            Cli.Result root = Cli.run("exec", "--pid", String.valueOf(jail.pid), "--", "/bin/sh", "-c",
                    "grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status; id -u");
            assertThat(root.err()).isEmpty();
            assertThat(root.out()).isEqualTo("NoNewPrivs:\t1\nSeccomp:\t2\n0\n");
        }
    }

    /** The jail's program: the child of its init. */
    static long program(long init) {
        return ProcessHandle.of(init).orElseThrow().children().findFirst().orElseThrow().pid();
    }

    @Test
    void theExitStatusComesBackAndBadInputIsRefused() throws Exception {
        try (RunningJail jail = RunningJail.start(List.of(), List.of(), "true")) {
            String pid = String.valueOf(jail.pid);
            assertThat(Cli.run("exec", "--pid", pid, "--", "sh", "-c", "exit 7").status()).isEqualTo(7);
            assertThat(Cli.run("exec", "--pid", pid, "--", "sh", "-c", "kill -TERM $$").status()).isEqualTo(128 + 15);
            Cli.Result missing = Cli.run("exec", "--pid", pid, "--", "/no/such/program");
            assertThat(missing.status()).isEqualTo(127);
            assertThat(missing.err()).isEqualTo("corral: exec /no/such/program: No such file or directory\n");
            Cli.Result noCommand = Cli.run("exec", "--pid", pid);
            assertThat(noCommand.status()).isEqualTo(2);
            assertThat(noCommand.err()).isEqualTo("corral: COMMAND: no command to run (corral exec ... -- COMMAND)\n");
            Cli.Result appAndPid = Cli.run("exec", "--pid", pid, "web", "--", "true");
            assertThat(appAndPid.status()).isEqualTo(2);
            assertThat(appAndPid.err()).isEqualTo("corral: --pid: names the jail; no application goes before -- (found [web])\n");
            Cli.Result notATerminal = Cli.run("exec", "-t", "--pid", pid, "--", "true");
            assertThat(notATerminal.status()).isEqualTo(2);
            assertThat(notATerminal.err()).isEqualTo("corral: -t: standard input is not a terminal in the foreground\n");
        }
        Cli.Result gone = Cli.run("exec", "--pid", "999999999", "--", "true");
        assertThat(gone.status()).isEqualTo(125);
        assertThat(gone.err()).startsWith("corral: cannot read process 999999999: no process 999999999");
    }

    @Test
    void dashTGivesTheProcessTheTerminalWithKeystrokeInjectionStillBlocked() throws Exception {
        try (RunningJail jail = RunningJail.start(List.of(), List.of("--ro-bind", EscapeProbe.DIR + ":/probe"), "true")) {
            String inside = "test -t 0 && echo terminal; /probe/probe tiocsti";
            String corral = Cli.command(List.of(), "exec", "-t", "--pid", String.valueOf(jail.pid), "--", "sh", "-c", inside)
                    .stream().map(a -> "'" + a.replace("'", "'\\''") + "'").collect(Collectors.joining(" "));
            // Then the script reads its own group and the terminal's foreground: the terminal is back.
            List<String> out = TerminalCliIT.onATerminal(corral + "; cut -d' ' -f5,8 /proc/$$/stat");
            assertThat(out).hasSize(3);
            assertThat(out.subList(0, 2)).containsExactly("terminal", "EPERM");
            String[] groups = out.get(2).split(" ");
            assertThat(groups[1]).as("the caller's group is the foreground again").isEqualTo(groups[0]);
            // Without -t (and without a terminal) it has none.
            Cli.Result r = Cli.run("exec", "--pid", String.valueOf(jail.pid), "--", "sh", "-c", "test -t 0 || echo none");
            assertThat(r.out()).isEqualTo("none\n");
        }
    }
}
