package dev.corral.daemon;

import dev.corral.JailedProcess;
import dev.corral.JoinBuilder;
import dev.corral.config.AppConfig;
import dev.corral.join.ProcessFacts;
import dev.corral.join.SetnsSocket;
import dev.corral.spec.Namespace;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * An application's setns socket, served by a daemon in this JVM (as root): the jail's namespaces
 * (without the user namespace, skipped by default), its root, and its configuration; a new socket
 * for each new jail; none once the application stops.
 */
class SetnsSocketTest extends RunningDaemon {
    private static final String APP = "{\"applications\": {\"web\": {\"executable\": \"/bin/sh\", \"arguments\": [\"-c\","
            + " \"exec sleep 1000\"], \"isolation\": {\"hostname\": \"web\", \"setns_socket\": true}}}}";

    private long program() throws Exception {
        return ProcessFacts.program(awaitStatus(a -> a.path("web").path("state").asText().equals("running")
                && a.path("web").has("pid")).path("web").path("pid").asLong());
    }

    /**
     * The namespace files this JVM holds open ("net:[4026531840]"). Not every descriptor: a joined
     * process's own pipes close a moment after its exit is known, once its monitor has gone.
     */
    private static long namespaceFds() throws Exception {
        try (var fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.map(fd -> {
                try {
                    return Files.readSymbolicLink(fd).toString();
                } catch (java.io.IOException gone) {
                    return "";
                }
            }).filter(link -> link.matches("(cgroup|ipc|mnt|net|pid|time|user|uts):\\[\\d+]")).count();
        }
    }

    private static String ns(long pid, Namespace ns) throws Exception {
        return Files.readSymbolicLink(Path.of("/proc/" + pid + "/ns/" + ns.procName())).toString();
    }

    @Test
    void theSocketServesTheRunningJailAndGoesWithIt() throws Exception {
        assertThat(client.put("/config", APP).status()).isEqualTo(200);
        long program = program();
        Path socket = dir.resolve("run/setns/web.sock");
        for (int i = 0; i < 500 && !Files.exists(socket); i++) Thread.sleep(10);
        long namespaceFds = namespaceFds();
        try (SetnsSocket.Served s = SetnsSocket.receive(socket.toString())) {
            assertThat(s.application()).isEqualTo("web");
            assertThat(s.jail().pid()).isEqualTo(program);
            assertThat(s.config().path("isolation").path("hostname").asText()).isEqualTo("web");
            assertThat(s.jail().namespaces()).doesNotContain(Namespace.USER).contains(Namespace.MOUNT, Namespace.PID,
                    Namespace.NET, Namespace.UTS, Namespace.IPC);
            for (Namespace n : s.jail().namespaces()) {
                int fd = s.jail().opened(List.of(n)).namespaces().getFirst();
                assertThat(Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString()).as(n.userName())
                        .isEqualTo(ns(program, n));
            }
            // What corral exec --socket does: the user namespace is added back, the hardening is the app's.
            JailedProcess p = new JoinBuilder().jail(s.jail()).spec(AppConfig.application("web", s.config()))
                    .command("sh", "-c", "hostname; readlink /proc/self/ns/user; cat /proc/1/comm").start();
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes());
            assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
            p.getInputStream().close();
            p.getErrorStream().close();
            assertThat(out).isEqualTo("web\n" + ns(program, Namespace.USER) + "\ncorral-init\n");
        }
        assertThat(namespaceFds()).as("the received descriptors are closed").isLessThanOrEqualTo(namespaceFds);

        // A new jail (restart): a new socket, serving the new jail.
        assertThat(client.post("/control/applications/web/restart").status()).isEqualTo(200);
        long next = program();
        assertThat(next).isNotEqualTo(program);
        try (SetnsSocket.Served s = SetnsSocket.receive(socket.toString())) {
            assertThat(s.jail().pid()).isEqualTo(next);
            int net = s.jail().opened(List.of(Namespace.NET)).namespaces().getFirst();
            assertThat(Files.readSymbolicLink(Path.of("/proc/self/fd/" + net)).toString()).isEqualTo(ns(next, Namespace.NET));
        }

        // Stopped: no socket.
        assertThat(client.post("/control/applications/web/stop").status()).isEqualTo(200);
        assertThat(socket).doesNotExist();
        var gone = org.assertj.core.api.Assertions.catchThrowableOfType(dev.corral.JailSetupException.class,
                () -> SetnsSocket.receive(socket.toString()));
        assertThat(gone.getMessage()).isEqualTo("setns socket " + socket + ": connect unix:" + socket + ": No such file or directory");
    }

    @Test
    void badSettingsAreRejectedWithTheirPath() throws Exception {
        var r = client.put("/config", "{\"applications\": {\"web\": {\"executable\": \"/bin/true\","
                + " \"isolation\": {\"setns_socket\": 1}}}}");
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.body()).contains("/applications/web/isolation/setns_socket").contains("expected true, false or an absolute path");
    }
}
