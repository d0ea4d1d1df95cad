package dev.corral.launch;

import dev.corral.JailBuilder;
import dev.corral.JailBuilder.StdioMode;
import dev.corral.JailedProcess;
import dev.corral.JoinBuilder;
import dev.corral.ListeningSocket;
import dev.corral.spec.CgroupSpec;
import dev.corral.spec.JailSpec;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The executor spawned ahead of the next start: made from the second start on, used once, never
 * for other streams, never once it has died. Each test has a launcher of its own (other tests'
 * jails go through the shared one, with spares of its own).
 */
class SpareExecutorTest {
    private static final JailSpec TRUE = new JailBuilder().command("true").cgroup(CgroupSpec.Mode.NONE).build();
    /** Runs until its stdin ends, so that its monitor can be looked at. */
    private static final JailSpec READS_STDIN = new JailBuilder().command("sh", "-c", "read x || true")
            .cgroup(CgroupSpec.Mode.NONE).build();

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

        JailedProcess third = launcher.start(READS_STDIN, StdioMode.PIPE);
        assertThat(third.pid()).as("the third jail's monitor is the spare").isEqualTo(spare);
        assertThat(comm(spare)).isEqualTo("corral-monitor");
        finish(third);
        long next = awaitSpare(launcher, spare);
        assertThat(dropSpare(launcher)).isEqualTo(next);
    }

    @Test
    void aSpareWithOtherStreamsOrOneThatDiedIsNotUsed() throws Exception {
        Launcher launcher = new Launcher(new LocalHost());
        long inheriting = spareBehindTwoStarts(launcher, StdioMode.INHERIT);

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

    /**
     * A spare made behind a jail without a cgroup clones the next jail's first process while it
     * waits, into the namespaces that jail's plan asked for: the next start with the same ones
     * runs in that process.
     */
    @Test
    void aSpareClonesTheNextJailAhead() throws Exception {
        Launcher launcher = new Launcher(new LocalHost());
        long spare = spareBehindTwoStarts(launcher, StdioMode.PIPE);
        long early = awaitOnlyChild(spare);
        assertThat(namespace(early, "net")).as("cloned into a network namespace of its own")
                .isNotEqualTo(namespace(ProcessHandle.current().pid(), "net"));
        assertThat(namespace(early, "user")).isNotEqualTo(namespace(ProcessHandle.current().pid(), "user"));
        assertThat(namespace(early, "mnt")).as("the copy of the host's mounts is made once the plan has come")
                .isEqualTo(namespace(ProcessHandle.current().pid(), "mnt"));

        JailedProcess p = launcher.start(READS_STDIN, StdioMode.PIPE);
        assertThat(p.pid()).isEqualTo(spare);
        assertThat(p.jailPid()).as("the jail's first process is the one cloned ahead").isEqualTo(early);
        finish(p);
        dropSpare(launcher);
    }

    /**
     * A spare may wait for hours: the jail must see the host's mounts as they are when it starts,
     * not as they were when its first process was cloned. (This host's / is private: nothing
     * would propagate into a copy made earlier.)
     */
    @Test
    void aJailClonedAheadSeesAMountMadeWhileItsSpareWaited() throws Exception {
        org.assertj.core.api.Assumptions.assumeThat(dev.corral.sys.Libc.geteuid()).as("mounts a tmpfs").isZero();
        Launcher launcher = new Launcher(new LocalHost());
        long early = awaitOnlyChild(spareBehindTwoStarts(launcher, StdioMode.PIPE));
        // Bound onto /mnt: the source is opened in the jail's copy of the host's mounts, wherever
        // the build is (under /tmp too, which the default jail replaces with a tmpfs of its own).
        org.assertj.core.api.Assumptions.assumeThat(Path.of("/mnt")).isDirectory();
        Path point = Files.createTempDirectory(Path.of("target").toAbsolutePath(), "mounted-late");
        try {
            assertThat(new ProcessBuilder("mount", "-t", "tmpfs", "corral-test", point.toString()).start().waitFor()).isZero();
            try {
                Files.writeString(point.resolve("seen"), "made after the clone");
                JailedProcess p = launcher.start(new JailBuilder().command("cat", "/mnt/seen")
                        .readOnlyBind(point.toString(), "/mnt").cgroup(CgroupSpec.Mode.NONE).build(), StdioMode.PIPE);
                assertThat(p.jailPid()).isEqualTo(early);
                p.getOutputStream().close();
                String out = new String(p.getInputStream().readAllBytes());
                assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
                assertThat(out).isEqualTo("made after the clone");
                p.getErrorStream().close();
            } finally {
                new ProcessBuilder("umount", point.toString()).start().waitFor();
            }
        } finally {
            Files.deleteIfExists(point);
        }
        dropSpare(launcher);
    }

    /**
     * A plan that wants other namespaces than the spare cloned its child into never runs in that
     * child: it is killed, and the jail gets a process of its own, in the namespaces it asked for.
     */
    @Test
    void aChildClonedAheadIntoOtherNamespacesIsNotUsed() throws Exception {
        Launcher launcher = new Launcher(new LocalHost());
        long spare = spareBehindTwoStarts(launcher, StdioMode.PIPE);
        long early = awaitOnlyChild(spare);

        JailSpec sharesNet = new JailBuilder().command("sh", "-c", "read x || true").share(dev.corral.spec.Namespace.NET)
                .cgroup(CgroupSpec.Mode.NONE).build();
        JailedProcess p = launcher.start(sharesNet, StdioMode.PIPE);
        assertThat(p.pid()).isEqualTo(spare);
        assertThat(p.jailPid()).isNotEqualTo(early);
        assertThat(namespace(p.jailPid(), "net")).as("the host's network namespace, as asked")
                .isEqualTo(namespace(ProcessHandle.current().pid(), "net"));
        awaitGone(early);
        finish(p);
        dropSpare(launcher);
    }

    /**
     * A v1 cgroup is joined after the clone either way: a jail with one runs in the child cloned
     * ahead, and in its cgroup. One born in a v2 cgroup (clone3 into it) is not cloned ahead.
     */
    @Test
    void aJailJoiningItsCgroupAfterTheCloneRunsInTheChildClonedAheadAndOneBornInItDoesNot() throws Exception {
        for (String version : List.of("v1", "v2")) {
            dev.corral.cgroup.CgroupView view = dev.corral.cgroup.CgroupDetector.detect(version);
            if (view.version() == null || view.hierarchies().stream().noneMatch(dev.corral.cgroup.CgroupView.Hierarchy::writable)) {
                System.out.println("SpareExecutorTest: no writable cgroup " + version + ": " + view.whyNone());
                continue;
            }
            Launcher launcher = new Launcher(new LocalHost(version));
            JailSpec inCgroup = new JailBuilder().command("sh", "-c", "read x || true").cgroup(CgroupSpec.Mode.REQUIRED).build();
            finish(launcher.start(inCgroup, StdioMode.PIPE));
            finish(launcher.start(inCgroup, StdioMode.PIPE));
            long spare = awaitSpare(launcher, -1);
            if (version.equals("v2")) {
                Thread.sleep(200);
                assertThat(ProcessHandle.of(spare).orElseThrow().children().toList()).as("nothing cloned ahead for v2").isEmpty();
                dropSpare(launcher);
                continue;
            }
            long early = awaitOnlyChild(spare);
            JailedProcess p = launcher.start(inCgroup, StdioMode.PIPE);
            assertThat(p.jailPid()).isEqualTo(early);
            String leaf = p.cgroup().orElseThrow().dirs().getFirst().getFileName().toString();
            assertThat(Files.readString(Path.of("/proc/" + early + "/cgroup"))).as("in the jail's cgroup").contains("/" + leaf + "\n");
            finish(p);
            dropSpare(launcher);
        }
    }

    private static long awaitOnlyChild(long pid) throws InterruptedException {
        for (int i = 0; i < 500; i++) {
            List<ProcessHandle> children = ProcessHandle.of(pid).orElseThrow().children().toList();
            if (children.size() == 1) return children.getFirst().pid();
            Thread.sleep(10);
        }
        throw new AssertionError("spare " + pid + " has not cloned a child ahead");
    }

    private static String namespace(long pid, String type) {
        return link(Path.of("/proc/" + pid + "/ns/" + type));
    }

    /**
     * The CLI spawns its executor while it parses its arguments: the start that follows takes it,
     * also one that hands the executor a listening socket (it comes with the plan), and no spare
     * is left idle beside the jail.
     */
    @Test
    void aSpareSpawnedAheadServesTheNextStart() throws Exception {
        Launcher launcher = new Launcher(new LocalHost());
        launcher.spawnAhead(StdioMode.PIPE);
        long ahead = launcher.spare().readyPid();
        for (int i = 0; i < 500 && !comm(ahead).equals("corral-spare"); i++) Thread.sleep(10);
        assertThat(comm(ahead)).as("spawned, and waiting for its plan").isEqualTo("corral-spare");
        JailedProcess first = launcher.start(READS_STDIN, StdioMode.PIPE);
        assertThat(first.pid()).as("the first start's monitor is the executor spawned ahead").isEqualTo(ahead);
        finish(first);
        Thread.sleep(200);
        assertThat(launcher.spare().readyPid()).as("one start, and no spare behind it").isEqualTo(-1);

        launcher.spawnAhead(StdioMode.PIPE);
        long second = launcher.spare().readyPid();
        assertThat(second).isPositive().isNotEqualTo(ahead);
        try (ListeningSocket socket = ListeningSocket.open("127.0.0.1:0")) {
            JailSpec passing = new JailBuilder().command("sh", "-c", "echo $LISTEN_FDS; readlink /proc/self/fd/3")
                    .cgroup(CgroupSpec.Mode.NONE).passListeningSocket(socket).build();
            JailedProcess p = launcher.start(passing, StdioMode.PIPE);
            assertThat(p.pid()).as("a start that hands over a socket takes it too").isEqualTo(second);
            String ours = link(Path.of("/proc/self/fd/" + socket.fd()));
            assertThat(new String(p.getInputStream().readAllBytes())).as("the program's LISTEN_FDS and fd 3")
                    .isEqualTo("1\n" + ours + "\n");
            finish(p);
        }
        // Behind that second start, a spare; not cloning ahead, since its plan handed over a
        // descriptor, which a child cloned ahead of the next plan could not have.
        long behind = awaitSpare(launcher, second);
        Thread.sleep(200);
        assertThat(ProcessHandle.of(behind).orElseThrow().children().toList()).as("children of the spare behind").isEmpty();
        assertThat(dropSpare(launcher)).isEqualTo(behind);
    }

    /**
     * A join (corral exec) hands the executor the jail's namespaces, root and cwd: a spare gets
     * them with the plan, and the process it starts is in the jail. Through the shared launcher,
     * the one {@link dev.corral.JoinBuilder} starts with.
     */
    @Test
    void aJoinTakesTheSpareWithTheJailsDescriptors() throws Exception {
        Launcher shared = Launcher.shared();
        JailedProcess target = new JailBuilder().command("sh", "-c", "echo up; exec sleep 1000").hostname("joined-host")
                .cgroup(CgroupSpec.Mode.NONE).stdio(StdioMode.PIPE).start();
        try (JoinBuilder.Prepared join = new JoinBuilder().jail(target.pid())
                .command("sh", "-c", "hostname; pwd; readlink /proc/self/ns/net /proc/self/ns/mnt").stdio(StdioMode.PIPE).prepare()) {
            assertThat(new java.io.BufferedReader(new java.io.InputStreamReader(target.getInputStream())).readLine()).isEqualTo("up");
            long program = dev.corral.join.ProcessFacts.program(target.pid());
            String expected = "joined-host\n/\n" + namespace(program, "net") + "\n" + namespace(program, "mnt") + "\n";
            for (int i = 0; i < 2; i++) assertThat(outputOf(join.start())).isEqualTo(expected);
            long spare = awaitSpare(shared, -1);
            JailedProcess third = join.start();
            assertThat(third.pid()).as("the third join's monitor is the spare made behind the second").isEqualTo(spare);
            assertThat(outputOf(third)).isEqualTo(expected);
        } finally {
            target.destroyForcibly();
            assertThat(target.waitFor(10, TimeUnit.SECONDS)).isTrue();
        }
    }

    private static String outputOf(JailedProcess p) throws Exception {
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(new String(p.getErrorStream().readAllBytes())).isZero();
        return out;
    }

    /**
     * The JVM's stream descriptors are not close-on-exec, so every executor spawned inherits them.
     * A spare must not keep them while it waits: holding another jail's stdin, it would keep that
     * jail from ever reading end-of-file (found by CI, in a JVM with many descriptors open).
     */
    @Test
    void aSpareHoldsOnlyItsOwnDescriptors() throws Exception {
        Launcher launcher = new Launcher(new LocalHost());
        // The next descriptors opened land from 120 on: inside the executor's ranges for passed
        // and joined descriptors, which it keeps from the JVM until it knows what was handed over.
        List<Integer> filler = fillDescriptorsBelow(120);
        try {
            long first = spareBehindTwoStarts(launcher, StdioMode.PIPE);
            JailedProcess reader = launcher.start(READS_STDIN, StdioMode.PIPE);
            long program = ProcessHandle.of(reader.jailPid()).orElseThrow().children().findFirst().orElseThrow().pid();
            String stdin = link(Path.of("/proc/" + program + "/fd/0"));
            assertThat(jvmDescriptorsTo(stdin)).as("the JVM's end of the program's stdin, as the test means it")
                    .anyMatch(fd -> fd >= 100 && fd < 164);
            // A spare spawned while that end is open in the JVM.
            long second = awaitSpare(launcher, first);
            launcher.spare().discardReady();
            awaitGone(second);
            run(launcher, StdioMode.PIPE);
            long spare = awaitSpare(launcher, second);
            // The spare: stdio, its plan and event pipes, and five pipes to the child it cloned
            // ahead; that child: stdio and its ends of those five.
            long early = awaitOnlyChild(spare);
            assertThat(descriptors(spare)).as("the spare's descriptors").contains(0, 1, 2, 3, 4).hasSize(10);
            assertThat(linksAbove(spare, 4)).as("its others: pipes to the child cloned ahead")
                    .hasSize(5).allMatch(l -> l.startsWith("pipe:")).doesNotContain(stdin);
            assertThat(descriptors(early)).as("the child cloned ahead").contains(0, 1, 2).hasSize(8);
            assertThat(linksAbove(early, 2)).hasSize(5).allMatch(l -> l.startsWith("pipe:")).doesNotContain(stdin);
            finish(reader);
            assertThat(dropSpare(launcher)).isEqualTo(spare);
        } finally {
            filler.forEach(dev.corral.sys.Libc::close);
        }
    }

    private static List<String> linksAbove(long pid, int highest) throws java.io.IOException {
        try (var fds = Files.list(Path.of("/proc/" + pid + "/fd"))) {
            return fds.filter(fd -> Integer.parseInt(fd.getFileName().toString()) > highest).map(SpareExecutorTest::link).toList();
        }
    }

    private static List<Integer> descriptors(long pid) throws java.io.IOException {
        try (var fds = Files.list(Path.of("/proc/" + pid + "/fd"))) {
            return fds.map(fd -> Integer.parseInt(fd.getFileName().toString())).toList();
        }
    }

    private static List<Integer> fillDescriptorsBelow(int limit) throws Exception {
        List<Integer> held = new java.util.ArrayList<>();
        for (boolean below = true; below; ) {
            int[] p = dev.corral.sys.Libc.pipe();
            below = p[0] < limit && p[1] < limit;
            for (int fd : p) {
                if (fd < limit) held.add(fd);
                else dev.corral.sys.Libc.close(fd);
            }
        }
        return held;
    }

    private static List<Integer> jvmDescriptorsTo(String target) throws Exception {
        try (var fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.filter(fd -> link(fd).equals(target)).map(fd -> Integer.parseInt(fd.getFileName().toString())).toList();
        }
    }

    private static String link(Path p) {
        try {
            return Files.readSymbolicLink(p).toString();
        } catch (java.io.IOException e) {
            return "";
        }
    }

    /** Two starts, and the spare the second leaves behind (a JVM's first start leaves none). */
    private static long spareBehindTwoStarts(Launcher launcher, StdioMode stdio) throws Exception {
        run(launcher, stdio);
        run(launcher, stdio);
        return awaitSpare(launcher, -1);
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
            if (pid > 0 && pid != old) {
                // posix_spawn returns once the exec has replaced the spawning thread's memory, a
                // moment before the kernel renames the process and the executor names itself.
                for (int j = 0; j < 500 && !comm(pid).equals("corral-spare"); j++) Thread.sleep(10);
                return pid;
            }
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
