package dev.corral.cli;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

/**
 * The {@code ./corral} launcher at the repository root, the README's first command: it finds a
 * JDK 25 whatever {@code java} the caller has, runs the built jar, and trains an AOT cache per
 * kind of command the first time one runs.
 */
class LauncherIT {
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final Path LAUNCHER = ROOT.resolve("corral");
    private static final Path TARGET = ROOT.resolve("corral-cli/target");

    record Result(int status, String out, String err) {}

    /** A launcher that found its jar older than the sources would build, inside this build. */
    @BeforeAll
    static void theJarIsCurrent() throws Exception {
        Path jar = TARGET.resolve("corral.jar");
        assumeThat(jar).exists();
        long built = Files.getLastModifiedTime(jar).toMillis();
        try (Stream<Path> sources = Stream.of("corral-core/src/main", "corral-cli/src/main", "corral-daemon/src/main")
                .map(ROOT::resolve).flatMap(LauncherIT::walk)) {
            assumeThat(sources.filter(Files::isRegularFile).noneMatch(p -> modified(p) > built))
                    .as("the jar is newer than every source (else the launcher would rebuild it)").isTrue();
        }
    }

    @Test
    void runsAJailedCommandAndTrainsTheCacheForRun() throws Exception {
        Path cache = TARGET.resolve("corral-run.aot");
        Files.deleteIfExists(cache);
        Result r = launch(List.of(), Map.of(), "run", "--", "sh", "-c", "readlink /proc/self/ns/uts; id -u");
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(r.out()).endsWith("\n0\n").doesNotContain(Files.readSymbolicLink(Path.of("/proc/self/ns/uts")).toString());
        assertThat(cache).as("trained by the first run").isNotEmptyFile();
        assertThat(Files.getLastModifiedTime(cache)).isGreaterThan(Files.getLastModifiedTime(TARGET.resolve("corral.jar")));
        Result again = launch(List.of(), Map.of(), "run", "--", "sh", "-c", "exit 7");
        assertThat(again.status()).as(again.err()).isEqualTo(7);
    }

    /**
     * The first run trains the cache first: not on the caller's terminal, which the training's
     * jail would take, leaving the command asked for without it.
     */
    @Test
    void theFirstRunOnATerminalGetsTheTerminal() throws Exception {
        Files.deleteIfExists(TARGET.resolve("corral-run.aot"));
        List<String> lines = TerminalCliIT.onATerminal(
                TerminalCliIT.shell(List.of(LAUNCHER.toString(), "run", "--", "cut", "-d ", "-f5,8", "/proc/self/stat")));
        assertThat(lines).as("the program: group 2, and the terminal's foreground").containsExactly("2 2");
        assertThat(TARGET.resolve("corral-run.aot")).isNotEmptyFile();
    }

    @Test
    void execTrainsACacheOfItsOwn() throws Exception {
        Path cache = TARGET.resolve("corral-exec.aot");
        Files.deleteIfExists(cache);
        try (RunningJail jail = RunningJail.start(List.of(), List.of("--hostname", "launched"), "true")) {
            Result r = launch(List.of(), Map.of(), "exec", "--pid", String.valueOf(jail.pid), "--", "hostname");
            assertThat(r.status()).as(r.err()).isZero();
            assertThat(r.out()).isEqualTo("launched\n");
        }
        assertThat(cache).as("trained by the first exec").isNotEmptyFile();
    }

    /**
     * {@code corral exec APP} asks the daemon for the jail, and has a cache of its own with the
     * daemon's client: its training (against a stand-in daemon) must succeed, or the launcher
     * would fall back to a cache of {@code --version}.
     */
    @Test
    void execIntoADaemonsApplicationTrainsACacheOfItsOwn() throws Exception {
        Cli.Result training = Cli.run("aot-training", "exec-app");
        assertThat(training.status()).as(training.err()).isZero();
        Path cache = TARGET.resolve("corral-exec-app.aot");
        Files.deleteIfExists(cache);
        try (RunningJail jail = RunningJail.start(List.of(), List.of("--hostname", "app-host"), "true");
             StandInDaemon daemon = new StandInDaemon(Map.of(
                     "/status/applications/web", "{\"state\": \"running\", \"pid\": " + jail.pid + "}",
                     "/config/applications/web", "{\"type\": \"external\", \"executable\": \"sleep\"}"))) {
            Result r = launch(List.of(), Map.of(), "exec", "--control", daemon.socket().toString(), "web", "--", "hostname");
            assertThat(r.status()).as(r.err()).isZero();
            assertThat(r.out()).isEqualTo("app-host\n");
        }
        assertThat(cache).as("trained by the first exec into an application").isNotEmptyFile();
    }

