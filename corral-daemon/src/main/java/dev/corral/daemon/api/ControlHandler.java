package dev.corral.daemon.api;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.corral.config.JsonObject;
import dev.corral.daemon.ConfigStore;
import dev.corral.daemon.supervise.AppStatus;
import dev.corral.daemon.supervise.Supervisor;
import dev.corral.spec.Problem;
import dev.corral.spec.SpecException;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The control API, NGINX Unit's shape: /config (whole or one application), /status (all, or
 * /status/applications/NAME), /control and /applications/NAME/logs. A PUT is checked whole
 * before anything changes and answered only once the new configuration is on disk and applied.
 */
final class ControlHandler extends Handler.Abstract {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern APP_CONFIG = Pattern.compile("/config/applications/([^/]+)/?");
    private static final Pattern CONTROL = Pattern.compile("/control/applications/([^/]+)/(start|stop|restart)/?");
    private static final Pattern LOGS = Pattern.compile("/applications/([^/]+)/logs/?");
    private static final Pattern APP_STATUS = Pattern.compile("/status/applications/([^/]+)/?");

    private final ConfigStore config;
    private final Supervisor supervisor;
    private final PeerCheck peers;

    ControlHandler(ConfigStore config, Supervisor supervisor, PeerCheck peers) {
        this.config = config;
        this.supervisor = supervisor;
        this.peers = peers;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) throws Exception {
        if (!peers.allows(request.getConnectionMetaData().getConnection().getEndPoint())) {
            return reply(response, callback, 403, error("only root and the daemon's own user may use this socket"));
        }
        String method = request.getMethod();
        String path = Request.getPathInContext(request);
        Matcher m;
        if (path.equals("/config") || path.equals("/config/")) {
            return switch (method) {
                case "GET" -> reply(response, callback, 200, config.document());
                case "PUT" -> put(response, callback, () -> JsonObject.read(body(request), "request body"));
                default -> notAllowed(response, callback);
            };
        }
        if ((m = APP_CONFIG.matcher(path)).matches()) {
            String name = m.group(1);
            return switch (method) {
                case "GET" -> {
                    JsonNode app = config.document().path("applications").get(name);
                    yield app == null ? reply(response, callback, 404, error("no application \"" + name + "\""))
                            : reply(response, callback, 200, app);
                }
                case "PUT" -> put(response, callback, () -> config.apiWith(name, JsonObject.read(body(request), "request body")));
                case "DELETE" -> config.document().path("applications").has(name)
                        ? put(response, callback, () -> config.apiWith(name, null))
                        : reply(response, callback, 404, error("no application \"" + name + "\""));
                default -> notAllowed(response, callback);
            };
        }
        if (path.equals("/status") || path.equals("/status/")) {
            if (!method.equals("GET")) return notAllowed(response, callback);
            // Compact: at a thousand applications the indentation alone is a third of the bytes.
            List<AppStatus> all = supervisor.status();
            return jsonAnswer(response, callback, false, all.size() * StatusJson.ENTRY_BYTES, g -> StatusJson.writeAll(g, all));
        }
        if ((m = APP_STATUS.matcher(path)).matches()) {
            // One application, as NGINX Unit's /status/applications/NAME: its entry of /status,
            // at the cost of one application rather than all of them.
            if (!method.equals("GET")) return notAllowed(response, callback);
            String name = m.group(1);
            return supervisor.status(name)
                    .<Boolean>map(s -> jsonAnswer(response, callback, true, 2 * StatusJson.ENTRY_BYTES, g -> StatusJson.write(g, s)))
                    .orElseGet(() -> reply(response, callback, 404, error("no application \"" + name + "\"")));
        }
        if ((m = CONTROL.matcher(path)).matches()) {
            if (!method.equals("POST")) return notAllowed(response, callback);
            String name = m.group(1);
            boolean known = switch (m.group(2)) {
                case "start" -> supervisor.start(name);
                case "stop" -> supervisor.stop(name);
                default -> supervisor.restart(name);
            };
            if (!known) return reply(response, callback, 404, error("no application \"" + name + "\""));
            return reply(response, callback, 200, success(m.group(2) + " done"));
        }
        if ((m = LOGS.matcher(path)).matches()) {
            if (!method.equals("GET")) return notAllowed(response, callback);
            String name = m.group(1);
            if (!config.running().applications().containsKey(name)) {
                return reply(response, callback, 404, error("no application \"" + name + "\""));
            }
            response.setStatus(200);
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/plain; charset=utf-8");
            boolean follow = Request.extractQueryParameters(request).getValues("follow") != null;
            LogTail tail = new LogTail(supervisor.logOf(name));
            if (!follow) {
                response.write(true, ByteBuffer.wrap(tail.next()), callback);
                return true;
            }
            // Following holds the request open: a virtual thread per follower, not a pool thread.
            Thread.ofVirtual().name("corral-logs-" + name).start(() -> tail.follow(response, callback));
            return true;
        }
        return reply(response, callback, 404, error("no such resource: " + path));
    }

