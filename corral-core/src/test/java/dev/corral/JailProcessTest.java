package dev.corral;

import dev.corral.testing.OrphanedJail;
import dev.corral.testing.Run;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The jail as a {@link Process}: status, streams, signals, and nothing left behind. */
class JailProcessTest {

    @Test
    void exitStatusIsTheProgramsOwn() throws Exception {
        assertThat(Run.sh("exit 7").status()).isEqualTo(7);
        assertThat(Run.sh("kill -KILL $$").status()).isEqualTo(128 + 9);
        assertThat(Run.of(new JailBuilder().init(false).command("sh", "-c", "exit 3")).status()).isEqualTo(3);
    }

    @Test
    void streamsCarryStdinStdoutAndStderr() throws Exception {
        JailedProcess p = new JailBuilder().command("sh", "-c", "read line; echo \"got $line\"; echo err >&2").start();
        p.getOutputStream().write("hello\n".getBytes());
        p.getOutputStream().close();
        assertThat(new String(p.getInputStream().readAllBytes())).isEqualTo("got hello\n");
        assertThat(new String(p.getErrorStream().readAllBytes())).isEqualTo("err\n");
        assertThat(p.onExit().get(10, TimeUnit.SECONDS).exitValue()).isZero();
        assertThat(p.isAlive()).isFalse();
    }

    /** Output to a sink: stdout and stderr on one pipe, in the order written, stdin empty. */
    private static final class Sink implements OutputSink {
        final StringBuilder text = new StringBuilder();
        final java.util.concurrent.CountDownLatch closed = new java.util.concurrent.CountDownLatch(1);

        @Override public synchronized void write(byte[] b, int off, int len) { text.append(new String(b, off, len)); }

        @Override public void closed() { closed.countDown(); }

        synchronized String text() { return text.toString(); }
    }

    @Test
    void outputToASinkKeepsTheOrderOfStdoutAndStderr() throws Exception {
        Sink sink = new Sink();
        JailedProcess p = new JailBuilder().output(sink)
                .command("sh", "-c", "echo one; echo two >&2; echo three; cat; echo after-stdin >&2; exit 5").start();
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isEqualTo(5);
        assertThat(sink.closed.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(sink.text()).isEqualTo("one\ntwo\nthree\nafter-stdin\n");
        assertThat(p.getInputStream().read()).isEqualTo(-1);
    }

    @Test
    void runningJailsWithASinkCostNoThreadEach() throws Exception {
        int jails = 20;
        int before = threadCount();
        List<JailedProcess> running = new java.util.ArrayList<>();
        List<Sink> sinks = new java.util.ArrayList<>();
        try {
            for (int i = 0; i < jails; i++) {
                Sink s = new Sink();
                sinks.add(s);
                running.add(new JailBuilder().output(s).command("sh", "-c", "echo up; exec sleep 60").start());
            }
            for (Sink s : sinks) {
                for (int i = 0; i < 200 && !s.text().equals("up\n"); i++) Thread.sleep(10);
                assertThat(s.text()).isEqualTo("up\n");
            }
            // A platform thread per jail (or per pipe) would add 20 to 60; the event loop is one.
            assertThat(threadCount() - before).isLessThan(jails / 2);
        } finally {
            for (JailedProcess p : running) p.destroyForcibly();
            for (JailedProcess p : running) assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        }
        for (JailedProcess p : running) assertThat(p.exitValue()).isEqualTo(128 + 9);
    }

    /** The JVM's threads, as the kernel counts them. */
    private static int threadCount() throws java.io.IOException {
        try (var tasks = Files.list(Path.of("/proc/self/task"))) {
            return (int) tasks.count();
        }
    }

    @Test
    void destroyDeliversSigtermAndDestroyForciblyKillsTheJail() throws Exception {
        JailedProcess p = new JailBuilder().command("sh", "-c", "trap 'echo term; exit 42' TERM; echo up; while :; do sleep 0.05; done").start();
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream()));
        assertThat(out.readLine()).isEqualTo("up");
        p.destroy();
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(out.readLine()).isEqualTo("term");
        assertThat(p.exitValue()).isEqualTo(42);

