package dev.corral;

import dev.corral.cgroup.CgroupDetector;
import dev.corral.cgroup.CgroupStats;
import dev.corral.cgroup.CgroupView;
import dev.corral.cgroup.JailCgroup;
import dev.corral.spec.Namespace;
import dev.corral.spec.SpecException;
import dev.corral.testing.Run;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

/**
 * Limits and accounting on the host's real cgroups, through whichever interface the host offers
 * (each test prints it). Timing is measured and reported with wide margins, never asserted tightly.
 */
class JailCgroupTest {
    static CgroupView host;

    @BeforeAll
    static void needsWritableCgroups() {
        host = CgroupDetector.detect();
        assumeThat(host.version()).as("cgroups: " + host.whyNone()).isNotNull();
        assumeThat(host.hierarchies().stream().anyMatch(CgroupView.Hierarchy::writable)).as("a writable cgroup").isTrue();
        System.out.println("JailCgroupTest: cgroup driver " + host.version().label() + " (" + host.hierarchies().size()
                + " hierarchies)");
    }

    static void assumeController(String c) {
        assumeThat(host.holding(c)).as("the " + c + " controller on " + host.version().label()).isPresent();
    }

    /** Polls until the condition holds or 10 s pass. */
    static boolean eventually(java.util.function.BooleanSupplier condition) throws InterruptedException {
        for (int i = 0; i < 1000; i++) {
            if (condition.getAsBoolean()) return true;
            Thread.sleep(10);
        }
        return condition.getAsBoolean();
    }

    static List<Path> dirsOf(JailedProcess p) {
        return p.cgroup().orElseThrow(() -> new AssertionError("the jail has no cgroup")).dirs();
    }

    /**
     * A fork bomb that keeps trying: every process forks every 10 ms for ever, and a refused fork
     * is no reason to stop (a shell's `bomb | bomb &` collapses at the limit, and its loop dies at
     * its first refused fork). The jail's program itself is sleep, which never forks.
     */
    private static final String BOMB = "perl -e 'while (1) { fork; select(undef, undef, undef, 0.01) }' & exec sleep 1000";

    @Test
    void theProgramsStatusComesBeforeTheJailsEnd() throws Exception {
        JailedProcess p = new JailBuilder().command("sh", "-c", "sleep 1000 & exit 5").start();
        assertThat(p.cgroup()).isPresent();
        List<Path> dirs = dirsOf(p);
        // Known as soon as init has reaped the program (STATUS); the jail's end follows.
        assertThat(p.onProgramExit().get(10, TimeUnit.SECONDS)).isEqualTo(5);
        Process ended = p.onExit().get(10, TimeUnit.SECONDS);
        assertThat(ended.exitValue()).isEqualTo(5);
        assertThat(p.onProgramExit().isDone()).isTrue();
        // The end still means the cgroup is gone, with whatever the program left running.
        assertThat(dirs).allSatisfy(d -> assertThat(d).doesNotExist());
        assertThat(p.stats()).isPresent();
    }

    @Test
    void aForkBombIsContainedAndTheHostCanStillFork() throws Exception {
        assumeController("pids");
        JailedProcess p = new JailBuilder().pidsLimit(32)
                .command("sh", "-c", BOMB).start();
        p.getOutputStream().close();
        long most = 0;
        try {
            Path pids = dirsOf(p).stream().filter(d -> Files.exists(d.resolve("pids.events"))).findFirst().orElseThrow();
            // Until the bomb has hit the limit (on a loaded machine it takes a while to grow), at most 30 s.
            String events = "";
            for (int i = 0; i < 3000; i++) {
                most = Math.max(most, p.stats().orElseThrow().pidsCurrent());
                events = Files.readString(pids.resolve("pids.events"));
                if (most >= 16 && Long.parseLong(events.strip().split("\\s+")[1]) > 0 && i >= 100) break;
                Thread.sleep(10);
            }
            Process forked = new ProcessBuilder("true").start();
            assertThat(forked.waitFor(10, TimeUnit.SECONDS) && forked.exitValue() == 0).as("the host forks").isTrue();
            System.out.println("JailCgroupTest: fork bomb under 32 pids (" + host.version().label() + "): at most "
                    + most + " seen, pids.events: " + events.strip());
            // A fork at the limit is charged, found over it and uncharged (pids_try_charge): a read
            // can catch pids.current above the limit by one per CPU forking at that moment.
            assertThat(most).isBetween(16L, 32L + Runtime.getRuntime().availableProcessors());
            assertThat(Long.parseLong(events.strip().split("\\s+")[1])).as("forks refused at the limit").isPositive();
        } finally {
            p.destroyForcibly();
            p.waitFor();
        }
        assertThat(p.stats().orElseThrow().pidsCurrent()).isZero();
        assertThat(dirsOf(p)).allSatisfy(d -> assertThat(d).doesNotExist());
    }