    /**
     * ctl (and logs) train on a stand-in for the daemon that answers one /status: the training
     * shows the table it got, leaves no socket behind, and the launcher keeps the cache.
     */
    @Test
    void ctlTrainsACacheOfItsOwn() throws Exception {
        Cli.Result training = Cli.run("aot-training", "ctl");
        assertThat(training.status()).as(training.err()).isZero();
        assertThat(training.out()).containsPattern("web +running +2 +1 +0 +1\\.5s");
        Path cache = TARGET.resolve("corral-ctl.aot");
        Files.deleteIfExists(cache);
        Result r = launch(List.of(), Map.of(), "ctl", "--socket", "/nonexistent/control.sock", "status");
        assertThat(r.status()).isEqualTo(125);
        assertThat(r.err()).isEqualTo("corral ctl: no daemon socket at /nonexistent/control.sock"
                + " (start one with corral daemon, or give --socket)\n");
        assertThat(cache).as("trained by the first ctl").isNotEmptyFile();
        try (Stream<Path> tmp = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
            assertThat(tmp.map(p -> p.getFileName().toString())).noneMatch(n -> n.startsWith("corral-aot-training"));
        }
    }

    /**
     * The daemon trains on a real one of its own (socket, state and logs in a temporary directory,
     * one application): the training succeeds and leaves nothing behind, and the launcher keeps
     * the cache of the first daemon it starts.
     */
    @Test
    void theDaemonTrainsACacheOfItsOwn() throws Exception {
        Cli.Result training = Cli.run("aot-training", "daemon");
        assertThat(training.status()).as(training.err()).isZero();
        try (Stream<Path> tmp = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
            assertThat(tmp.map(p -> p.getFileName().toString())).noneMatch(n -> n.startsWith("corral-aot-training"));
        }
        Path cache = TARGET.resolve("corral-daemon.aot");
        Files.deleteIfExists(cache);
        Path dir = Files.createTempDirectory("corral-launcher-daemon");
        Path socket = dir.resolve("control.sock");
        Process daemon = new ProcessBuilder(LAUNCHER.toString(), "daemon", "--socket", socket.toString(),
                "--state", dir.resolve("state.json").toString(), "--logs", dir.resolve("logs").toString())
                .directory(new File("/")).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try {
            int status = 0;
            for (int i = 0; i < 1200 && status != 200 && daemon.isAlive(); i++) {
                if (Files.exists(socket)) {
                    try (var client = new dev.corral.daemon.client.ControlClient(socket)) {
                        status = client.get("/status").status();
                    } catch (Exception e) {
                        // not listening yet
                    }
                }
                if (status != 200) Thread.sleep(50);
            }
            assertThat(status).as("the daemon answers /status").isEqualTo(200);
        } finally {
            daemon.destroy(); // SIGTERM: the daemon stops cleanly
            if (!daemon.waitFor(30, TimeUnit.SECONDS)) daemon.destroyForcibly().waitFor();
            dev.corral.rootfs.FileTrees.remove(dir);
        }
        assertThat(cache).as("trained by the first daemon").isNotEmptyFile();
    }

    @Test
    void findsAJdk25WhenJavaHomeAndPathPointElsewhere() throws Exception {
        Result r = launch(List.of(), Map.of("JAVA_HOME", "/nonexistent", "PATH", "/usr/bin:/bin"), "--version");
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(r.out()).isEqualTo("corral development build\n");
    }

