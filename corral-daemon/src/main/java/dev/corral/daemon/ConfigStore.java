package dev.corral.daemon;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.corral.daemon.config.AppDefinition;
import dev.corral.daemon.config.DaemonConfig;
import dev.corral.daemon.state.StateFile;
import dev.corral.daemon.supervise.Supervisor;
import dev.corral.ids.IdAllocationException;
import dev.corral.ids.RangeAllocator;
import dev.corral.JailSetupException;
import dev.corral.ids.SubIdRange;
import dev.corral.launch.Launcher;
import dev.corral.spec.IdMapping;
import dev.corral.spec.Problem;
import dev.corral.spec.SpecException;

import java.io.IOException;
import java.nio.file.Path;
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

    /** Where automatic id ranges are recorded: ids.json beside the state file. */
    private final Path idsFile;

    public ConfigStore(StateFile state, Supervisor supervisor, Launcher launcher) {
        this.state = state;
        this.supervisor = supervisor;
        this.launcher = launcher;
        this.idsFile = state.path().resolveSibling("ids.json");
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
        reserveIds(c);
        supervisor.apply(c);
        api = doc;
        running = c;
    }

    /** Checks, saves and applies a new API document; throws with every problem if it is not valid. */
    public synchronized void replace(JsonNode document) throws SpecException, IOException {
        DaemonConfig next = merged(document, directory);
        List<String> reserved = reserveIds(next);
        try {
            supervisor.prepare(next);
            state.save(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(document) + "\n");
        } catch (SpecException | IOException | RuntimeException e) {
            giveBack(next.ids(), reserved);
            throw e;
        }
        supervisor.apply(next);
        api = document.deepCopy();
        releaseIds(running, next, line -> System.err.println("corral daemon: " + line));
        removeLayers(running, next, line -> System.err.println("corral daemon: " + line));
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
            List<String> reserved = reserveIds(c);
            try {
                supervisor.apply(c);
            } catch (SpecException | RuntimeException e) {
                giveBack(c.ids(), reserved);
                throw e;
            }
            directory.clear();
            directory.putAll(next);
            releaseIds(running, c, report);
            removeLayers(running, c, report);
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
        return DaemonConfig.check(all, launcher, idsFile);
    }

    /**
     * Gives every application with {@code "uidmap": "auto"} its range (the one recorded under
     * its name, or a free one clear of every explicit map), and refuses an explicit map that
     * overlaps a range allocated to anything else. On any problem the ranges allocated here are
     * given back, and the problems name the JSON paths. Returns the names given a new range.
     */
    private static List<String> reserveIds(DaemonConfig next) throws SpecException {
        RangeAllocator ids = next.ids();
        List<Problem> problems = new ArrayList<>();
        List<String> made = new ArrayList<>();
        try {
            for (AppDefinition d : next.applications().values()) {
                if (d.spec().autoIds() == null) continue;
                List<SubIdRange> uids = new ArrayList<>(), gids = new ArrayList<>();
                for (AppDefinition o : next.applications().values()) {
                    o.spec().uidMap().forEach(m -> uids.add(new SubIdRange(m.outside(), m.count())));
                    o.spec().gidMap().forEach(m -> gids.add(new SubIdRange(m.outside(), m.count())));
                }
                boolean had = ids.find(d.name()).isPresent();
                try {
                    ids.allocate(d.name(), uids, gids);
                    if (!had) made.add(d.name());
                } catch (IdAllocationException e) {
                    problems.add(new Problem(d.spec().labels().of("autoIds"), e.getMessage()));
                }
            }
            List<RangeAllocator.Allocation> held = ids.allocations();
            for (AppDefinition d : next.applications().values()) {
                overlaps(d, d.spec().uidMap(), held, false, problems);
                overlaps(d, d.spec().gidMap(), held, true, problems);
            }
        } catch (IdAllocationException e) {
            problems.add(new Problem("/id_pool", e.getMessage()));
        }
        if (problems.isEmpty()) return made;
        giveBack(ids, made);
        throw new SpecException(problems);
    }

    /** Gives back ranges reserved for a configuration that was not taken after all. */
    private static void giveBack(RangeAllocator ids, List<String> names) {
        for (String name : names) {
            try {
                ids.release(name);
            } catch (IdAllocationException ignored) {
                // kept under its name: the next accepted configuration uses it or gives it back
            }
        }
    }

    private static void overlaps(AppDefinition d, List<IdMapping> maps, List<RangeAllocator.Allocation> held, boolean gid,
                                 List<Problem> problems) {
        String kind = gid ? "gids" : "uids";
        for (IdMapping m : maps) {
            for (RangeAllocator.Allocation a : held) {
                if (a.named() && a.name().equals(d.name())) continue;
                boolean clash = gid ? a.range().overlapsGids(m.outside(), m.count()) : a.range().overlapsUids(m.outside(), m.count());
                if (clash) {
                    problems.add(new Problem(m.origin(), "host " + kind + " " + m.outside() + ".." + (m.outside() + m.count() - 1)
                            + " overlap the id range allocated to " + a.holder() + " (" + a.range().describe() + ")"));
                }
            }
        }
    }

    /**
     * Removes the overlay layers of applications that had one in the daemon's store and no longer
     * do (deleted, or no longer on an overlay there). Their jails are stopped by then: the
     * supervisor returns from apply only once removed applications are gone.
     */
    private void removeLayers(DaemonConfig before, DaemonConfig after, Consumer<String> report) {
        for (AppDefinition d : before.applications().values()) {
            if (!DaemonConfig.keepsLayerInStore(d.spec())) continue;
            AppDefinition now = after.applications().get(d.name());
            if (now != null && DaemonConfig.keepsLayerInStore(now.spec())) continue;
            try {
                launcher.removeLayer(d.spec().overlay().store().named(d.name()));
            } catch (JailSetupException | IOException | RuntimeException e) {
                report.accept("cannot remove the overlay layer of " + d.name() + ": " + e.getMessage());
            }
        }
    }

    /** Gives back the ranges of applications that had one and no longer do (removed, or given explicit maps). */
    private static void releaseIds(DaemonConfig before, DaemonConfig after, Consumer<String> report) {
        for (AppDefinition d : before.applications().values()) {
            if (d.spec().autoIds() == null) continue;
            AppDefinition now = after.applications().get(d.name());
            if (now != null && now.spec().autoIds() != null) continue;
            try {
                after.ids().release(d.name());
            } catch (IdAllocationException e) {
                report.accept("cannot give back the id range of " + d.name() + ": " + e.getMessage());
            }
        }
    }
}
