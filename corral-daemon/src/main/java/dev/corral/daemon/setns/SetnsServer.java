package dev.corral.daemon.setns;

import com.fasterxml.jackson.databind.JsonNode;
import dev.corral.JailSetupException;
import dev.corral.JailedProcess;
import dev.corral.config.AppConfig;
import dev.corral.join.JailDescriptors;
import dev.corral.join.ProcessFacts;
import dev.corral.join.SetnsSocket;
import dev.corral.launch.Launcher;
import dev.corral.spec.Namespace;
import dev.corral.sys.EventLoop;
import dev.corral.sys.Libc;
import dev.corral.sys.NativeException;
import dev.corral.sys.Sockets;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;

/**
 * One application's setns socket (uWSGI's {@code setns-socket}): the jail's namespaces and root,
 * opened as soon as its program runs (uWSGI's {@code setns-preopen}: while /proc/PID/ns still
 * exists), handed over SCM_RIGHTS to each peer that is root or the daemon's own user (SO_PEERCRED;
 * anyone else is disconnected unanswered), in the message {@link SetnsSocket} describes. The
 * socket file (mode 0600) is removed, and the descriptors closed, when the jail ends. Connections
 * are taken on the JVM's event loop: no thread per socket.
 */
public final class SetnsServer implements AutoCloseable {
    private static final int EAGAIN = 11, ECONNABORTED = 103;
    private final Path path;
    private final JailDescriptors jail;
    private final int listener;
    private final byte[] message;
    private final int[] fds;
    private final int ownUid = Libc.geteuid();
    private boolean closed;

    private SetnsServer(Path path, JailDescriptors jail, int listener, byte[] message, int[] fds) {
        this.path = path;
        this.jail = jail;
        this.listener = listener;
        this.message = message;
        this.fds = fds;
    }

    /** Where an application's socket is when its configuration says only {@code "setns_socket": true}. */
    public static Path defaultPath(Path runDir, String application) {
        return runDir.resolve("setns").resolve(application + ".sock");
    }

    /**
     * Opens the running jail's namespaces (all but {@code config.skip()}) and root, and serves them
     * at the configured path (or the default under {@code runDir}).
     */
    public static SetnsServer start(String application, JsonNode appJson, AppConfig.SetnsSocketConfig config,
                                    JailedProcess p, Path runDir) throws IOException, JailSetupException {
        Path path = config.path().isEmpty() ? defaultPath(runDir, application) : Path.of(config.path());
        long program = ProcessFacts.program(p.jailPid());
        JailDescriptors jail = JailDescriptors.open(program, config.skip());
        int listener = -1;
        try {
            Path dir = path.toAbsolutePath().getParent();
            if (!Files.isDirectory(dir)) {
                Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            }
            Files.deleteIfExists(path); // a socket left by a daemon that was killed
            listener = Sockets.listenUnix(path.toString());
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-------"));
            // In the order a client may join them one after the other (corral's own client reorders).
            List<Namespace> namespaces = jail.hostJoinOrder(jail.namespaces());
            Launcher.Opened opened = jail.opened(namespaces);
            List<Integer> all = new ArrayList<>(opened.namespaces());
            all.add(opened.root());
            byte[] message = SetnsSocket.header(application, appJson, program, namespaces);
            if (!Libc.setNonBlocking(listener)) throw new NativeException("fcntl(O_NONBLOCK) on " + path, Libc.errno());
            SetnsServer server = new SetnsServer(path, jail, listener, message, all.stream().mapToInt(Integer::intValue).toArray());
            EventLoop.shared().watchReadable(listener, server::serve);
            return server;
        } catch (IOException | RuntimeException e) {
            if (listener >= 0) {
                Libc.close(listener);
                Files.deleteIfExists(path);
            }
            jail.close();
            throw e;
        }
    }

    public Path path() {
        return path;
    }

    /** On the event loop's thread: answers every peer waiting (quick: one small message each). */
    private void serve() {
        while (true) {
            int c;
            try {
                c = Sockets.accept(listener);
            } catch (NativeException e) {
                if (e.errno() == Libc.EINTR || e.errno() == ECONNABORTED) continue;
                // Out of descriptors, say: the waiting peer would wake the loop again and again.
                if (e.errno() != EAGAIN) EventLoop.shared().unwatch(listener);
                return; // EAGAIN: nobody else is waiting
            }
            try {
                Sockets.PeerCredentials peer = Sockets.peer(c);
                if (peer.uid() == 0 || peer.uid() == ownUid) Sockets.sendWithFds(c, message, fds);
            } catch (NativeException e) {
                // this peer went away or could not be told: the next one is served all the same
            } finally {
                Libc.close(c);
            }
        }
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        EventLoop.shared().unwatch(listener); // returns once no serve() runs
        Libc.close(listener);
        try {
            Files.deleteIfExists(path);
        } catch (IOException ignored) {
            // a file the daemon can no longer remove is its directory's business
        }
        jail.close();
    }
}
