package dev.corral.daemon.supervise;

import dev.corral.JailSetupException;
import dev.corral.JailedProcess;
import dev.corral.config.AppConfig.RestartPolicy;
import dev.corral.daemon.config.AppDefinition;
import dev.corral.launch.Launcher;
import dev.corral.spec.SpecException;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * One application under supervision: starts its jail, restarts it per its policy with backoff,
 * stops it (SIGTERM, a grace period, then the whole jail killed), and replaces it on reload. Every
 * state change happens under this object's lock; exits arrive on a virtual thread once the jail is gone.
 */
final class Supervised {
    private final Launcher launcher;
    private final ScheduledExecutorService timers;
    private final LogFile log;
    private final Backoff backoff = new Backoff();
    private final java.util.function.Function<AppDefinition, java.util.List<dev.corral.ListeningSocket>> sockets;

    private AppDefinition def;
    /** The application's name, which a reload never changes (read by status() without the lock). */
    private final String name;
    private JailedProcess jail;
    private AppState state = AppState.STOPPED;
    private Instant startedAt;
    private int restarts;
    private Integer lastExit;
    private Instant lastExitAt;
    private String lastError;
    private ScheduledFuture<?> pending;
    /** The jail's accounting as last sampled by the supervisor. */
    private volatile dev.corral.cgroup.CgroupStats usage;
    /**
     * What /status shows, published under the lock at every change and read without it: a status
     * request must not wait for a start that holds the lock (a spawn, ~10 ms), nor /status for
     * the one application of a thousand that is starting.
     */
    private volatile Shown shown = new Shown(AppState.STOPPED, null, 0, null, null, null, null);

    private record Shown(AppState state, JailedProcess jail, int restarts, Integer lastExit, Instant lastExitAt,
                         Instant startedAt, String lastError) {}

    /** Bumped for every jail started, so a late exit of a replaced jail is recognised and ignored. */
    private long generation;

    /** The running jail's setns socket, if its definition asks for one. */
    private dev.corral.daemon.setns.SetnsServer setns;
    private final java.nio.file.Path runDir;

    Supervised(AppDefinition def, Launcher launcher, ScheduledExecutorService timers, LogFile log,
               java.util.function.Function<AppDefinition, java.util.List<dev.corral.ListeningSocket>> sockets,
               java.nio.file.Path runDir) {
        this.def = def;
        this.name = def.name();
        this.runDir = runDir;
        this.sockets = sockets;
        this.launcher = launcher;
        this.timers = timers;
        this.log = log;
    }

    synchronized AppDefinition definition() {
        return def;
    }

    /** Starts the application unless it is running (or about to). */
    synchronized void start() {
        if (state == AppState.RUNNING || state == AppState.STARTING) return;
        cancelPending();
        backoff.reset();
        launch();
    }

    /** Starts a jail now; on failure, handles it as an exit. Caller holds the lock. */
    private void launch() {
        state = AppState.STARTING;
        publish();
        closeSetns();
        long gen = ++generation;
        try {
            var spec = def.listen().isEmpty() ? def.spec() : def.jail().passListeningSockets(sockets.apply(def)).build();
            JailedProcess p = launcher.start(spec, log.sink());
            jail = p;
            startedAt = Instant.now();
            state = AppState.RUNNING;
            lastError = null;
            openSetns(p);
            publish();
            // As soon as the program's status is known: a jail with a cgroup is still being torn
            // down then (its accounting read, the cgroup removed), which the next jail need not wait for.
            p.onProgramExit().thenAccept(status -> exited(gen, p, status));
        } catch (SpecException | JailSetupException | IOException | RuntimeException e) {
            jail = null;
            lastError = e.getMessage();
            note("could not start: " + e.getMessage());
            int status = e instanceof JailSetupException j ? j.exitStatus() : 125;
            afterExit(status, Duration.ZERO);
        }
    }

    /** Serves the new jail's namespaces on its setns socket (the old jail's socket goes first). Lock held. */
    private void openSetns(JailedProcess p) {
        closeSetns();
        if (def.setnsSocket() == null) return;
        try {
            setns = dev.corral.daemon.setns.SetnsServer.start(def.name(), def.json(), def.setnsSocket(), p, runDir);
        } catch (IOException | JailSetupException | RuntimeException e) {
            lastError = "setns socket: " + e.getMessage();
            note("cannot serve the setns socket: " + e.getMessage());
        }
    }

    private void closeSetns() {
        if (setns != null) {
            setns.close();
            setns = null;
        }
    }

