package dev.corral.daemon.api;

import dev.corral.daemon.ConfigStore;
import dev.corral.daemon.supervise.Supervisor;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.unixdomain.server.UnixDomainServerConnector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.util.Set;

/** Jetty serving the control API on a Unix socket, mode 0600, for root and the daemon's user. */
public final class ControlServer implements AutoCloseable {
    private final Server server;
    private final Path socket;

    private ControlServer(Server server, Path socket) {
        this.server = server;
        this.socket = socket;
    }

    public static ControlServer start(Path socket, ConfigStore config, Supervisor supervisor) throws Exception {
        Path dir = socket.toAbsolutePath().getParent();
        Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        // A socket file left by a daemon that died: binding needs the name free.
        Files.deleteIfExists(socket);
        QueuedThreadPool threads = new QueuedThreadPool(16, 2);
        threads.setName("corral-api");
        Server server = new Server(threads);
        UnixDomainServerConnector connector = new UnixDomainServerConnector(server);
        connector.setUnixDomainPath(socket);
        server.addConnector(connector);
        var lookup = socket.getFileSystem().getUserPrincipalLookupService();
        UserPrincipal self = lookup.lookupPrincipalByName(System.getProperty("user.name"));
        UserPrincipal root = lookup.lookupPrincipalByName("root");
        server.setHandler(new ControlHandler(config, supervisor, new PeerCheck(new java.util.HashSet<>(java.util.List.of(self, root)))));
        server.start();
        Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-------"));
        return new ControlServer(server, socket);
    }

    public Path socket() {
        return socket;
    }

    @Override
    public void close() throws Exception {
        server.stop();
        try {
            Files.deleteIfExists(socket);
        } catch (IOException ignored) {
            // gone already
        }
    }
}
