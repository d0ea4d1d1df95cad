package dev.corral.daemon.api;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.SerializableString;
import com.fasterxml.jackson.core.io.SerializedString;
import dev.corral.daemon.supervise.AppState;
import dev.corral.daemon.supervise.AppStatus;

import java.io.IOException;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * /status as JSON, written field by field without a tree of nodes. Field names and state words
 * are encoded once ({@link SerializedString}): at a thousand applications, escaping the same
 * dozen names again for each was most of the time a request took.
 */
final class StatusJson {
    private StatusJson() {}

    /** About what one application's entry takes, compact, with usage (245 bytes measured): a buffer size. */
    static final int ENTRY_BYTES = 256;

    private static final SerializableString APPLICATIONS = new SerializedString("applications"),
            STATE = new SerializedString("state"), PID = new SerializedString("pid"),
            RESTARTS = new SerializedString("restarts"), LAST_EXIT = new SerializedString("last_exit"),
            LAST_EXIT_AT = new SerializedString("last_exit_at"), UPTIME = new SerializedString("uptime_s"),
            ERROR = new SerializedString("error"), USAGE = new SerializedString("usage"),
            CGROUP = new SerializedString("cgroup"), CPU = new SerializedString("cpu_usec"),
            MEMORY = new SerializedString("memory_current"), MEMORY_PEAK = new SerializedString("memory_peak"),
            PIDS = new SerializedString("pids_current"), OOM_KILLS = new SerializedString("oom_kills"),
            LOG = new SerializedString("log");

    private static final Map<AppState, SerializableString> STATE_WORDS = new EnumMap<>(AppState.class);

    static {
        for (AppState s : AppState.values()) STATE_WORDS.put(s, new SerializedString(s.word()));
    }

    /** {@code {"applications": {NAME: {...}, ...}}} */
    static void writeAll(JsonGenerator g, List<AppStatus> apps) throws IOException {
        g.writeStartObject();
        g.writeFieldName(APPLICATIONS);
        g.writeStartObject();
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
        g.writeFieldName(STATE);
        g.writeString(STATE_WORDS.get(s.state()));
        if (s.pid() != null) number(g, PID, s.pid());
        number(g, RESTARTS, s.restarts());
        if (s.lastExit() != null) {
            number(g, LAST_EXIT, s.lastExit());
            g.writeFieldName(LAST_EXIT_AT);
            g.writeString(s.lastExitAt().toString());
        }
        if (s.uptime() != null) {
            g.writeFieldName(UPTIME);
            g.writeNumber(s.uptime().toMillis() / 1000.0);
        }
        if (s.lastError() != null) {
            g.writeFieldName(ERROR);
            g.writeString(s.lastError());
        }
        if (s.usage() != null) {
            g.writeFieldName(USAGE);
            g.writeStartObject();
            g.writeFieldName(CGROUP);
            g.writeString(s.usage().driver());
            number(g, CPU, s.usage().cpuUsec());
            number(g, MEMORY, s.usage().memoryCurrent());
            number(g, MEMORY_PEAK, s.usage().memoryPeak());
            number(g, PIDS, s.usage().pidsCurrent());
            number(g, OOM_KILLS, s.usage().oomKills());
            g.writeEndObject();
        }
        g.writeFieldName(LOG);
        g.writeString(s.log());
        g.writeEndObject();
    }

    private static void number(JsonGenerator g, SerializableString name, long value) throws IOException {
        g.writeFieldName(name);
        g.writeNumber(value);
    }
}