    @Test
    void aMemoryHogIsOomKilledInsideAndReportedAsSuch() throws Exception {
        assumeController("memory");
        // The shell keeps all of a command substitution's output in its own memory.
        JailedProcess p = new JailBuilder().memoryLimit(64L << 20)
                .command("sh", "-c", "x=$(head -c 512m /dev/zero | tr '\\0' a); echo survived").start();
        p.getOutputStream().close();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        CgroupStats s = p.stats().orElseThrow();
        System.out.println("JailCgroupTest: memory hog under 64M (" + s.driver() + "): status " + p.exitValue() + ", " + s);
        assertThat(p.exitValue()).as("the hog, the jail's program, died by SIGKILL").isEqualTo(128 + 9);
        assertThat(new String(p.getInputStream().readAllBytes())).doesNotContain("survived");
        assertThat(s.oomKills()).isGreaterThanOrEqualTo(1);
        assertThat(s.memoryPeak()).isLessThanOrEqualTo(64L << 20).isGreaterThan(32L << 20);
    }

    @Test
    void aBusyLoopUnderAFifthOfACoreGetsAboutAFifth() throws Exception {
        assumeController("cpu");
        double seconds = 3;
        JailedProcess p = new JailBuilder().cpuLimit(0.2)
                .command("timeout", Double.toString(seconds), "sh", "-c", "while :; do :; done").start();
        p.getOutputStream().close();
        p.waitFor();
        CgroupStats s = p.stats().orElseThrow();
        assumeThat(s.cpuUsec()).as("CPU accounting on this host").isGreaterThanOrEqualTo(0);
        double share = s.cpuUsec() / 1e6 / seconds;
        System.out.printf("JailCgroupTest: busy loop under --cpu 0.2 (%s) used %.3f of a core over %.0f s%n",
                s.driver(), share, seconds);
        assertThat(p.exitValue()).as("timeout's status").isEqualTo(124);
        assertThat(share).as("about a fifth of a core").isBetween(0.1, 0.3);
    }

    @Test
    void stoppingTheJailKillsEveryProcessInItsCgroupEvenOutsideItsPidNamespace() throws Exception {
        String marker = "1000." + ProcessHandle.current().pid() + System.nanoTime() % 1000;
        // With the caller's pid namespace, nothing but the cgroup holds the double-forked sleep.
        JailedProcess p = new JailBuilder().share(Namespace.PID)
                .command("sh", "-c", "(sleep " + marker + " &); echo started").start();
        p.getOutputStream().close();
        assertThat(new BufferedReader(new InputStreamReader(p.getInputStream())).readLine()).isEqualTo("started");
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        try {
            assertThat(p.exitValue()).isZero();
            assertThat(processesWith(marker)).as("the orphaned sleep is gone").isEmpty();
            assertThat(dirsOf(p)).allSatisfy(d -> assertThat(d).doesNotExist());
        } finally {
            removeLeftovers(marker, dirsOf(p));
        }
    }

