package dev.corral.launch;

import dev.corral.JailBuilder;
import dev.corral.JailBuilder.StdioMode;
import dev.corral.JailedProcess;
import dev.corral.spec.CgroupSpec;
import dev.corral.spec.JailSpec;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/** The executor spawned ahead of the next start: made from the second start on, used once, never mismatched. */
class SpareExecutorTest {
    private static final JailSpec TRUE = new JailBuilder().command("true").cgroup(CgroupSpec.Mode.NONE).build();

    @Test
    void fromTheSecondStartTheNextStartFindsItsExecutorWaiting() throws Exception {
        Launcher launcher = new Launcher(new LocalHost());
        Set<Long> before = spares();
        run(launcher, StdioMode.PIPE);
        Thread.sleep(200);
        assertThat(newSpares(before)).as("a JVM that starts one jail has no spare").isEmpty();
        run(launcher, StdioMode.PIPE);
        long spare = awaitNewSpare(before);

        // This one waits for its stdin to end, so that its monitor can be looked at.
        JailedProcess third = launcher.start(new JailBuilder().command("sh", "-c", "read x || true")
                .cgroup(CgroupSpec.Mode.NONE).build(), StdioMode.PIPE);
        assertThat(third.pid()).as("the third jail's monitor is the spare").isEqualTo(spare);
        assertThat(comm(spare)).isEqualTo("corral-monitor");
        finish(third);
        long next = awaitNewSpare(Set.of(spare));
        assertThat(next).isNotEqualTo(spare);
        // An unused spare is left for the next start; this launcher is dropped, so close it now.
        assertThat(dropSpare(launcher)).isEqualTo(next);
    }

    @Test
    void aSpareWithOtherStreamsOrOneThatDiedIsNotUsed() throws Exception {
        Launcher launcher = new Launcher(new LocalHost());
        Set<Long> before = spares();
        run(launcher, StdioMode.INHERIT);
        run(launcher, StdioMode.INHERIT);
        long inheriting = awaitNewSpare(before);

        JailedProcess piped = launcher.start(TRUE, StdioMode.PIPE);
        assertThat(piped.pid()).isNotEqualTo(inheriting);
        finish(piped);
        awaitGone(inheriting);

        long pipedSpare = awaitNewSpare(union(before, inheriting));
        ProcessHandle.of(pipedSpare).orElseThrow().destroyForcibly();
        awaitNotSpare(pipedSpare);
        JailedProcess after = launcher.start(TRUE, StdioMode.PIPE);
        assertThat(after.pid()).isNotEqualTo(pipedSpare);
        finish(after);
        long last = awaitNewSpare(union(union(before, inheriting), pipedSpare));
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

    /** Closes the launcher's spare, if any, and waits until it is gone; its pid, or -1. */
    private static long dropSpare(Launcher launcher) throws Exception {
        long pid = launcher.spare().discardReady();
        if (pid > 0) awaitGone(pid);
        return pid;
    }

    private static Set<Long> spares() {
        return ProcessHandle.current().children().map(ProcessHandle::pid)
                .filter(pid -> comm(pid).equals("corral-spare")).collect(Collectors.toSet());
    }

    private static Set<Long> newSpares(Set<Long> before) {
        Set<Long> now = spares();
        now.removeAll(before);
        return now;
    }

    private static long awaitNewSpare(Set<Long> before) throws InterruptedException {
        for (int i = 0; i < 500; i++) {
            Set<Long> fresh = newSpares(before);
            if (!fresh.isEmpty()) {
                assertThat(fresh).hasSize(1);
                return fresh.iterator().next();
            }
            Thread.sleep(10);
        }
        throw new AssertionError("no spare executor appeared");
    }

    private static void awaitGone(long pid) throws InterruptedException {
        for (int i = 0; i < 500 && Files.exists(Path.of("/proc/" + pid)); i++) Thread.sleep(10);
        assertThat(Path.of("/proc/" + pid)).as("spare %d exited and was reaped", pid).doesNotExist();
    }

    /** Killed, it is a zombie until the launcher finds it dead and reaps it. */
    private static void awaitNotSpare(long pid) throws InterruptedException {
        for (int i = 0; i < 500 && comm(pid).equals("corral-spare") && !zombie(pid); i++) Thread.sleep(10);
    }

    private static boolean zombie(long pid) {
        try {
            return Files.readString(Path.of("/proc/" + pid + "/stat")).replaceFirst("^.*\\) ", "").startsWith("Z");
        } catch (java.io.IOException e) {
            return true;
        }
    }

    private static Set<Long> union(Set<Long> a, long b) {
        Set<Long> all = new java.util.HashSet<>(a);
        all.add(b);
        return all;
    }

    private static String comm(long pid) {
        try {
            return Files.readString(Path.of("/proc/" + pid + "/comm")).strip();
        } catch (java.io.IOException e) {
            return "";
        }
    }
}
