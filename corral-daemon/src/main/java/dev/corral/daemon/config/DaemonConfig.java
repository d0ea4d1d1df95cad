package dev.corral.daemon.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.corral.config.AppConfig;
import dev.corral.config.JsonObject;
import dev.corral.launch.Launcher;
import dev.corral.spec.Problem;
import dev.corral.spec.SpecException;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The supervisor's whole configuration, {@code {"applications": {NAME: {...}}}}, checked: every
 * application parses and plans on this host. A document with any problem never becomes one.
 */
public record DaemonConfig(JsonNode document, Map<String, AppDefinition> applications) {
    public static final DaemonConfig EMPTY = new DaemonConfig(emptyDocument(), Map.of());

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

    /**
     * Checks a parsed document: its shape, every application's keys, and every jail against this
     * host (a limit the host cannot give, a rootfs that is missing...). All problems at once.
     */
    public static DaemonConfig check(JsonNode document, Launcher launcher) throws SpecException {
        List<Problem> problems = new ArrayList<>();
        Map<String, AppConfig.Application> apps = AppConfig.applications(document, problems);
        Map<String, AppDefinition> out = new LinkedHashMap<>();
        if (problems.isEmpty()) {
            for (AppConfig.Application a : apps.values()) {
                try {
                    var spec = a.jail().build();
                    launcher.plan(spec);
                    out.put(a.name(), new AppDefinition(a.name(), document.get("applications").get(a.name()), spec, a.jail(),
                            a.restart(), a.stopFirst(), a.listen()));
                } catch (SpecException e) {
                    problems.addAll(e.problems());
                }
            }
        }
        if (!problems.isEmpty()) throw new SpecException(problems);
        return new DaemonConfig(document.deepCopy(), out);
    }
}