    @Test
    void theJailSeesItsOwnCgroupAsRoot() throws Exception {
        JailedProcess p = new JailBuilder().command("sh", "-c", "cat /proc/self/cgroup; echo; sleep 1000").start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream()));
            List<String> inside = Stream.generate(() -> readLine(out)).takeWhile(l -> l != null && !l.isEmpty()).toList();
            Path dir = dirsOf(p).getFirst();
            String name = dir.getFileName().toString();
            assertThat(name).startsWith("corral-");
            String fromHost = Files.readString(Path.of("/proc/" + p.jailPid() + "/cgroup"));
            assertThat(fromHost).contains("/" + name);
            for (Path d : dirsOf(p)) {
                assertThat(Files.readString(d.resolve("cgroup.procs"))).contains(Long.toString(p.jailPid()));
            }
            // Every hierarchy the jail was put in reads "/" from inside; the others stay relative.
            assertThat(inside).isNotEmpty().noneMatch(l -> l.contains(name));
            assertThat(inside).anyMatch(l -> l.endsWith(":/"));
        } finally {
            p.destroyForcibly();
            p.waitFor();
        }
    }

    @Test
    void unitsCgroupPathIsCreatedWithItsParentsAndRemovedAfterwards() throws Exception {
        String path = "corral-test-" + ProcessHandle.current().pid() + "/web";
        JailedProcess p = new JailBuilder().cgroupPath(path).pidsLimit(100).command("true").start();
        p.waitFor();
        List<Path> dirs = dirsOf(p);
        assertThat(dirs).allSatisfy(d -> {
            assertThat(d.toString()).endsWith("/" + path);
            assertThat(d).doesNotExist();
            assertThat(d.getParent()).doesNotExist();
        });
    }

    @Test
    void stopAndStatsWithTheV2InterfaceOnTheUnifiedHierarchy() throws Exception {
        CgroupView v2 = CgroupDetector.detect("v2");
        assumeThat(v2.version()).as("a cgroup2 mount: " + v2.whyNone()).isNotNull();
        assumeThat(v2.hierarchies().getFirst().writable()).isTrue();
        var launcher = new dev.corral.launch.Launcher(new dev.corral.launch.LocalHost("v2"));
        String marker = "1001." + ProcessHandle.current().pid() + System.nanoTime() % 1000;
        JailedProcess p = launcher.start(new JailBuilder().share(Namespace.PID)
                .command("sh", "-c", "(sleep " + marker + " &); i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done").build(),
                JailBuilder.StdioMode.PIPE);
        p.getOutputStream().close();
        p.waitFor();
        JailCgroup cg = p.cgroup().orElseThrow();
        try {
            System.out.println("JailCgroupTest: v2 interface at " + cg.dirs() + ": " + p.stats().orElseThrow());
            assertThat(cg.version().label()).isEqualTo("v2");
            assertThat(p.exitValue()).isZero();
            assertThat(p.stats().orElseThrow().cpuUsec()).isPositive();
            assertThat(processesWith(marker)).as("cgroup.kill took the orphan").isEmpty();
            assertThat(cg.dirs().getFirst()).doesNotExist();
        } finally {
            removeLeftovers(marker, cg.dirs());
        }
        // A limit whose controller v2 does not offer here is refused, not dropped.
        if (!v2.hierarchies().getFirst().has("pids")) {
            try {
                launcher.start(new JailBuilder().pidsLimit(10).command("true").build(), JailBuilder.StdioMode.PIPE);
                throw new AssertionError("a pids limit without a pids controller was accepted");
            } catch (SpecException e) {
                assertThat(e.getMessage()).contains("the pids controller is not available");
            }
        }
    }

    @Test
    void aJailThatFailsToStartLeavesNoCgroup() throws Exception {
        JailedProcess before = new JailBuilder().pidsLimit(10).command("true").start();
        before.waitFor();
        Path parent = dirsOf(before).getFirst().getParent();
        List<String> was = children(parent);
        try {
            new JailBuilder().pidsLimit(10).command("/no/such/program").start();
            throw new AssertionError("started");
        } catch (JailSetupException e) {
            assertThat(e.exitStatus()).isEqualTo(127);
        }
        assertThat(eventually(() -> children(parent).equals(was))).as("cgroups under " + parent).isTrue();
    }

    private static List<String> children(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            // Only this JVM's jails: other corral processes on the host come and go meanwhile.
            String mine = "corral-" + ProcessHandle.current().pid() + "-";
            return s.filter(Files::isDirectory).map(p -> p.getFileName().toString()).filter(n -> n.startsWith(mine))
                    .sorted().toList();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static String readLine(BufferedReader r) {
        try {
            return r.readLine();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** After a failed check: the orphan and its cgroup must not stay on the machine. */
    static void removeLeftovers(String marker, List<Path> cgroupDirs) throws IOException, InterruptedException {
        for (long pid : processesWith(marker)) ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        for (int i = 0; i < 50 && !processesWith(marker).isEmpty(); i++) Thread.sleep(20);
        for (Path d : cgroupDirs) Files.deleteIfExists(d);
    }

    static List<Long> processesWith(String marker) throws IOException {
        try (Stream<Path> s = Files.list(Path.of("/proc"))) {
            return s.filter(p -> p.getFileName().toString().matches("\\d+")).filter(p -> {
                try {
                    return new String(Files.readAllBytes(p.resolve("cmdline")), StandardCharsets.UTF_8).contains(marker);
                } catch (IOException e) {
                    return false;
                }
            }).map(p -> Long.parseLong(p.getFileName().toString())).toList();
        }
    }
}
