package dev.corral.daemon.api;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.corral.daemon.supervise.AppStatus;

import java.io.IOException;
import java.util.List;

/**
 * /status as JSON, written field by field straight into the response: at a thousand
 * applications a tree of nodes and the whole text in memory were most of the request's garbage
 * (and of the daemon's heap growth), for a document nobody keeps.
 */
final class StatusJson {
    private StatusJson() {}

    /** {@code {"applications": {NAME: {...}, ...}}} */
    static void writeAll(JsonGenerator g, List<AppStatus> apps) throws IOException {
        g.writeStartObject();
        g.writeObjectFieldStart("applications");
        for (AppStatus s : apps) {
            g.writeFieldName(s.name());
            write(g, s);
        }
        g.writeEndObject();
        g.writeEndObject();
    }

    /** One application's entry in /status. */
    static void write(JsonGenerator g, AppStatus s) throws IOException {
        g.writeStartObject();
        g.writeStringField("state", s.state().word());
        if (s.pid() != null) g.writeNumberField("pid", s.pid());
        g.writeNumberField("restarts", s.restarts());
        if (s.lastExit() != null) {
            g.writeNumberField("last_exit", s.lastExit());
            g.writeStringField("last_exit_at", s.lastExitAt().toString());
        }
        if (s.uptime() != null) g.writeNumberField("uptime_s", s.uptime().toMillis() / 1000.0);
        if (s.lastError() != null) g.writeStringField("error", s.lastError());
        if (s.usage() != null) {
            g.writeObjectFieldStart("usage");
            g.writeStringField("cgroup", s.usage().driver());
            g.writeNumberField("cpu_usec", s.usage().cpuUsec());
            g.writeNumberField("memory_current", s.usage().memoryCurrent());
            g.writeNumberField("memory_peak", s.usage().memoryPeak());
            g.writeNumberField("pids_current", s.usage().pidsCurrent());
            g.writeNumberField("oom_kills", s.usage().oomKills());
            g.writeEndObject();
        }
        g.writeStringField("log", s.log());
        g.writeEndObject();
    }
}
