package dev.corral.daemon;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.corral.daemon.client.ControlClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;

/** A real daemon in this JVM for each test, with its socket, state and logs in a temp dir. */
abstract class RunningDaemon {
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
}
