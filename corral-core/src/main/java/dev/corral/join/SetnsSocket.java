package dev.corral.join;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.corral.JailSetupException;
import dev.corral.spec.Namespace;
import dev.corral.sys.Libc;
import dev.corral.sys.NamespaceFiles;
import dev.corral.sys.NativeException;
import dev.corral.sys.Sockets;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The setns socket's one message, uWSGI's {@code setns-socket} made explicit: a JSON header naming
 * what follows, and the descriptors themselves (SCM_RIGHTS) — the jail's namespaces in the order
 * the header lists them, then its root directory:
 *
 * <pre>{"version": 1, "application": "web", "pid": 4242, "namespaces": ["mnt", "pid", "net", ...],
 *  "config": {the application's JSON, from which its hardening follows}}</pre>
 *
 * A peer that is not root or the server's own user gets nothing: the connection is closed unread.
 */
public final class SetnsSocket {
    public static final int VERSION = 1;
    /** uWSGI skips the user namespace by default (a root peer joins the rest and keeps its own). */
    public static final List<Namespace> DEFAULT_SKIP = List.of(Namespace.USER);
    private static final int MAX_MESSAGE = 1 << 20;
    private static final ObjectMapper JSON = new ObjectMapper();

    private SetnsSocket() {}

    /** What a setns socket served: the jail, held open, and its application's name and JSON. */
    public record Served(String application, JsonNode config, JailDescriptors jail) implements AutoCloseable {
        @Override
        public void close() {
            jail.close();
        }
    }

    /** The message for {@code jail} of application {@code name}: header and the descriptors to attach. */
    public static byte[] header(String name, JsonNode config, long pid, List<Namespace> namespaces) {
        ObjectNode h = JSON.createObjectNode();
        h.put("version", VERSION).put("application", name).put("pid", pid);
        namespaces.forEach(ns -> h.withArray("namespaces").add(ns.procName()));
        if (namespaces.isEmpty()) h.putArray("namespaces");
        h.set("config", config);
        return h.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** Connects to the setns socket at {@code path} and takes what it serves. */
    public static Served receive(String path) throws JailSetupException {
        int sock;
        try {
            sock = Sockets.connectUnix(path);
        } catch (NativeException e) {
            throw new JailSetupException("setns socket " + path + ": " + e.getMessage(), e.errno(), 125);
        }
        Sockets.Received r;
        try {
            r = Sockets.receiveWithFds(sock, MAX_MESSAGE);
        } catch (NativeException e) {
            throw new JailSetupException("setns socket " + path + ": " + e.getMessage(), e.errno(), 125);
        } finally {
            Libc.close(sock);
        }
        List<Integer> unclaimed = new ArrayList<>();
        for (int fd : r.fds()) unclaimed.add(fd);
        try {
            if (r.data().length == 0) {
                throw new JailSetupException("setns socket " + path + " closed the connection without an answer"
                        + " (only root and the daemon's own user are served)", 13, 125);
            }
            JsonNode h = JSON.readTree(r.data());
            if (h.path("version").asInt() != VERSION) {
                throw new JailSetupException("setns socket " + path + ": unknown protocol version " + h.path("version"), 71, 125);
            }
            List<Namespace> names = new ArrayList<>();
            for (JsonNode n : h.path("namespaces")) {
                Optional<Namespace> ns = java.util.Arrays.stream(Namespace.values())
                        .filter(x -> x.procName().equals(n.asText())).findFirst();
                if (ns.isEmpty()) throw new JailSetupException("setns socket " + path + ": unknown namespace " + n, 71, 125);
                names.add(ns.get());
            }
            if (r.fds().length != names.size() + 1) {
                throw new JailSetupException("setns socket " + path + ": " + r.fds().length + " descriptors for "
                        + names.size() + " namespaces and a root", 71, 125);
            }
            Map<Namespace, Integer> fds = new EnumMap<>(Namespace.class);
            for (int i = 0; i < names.size(); i++) {
                // Trust nothing: the kernel says what each descriptor is.
                long type = NamespaceFiles.type(r.fds()[i]);
                if (type != names.get(i).cloneFlag()) {
                    throw new JailSetupException("setns socket " + path + ": descriptor " + i + " is not a "
                            + names.get(i).displayName() + " namespace", 22, 125);
                }
                fds.put(names.get(i), r.fds()[i]);
            }
            int root = r.fds()[names.size()];
            unclaimed.clear();
            return new Served(h.path("application").asText(), h.path("config"),
                    new JailDescriptors(h.path("pid").asLong(), fds, root, -1));
        } catch (IOException e) {
            throw new JailSetupException("setns socket " + path + ": " + e.getMessage(), 71, 125);
        } finally {
            unclaimed.forEach(Libc::close);
        }
    }
}
