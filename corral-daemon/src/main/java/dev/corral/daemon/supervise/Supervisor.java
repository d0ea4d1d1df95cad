package dev.corral.daemon.supervise;

import dev.corral.daemon.config.AppDefinition;
import dev.corral.daemon.config.DaemonConfig;
import dev.corral.launch.Launcher;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

/**
 * Keeps a set of applications running, each in its own jail: the Emperor's role. {@link #apply}
 * moves from the running set to a new checked configuration: new applications start, removed
 * ones stop, changed ones are reloaded into a new jail.
 */
public final class Supervisor implements AutoCloseable {
    /** How long a stopping application gets between SIGTERM and SIGKILL. */
    public static final Duration GRACE = Duration.ofSeconds(5);
    private static final long LOG_BYTES = 10L << 20;
    private static final int LOG_FILES = 3;

    private final Launcher launcher;
    private final Path logDir;
    private final ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor(
            r -> Thread.ofPlatform().daemon().name("corral-restarts").unstarted(r));
    private final Map<String, Supervised> apps = new LinkedHashMap<>();
    /** Removed applications still stopping (guarded by apps). */
    private final java.util.Set<Supervised> leaving = new java.util.HashSet<>();
    private final Listeners listeners = new Listeners();

    /** How often the cgroup accounting shown by the whole /status is read. */
    static final Duration USAGE_PERIOD = Duration.ofSeconds(1);
    private static final int USAGE_SLICES = 100;
    private final Thread usageSampler;

    /** Where setns sockets go by default: the directory of the control socket. */
    private final Path runDir;

    public Supervisor(Launcher launcher, Path logDir, Path runDir) {
        this.launcher = launcher;
        this.logDir = logDir;
        this.runDir = runDir;
        // One thread reads every jail's accounting in the background, so a /status of many
        // applications answers from memory; one application's status reads it live.
        this.usageSampler = Thread.ofPlatform().daemon().name("corral-usage").start(this::sampleUsage);
    }

    /**
     * Reads every application's accounting once per {@link #USAGE_PERIOD}, spread over it in
     * up to {@link #USAGE_SLICES} slices: read in one go, a thousand applications' accounting was a
     * ~50 ms burst of CPU each second, which a /status request or a respawn landing in it shared
     * the machine with.
     */
    private void sampleUsage() {
        try {
            while (true) {
                List<Supervised> all;
                synchronized (apps) {
                    all = List.copyOf(apps.values());
                }
                // No more slices than applications: an idle daemon wakes once a period.
                int slices = Math.max(1, Math.min(USAGE_SLICES, all.size()));
                long start = System.nanoTime(), period = USAGE_PERIOD.toNanos();
                for (int slice = 0; slice < slices; slice++) {
                    int from = all.size() * slice / slices, to = all.size() * (slice + 1) / slices;
                    for (Supervised s : all.subList(from, to)) s.sampleUsage();
                    long wait = start + period * (slice + 1) / slices - System.nanoTime();
                    if (wait > 0) Thread.sleep(Duration.ofNanos(wait));
                }
            }
        } catch (InterruptedException e) {
            // closing
        }
    }

    public Path logOf(String name) {
        return logDir.resolve(name + ".log");
    }

    /**
     * Binds the listening sockets {@code config} needs and does not have yet, so that a bind
     * failure (an address in use) rejects the configuration before anything changes.
     */
    public void prepare(DaemonConfig config) throws dev.corral.spec.SpecException {
        listeners.prepare(config);
    }

    /** Brings the running set to {@code config}; returns once removed apps are stopped and new ones started. */
    public void apply(DaemonConfig config) throws dev.corral.spec.SpecException {
        listeners.prepare(config);
        List<Runnable> work = new ArrayList<>();
        synchronized (apps) {
            for (var e : apps.entrySet()) {
                if (!config.applications().containsKey(e.getKey()) && !leaving.contains(e.getValue())) {
                    Supervised gone = e.getValue();
                    leaving.add(gone);
                    // Listed (as stopping) until it is gone, then forgotten.
                    work.add(() -> {
                        gone.stop(GRACE);
                        gone.closeLog();
                        synchronized (apps) {
                            apps.remove(gone.definition().name(), gone);
                            leaving.remove(gone);
                        }
                    });
                }
            }
            for (AppDefinition def : config.applications().values()) {
                Supervised s = apps.get(def.name());
                if (s == null || leaving.contains(s)) { // new, or back while its old self still stops
                    Supervised added = new Supervised(def, launcher, timers, openLog(def.name()), listeners::of, runDir);
                    apps.put(def.name(), added);
                    work.add(added::start);
                } else if (!s.definition().sameAs(def)) {
                    work.add(() -> s.reload(def, GRACE));
                }
            }
        }
        runAll(work);
        listeners.retain(config);
    }

    private LogFile openLog(String name) {
        try {
            return new LogFile(logOf(name), LOG_BYTES, LOG_FILES);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open the log of " + name, e);
        }
    }

    /** Runs the tasks in parallel (stopping takes a grace period each) and waits for all. */
    private static void runAll(List<Runnable> work) {
        if (work.isEmpty()) return;
        try (var exec = Executors.newVirtualThreadPerTaskExecutor()) {
            for (Runnable r : work) exec.submit(r);
        }
    }

    public List<AppStatus> status() {
        List<Supervised> all;
        synchronized (apps) {
            all = List.copyOf(apps.values());
        }
        return all.stream().map(s -> s.status(false)).toList();
    }

    public Optional<AppStatus> status(String name) {
        return find(name).map(s -> s.status(true));
    }

    private Optional<Supervised> find(String name) {
        synchronized (apps) {
            return Optional.ofNullable(apps.get(name));
        }
    }

    public boolean start(String name) {
        return find(name).map(s -> {
            s.start();
            return true;
        }).orElse(false);
    }

    public boolean stop(String name) {
        return find(name).map(s -> {
            s.stop(GRACE);
            return true;
        }).orElse(false);
    }

    public boolean restart(String name) {
        return find(name).map(s -> {
            s.restart(GRACE);
            return true;
        }).orElse(false);
    }

    /** Stops every application in parallel, each within the grace period (then killed). */
    @Override
    public void close() {
        List<Runnable> work = new ArrayList<>();
        synchronized (apps) {
            for (Supervised s : apps.values()) {
                work.add(() -> {
                    s.stop(GRACE);
                    s.closeLog();
                });
            }
            apps.clear();
        }
        runAll(work);
        timers.shutdownNow();
        usageSampler.interrupt();
        listeners.closeAll();
    }
}
