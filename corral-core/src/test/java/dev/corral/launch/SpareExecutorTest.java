package dev.corral.launch;

import dev.corral.JailBuilder;
import dev.corral.JailBuilder.StdioMode;
import dev.corral.JailedProcess;
import dev.corral.spec.CgroupSpec;
import dev.corral.spec.JailSpec;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The executor spawned ahead of the next start: made from the second start on, used once, never
 * for other streams, never once it has died. Each test has a launcher of its own (other tests'
 * jails go through the shared one, with spares of its own).
 */
class SpareExecutorTest {
    private static final JailSpec TRUE = new JailBuilder().command("true").cgroup(CgroupSpec.Mode.NONE).build();

    @Test
    void fromTheSecondStartTheNextStartFindsItsExecutorWaiting() throws Exception {
        Launcher launcher = new Launcher(new LocalHost());
        run(launcher, StdioMode.PIPE);
        Thread.sleep(200);
        assertThat(launcher.spare().readyPid()).as("a JVM that starts one jail has no spare").isEqualTo(-1);
        run(launcher, StdioMode.PIPE);
        long spare = awaitSpare(launcher, -1);
        assertThat(comm(spare)).isEqualTo("corral-spare");
        assertThat(ProcessHandle.of(spare).flatMap(ProcessHandle::parent).map(ProcessHandle::pid))
                .contains(ProcessHandle.current().pid());

        // This one waits for its stdin to end, so that its monitor can be looked at.
        JailedProcess third = launcher.start(new JailBuilder().command("sh", "-c", "read x || true")
                .cgroup(CgroupSpec.Mode.NONE).build(), StdioMode.PIPE);
        assertThat(third.pid()).as("the third jail's monitor is the spare").isEqualTo(spare);
        assertThat(comm(spare)).isEqualTo("corral-monitor");
        finish(third);
        long next = awaitSpare(launcher, spare);
        assertThat(dropSpare(launcher)).isEqualTo(next);
    }

    @Test
    void aSpareWithOtherStreamsOrOneThatDiedIsNotUsed() throws Exception {
        Launcher launcher = new Launcher(new LocalHost());
        run(launcher, StdioMode.INHERIT);
        run(launcher, StdioMode.INHERIT);
        long inheriting = awaitSpare(launcher, -1);

        JailedProcess piped = launcher.start(TRUE, StdioMode.PIPE);
        assertThat(piped.pid()).isNotEqualTo(inheriting);
        finish(piped);
        awaitGone(inheriting);

        long pipedSpare = awaitSpare(launcher, inheriting);
        ProcessHandle.of(pipedSpare).orElseThrow().destroyForcibly();
        awaitZombie(pipedSpare);
        JailedProcess after = launcher.start(TRUE, StdioMode.PIPE);
        assertThat(after.pid()).isNotEqualTo(pipedSpare);
        finish(after);
        awaitGone(pipedSpare);
        long last = awaitSpare(launcher, pipedSpare);
        assertThat(dropSpare(launcher)).isEqualTo(last);
    }

    private static void run(Launcher launcher, StdioMode stdio) throws Exception {
        finish(launcher.start(TRUE, stdio));
    }

    private static void finish(JailedProcess p) throws Exception {
        p.getOutputStream().close();
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isZero();
        p.getInputStream().close();
        p.getErrorStream().close();
    }

    /** The launcher's spare once it is there and is not {@code old}. */
    private static long awaitSpare(Launcher launcher, long old) throws InterruptedException {
        for (int i = 0; i < 500; i++) {
            long pid = launcher.spare().readyPid();
            if (pid > 0 && pid != old) return pid;
            Thread.sleep(10);
        }
        throw new AssertionError("no spare executor appeared");
    }

    /** Closes the launcher's spare, if any, and waits until it is gone; its pid, or -1. */
    private static long dropSpare(Launcher launcher) throws Exception {
        long pid = launcher.spare().discardReady();
        if (pid > 0) awaitGone(pid);
        return pid;
    }

    private static void awaitGone(long pid) throws InterruptedException {
        for (int i = 0; i < 500 && Files.exists(Path.of("/proc/" + pid)); i++) Thread.sleep(10);
        assertThat(Path.of("/proc/" + pid)).as("spare %d exited and was reaped", pid).doesNotExist();
    }

    /** Killed, it is a zombie until the launcher finds it dead and reaps it. */
    private static void awaitZombie(long pid) throws InterruptedException {
        for (int i = 0; i < 500 && !zombie(pid); i++) Thread.sleep(10);
        assertThat(zombie(pid)).as("spare %d killed", pid).isTrue();
    }

    private static boolean zombie(long pid) {
        try {
            return Files.readString(Path.of("/proc/" + pid + "/stat")).replaceFirst("^.*\\) ", "").startsWith("Z");
        } catch (java.io.IOException e) {
            return false;
        }
    }

    private static String comm(long pid) {
        try {
            return Files.readString(Path.of("/proc/" + pid + "/comm")).strip();
        } catch (java.io.IOException e) {
            return "";
        }
    }
}
