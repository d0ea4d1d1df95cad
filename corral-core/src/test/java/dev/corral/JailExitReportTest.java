package dev.corral;

import dev.corral.spec.CgroupSpec;
import dev.corral.testing.Run;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A jail without a cgroup of its own ends for {@code waitFor()} when its init reports the
 * program's status, before the kernel has torn the namespaces down (bubblewrap's semantics). These
 * jails take that path; the rest of the suite, as root, mostly takes the other (a cgroup each).
 */
class JailExitReportTest {
    private static JailBuilder jail(String script) {
        return new JailBuilder().cgroup(CgroupSpec.Mode.NONE).command("sh", "-c", script);
    }

    @Test
    void theStatusIsTheProgramsExitOrSignal() throws Exception {
        assertThat(Run.of(jail("echo out; echo err >&2; exit 7"))).isEqualTo(new Run("out\n", "err\n", 7));
        assertThat(Run.of(jail("kill -TERM $$")).status()).isEqualTo(128 + 15);
        assertThat(Run.of(jail("exit 0")).status()).isZero();
    }

    @Test
    void aProgramThatCannotBeExecutedIsAFailureNotAnExit() {
        assertThatThrownBy(() -> new JailBuilder().cgroup(CgroupSpec.Mode.NONE).command("/no/such/program").start())
                .isInstanceOf(JailSetupException.class)
                .hasMessageContaining("/no/such/program")
                .satisfies(e -> assertThat(((JailSetupException) e).exitStatus()).isEqualTo(127));
    }

    @Test
    void signalsStillReachTheProgram() throws Exception {
        JailedProcess p = jail("trap 'echo term; exit 42' TERM; echo up; while :; do sleep 0.05; done").start();
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream()));
        assertThat(out.readLine()).isEqualTo("up");
        p.destroy();
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isEqualTo(42);
        assertThat(out.readLine()).isEqualTo("term");
        assertThat(p.onExit().get(10, TimeUnit.SECONDS)).isSameAs(p);
        assertThat(p.onProgramExit().get(10, TimeUnit.SECONDS)).isEqualTo(42);
    }

    @Test
    void whatTheProgramLeftRunningDiesWithIt() throws Exception {
        JailedProcess p = jail("sleep 1000 & echo started; read x; exit 3").start();
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream()));
        assertThat(out.readLine()).isEqualTo("started");
        List<ProcessHandle> sleeps = ProcessHandle.of(p.jailPid()).orElseThrow().descendants()
                .filter(h -> h.info().command().orElse("").endsWith("sleep")).toList();
        assertThat(sleeps).hasSize(1);
        p.getOutputStream().close();
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isEqualTo(3);
        // Killed by init before it told the status (or by the kernel as init exits): gone soon after.
        assertThat(sleeps.getFirst().onExit().get(5, TimeUnit.SECONDS).isAlive()).isFalse();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while ((alive(p.pid()) || alive(p.jailPid())) && System.nanoTime() < deadline) Thread.sleep(10);
        assertThat(alive(p.pid())).as("monitor").isFalse();
        assertThat(alive(p.jailPid())).as("jail init").isFalse();
    }

    private static boolean alive(long pid) {
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }
}
