package dev.corral.daemon.config;

import com.fasterxml.jackson.databind.JsonNode;
import dev.corral.JailBuilder;
import dev.corral.config.AppConfig;
import dev.corral.config.AppConfig.RestartPolicy;
import dev.corral.spec.JailSpec;
import dev.corral.spec.ListenAddress;

import java.util.List;

/**
 * One application as the supervisor runs it: the JSON it was given (to compare configs and to
 * answer GET), the jail it describes (checked without its sockets, and the builder to add them
 * at each start), its restart policy, whether a reload stops the old jail first, and the
 * addresses the daemon listens on for it, and its setns socket (or null for none).
 */
public record AppDefinition(String name, JsonNode json, JailSpec spec, JailBuilder jail, RestartPolicy restart,
                            boolean stopFirst, List<ListenAddress> listen, AppConfig.SetnsSocketConfig setnsSocket) {
    public AppDefinition {
        listen = List.copyOf(listen);
    }

    /** Whether a new definition differs enough to need a new jail. */
    public boolean sameAs(AppDefinition other) {
        return other != null && json.equals(other.json());
    }
}
