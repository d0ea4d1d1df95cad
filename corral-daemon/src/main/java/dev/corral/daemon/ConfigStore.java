package dev.corral.daemon;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.corral.daemon.config.DaemonConfig;
import dev.corral.daemon.state.StateFile;
import dev.corral.daemon.supervise.Supervisor;
import dev.corral.launch.Launcher;
import dev.corral.spec.SpecException;

import java.io.IOException;

/**
 * The daemon's configuration: the last good document, on disk and running. Changes are
 * serialised: each is checked whole, saved, then applied; a rejected one changes nothing.
 */
public final class ConfigStore {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final StateFile state;
    private final Supervisor supervisor;
    private final Launcher launcher;
    private volatile DaemonConfig current = DaemonConfig.EMPTY;

    public ConfigStore(StateFile state, Supervisor supervisor, Launcher launcher) {
        this.state = state;
        this.supervisor = supervisor;
        this.launcher = launcher;
    }

    public DaemonConfig current() {
        return current;
    }

    /** Brings up the saved configuration, if any. */
    public synchronized void restore() throws IOException, SpecException {
        var saved = state.load();
        if (saved.isEmpty()) return;
        DaemonConfig c = DaemonConfig.parse(saved.get(), state.path().toString(), launcher);
        supervisor.apply(c);
        current = c;
    }

    /** Checks, saves and applies a new document; throws with every problem if it is not valid. */
    public synchronized void replace(JsonNode document) throws SpecException, IOException {
        DaemonConfig next = DaemonConfig.check(document, launcher);
        state.save(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(next.document()) + "\n");
        supervisor.apply(next);
        current = next;
    }
}
