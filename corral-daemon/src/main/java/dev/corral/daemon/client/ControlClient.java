package dev.corral.daemon.client;

import org.eclipse.jetty.client.ContentResponse;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.Request;
import org.eclipse.jetty.client.StringRequestContent;
import org.eclipse.jetty.client.transport.HttpClientTransportOverHTTP;
import org.eclipse.jetty.io.ClientConnector;
import org.eclipse.jetty.io.Transport;
import org.eclipse.jetty.util.ssl.SslContextFactory;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** Talks HTTP to the daemon's control socket: what {@code corral ctl} and the tests use. */
public final class ControlClient implements AutoCloseable {
    private final HttpClient http = new HttpClient(new HttpClientTransportOverHTTP(new PlainConnector()));
    private final Path socket;

    public record Reply(int status, String body) {}

    /**
     * A connector without TLS: the control socket speaks plain HTTP, and Jetty's default TLS
     * context (the JDK's trust store read, its providers set up) took ~50 ms of every cold client.
     */
    private static final class PlainConnector extends ClientConnector {
        @Override
        protected SslContextFactory.Client newSslContextFactory() {
            return null;
        }
    }

    public ControlClient(Path socket) throws Exception {
        this.socket = socket;
        http.start();
    }

    public Reply get(String path) throws Exception {
        return send(request("GET", path));
    }

    public Reply put(String path, String json) throws Exception {
        return send(request("PUT", path).body(new StringRequestContent("application/json", json)));
    }

    public Reply post(String path) throws Exception {
        return send(request("POST", path));
    }

    public Reply delete(String path) throws Exception {
        return send(request("DELETE", path));
    }

    /**
     * GETs {@code path} and copies a 200 body to {@code out} as it arrives, until the daemon ends
     * it; any other answer is returned whole instead.
     */
    public Reply stream(String path, java.io.OutputStream out) throws Exception {
        var listener = new org.eclipse.jetty.client.InputStreamResponseListener();
        http.newRequest("http://localhost" + path).transport(new Transport.TCPUnix(socket)).idleTimeout(0, TimeUnit.SECONDS)
                .send(listener);
        org.eclipse.jetty.client.Response response;
        try {
            response = listener.get(30, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            return new Reply(-1, (e.getCause() == null ? e : e.getCause()).getMessage());
        }
        try (var in = listener.getInputStream()) {
            if (response.getStatus() != 200) {
                return new Reply(response.getStatus(), new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8));
            }
            byte[] buf = new byte[8192];
            int n;
            while ((n = in.read(buf)) > 0) {
                out.write(buf, 0, n);
                out.flush();
            }
        }
        return new Reply(200, "");
    }

    private Request request(String method, String path) {
        return http.newRequest("http://localhost" + path).method(method).transport(new Transport.TCPUnix(socket))
                .timeout(120, TimeUnit.SECONDS);
    }

    /** The daemon's answer; status -1 with the reason as body when it could not be reached. */
    private static Reply send(Request r) throws Exception {
        try {
            ContentResponse c = r.send();
            return new Reply(c.getStatus(), c.getContentAsString());
        } catch (java.util.concurrent.ExecutionException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            return new Reply(-1, cause.getMessage());
        }
    }

    @Override
    public void close() throws Exception {
        http.stop();
    }
}
