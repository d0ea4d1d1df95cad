package dev.corral.daemon;

import com.fasterxml.jackson.databind.JsonNode;
import dev.corral.daemon.client.ControlClient;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** A real daemon in this JVM, driven over its real control socket. */
class DaemonTest extends RunningDaemon {
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
        // The whole status shows the accounting sampled every second; one app's status reads it live.
        assertThat(awaitStatus(a -> a.path("b").has("usage")).path("b").path("usage").path("pids_current").asLong()).isPositive();
        assertThat(JSON.readTree(client.get("/status/applications/b").body()).path("usage").path("pids_current").asLong())
                .isPositive();
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
        // "restarts: 2" is counted when the third run starts; its mark may come a moment later.
        for (int i = 0; i < 500 && Files.readAllLines(count).size() < 3; i++) Thread.sleep(10);
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

    @Test
    void theAppsDirectoryStartsReloadsAndStopsApplications() throws Exception {
        client.close();
        daemon.close();
        Path apps = dir.resolve("apps");
        daemon = Daemon.start(new Daemon.Paths(dir.resolve("run/control.sock"), dir.resolve("state/state.json"),
                dir.resolve("logs"), apps));
        client = new ControlClient(daemon.socket());
        Files.writeString(apps.resolve("vassal.json"), app("sleep 1000", ""));
        long first = awaitStatus(a -> a.path("vassal").path("state").asText().equals("running")).path("vassal").path("pid").asLong();
        Files.writeString(apps.resolve("vassal.json"), app("sleep 1001", ""));
        long second = awaitStatus(a -> a.path("vassal").path("pid").asLong() != first
                && a.path("vassal").path("state").asText().equals("running")).path("vassal").path("pid").asLong();
        // A broken file is reported, and the last good version keeps running.
        Files.writeString(apps.resolve("vassal.json"), "{\"executable\": \"/bin/true\", \"isolaton\": {}}");
        Thread.sleep(500);
        assertThat(status().path("vassal").path("pid").asLong()).isEqualTo(second);
        // The API cannot take a name the directory holds.
        ControlClient.Reply clash = client.put("/config/applications/vassal", app("true", ""));
        assertThat(clash.status()).isEqualTo(400);
        assertThat(clash.body()).contains("already defined by vassal.json in the apps directory");
        Files.delete(apps.resolve("vassal.json"));
        awaitStatus(a -> !a.has("vassal"));
        assertThat(Path.of("/proc/" + second)).doesNotExist();
    }

    @Test
    void logsCanBeFollowed() throws Exception {
        assertThat(client.put("/config/applications/tick", app("i=0; while :; do echo tick $i; i=$((i+1)); sleep 0.1; done", ""))
                .status()).isEqualTo(200);
        var seen = new java.io.ByteArrayOutputStream();
        var follower = new ControlClient(daemon.socket());
        Thread t = Thread.ofPlatform().start(() -> {
            try {
                follower.stream("/applications/tick/logs?follow=1", seen);
            } catch (Exception ignored) {
                // ended by closing the client
            }
        });
        try {
            for (int i = 0; i < 500 && !seen.toString().contains("tick 15"); i++) Thread.sleep(10);
            assertThat(seen.toString()).startsWith("tick 0\ntick 1\n").contains("tick 15\n");
        } finally {
            follower.close();
            t.join(5000);
        }
    }

    @Test
    void reloadStartsTheNewJailFirstUnlessToldToStopFirst() throws Exception {
        Path events = dir.resolve("events");
        Files.writeString(events, "");
        String mount = ", \"isolation\": {\"mounts\": [{\"source\": \"" + dir + "\", \"target\": \"/data\", \"type\": \"bind\"}]}";
        for (String order : new String[] {"start-first", "stop-first"}) {
            Files.writeString(events, "");
            for (String v : new String[] {"v1", "v2"}) {
                String script = "echo " + v + " up >> /data/events; trap 'echo " + v + " down >> /data/events; exit 0' TERM;"
                        + " while :; do sleep 0.05; done";
                assertThat(client.put("/config/applications/" + order, app(script, mount + ", \"reload\": \"" + order + "\""))
                        .status()).isEqualTo(200);
                for (int i = 0; i < 500 && !Files.readString(events).contains(v + " up"); i++) Thread.sleep(10);
            }
            for (int i = 0; i < 500 && !Files.readString(events).contains("v1 down"); i++) Thread.sleep(10);
            List<String> seen = Files.readAllLines(events);
            assertThat(seen).as(order).containsExactly(order.equals("start-first")
                    ? new String[] {"v1 up", "v2 up", "v1 down"} : new String[] {"v1 up", "v1 down", "v2 up"});
            assertThat(client.delete("/config/applications/" + order).status()).isEqualTo(200);
        }
    }

