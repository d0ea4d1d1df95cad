package dev.corral.daemon.config;

import dev.corral.rootfs.LayerStore;
import dev.corral.spec.RootfsOverlay;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.corral.config.AppConfig;
import dev.corral.config.JsonObject;
import dev.corral.ids.IdPool;
import dev.corral.ids.IdRange;
import dev.corral.ids.RangeAllocator;
import dev.corral.ids.SubIdRange;
import dev.corral.launch.Launcher;
import dev.corral.spec.Problem;
import dev.corral.spec.SpecException;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The supervisor's whole configuration, {@code {"applications": {NAME: {...}}, "id_pool": ...}},
 * checked: every application parses and plans on this host. A document with any problem never
 * becomes one.
 *
 * @param ids where the applications with {@code "uidmap": "auto"} get their ranges: the pool of
 *            {@code "id_pool"} (else the daemon user's subordinate ids), recorded in the daemon's
 *            allocation file; each such application's range is kept under its name
 */
public record DaemonConfig(JsonNode document, Map<String, AppDefinition> applications, RangeAllocator ids) {
    public static final DaemonConfig EMPTY = new DaemonConfig(emptyDocument(), Map.of(), null);

    public DaemonConfig {
        applications = Collections.unmodifiableMap(new LinkedHashMap<>(applications));
    }

    private static JsonNode emptyDocument() {
        ObjectNode root = JsonNodeFactory.instance.objectNode();
        root.putObject("applications");
        return root;
    }

    /** Parses and checks {@code json}; {@code source} names it in syntax errors. */
    public static DaemonConfig parse(String json, String source, Launcher launcher) throws SpecException {
        return check(JsonObject.read(json, source), launcher);
    }

    /** {@link #check(JsonNode, Launcher, Path)} with automatic ranges in the default allocation file. */
    public static DaemonConfig check(JsonNode document, Launcher launcher) throws SpecException {
        return check(document, launcher, RangeAllocator.defaultStateFile());
    }

    /**
     * Checks a parsed document: its shape, every application's keys, and every jail against this
     * host (a limit the host cannot give, a rootfs that is missing...). All problems at once.
     */
    public static DaemonConfig check(JsonNode document, Launcher launcher, Path idsFile) throws SpecException {
        List<Problem> problems = new ArrayList<>();
        JsonNode appsOnly = document;
        IdPool pool = null;
        if (document.isObject() && document.has("id_pool")) {
            ObjectNode rest = (ObjectNode) document.deepCopy();
            pool = idPool(rest.remove("id_pool"), problems);
            appsOnly = rest;
        }
        RangeAllocator ids = new RangeAllocator(idsFile, pool);
        // An overlay application's layer is kept by name beside the state file, as its id range.
        LayerStore layers = new LayerStore(idsFile.toAbsolutePath().getParent());
        Map<String, AppConfig.Application> apps = AppConfig.applications(appsOnly, problems);
        Map<String, AppDefinition> out = new LinkedHashMap<>();
        if (problems.isEmpty()) {
            for (AppConfig.Application a : apps.values()) {
                try {
                    var spec = a.jail().build();
                    if (spec.autoIds() != null) spec = a.jail().autoIdRange(ids, a.name()).build();
                    if (keepsLayerInStore(spec)) spec = a.jail().rootfsOverlay(new RootfsOverlay(null, null, layers, a.name())).build();
                    launcher.plan(spec);
                    out.put(a.name(), new AppDefinition(a.name(), document.get("applications").get(a.name()), spec, a.jail(),
                            a.restart(), a.stopFirst(), a.listen(), a.setnsSocket()));
                } catch (SpecException e) {
                    problems.addAll(e.problems());
                }
            }
        }
        sharedUppers(out.values(), problems);
        if (!problems.isEmpty()) throw new SpecException(problems);
        return new DaemonConfig(document.deepCopy(), out, ids);
    }

    /** Two applications naming one upper (or work) directory would write one layer at once: refused. */
    private static void sharedUppers(java.util.Collection<AppDefinition> apps, List<Problem> problems) {
        Map<Path, String> seen = new java.util.HashMap<>();
        for (AppDefinition d : apps) {
            RootfsOverlay o = d.spec().overlay();
            if (o == null || o.upper() == null) continue;
            String[][] dirs = {{o.upper(), "rootfsUpper"}, {o.work() != null ? o.work() : o.upper().replaceAll("/+$", "") + ".work", "rootfsWork"}};
            for (String[] dir : dirs) {
                String other = seen.putIfAbsent(Path.of(dir[0]).toAbsolutePath().normalize(), d.name());
                if (other != null) {
                    problems.add(new Problem(d.spec().labels().of(dir[1]), dir[0] + " is a layer directory of \"" + other
                            + "\" too: two jails cannot share a layer"));
                }
            }
        }
    }

    /** An overlay whose layer corral places (no upper directory given): the daemon keeps it per application. */
    public static boolean keepsLayerInStore(dev.corral.spec.JailSpec spec) {
        return spec.rootfs() != null && spec.overlay() != null && spec.overlay().upper() == null && spec.overlay().work() == null;
    }

    /**
     * {@code "id_pool": {"uid": [START, COUNT], "gid": [START, COUNT]}}: the host ids automatic
     * ranges come from; each side a pair or an array of pairs; "gid" defaults to "uid".
     */
    private static IdPool idPool(JsonNode value, List<Problem> problems) {
        int before = problems.size();
        var o = JsonObject.of(value, "/id_pool", problems);
        if (o.isEmpty()) return null;
        List<SubIdRange> uids = ranges(o.get().raw("uid").orElse(null), o.get().pathOf("uid"), problems);
        List<SubIdRange> gids = o.get().raw("gid").isPresent()
                ? ranges(o.get().get("gid"), o.get().pathOf("gid"), problems) : uids;
        if (o.get().raw("uid").isEmpty()) o.get().problemHere("missing \"uid\": [START, COUNT]");
        o.get().finish();
        if (problems.size() > before) return null;
        try {
            IdPool pool = new IdPool(uids, gids);
            if (pool.slots() == 0) problems.add(new Problem("/id_pool", "holds no range of " + IdRange.SIZE + " ids"));
            return pool;
        } catch (IllegalArgumentException e) {
            problems.add(new Problem("/id_pool", e.getMessage()));
            return null;
        }
    }

    private static List<SubIdRange> ranges(JsonNode v, String path, List<Problem> problems) {
        List<SubIdRange> out = new ArrayList<>();
        if (v == null) return out;
        if (v.isArray() && v.size() > 0 && v.get(0).isNumber()) {
            pair(v, path, problems).ifPresent(out::add);
        } else if (v.isArray() && v.size() > 0) {
            for (int i = 0; i < v.size(); i++) pair(v.get(i), path + "/" + i, problems).ifPresent(out::add);
        } else {
            problems.add(new Problem(path, "expected [START, COUNT] or an array of them, found " + JsonObject.describe(v)));
        }
        return out;
    }

    private static java.util.Optional<SubIdRange> pair(JsonNode v, String path, List<Problem> problems) {
        if (v.isArray() && v.size() == 2 && v.get(0).canConvertToExactIntegral() && v.get(1).canConvertToExactIntegral()
                && v.get(0).canConvertToLong() && v.get(1).canConvertToLong() && v.get(0).longValue() >= 0 && v.get(1).longValue() > 0) {
            return java.util.Optional.of(new SubIdRange(v.get(0).longValue(), v.get(1).longValue()));
        }
        problems.add(new Problem(path, "expected [START, COUNT]: two whole numbers, a count of at least 1"));
        return java.util.Optional.empty();
    }
}
