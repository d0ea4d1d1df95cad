package dev.corral.cli;

import dev.corral.JailBuilder;
import dev.corral.JailedProcess;
import dev.corral.daemon.Daemon;
import dev.corral.daemon.client.ControlClient;
import dev.corral.rootfs.FileTrees;
import dev.corral.spec.CgroupSpec;
import dev.corral.spec.Seccomp;
import dev.corral.sys.Libc;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * What the launcher's AOT caches are made from: {@code ./corral} runs this once per build and kind
 * with {@code -XX:AOTCacheOutput}, and the cache then holds, loaded and linked, the classes the
 * command took as it ran. {@code run}: {@code corral run -- true}. {@code exec}: a jail, and
 * {@code corral exec --pid} into it (trained on {@code run} alone, a cold {@code corral exec}
 * loaded its classes from the jar: 440 against 261 ms). {@code exec-app}: {@code corral exec APP},
 * which asks the daemon too (its HTTP client cached with exec's cost {@code exec --pid} ~26 ms).
 * {@code ctl}: {@code corral ctl status} (and so {@code corral logs}: the same client). The daemon
 * is a {@link StandInDaemon} for those. {@code daemon}: {@code corral daemon}, a real one on a
 * socket and state of its own, given an application, asked about it, and stopped.
 * Not in help; best effort. {@link Main} calls it before picocli is touched, so that a cache holds
 * only what its command takes (as a picocli command, its annotations put ~100 classes more in the
 * run cache: 2,219 against 2,114 loaded by a run; no difference in time could be measured).
 */
final class AotTraining {
    private AotTraining() {}

    /** {@code corral aot-training KIND}: {@code args} is {@code [KIND]}. */
    static int train(String[] args) throws Exception {
        String kind = args.length == 1 ? args[0] : "";
        return switch (kind) {
            case "run" -> Main.run(new String[] {"run", "--", "true"});
            case "exec" -> exec();
            case "exec-app" -> execApp();
            case "ctl" -> ctl();
            case "daemon" -> daemon();
            default -> {
                System.err.println("corral: aot-training KIND: run, exec, exec-app, ctl or daemon, not " + String.join(" ", args));
                yield ExitCodes.USAGE;
            }
        };
    }

    /** What a daemon with one application answers to GET /status (as far as `ctl status` reads it). */
    private static final String STATUS = """
            {"applications": {"web": {"state": "running", "pid": 2, "restarts": 1, "last_exit": 0, "uptime_s": 1.5}}}
            """;

    private static int ctl() throws Exception {
        try (StandInDaemon daemon = new StandInDaemon(Map.of("/status", STATUS))) {
            return Main.run(new String[] {"ctl", "--socket", daemon.socket().toString(), "status"});
        }
    }

    /**
     * {@code corral daemon}, in a directory of its own (socket, state, logs): an application is
     * put, runs, is asked about, and removed; the daemon stops. 0 once the application ran.
     */
    private static int daemon() throws Exception {
        Path dir = Files.createTempDirectory("corral-aot-training");
        try {
            Daemon daemon = Daemon.start(new Daemon.Paths(dir.resolve("control.sock"), dir.resolve("state.json"),
                    dir.resolve("logs")));
            try (ControlClient client = new ControlClient(daemon.socket())) {
                String app = "{\"type\": \"external\", \"executable\": \"sleep\", \"arguments\": [\"60\"]}";
                if (client.put("/config/applications/web", app).status() != 200) return 1;
                boolean ran = false;
                for (int i = 0; i < 500 && !ran; i++) {
                    ran = client.get("/status/applications/web").body().contains("\"running\"");
                    if (!ran) Thread.sleep(10);
                }
                client.get("/status");
                client.get("/config");
                client.delete("/config/applications/web");
                return ran ? 0 : 1;
            } finally {
                daemon.close();
            }
        } finally {
            FileTrees.remove(dir);
        }
    }

    /** {@code corral exec --pid} into a jail of its own. */
    private static int exec() throws Exception {
        return inTrainingJail(jail -> Main.run(new String[] {"exec", "--pid", String.valueOf(jail.pid()), "--", "true"}));
    }

    /** {@code corral exec APP}: the application's pid and configuration asked of the (stand-in) daemon. */
    private static int execApp() throws Exception {
        String app = """
                {"type": "external", "executable": "sleep", "arguments": ["60"]%s}
                """.formatted(Libc.geteuid() != 0 ? ", \"isolation\": {\"seccomp\": \"unconfined\"}" : "");
        return inTrainingJail(jail -> {
            try (StandInDaemon daemon = new StandInDaemon(Map.of(
                    "/status/applications/web", "{\"state\": \"running\", \"pid\": " + jail.pid() + "}",
                    "/config/applications/web", app))) {
                return Main.run(new String[] {"exec", "--control", daemon.socket().toString(), "web", "--", "true"});
            }
        });
    }

    private interface JailUse {
        int with(JailedProcess jail) throws Exception;
    }

    /** Runs {@code use} with a jail (sleep) to exec into, ended and reaped after. */
    private static int inTrainingJail(JailUse use) throws Exception {
        JailBuilder b = new JailBuilder().command("sleep", "60").stdio(JailBuilder.StdioMode.PIPE)
                .cgroup(CgroupSpec.Mode.NONE);
        // Only root may read a jail's seccomp filter (to give the joining process the same): a
        // normal user's exec into a filtered jail fails closed, and would train nothing.
        if (Libc.geteuid() != 0) b.seccomp(Seccomp.UNCONFINED);
        JailedProcess jail = b.start();
        try {
            return use.with(jail);
        } finally {
            jail.destroyForcibly();
            jail.waitFor();
        }
    }
}