    /** nobody cannot write target/: no cache is trained or removed, and the command runs all the same. */
    /**
     * A caller that closed stdin or stderr: bash would read this script from the free slot and
     * the JVM open its modules file there, and the jail would get that file as stdio (writable
     * through /proc/self/fd). The launcher fills a closed slot with /dev/null first.
     */
    @Test
    void aClosedStdioDescriptorReachesTheJailAsDevNull() throws Exception {
        String show = "readlink /proc/self/fd/0 /proc/self/fd/2";
        Result r = launch(List.of(), Map.of(), "run", "--", "sh", "-c", show);
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(r.out().lines().toList()).as("with stdio open").hasSize(2).first().isEqualTo("/dev/null");
        assertThat(r.out().lines().toList().get(1)).startsWith("/tmp/corral-launcher-err");
        for (String closed : List.of("0<&-", "2>&-", "0<&- 2>&-")) {
            Result c = shell("exec " + LAUNCHER + " run -- sh -c '" + show + "' " + closed);
            assertThat(c.status()).as(closed + ": " + c.err()).isZero();
            List<String> seen = c.out().lines().toList();
            assertThat(seen).as(closed).hasSize(2);
            assertThat(seen.get(0)).as(closed + ": stdin").isEqualTo("/dev/null");
            if (closed.contains("2>&-")) assertThat(seen.get(1)).as(closed + ": stderr").isEqualTo("/dev/null");
            else assertThat(seen.get(1)).as(closed + ": stderr").startsWith("/tmp/corral-launcher-err");
        }
    }

    /**
     * SIGQUIT is the JVM's (it cannot be forwarded): its thread dump goes to stderr, not into the
     * jailed program's stdout, which the caller may be piping somewhere.
     */
    @Test
    void aThreadDumpLeavesTheProgramsStdoutAlone() throws Exception {
        Path out = Files.createTempFile("corral-launcher-out", ".txt");
        Path err = Files.createTempFile("corral-launcher-err", ".txt");
        try {
            Process p = new ProcessBuilder(LAUNCHER.toString(), "run", "--", "sh", "-c", "echo ready; sleep 2; echo done")
                    .directory(new File("/")).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            for (int i = 0; i < 500 && !Files.readString(out).contains("ready"); i++) Thread.sleep(10);
            // The launcher has exec'd the JVM by now: the same process.
            assertThat(new ProcessBuilder("kill", "-QUIT", Long.toString(p.pid())).start().waitFor()).isZero();
            assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).isZero();
            assertThat(Files.readString(out)).isEqualTo("ready\ndone\n");
            assertThat(Files.readString(err)).contains("Full thread dump");
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    @Test
    void aNormalUserRunsItWithoutWritingTheTree() throws Exception {
        assumeThat(new com.sun.security.auth.module.UnixSystem().getUid()).isZero();
        Result r = launch(Cli.NOBODY, Map.of(), "run", "--", "sh", "-c", "cat /proc/self/uid_map");
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(r.out().trim().split("\\s+")).containsExactly("0", "65534", "1");
    }

    private static Result launch(List<String> asUser, Map<String, String> env, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(asUser);
        cmd.add(LAUNCHER.toString());
        cmd.addAll(List.of(args));
        return start(cmd, env, String.join(" ", args));
    }

    /** A shell line (one that runs the launcher with some redirection of its own). */
    private static Result shell(String line) throws Exception {
        return start(List.of("sh", "-c", line), Map.of(), line);
    }

    private static Result start(List<String> cmd, Map<String, String> env, String what) throws Exception {
        Path out = Files.createTempFile("corral-launcher-out", ".txt");
        Path err = Files.createTempFile("corral-launcher-err", ".txt");
        try {
            out.toFile().setWritable(true, false);
            err.toFile().setWritable(true, false);
            ProcessBuilder pb = new ProcessBuilder(cmd).directory(new File("/"))
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectOutput(out.toFile()).redirectError(err.toFile());
            pb.environment().putAll(env);
            Process p = pb.start();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
                throw new AssertionError("corral " + what + " did not finish in 120 s");
            }
            return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    private static Stream<Path> walk(Path dir) {
        try {
            return Files.walk(dir);
        } catch (java.io.IOException e) {
            return Stream.empty();
        }
    }

    private static long modified(Path p) {
        try {
            return Files.getLastModifiedTime(p).toMillis();
        } catch (java.io.IOException e) {
            return 0;
        }
    }
}
