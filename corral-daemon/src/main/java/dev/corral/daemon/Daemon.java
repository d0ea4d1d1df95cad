package dev.corral.daemon;

import dev.corral.daemon.api.ControlServer;
import dev.corral.daemon.state.StateFile;
import dev.corral.daemon.supervise.Supervisor;
import dev.corral.launch.Launcher;
import dev.corral.spec.SpecException;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

/**
 * {@code corral daemon}: brings the saved configuration up, serves the control API, and on
 * {@link #close()} (SIGTERM) stops every application in parallel and removes its socket. If the
 * daemon dies outright, every jail dies with it: each jail's monitor kills it when the daemon goes.
 */
public final class Daemon implements AutoCloseable {
    private final Supervisor supervisor;
    private final ControlServer server;
    private final AppsDirectory appsDir;
    private final CountDownLatch closed = new CountDownLatch(1);

    private Daemon(Supervisor supervisor, ControlServer server, AppsDirectory appsDir) {
        this.supervisor = supervisor;
        this.server = server;
        this.appsDir = appsDir;
    }

    /**
     * Where the daemon keeps things. {@link #defaults()}: system paths for root, the user's runtime
     * and state directories otherwise.
     *
     * @param appsDir a directory of NAME.json applications to watch, or null for none
     */
    public record Paths(Path socket, Path state, Path logs, Path appsDir) {
        public Paths(Path socket, Path state, Path logs) {
            this(socket, state, logs, null);
        }

        public static Paths defaults() {
            boolean root = new com.sun.security.auth.module.UnixSystem().getUid() == 0;
            if (root) {
                return new Paths(Path.of("/run/corral/control.sock"), Path.of("/var/lib/corral/state.json"),
                        Path.of("/var/log/corral"));
            }
            String home = System.getProperty("user.home");
            String runtime = System.getenv().getOrDefault("XDG_RUNTIME_DIR", "/tmp/corral-" + System.getProperty("user.name"));
            String stateHome = System.getenv().getOrDefault("XDG_STATE_HOME", home + "/.local/state");
            return new Paths(Path.of(runtime, "corral", "control.sock"), Path.of(stateHome, "corral", "state.json"),
                    Path.of(stateHome, "corral", "logs"));
        }
    }

    public static Daemon start(Paths paths) throws Exception {
        Launcher launcher = Launcher.shared();
        Supervisor supervisor = new Supervisor(launcher, paths.logs(), paths.socket().toAbsolutePath().getParent());
        ConfigStore config = new ConfigStore(new StateFile(paths.state()), supervisor, launcher);
        try {
            config.restore();
        } catch (SpecException e) {
            supervisor.close();
            throw new SpecException(e.problems());
        } catch (IOException e) {
            supervisor.close();
            throw e;
        }
        AppsDirectory appsDir = null;
        ControlServer server;
        try {
            if (paths.appsDir() != null) {
                appsDir = new AppsDirectory(paths.appsDir(), config, line -> System.err.println("corral daemon: " + line));
            }
            server = ControlServer.start(paths.socket(), config, supervisor);
        } catch (Exception e) {
            if (appsDir != null) appsDir.close();
            supervisor.close();
            throw e;
        }
        return new Daemon(supervisor, server, appsDir);
    }

    public Path socket() {
        return server.socket();
    }

    public void awaitClose() throws InterruptedException {
        closed.await();
    }

    @Override
    public void close() throws Exception {
        try {
            if (appsDir != null) appsDir.close();
            server.close();
        } finally {
            supervisor.close();
            closed.countDown();
        }
    }
}
