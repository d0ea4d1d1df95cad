package dev.corral.daemon.supervise;

import dev.corral.daemon.config.AppDefinition;
import dev.corral.daemon.config.DaemonConfig;
import dev.corral.launch.Launcher;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** One supervised application, driven directly. */
class SupervisedTest {

    /**
     * A start holds the application's lock for the whole spawn; /status must not wait for it (nor
     * for any other holder). Here the test holds the lock itself, and status() still answers.
     */
    @Test
    void statusIsReadWithoutTheApplicationsLock(@TempDir Path dir) throws Exception {
        AppDefinition def = DaemonConfig.parse("""
                {"applications": {"sleeper": {"executable": "/bin/sleep", "arguments": ["100"], "restart": "never"}}}
                """, "test", Launcher.shared()).applications().get("sleeper");
        ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor();
        Supervised app = new Supervised(def, Launcher.shared(), timers, new LogFile(dir.resolve("sleeper.log"), 1 << 20, 1),
                d -> List.of(), dir);
        try {
            assertThat(app.status(false).state()).isEqualTo(AppState.STOPPED);
            app.start();
            AppStatus running;
            synchronized (app) {
                running = CompletableFuture.supplyAsync(() -> app.status(true)).get(5, TimeUnit.SECONDS);
            }
            assertThat(running.state()).isEqualTo(AppState.RUNNING);
            assertThat(running.pid()).isPositive();
            assertThat(running.restarts()).isZero();
            assertThat(running.name()).isEqualTo("sleeper");
            app.stop(Duration.ofSeconds(2));
            AppStatus stopped = app.status(false);
            assertThat(stopped.state()).isEqualTo(AppState.STOPPED);
            assertThat(stopped.pid()).isNull();
            assertThat(stopped.uptime()).isNull();
        } finally {
            app.stop(Duration.ofSeconds(1));
            app.closeLog();
            timers.shutdownNow();
        }
    }
}
