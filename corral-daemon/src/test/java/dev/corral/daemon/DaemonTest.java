package dev.corral.daemon;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.corral.daemon.client.ControlClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;

/** A real daemon in this JVM, driven over its real control socket. */
class DaemonTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;
    Daemon daemon;
    ControlClient client;

    @BeforeEach
    void start() throws Exception {
        daemon = Daemon.start(paths());
        client = new ControlClient(daemon.socket());
    }

    Daemon.Paths paths() {
        return new Daemon.Paths(dir.resolve("run/control.sock"), dir.resolve("state/state.json"), dir.resolve("logs"));
    }

    @AfterEach
    void stop() throws Exception {
        if (client != null) client.close();
        if (daemon != null) daemon.close();
    }

    JsonNode status() throws Exception {
        ControlClient.Reply r = client.get("/status");
        assertThat(r.status()).isEqualTo(200);
        return JSON.readTree(r.body()).path("applications");
    }

    /** Polls /status until the condition holds (10 s at most) and returns the last answer. */
    JsonNode awaitStatus(Predicate<JsonNode> condition) throws Exception {
        JsonNode s = status();
        for (int i = 0; i < 1000 && !condition.test(s); i++) {
            Thread.sleep(10);
            s = status();
        }
        assertThat(condition.test(s)).as("status never got there: " + s).isTrue();
        return s;
    }

    static String app(String script, String extra) {
        return "{\"executable\": \"/bin/sh\", \"arguments\": [\"-c\", " + JSON.valueToTree(script) + "]" + extra + "}";
    }

    @Test
    void applyStartsEveryApplicationAndStatusShowsThem() throws Exception {
        ControlClient.Reply r = client.put("/config", "{\"applications\": {\"a\": " + app("echo a-up; sleep 1000", "")
                + ", \"b\": " + app("sleep 1000", ", \"limits\": {\"pids\": 16}") + "}}");
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        JsonNode s = awaitStatus(a -> a.path("a").path("state").asText().equals("running")
                && a.path("b").path("state").asText().equals("running"));
        long pid = s.path("a").path("pid").asLong();
        assertThat(Path.of("/proc/" + pid)).exists();
        assertThat(Files.readString(Path.of("/proc/" + pid + "/status"))).contains("NSpid:\t" + pid + "\t1");
        assertThat(s.path("b").path("usage").path("pids_current").asLong()).isPositive();
        // The log holds what the app printed.
        for (int i = 0; i < 200 && !client.get("/applications/a/logs").body().contains("a-up"); i++) Thread.sleep(10);
        assertThat(client.get("/applications/a/logs").body()).isEqualTo("a-up\n");
        // The saved file is the accepted document.
        assertThat(JSON.readTree(Files.readString(paths().state()))).isEqualTo(JSON.readTree(client.get("/config").body()));
        assertThat(Files.getPosixFilePermissions(daemon.socket())).isEqualTo(PosixFilePermissions.fromString("rw-------"));
        // One application's status is its entry of the whole.
        ControlClient.Reply one = client.get("/status/applications/a");
        assertThat(one.status()).isEqualTo(200);
        JsonNode a = JSON.readTree(one.body());
        assertThat(a.path("state").asText()).isEqualTo("running");
        assertThat(a.path("pid").asLong()).isEqualTo(pid);
        assertThat(a.path("log").asText()).isEqualTo(s.path("a").path("log").asText());
        assertThat(client.get("/status/applications/nope").status()).isEqualTo(404);
        assertThat(client.post("/status/applications/a").status()).isEqualTo(405);
    }

    @Test
    void aCrashedApplicationIsRestartedWithGrowingDelays() throws Exception {
        Path count = dir.resolve("count");
        Files.writeString(count, "");
        count.toFile().setWritable(true, false);
        // Each run leaves a mark on a bound file and exits 3 at once.
        assertThat(client.put("/config", "{\"applications\": {\"crash\": " + app("echo x >> /data/count; exit 3",
                ", \"isolation\": {\"mounts\": [{\"source\": \"" + dir + "\", \"target\": \"/data\", \"type\": \"bind\"}]}")
                + "}}").status()).isEqualTo(200);
        long t0 = System.nanoTime();
        JsonNode s = awaitStatus(a -> a.path("crash").path("restarts").asInt() >= 2);
        double seconds = (System.nanoTime() - t0) / 1e9;
        // Delays of 1 s then 2 s: the second restart cannot come before ~3 s.
        System.out.printf("DaemonTest: two restarts after %.2f s%n", seconds);
        assertThat(seconds).isGreaterThan(2.5);
        assertThat(s.path("crash").path("last_exit").asInt()).isEqualTo(3);
        assertThat(s.path("crash").path("state").asText()).isIn("backoff", "starting", "running");
        assertThat(Files.readAllLines(count).size()).isGreaterThanOrEqualTo(3);
    }

    @Test
    void anInvalidPutChangesNothingAndNamesEveryBadPath() throws Exception {
        assertThat(client.put("/config", "{\"applications\": {\"good\": " + app("sleep 1000", "") + "}}").status()).isEqualTo(200);
        long pid = awaitStatus(a -> a.path("good").path("state").asText().equals("running")).path("good").path("pid").asLong();
        String before = client.get("/config").body();
        ControlClient.Reply r = client.put("/config", """
                {"applications": {
                  "good": {"executable": "/bin/true", "limits": {"memory": "0"}},
                  "bad": {"executable": "/bin/true", "isolaton": {}, "restart": "sometimes"},
                  "no name!": {"executable": "/bin/true"}}}""");
        assertThat(r.status()).isEqualTo(400);
        JsonNode problems = JSON.readTree(r.body()).path("problems");
        assertThat(problems.findValuesAsText("path")).containsExactlyInAnyOrder(
                "/applications/no name!", "/applications/bad/restart", "/applications/bad/isolaton");
        assertThat(client.get("/config").body()).isEqualTo(before);
        assertThat(status().path("good").path("pid").asLong()).isEqualTo(pid);
        // Once the shape is right, the host check speaks: a zero memory limit.
        ControlClient.Reply r2 = client.put("/config/applications/good", "{\"executable\": \"/bin/true\", \"limits\": {\"memory\": 0}}");
        assertThat(r2.status()).isEqualTo(400);
        assertThat(r2.body()).contains("/applications/good/limits/memory").contains("must be more than 0");
        assertThat(client.put("/config", "{not json").status()).isEqualTo(400);
        assertThat(status().path("good").path("pid").asLong()).isEqualTo(pid);
    }

    @Test
    void changingAnApplicationReloadsItIntoANewJailAndRemovingItStopsIt() throws Exception {
        assertThat(client.put("/config/applications/web", app("echo v1; sleep 1000", "")).status()).isEqualTo(200);
        long first = awaitStatus(a -> a.path("web").path("state").asText().equals("running")).path("web").path("pid").asLong();
        assertThat(client.put("/config/applications/web", app("echo v2; sleep 1000", "")).status()).isEqualTo(200);
        long second = awaitStatus(a -> a.path("web").path("state").asText().equals("running")
                && a.path("web").path("pid").asLong() != first).path("web").path("pid").asLong();
        assertThat(second).isNotEqualTo(first);
        for (int i = 0; i < 500 && Files.exists(Path.of("/proc/" + first)); i++) Thread.sleep(10);
        assertThat(Path.of("/proc/" + first)).as("the old jail").doesNotExist();
        assertThat(client.delete("/config/applications/web").status()).isEqualTo(200);
        assertThat(Path.of("/proc/" + second)).doesNotExist();
        assertThat(status().has("web")).isFalse();
        assertThat(client.get("/config/applications/web").status()).isEqualTo(404);
    }

    @Test
    void stopStartAndRestartThroughControl() throws Exception {
        assertThat(client.put("/config/applications/svc", app("trap 'exit 0' TERM; while :; do sleep 0.1; done", "")).status()).isEqualTo(200);
        long pid = awaitStatus(a -> a.path("svc").path("state").asText().equals("running")).path("svc").path("pid").asLong();
        assertThat(client.post("/control/applications/svc/stop").status()).isEqualTo(200);
        assertThat(status().path("svc").path("state").asText()).isEqualTo("stopped");
        assertThat(Path.of("/proc/" + pid)).doesNotExist();
        assertThat(client.post("/control/applications/svc/start").status()).isEqualTo(200);
        long again = awaitStatus(a -> a.path("svc").path("state").asText().equals("running")).path("svc").path("pid").asLong();
        assertThat(client.post("/control/applications/svc/restart").status()).isEqualTo(200);
        long third = awaitStatus(a -> a.path("svc").path("state").asText().equals("running")).path("svc").path("pid").asLong();
        assertThat(third).isNotEqualTo(again);
        assertThat(client.post("/control/applications/nope/stop").status()).isEqualTo(404);
    }

    @Test
    void aRestartedDaemonBringsTheSavedConfigurationBack() throws Exception {
        assertThat(client.put("/config/applications/keep", app("sleep 1000", "")).status()).isEqualTo(200);
        long pid = awaitStatus(a -> a.path("keep").path("state").asText().equals("running")).path("keep").path("pid").asLong();
        client.close();
        daemon.close();
        assertThat(Path.of("/proc/" + pid)).as("stopped with the daemon").doesNotExist();
        assertThat(daemon.socket()).doesNotExist();
        daemon = Daemon.start(paths());
        client = new ControlClient(daemon.socket());
        JsonNode s = awaitStatus(a -> a.path("keep").path("state").asText().equals("running"));
        assertThat(s.path("keep").path("pid").asLong()).isNotEqualTo(pid);
    }
}
