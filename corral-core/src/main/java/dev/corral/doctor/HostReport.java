package dev.corral.doctor;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.List;

/**
 * All of {@link Doctor}'s checks for one user on one host, and their JSON form (for scripts,
 * and later the daemon's API): {"user", "uid", "kernel", "arch", "checks": [{"name", "title",
 * "status", "finding", "fix", "facts"}]}.
 */
public record HostReport(String user, long uid, String kernel, String arch, List<HostCheck> checks) {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public HostReport {
        checks = List.copyOf(checks);
    }

    public long count(HostCheck.Status status) {
        return checks.stream().filter(c -> c.status() == status).count();
    }

    public ObjectNode toJsonTree() {
        ObjectNode root = JSON.createObjectNode();
        root.put("user", user);
        root.put("uid", uid);
        root.put("kernel", kernel);
        root.put("arch", arch);
        ArrayNode list = root.putArray("checks");
        for (HostCheck c : checks) {
            ObjectNode o = list.addObject();
            o.put("name", c.name());
            o.put("title", c.title());
            o.put("status", c.status().label());
            o.put("finding", c.finding());
            o.put("fix", c.fix());
            o.set("facts", JSON.valueToTree(c.facts()));
        }
        return root;
    }

    public String toJson() {
        try {
            return JSON.writeValueAsString(toJsonTree());
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write the report as JSON", e);
        }
    }
}
