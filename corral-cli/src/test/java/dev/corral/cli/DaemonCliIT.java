package dev.corral.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

/** corral daemon as its own process: death by SIGKILL, SIGTERM, persistence, other users. */
class DaemonCliIT {
    static final ObjectMapper JSON = new ObjectMapper();
    Path dir;
    Process daemon;

    @BeforeEach
    void makeDir() throws Exception {
        dir = Files.createTempDirectory("corral-daemon-it");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    @AfterEach
    void cleanUp() throws Exception {
        if (daemon != null && daemon.isAlive()) {
            daemon.destroy();
            daemon.waitFor(30, TimeUnit.SECONDS);
        }
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    Path socket() {
        return dir.resolve("run/control.sock");
    }

    void startDaemon() throws Exception {
        Files.deleteIfExists(dir.resolve("daemon.out"));
        daemon = new ProcessBuilder(Cli.command(List.of(), "daemon", "--socket", socket().toString(),
                "--state", dir.resolve("state.json").toString(), "--logs", dir.resolve("logs").toString()))
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("daemon.out").toFile())).start();
        // A SIGKILLed daemon leaves its socket file: wait for the new one to say it listens.
        Path out = dir.resolve("daemon.out");
        for (int i = 0; i < 3000 && !read(out).contains("listening on"); i++) Thread.sleep(10);
        assertThat(read(out)).contains("corral daemon: listening on " + socket());
        for (int i = 0; i < 100 && !Files.getPosixFilePermissions(socket()).equals(PosixFilePermissions.fromString("rw-------")); i++) {
            Thread.sleep(10);
        }
    }

    static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (Exception e) {
            return "";
        }
    }

    Cli.Result ctl(String... args) throws Exception {
        List<String> a = new ArrayList<>(List.of("ctl", "--socket", socket().toString()));
        a.addAll(List.of(args));
        return Cli.run(a.toArray(String[]::new));
    }

    Path write(String name, String json) throws Exception {
        Path f = dir.resolve(name);
        Files.writeString(f, json);
        return f;
    }

    static String app(String script) {
        return "{\"executable\": \"/bin/sh\", \"arguments\": [\"-c\", \"" + script + "\"]}";
    }

    @Test
    void everyJailDiesWithTheDaemonAndTheSavedConfigComesBack() throws Exception {
        startDaemon();
        String tag = "5150." + ProcessHandle.current().pid();
        Path cfg = write("apps.json", "{\"applications\": {\"one\": " + app("sleep " + tag + "1") + ", \"two\": "
                + app("sleep " + tag + "2") + "}}");
        Cli.Result r = ctl("apply", cfg.toString());
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(r.out()).isEqualTo("Reconfiguration done.\n");
        for (int i = 0; i < 500 && sleepers(tag).size() < 2; i++) Thread.sleep(10);
        assertThat(sleepers(tag)).hasSize(2);
        Cli.Result status = ctl("status");
        assertThat(status.out()).contains("NAME").containsPattern("one +running").containsPattern("two +running");
        daemon.toHandle().destroyForcibly(); // SIGKILL
        daemon.waitFor(10, TimeUnit.SECONDS);
        for (int i = 0; i < 500 && !sleepers(tag).isEmpty(); i++) Thread.sleep(10);
        assertThat(sleepers(tag)).as("jails left after the daemon was SIGKILLed").isEmpty();
        startDaemon();
        for (int i = 0; i < 500 && sleepers(tag).size() < 2; i++) Thread.sleep(10);
        assertThat(sleepers(tag)).as("the saved applications, back").hasSize(2);
        // SIGTERM: everything stops, the socket goes, status 0.
        daemon.destroy();
        assertThat(daemon.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(daemon.exitValue()).isZero();
        assertThat(socket()).doesNotExist();
        assertThat(sleepers(tag)).isEmpty();
    }

    @Test
    void everyAcknowledgedPutSurvivesASigkillOfTheDaemon() throws Exception {
        startDaemon();
        // A stream of PUTs from one client; the daemon is killed in the middle of it.
        List<String> acknowledged = new ArrayList<>();
        Thread writer = Thread.ofPlatform().start(() -> {
            try (var client = new dev.corral.daemon.client.ControlClient(socket())) {
                for (int i = 0; i < 1000; i++) {
                    String name = "app" + i;
                    var reply = client.put("/config/applications/" + name, "{\"executable\": \"/bin/true\", \"restart\": \"never\"}");
                    if (reply.status() != 200) break;
                    synchronized (acknowledged) {
                        acknowledged.add(name);
                    }
                }
            } catch (Exception expected) {
                // the daemon died under it
            }
        });
        for (int i = 0; i < 1000; i++) {
            synchronized (acknowledged) {
                if (acknowledged.size() >= 20) break;
            }
            Thread.sleep(5);
        }
        daemon.toHandle().destroyForcibly();
        daemon.waitFor(10, TimeUnit.SECONDS);
        writer.join(30_000);
        List<String> acked;
        synchronized (acknowledged) {
            acked = List.copyOf(acknowledged);
        }
        System.out.println("DaemonCliIT: " + acked.size() + " PUTs acknowledged before the SIGKILL");
        assertThat(acked).hasSizeGreaterThanOrEqualTo(20);
        startDaemon();
        Cli.Result got = ctl("get");
        JsonNode apps = JSON.readTree(got.out()).path("applications");
        for (String name : acked) {
            assertThat(apps.has(name)).as(name + " was acknowledged; the daemon has " + got.out() + got.err()
                    + "; the state file: " + read(dir.resolve("state.json")) + "; daemon: " + read(dir.resolve("daemon.out"))).isTrue();
        }
    }

    @Test
    void anotherUserIsRefusedEvenWhenTheSocketIsOpenToAll() throws Exception {
        assumeThat(new com.sun.security.auth.module.UnixSystem().getUid()).as("switches to nobody").isZero();
        startDaemon();
        Files.setPosixFilePermissions(socket().getParent(), PosixFilePermissions.fromString("rwxr-xr-x"));
        // As shipped, the socket is 0600: nobody cannot even connect.
        Cli.Result denied = Cli.runAs(Cli.NOBODY, "ctl", "--socket", socket().toString(), "status");
        assertThat(denied.status()).isNotZero();
        // Opened to all, the daemon still checks who is calling (SO_PEERCRED).
        Files.setPosixFilePermissions(socket(), PosixFilePermissions.fromString("rw-rw-rw-"));
        Cli.Result r = Cli.runAs(Cli.NOBODY, "ctl", "--socket", socket().toString(), "status");
        assertThat(r.err()).contains("corral ctl: only root and the daemon's own user may use this socket");
        assertThat(r.status()).isEqualTo(1);
        assertThat(ctl("status").status()).as("root is served").isZero();
    }

    private static List<ProcessHandle> sleepers(String tag) {
        return ProcessHandle.allProcesses().filter(h -> h.info().arguments()
                .map(a -> a.length == 1 && a[0].startsWith(tag)).orElse(false)).toList();
    }
}
