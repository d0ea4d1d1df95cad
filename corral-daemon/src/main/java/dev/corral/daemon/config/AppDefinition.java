package dev.corral.daemon.config;

import com.fasterxml.jackson.databind.JsonNode;
import dev.corral.config.AppConfig.RestartPolicy;
import dev.corral.spec.JailSpec;

/**
 * One application as the supervisor runs it: the JSON it was given (to compare configs and to
 * answer GET), the jail it describes, and its restart policy.
 */
public record AppDefinition(String name, JsonNode json, JailSpec spec, RestartPolicy restart, boolean stopFirst) {
    /** Whether a new definition differs enough to need a new jail. */
    public boolean sameAs(AppDefinition other) {
        return other != null && json.equals(other.json());
    }
}
