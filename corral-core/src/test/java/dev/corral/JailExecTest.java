package dev.corral;

import dev.corral.plan.LaunchPlan;
import dev.corral.plan.Op;
import dev.corral.spec.Hardening;
import dev.corral.spec.JailSpec;
import dev.corral.spec.SpecException;
import dev.corral.testing.Run;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assumptions.assumeThat;

/**
 * A process joining a running jail through the library ({@link JoinBuilder}, what {@code corral
 * exec} uses): the same namespaces, root, cgroup, identity and confinement as the jail's program.
 * As root; the CLI tests do it as nobody too.
 */
class JailExecTest {
    private JailedProcess jail;

    @BeforeAll
    static void asRoot() {
        assumeThat(new com.sun.security.auth.module.UnixSystem().getUid()).as("these tests run as root").isZero();
    }

    @AfterEach
    void stopJail() throws Exception {
        if (jail != null) {
            jail.destroyForcibly();
            assertThat(jail.waitFor(10, TimeUnit.SECONDS)).isTrue();
        }
    }

    /** The jail's program prints what it sees, then sleeps; returns what it printed. */
    private String startJail(JailBuilder b) throws Exception {
        jail = b.command("sh", "-c", "echo \"$(" + SEES + ")\"; exec sleep 1000").start();
        var in = new java.io.BufferedReader(new java.io.InputStreamReader(jail.getInputStream()));
        StringBuilder out = new StringBuilder();
        String line;
        while ((line = in.readLine()) != null && !line.equals("END")) out.append(line).append('\n');
        return out.toString();
    }

    /** What a process sees of its jail; the same script runs in the jail and in the joined process. */
    private static final String SEES = "hostname; for n in user mnt pid net uts ipc cgroup time; do readlink /proc/self/ns/$n; done;"
            + " cat /proc/self/cgroup; ls /proc | grep -c '^[0-9]'; readlink /proc/1/exe >/dev/null 2>&1; echo root=$(ls /);"
            + " id -u; id -g; grep -E '^(CapBnd|CapEff|CapPrm|CapAmb|NoNewPrivs|Seccomp):' /proc/self/status; ulimit -n;"
            + " ls -1 /proc/self/fd | wc -l; echo END";