    @Test
    void aReloadUnderASteadyRequestLoopRefusesNothing() throws Exception {
        Path serve = dev.corral.testing.StaticBinary.build(Path.of("src/test/native/serve.c"), Path.of("target/serve/serve"));
        int port;
        try (var probe = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = probe.getLocalPort();
        }
        // The binary's directory is bound in: a checkout under /tmp is hidden by the jail's own /tmp.
        String web = "{\"executable\": \"/corral-test/serve\", \"arguments\": [\"%s\"], \"listen\": [\"127.0.0.1:" + port
                + "\"], \"isolation\": {\"mounts\": [{\"source\": \"" + serve.getParent() + "\", \"target\": \"/corral-test\","
                + " \"type\": \"bind\", \"read_only\": true}]}}";
        assertThat(client.put("/config/applications/web", web.formatted("v1")).status()).isEqualTo(200);
        var answers = new java.util.concurrent.ConcurrentHashMap<String, java.util.concurrent.atomic.AtomicInteger>();
        var failures = new java.util.concurrent.CopyOnWriteArrayList<String>();
        var running = new java.util.concurrent.atomic.AtomicBoolean(true);
        Thread loop = Thread.ofPlatform().start(() -> {
            while (running.get()) {
                try (var socket = new java.net.Socket(java.net.InetAddress.getLoopbackAddress(), port)) {
                    socket.setSoTimeout(10_000);
                    String line = new java.io.BufferedReader(new java.io.InputStreamReader(socket.getInputStream())).readLine();
                    if (line == null) failures.add("closed without an answer");
                    else answers.computeIfAbsent(line, k -> new java.util.concurrent.atomic.AtomicInteger()).incrementAndGet();
                } catch (java.io.IOException e) {
                    failures.add(e.toString());
                }
            }
        });
        try {
            for (String version : new String[] {"v2", "v3", "v4"}) {
                String before = version.equals("v2") ? "v1" : "v" + (version.charAt(1) - '1');
                for (int i = 0; i < 1000 && answers.getOrDefault(before, new java.util.concurrent.atomic.AtomicInteger()).get() < 20; i++) {
                    Thread.sleep(10);
                }
                assertThat(client.put("/config/applications/web", web.formatted(version)).status()).isEqualTo(200);
            }
            for (int i = 0; i < 1000 && answers.getOrDefault("v4", new java.util.concurrent.atomic.AtomicInteger()).get() < 20; i++) {
                Thread.sleep(10);
            }
        } finally {
            running.set(false);
            loop.join(15_000);
        }
        int total = answers.values().stream().mapToInt(java.util.concurrent.atomic.AtomicInteger::get).sum();
        System.out.println("DaemonTest: three reloads under a request loop: " + total + " answered " + answers
                + ", " + failures.size() + " failed " + failures);
        assertThat(failures).isEmpty();
        assertThat(answers.keySet()).contains("v1", "v2", "v3", "v4");
    }

    @Test
    void aListenAddressThatCannotBeBoundRejectsTheWholePut() throws Exception {
        try (var taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            ControlClient.Reply r = client.put("/config", "{\"applications\": {\"a\": {\"executable\": \"/bin/true\","
                    + " \"listen\": [\"127.0.0.1:" + taken.getLocalPort() + "\", \"127.0.0.1:99999\"]}}}");
            assertThat(r.status()).isEqualTo(400);
            assertThat(r.body()).contains("/applications/a/listen/1").contains("99999");
            ControlClient.Reply busy = client.put("/config", "{\"applications\": {\"a\": {\"executable\": \"/bin/true\","
                    + " \"listen\": [\"127.0.0.1:" + taken.getLocalPort() + "\"]}}}");
            assertThat(busy.status()).isEqualTo(400);
            assertThat(busy.body()).contains("/applications/a/listen/0").contains("Address already in use");
            assertThat(status().size()).isZero();
            assertThat(Files.exists(paths().state())).as("nothing saved").isFalse();
        }
    }
}