        JailedProcess q = new JailBuilder().command("sh", "-c", "trap '' TERM; echo up; while :; do sleep 0.05; done").start();
        BufferedReader qout = new BufferedReader(new InputStreamReader(q.getInputStream()));
        assertThat(qout.readLine()).isEqualTo("up");
        long jail = q.jailPid();
        q.destroyForcibly();
        assertThat(q.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(q.exitValue()).isEqualTo(128 + 9);
        assertThat(ProcessHandle.of(jail).map(ProcessHandle::isAlive).orElse(false)).isFalse();
    }

    @Test
    void initReapsOrphanedZombies() throws Exception {
        Run r = Run.sh("for i in 1 2 3 4 5; do (sh -c 'exit 0' &) ; done; sleep 0.5;"
                + " for s in /proc/[0-9]*/stat; do cut -d' ' -f3 $s; done 2>/dev/null | grep -c Z");
        assertThat(r.out().strip()).isEqualTo("0");
    }

    @Test
    void theMonitorAndTheJailAreGoneAfterExit() throws Exception {
        JailedProcess p = new JailBuilder().command("sh", "-c", "sleep 0.2 & exit 0").start();
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while ((alive(p.pid()) || alive(p.jailPid())) && System.nanoTime() < deadline) Thread.sleep(20);
        assertThat(alive(p.pid())).as("monitor").isFalse();
        assertThat(alive(p.jailPid())).as("jail init").isFalse();
    }

    @Test
    void theJailDiesWithTheJvmThatStartedIt() throws Exception {
        String java = ProcessHandle.current().info().command().orElseThrow();
        Process child = new ProcessBuilder(java, "-XX:-UsePerfData", "--enable-native-access=ALL-UNNAMED", "-cp",
                System.getProperty("java.class.path"), OrphanedJail.class.getName())
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream()));
        String line = out.readLine();
        assertThat(line).as("the child JVM printed the jail's pid").isNotNull();
        long jail = Long.parseLong(line.strip());
        assertThat(alive(jail)).isTrue();
        child.toHandle().destroyForcibly(); // SIGKILL: no shutdown hook, no cleanup code runs
        child.waitFor();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (alive(jail) && System.nanoTime() < deadline) Thread.sleep(20);
        assertThat(alive(jail)).as("jail still running after its JVM was SIGKILLed").isFalse();
    }

    @Test
    void theJailOutlivesTheThreadThatStartedIt() throws Exception {
        // The kernel's parent-death signal follows the thread that spawned the monitor, not the
        // process: a jail started from a thread that then ends (a pool's worker retiring, a
        // virtual thread's carrier) must keep running. It did not: the monitor took the signal
        // for an ordinary one and forwarded it, and the program died of it (exit 128+64).
        JailedProcess[] started = new JailedProcess[1];
        Thread t = Thread.ofPlatform().start(() -> {
            try {
                started[0] = new JailBuilder().command("sh", "-c", "echo up; exec sleep 1000").start();
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        t.join();
        JailedProcess p = started[0];
        assertThat(p).isNotNull();
        assertThat(new BufferedReader(new InputStreamReader(p.getInputStream())).readLine()).isEqualTo("up");
        assertThat(p.waitFor(500, TimeUnit.MILLISECONDS)).as("the jail ended with its starting thread").isFalse();
        assertThat(alive(p.jailPid())).isTrue();
        p.destroyForcibly();
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isEqualTo(128 + 9);
    }

    @Test
    void noExtraFileDescriptorsReachTheProgram() throws Exception {
        Run r = Run.sh("ls /proc/self/fd | sort -n | tr '\\n' ' '");
        // 0-2, and the one ls holds open on /proc/self/fd.
        assertThat(r.out().strip()).isEqualTo("0 1 2 3");
    }

    private static boolean alive(long pid) {
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)
                && !isZombie(pid);
    }

    private static boolean isZombie(long pid) {
        try {
            List<String> f = List.of(Files.readString(Path.of("/proc/" + pid + "/stat")).split("\\) ")[1].split(" "));
            return f.getFirst().equals("Z");
        } catch (Exception e) {
            return false;
        }
    }
}