    private void exited(long gen, JailedProcess p, int status) {
        synchronized (this) {
            if (gen != generation || jail != p) return; // a replaced or stopped jail
            closeSetns();
            jail = null;
            if (state != AppState.STOPPING && state != AppState.STOPPED) {
                afterExit(status, Duration.between(startedAt, Instant.now()));
            }
            publish();
        }
    }

    /** Decides what follows an exit with {@code status} after a run of {@code ran}. Lock held. */
    private void afterExit(int status, Duration ran) {
        lastExit = status;
        lastExitAt = Instant.now();
        RestartPolicy policy = def.restart();
        if (policy == RestartPolicy.NEVER || policy == RestartPolicy.ON_FAILURE && status == 0) {
            state = AppState.STOPPED;
            publish();
            return;
        }
        Duration delay = backoff.after(ran);
        state = backoff.crashLooping() ? AppState.CRASH_LOOP : AppState.BACKOFF;
        publish();
        long gen = generation;
        pending = timers.schedule(() -> {
            synchronized (Supervised.this) {
                if (gen != generation || (state != AppState.BACKOFF && state != AppState.CRASH_LOOP)) return;
                restarts++;
                launch();
            }
        }, delay.toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * Stops the application: SIGTERM, up to {@code grace}, then SIGKILL to the whole jail (its
     * cgroup takes whatever escaped the pid namespace). Returns once the jail is gone.
     */
    void stop(Duration grace) {
        JailedProcess p;
        synchronized (this) {
            cancelPending();
            generation++;
            closeSetns();
            p = jail;
            jail = null;
            state = p == null ? AppState.STOPPED : AppState.STOPPING;
            publish();
        }
        if (p != null) terminate(p, grace);
        synchronized (this) {
            if (state == AppState.STOPPING) state = AppState.STOPPED;
            publish();
        }
    }

    private static void terminate(JailedProcess p, Duration grace) {
        p.destroy();
        try {
            if (!p.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                p.waitFor();
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    /** Stops and starts again, resetting the backoff. */
    void restart(Duration grace) {
        stop(grace);
        start();
    }

    /**
     * Runs {@code next} in a new jail, then stops the old one once the new one is up: the uWSGI way
     * of respawning a stack in a new jail. With "reload": "stop-first", the other way round.
     */
    void reload(AppDefinition next, Duration grace) {
        if (next.stopFirst()) {
            stop(grace);
            synchronized (this) {
                def = next;
            }
            start();
            return;
        }
        JailedProcess old;
        synchronized (this) {
            cancelPending();
            old = jail;
            jail = null;
            def = next;
            backoff.reset();
            launch(); // a new generation: the old jail's exit is ignored from here on
        }
        if (old != null) terminate(old, grace);
    }

    private void cancelPending() {
        if (pending != null) {
            pending.cancel(false);
            pending = null;
        }
    }

    private void note(String line) {
        byte[] b = ("corral: " + def.name() + ": " + line + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8);
        try {
            log.write(b, 0, b.length);
        } catch (IOException ignored) {
            // the status shows the error too
        }
    }

    /** Once stopped for good: the log's descriptor is not kept for an application that is gone. */
    void closeLog() {
        try {
            log.close();
        } catch (IOException ignored) {
            // nothing to do about a log that cannot be closed
        }
    }

    /** Reads the running jail's cgroup accounting into the cache {@link #status(boolean)} serves. */
    void sampleUsage() {
        JailedProcess p;
        synchronized (this) {
            p = jail;
        }
        usage = p == null ? null : p.stats().orElse(null);
    }

    /**
     * @param live read the cgroup accounting now (five cgroup files), rather than the last sample:
     *             the whole /status of a thousand applications cannot afford five thousand reads
     */
    AppStatus status(boolean live) {
        Shown now = shown;
        JailedProcess p = now.jail();
        var u = p == null ? null : live ? p.stats().orElse(null) : usage;
        return new AppStatus(name, now.state(), p == null ? null : p.jailPid(), now.restarts(), now.lastExit(),
                now.lastExitAt(), now.state() == AppState.RUNNING && now.startedAt() != null
                        ? Duration.between(now.startedAt(), Instant.now()) : null,
                now.lastError(), u, log.path().toString());
    }

    /** Makes the fields /status shows visible to {@link #status(boolean)}. Lock held. */
    private void publish() {
        shown = new Shown(state, jail, restarts, lastExit, lastExitAt, startedAt, lastError);
    }
}