    private Run join(JoinBuilder b) throws Exception {
        JailedProcess p = b.start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes()).replace("END\n", "");
        String err = new String(p.getErrorStream().readAllBytes());
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        return new Run(out, err, p.exitValue());
    }

    @Test
    void theJoinedProcessSeesWhatTheProgramSees() throws Exception {
        JailBuilder b = new JailBuilder().hostname("inside").rlimit(dev.corral.spec.Rlimit.Resource.NOFILE, 77, 77);
        JailSpec spec = b.build();
        String program = startJail(b);
        Run r = join(new JoinBuilder().jail(jail.jailPid()).spec(spec).command("sh", "-c", SEES));
        assertThat(r.err()).isEmpty();
        assertThat(r.status()).isZero();
        // Same hostname, namespaces (all eight), cgroups, pids (the joined process and its
        // subshells are extra: the counts are both small), root, ids, capabilities, filter, limit.
        assertThat(program).contains("inside\n").contains("77\n").contains("Seccomp:\t2");
        assertThat(lines(r.out(), 0, 9 + cgroupLines(program))).isEqualTo(lines(program, 0, 9 + cgroupLines(program)));
        assertThat(after(r.out(), "root=")).isEqualTo(after(program, "root="));
        // Only stdio (and ls's own directory) is open in the joined process, as in the program.
        assertThat(r.out().strip().lines().toList().getLast()).isEqualTo("4");
    }

    /**
     * The process that joined forks into the jail's pid namespace and ends: the command takes its
     * place as the monitor's child, is what jailPid() names, and gets destroy()'s SIGTERM.
     */
    @Test
    void theCommandTakesThePlaceOfTheProcessThatJoinedAndGetsTheSignals() throws Exception {
        startJail(new JailBuilder());
        // start() returns once the command has been exec'd.
        JailedProcess p = new JoinBuilder().jail(jail.jailPid()).hardening(Hardening.DEFAULT)
                .command("sleep", "1000").start();
        try {
            p.getOutputStream().close();
            long command = p.jailPid();
            assertThat(java.nio.file.Files.readString(java.nio.file.Path.of("/proc/" + command + "/comm"))).isEqualTo("sleep\n");
            assertThat(ProcessHandle.of(command).orElseThrow().parent().orElseThrow().pid()).as("its parent").isEqualTo(p.pid());
            p.destroy();
            assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).as("128 + SIGTERM").isEqualTo(143);
        } finally {
            p.destroyForcibly();
        }
    }

    @Test
    void theExitStatusComesBack() throws Exception {
        startJail(new JailBuilder());
        Run r = join(new JoinBuilder().jail(jail.jailPid()).hardening(Hardening.DEFAULT).command("sh", "-c", "exit 7"));
        assertThat(r.status()).isEqualTo(7);
        // Named by the monitor (JailedProcess.pid()), the program is found all the same.
        Run killed = join(new JoinBuilder().jail(jail.pid()).hardening(Hardening.DEFAULT).command("sh", "-c", "kill -9 $$"));
        assertThat(killed.status()).isEqualTo(137);
    }

    @Test
    void withoutTheSpecTheFiltersAreReadFromTheKernel() throws Exception {
        String program = startJail(new JailBuilder());
        LaunchPlan plan = new JoinBuilder().jail(jail.jailPid()).command("true").plan();
        assertThat(plan.steps()).filteredOn(s -> s.op() == Op.SECCOMP).singleElement()
                .satisfies(s -> assertThat(s.words()).contains("as the kernel holds them"));
        // The filter read back is corral's default, byte for byte.
        String hex = java.util.HexFormat.of().formatHex(dev.corral.seccomp.SeccompFilters.defaultFilter(false));
        assertThat(plan.steps()).filteredOn(s -> s.op() == Op.SECCOMP).singleElement()
                .satisfies(s -> assertThat(s.args().getFirst()).isEqualTo(hex));
        Run r = join(new JoinBuilder().jail(jail.jailPid()).command("sh", "-c", SEES));
        assertThat(r.status()).isZero();
        assertThat(after(r.out(), "root=")).isEqualTo(after(program, "root="));
    }

    @Test
    void aPreparedJoinStartsAgainAndAgainUntilTheJailIsGone() throws Exception {
        startJail(new JailBuilder().hostname("again"));
        try (JoinBuilder.Prepared prepared = new JoinBuilder().jail(jail.jailPid()).hardening(Hardening.DEFAULT)
                .command("hostname").prepare()) {
            for (int i = 0; i < 3; i++) {
                JailedProcess p = prepared.start();
                assertThat(new String(p.getInputStream().readAllBytes())).isEqualTo("again\n");
                assertThat(p.waitFor()).isZero();
                p.getInputStream().close();
                p.getErrorStream().close();
            }
            jail.destroyForcibly();
            jail.waitFor();
            JailSetupException gone = catchThrowableOfType(JailSetupException.class, prepared::start);
            assertThat(gone.getMessage()).endsWith("has ended: its jail is gone");
        }
    }

    @Test
    void badInputIsRefusedBeforeAnythingStarts() {
        SpecException e = catchThrowableOfType(SpecException.class, () -> new JoinBuilder().command().plan());
        assertThat(e.getMessage()).contains("jail").contains("no program to run");
        JailSetupException gone = catchThrowableOfType(JailSetupException.class,
                () -> new JoinBuilder().jail(Integer.MAX_VALUE - 1).command("true").plan());
        assertThat(gone.getMessage()).contains("cannot read process " + (Integer.MAX_VALUE - 1));
    }

    private static int cgroupLines(String out) {
        return (int) out.lines().filter(l -> l.matches("\\d+:.*:/.*")).count();
    }

    private static String lines(String text, int from, int to) {
        return String.join("\n", text.lines().toList().subList(from, to));
    }

    private static String after(String text, String marker) {
        return text.substring(text.indexOf(marker));
    }
}
