package dev.corral.cli;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

/**
 * {@code corral exec APP} into a daemon's application, and its setns socket: as root and, with a
 * daemon of its own, as nobody. The escape probes run through exec as nobody here, with the
 * application's seccomp filter known from its configuration.
 */
class ExecDaemonCliIT {
    Path dir;
    Process daemon;

    @BeforeAll
    static void asRoot() throws Exception {
        assumeThat(new com.sun.security.auth.module.UnixSystem().getUid()).as("these tests run as root and as nobody").isZero();
        EscapeProbe.build();
    }

    @AfterEach
    void cleanUp() throws Exception {
        if (daemon != null && daemon.isAlive()) {
            daemon.destroy();
            daemon.waitFor(30, TimeUnit.SECONDS);
        }
        if (dir != null) {
            try (var files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    Path socket() {
        return dir.resolve("run/control.sock");
    }

    /** A daemon with its files under a fresh directory, as {@code asUser}, with {@code apps} applied. */
    void startDaemon(List<String> asUser, String apps) throws Exception {
        dir = Files.createTempDirectory("corral-exec-it");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        if (!asUser.isEmpty()) new ProcessBuilder("chown", "65534:65534", dir.toString()).start().waitFor();
        Path out = dir.resolve("daemon.out");
        daemon = new ProcessBuilder(Cli.command(asUser, "daemon", "--socket", socket().toString(),
                "--state", dir.resolve("state.json").toString(), "--logs", dir.resolve("logs").toString()))
                .redirectErrorStream(true).redirectOutput(out.toFile()).redirectInput(new File("/dev/null")).start();
        for (int i = 0; i < 3000 && !DaemonCliIT.read(out).contains("listening on"); i++) Thread.sleep(10);
        assertThat(DaemonCliIT.read(out)).contains("listening on");
        Path cfg = dir.resolve("apps.json");
        Files.writeString(cfg, apps);
        cfg.toFile().setReadable(true, false);
        Cli.Result r = Cli.runAs(asUser, "ctl", "--socket", socket().toString(), "apply", cfg.toString());
        assertThat(r.status()).as(r.err()).isZero();
    }

    /** Waits until the app prints its marker into its log (so its program runs). */
    void awaitLog(String app, String marker) throws Exception {
        Path log = dir.resolve("logs").resolve(app + ".log");
        for (int i = 0; i < 1000 && !DaemonCliIT.read(log).contains(marker); i++) Thread.sleep(10);
        assertThat(DaemonCliIT.read(log)).contains(marker);
    }

    Cli.Result exec(List<String> asUser, String... args) throws Exception {
        List<String> a = new ArrayList<>(List.of("exec", "--control", socket().toString()));
        a.addAll(List.of(args));
        return Cli.runAs(asUser, a.toArray(String[]::new));
    }

    static String app(String hostname, String script, String extra) {
        return "{\"executable\": \"/bin/sh\", \"arguments\": [\"-c\", \"" + script + "\"], \"isolation\": {\"hostname\": \""
                + hostname + "\"" + extra + "}}";
    }

    @Test
    void execIntoADaemonsApplicationAndThroughItsSetnsSocket() throws Exception {
        String sees = ExecCliIT.SEES.replace("\"", "\\\"");
        Path setns = Files.createTempDirectory("corral-setns-it").resolve("web.sock");
        try {
            startDaemon(List.of(), "{\"applications\": {\"web\": " + app("web", "(" + sees + "); echo READY; exec sleep 1000",
                    ", \"setns_socket\": \"" + setns + "\"") + "}}");
            awaitLog("web", "READY");
            String log = DaemonCliIT.read(dir.resolve("logs/web.log"));
            String seen = log.substring(0, log.indexOf("READY\n"));

            Cli.Result byName = exec(List.of(), "web", "--", "/bin/sh", "-c", ExecCliIT.SEES + "; cat /proc/2/comm");
            assertThat(byName.err()).isEmpty();
            assertThat(byName.status()).isZero();
            assertThat(byName.out()).startsWith("web\n").isEqualTo(seen + "sleep\n");

            // The setns socket: served to root, the same namespaces; the program's identity and filter.
            assertThat(Files.getPosixFilePermissions(setns)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
            Cli.Result bySocket = Cli.run("exec", "--socket", setns.toString(), "--", "/bin/sh", "-c", ExecCliIT.SEES);
            assertThat(bySocket.err()).isEmpty();
            assertThat(bySocket.out()).isEqualTo(seen);

            // Another uid that reaches the socket (its mode opened up on purpose) gets nothing.
            Files.setPosixFilePermissions(setns.getParent(), PosixFilePermissions.fromString("rwxr-xr-x"));
            Files.setPosixFilePermissions(setns, PosixFilePermissions.fromString("rw-rw-rw-"));
            Cli.Result nobody = Cli.runAs(Cli.NOBODY, "exec", "--socket", setns.toString(), "--", "echo", "joined");
            assertThat(nobody.status()).isEqualTo(125);
            assertThat(nobody.out()).isEmpty();
            assertThat(nobody.err()).isEqualTo("corral: setns socket " + setns + " closed the connection without an answer"
                    + " (only root and the daemon's own user are served)\n");

            Cli.Result unknown = exec(List.of(), "nope", "--", "true");
            assertThat(unknown.status()).isEqualTo(2);
            assertThat(unknown.err()).isEqualTo("corral: APP: the daemon has no application \"nope\"\n");

            // The socket goes with the jail.
            assertThat(Cli.run("ctl", "--socket", socket().toString(), "stop", "web").status()).isZero();
            assertThat(setns).doesNotExist();
            Cli.Result stopped = exec(List.of(), "web", "--", "true");
            assertThat(stopped.status()).isEqualTo(125);
            assertThat(stopped.err()).isEqualTo("corral: application \"web\" is not running (stopped)\n");
        } finally {
            Files.deleteIfExists(setns);
            Files.deleteIfExists(setns.getParent());
        }
    }

    /**
     * An application given CAP_SYS_ADMIN has locked mounts: its pid and time namespaces belong to
     * the user namespace outside its own. Its setns socket, told to serve the user namespace too,
     * lists those first, so a client that joins descriptor after descriptor (uWSGI's) can, as
     * root; corral's client and exec by name
     * join through the outer user namespace, and the command cannot remount the root either.
     */
    @Test
    void aLockedApplicationIsServedInAnOrderItCanBeJoinedIn() throws Exception {
        Path setns = Files.createTempDirectory("corral-setns-it").resolve("locked.sock");
        try {
            startDaemon(List.of(), "{\"applications\": {\"locked\": " + app("locked", "echo READY; exec sleep 1000",
                    ", \"capabilities\": {\"add\": [\"SYS_ADMIN\"]}, \"setns_skip\": [], \"setns_socket\": \"" + setns + "\"") + "}}");
            awaitLog("locked", "READY");
            String header; // the descriptors that come with it are dropped by the kernel, unasked for
            try (var in = java.nio.channels.Channels.newInputStream(
                    java.nio.channels.SocketChannel.open(java.net.UnixDomainSocketAddress.of(setns)))) {
                header = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            }
            List<String> order = new java.util.ArrayList<>();
            new com.fasterxml.jackson.databind.ObjectMapper().readTree(header).path("namespaces").forEach(n -> order.add(n.asText()));
            assertThat(order.indexOf("user")).isPositive().isGreaterThan(order.indexOf("pid")).isLessThan(order.indexOf("mnt"));
            String script = "hostname; mount -o remount,rw / && echo remounted; cat /proc/3/comm";
            for (Cli.Result r : List.of(exec(List.of(), "locked", "--", "/bin/sh", "-c", script),
                    Cli.run("exec", "--socket", setns.toString(), "--", "/bin/sh", "-c", script))) {
                assertThat(r.status()).as(r.err()).isZero();
                assertThat(r.out()).isEqualTo("locked\nsleep\n");
                assertThat(r.err()).contains("permission denied");
            }
        } finally {
            Files.deleteIfExists(setns);
            Files.deleteIfExists(setns.getParent());
        }
    }

    @Test
    void nobodyExecsIntoItsOwnDaemonsApplicationAndCannotGetOut() throws Exception {
        startDaemon(Cli.NOBODY, "{\"applications\": {\"app\": {\"executable\": \"/bin/sh\", \"arguments\": [\"-c\","
                + " \"echo READY; exec sleep 1000\"], \"isolation\": {\"hostname\": \"nob\", \"mounts\": [{\"source\": \""
                + EscapeProbe.DIR + "\", \"target\": \"/probe\", \"type\": \"bind\", \"read_only\": true}],"
                + " \"setns_socket\": true}}}}");
        awaitLog("app", "READY");
        Cli.Result r = exec(Cli.NOBODY, "app", "--", "/bin/sh", "-c",
                "hostname; id -u; /probe/probe userns; /probe/probe fds; /probe/probe ptrace 1; /probe/probe keyctl;"
                        + " /probe/probe init-module; /probe/probe tiocsti; /probe/probe uid-map;"
                        + " grep -E '^(NoNewPrivs|Seccomp):' /proc/self/status");
        assertThat(r.err()).isEmpty();
        assertThat(r.status()).isZero();
        assertThat(r.out()).isEqualTo("nob\n0\nEPERM\nnone\nEPERM\nEPERM\nEPERM\nEPERM\nEPERM\nNoNewPrivs:\t1\nSeccomp:\t2\n");
        // Its default setns socket, in the daemon's run directory, serves nobody (the daemon's own user).
        Path setns = dir.resolve("run/setns/app.sock");
        assertThat(setns).exists();
        Cli.Result bySocket = Cli.runAs(Cli.NOBODY, "exec", "--socket", setns.toString(), "--", "hostname");
        assertThat(bySocket.err()).isEmpty();
        assertThat(bySocket.out()).isEqualTo("nob\n");
    }
}
