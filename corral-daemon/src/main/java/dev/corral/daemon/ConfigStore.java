package dev.corral.daemon;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.corral.daemon.config.DaemonConfig;
import dev.corral.daemon.state.StateFile;
import dev.corral.daemon.supervise.Supervisor;
import dev.corral.launch.Launcher;
import dev.corral.spec.Problem;
import dev.corral.spec.SpecException;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The daemon's configuration, in two layers: the document set through the API (saved in the
 * state file) and one application per file of the apps directory (the Emperor's vassals). What
 * runs is both together. Changes are serialised: each is checked whole, saved, then applied; a
 * rejected one changes nothing.
 */
public final class ConfigStore {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final StateFile state;
    private final Supervisor supervisor;
    private final Launcher launcher;
    /** The API's document: what GET /config shows and the state file holds. */
    private volatile JsonNode api = DaemonConfig.EMPTY.document();
    /** The last good application of each apps-directory file, by name. */
    private final Map<String, JsonNode> directory = new LinkedHashMap<>();
    private volatile DaemonConfig running = DaemonConfig.EMPTY;

    public ConfigStore(StateFile state, Supervisor supervisor, Launcher launcher) {
        this.state = state;
        this.supervisor = supervisor;
        this.launcher = launcher;
    }

    /** The API's document, checked. */
    public JsonNode document() {
        return api;
    }

    /** Everything running: the API's applications and the apps directory's. */
    public DaemonConfig running() {
        return running;
    }

    /** Brings up the saved configuration, if any. */
    public synchronized void restore() throws IOException, SpecException {
        var saved = state.load();
        if (saved.isEmpty()) return;
        JsonNode doc = dev.corral.config.JsonObject.read(saved.get(), state.path().toString());
        DaemonConfig c = merged(doc, directory);
        supervisor.apply(c);
        api = doc;
        running = c;
    }

    /** Checks, saves and applies a new API document; throws with every problem if it is not valid. */
    public synchronized void replace(JsonNode document) throws SpecException, IOException {
        DaemonConfig next = merged(document, directory);
        supervisor.prepare(next);
        state.save(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(document) + "\n");
        supervisor.apply(next);
        api = document.deepCopy();
        running = next;
    }

    /** The API document with one application replaced (or removed when {@code app} is null). */
    public JsonNode apiWith(String name, JsonNode app) {
        ObjectNode root = (ObjectNode) api.deepCopy();
        ObjectNode apps = root.has("applications") && root.get("applications").isObject()
                ? (ObjectNode) root.get("applications") : root.putObject("applications");
        if (app == null) apps.remove(name);
        else apps.set(name, app);
        return root;
    }

    /**
     * The apps directory now holds these files (name → parsed application, or the problem with
     * it). Each file is taken on its own: a bad one is reported and its last good version (if
     * any) keeps running; the good ones are applied.
     */
    public synchronized void directoryChanged(Map<String, JsonNode> files, Map<String, List<Problem>> unreadable,
                                              Consumer<String> report) {
        Map<String, JsonNode> next = new LinkedHashMap<>();
        unreadable.forEach((name, problems) -> {
            problems.forEach(p -> report.accept(p.toString()));
            if (directory.containsKey(name)) next.put(name, directory.get(name));
        });
        for (var e : files.entrySet()) {
            String name = e.getKey();
            try {
                merged(api, Map.of(name, e.getValue()));
                next.put(name, e.getValue());
            } catch (SpecException ex) {
                ex.problems().forEach(p -> report.accept(name + ".json: " + p));
                if (directory.containsKey(name)) next.put(name, directory.get(name));
            }
        }
        try {
            DaemonConfig c = merged(api, next);
            supervisor.apply(c);
            directory.clear();
            directory.putAll(next);
            running = c;
        } catch (SpecException ex) {
            ex.problems().forEach(p -> report.accept(p.toString()));
        }
    }

    /** The API document and the directory's applications as one checked configuration. */
    private DaemonConfig merged(JsonNode document, Map<String, JsonNode> dir) throws SpecException {
        List<Problem> clashes = new ArrayList<>();
        ObjectNode all = (ObjectNode) document.deepCopy();
        if (all.has("applications") && all.get("applications").isObject()) {
            ObjectNode apps = (ObjectNode) all.get("applications");
            for (var e : dir.entrySet()) {
                if (apps.has(e.getKey())) {
                    clashes.add(new Problem("/applications/" + e.getKey(), "already defined by " + e.getKey()
                            + ".json in the apps directory"));
                }
                apps.set(e.getKey(), e.getValue());
            }
        }
        if (!clashes.isEmpty()) throw new SpecException(clashes);
        return DaemonConfig.check(all, launcher);
    }
}