    interface DocumentSource {
        JsonNode get() throws SpecException, IOException;
    }

    private boolean put(Response response, Callback callback, DocumentSource next) {
        try {
            config.replace(next.get());
            return reply(response, callback, 200, success("Reconfiguration done."));
        } catch (SpecException e) {
            ObjectNode body = error("Invalid configuration.");
            ArrayNode problems = body.putArray("problems");
            for (Problem p : e.problems()) problems.addObject().put("path", p.where()).put("message", p.message());
            return reply(response, callback, 400, body);
        } catch (IOException e) {
            return reply(response, callback, 500, error("the configuration could not be saved: " + e.getMessage()));
        }
    }

    private static String body(Request request) throws IOException {
        return Content.Source.asString(request, StandardCharsets.UTF_8);
    }

    private static ObjectNode error(String message) {
        return JSON.createObjectNode().put("error", message);
    }

    private static ObjectNode success(String message) {
        return JSON.createObjectNode().put("success", message);
    }

    private static boolean notAllowed(Response response, Callback callback) {
        return reply(response, callback, 405, error("method not allowed here"));
    }

    /** What writes a 200 answer's JSON. */
    private interface JsonBody {
        void writeTo(JsonGenerator g) throws IOException;
    }

    /**
     * A 200 answer whose JSON is generated into one buffer and written at once, with its length:
     * streamed in the generator's 8 kB pieces, each a blocking write through Jetty, a thousand
     * applications' /status spent as long sending as rendering.
     */
    private static boolean jsonAnswer(Response response, Callback callback, boolean pretty, int expectedBytes, JsonBody body) {
        ByteBuffer out;
        try {
            ExposedBytes bytes = new ExposedBytes(expectedBytes);
            try (JsonGenerator g = JSON.getFactory().createGenerator(bytes)) {
                if (pretty) g.useDefaultPrettyPrinter();
                body.writeTo(g);
                g.writeRaw('\n');
            }
            out = bytes.asBuffer();
        } catch (IOException e) {
            callback.failed(e);
            return true;
        }
        response.setStatus(200);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, out.remaining());
        response.write(true, out, callback);
        return true;
    }

    /** The bytes written, without the copy {@code toByteArray()} makes. */
    private static final class ExposedBytes extends java.io.ByteArrayOutputStream {
        ExposedBytes(int expected) {
            super(Math.max(1024, expected));
        }

        ByteBuffer asBuffer() {
            return ByteBuffer.wrap(buf, 0, count);
        }
    }

    private static boolean reply(Response response, Callback callback, int status, JsonNode body) {
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
        byte[] bytes;
        try {
            bytes = (JSON.writerWithDefaultPrettyPrinter().writeValueAsString(body) + "\n").getBytes(StandardCharsets.UTF_8);
        } catch (IOException e) {
            callback.failed(e);
            return true;
        }
        response.write(true, ByteBuffer.wrap(bytes), callback);
        return true;
    }
}
