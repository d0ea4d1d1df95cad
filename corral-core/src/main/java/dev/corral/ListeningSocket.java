package dev.corral;

import dev.corral.spec.ListenAddress;
import dev.corral.spec.PassedSocket;
import dev.corral.sys.Libc;
import dev.corral.sys.NativeException;
import dev.corral.sys.Sockets;

import java.io.Closeable;
import java.io.IOException;
import java.net.ConnectException;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Objects;

/**
 * A listening socket owned by the caller, for jails that serve on it: bound and listening in the
 * caller's network namespace, then handed to the program with
 * {@link JailBuilder#passListeningSockets}, so a program in a private network namespace still
 * serves. The socket outlives the jail: passing it to the next jail keeps every connection that
 * waits in its queue (a reload without refused connections). Closing it is the caller's business.
 *
 * <pre>{@code
 * try (ListeningSocket http = ListeningSocket.open("127.0.0.1:8080", "http")) {
 *     new JailBuilder().passListeningSocket(http).command("/srv/app").start().waitFor();
 * }
 * }</pre>
 */
public final class ListeningSocket implements Closeable {
    /** What {@code LISTEN_FDNAMES} says when no name was given (systemd's word for the same). */
    public static final String UNNAMED = "unknown";
    private static final int S_IFMT = 0170000, S_IFSOCK = 0140000;

    private final ListenAddress address;
    private final String name;
    private int fd;

    private ListeningSocket(int fd, ListenAddress address, String name) {
        this.fd = fd;
        this.address = address;
        this.name = name;
    }

    /**
     * Binds and listens on {@code listen} ({@code 127.0.0.1:8080}, {@code [::1]:8080},
     * {@code *:8080}, {@code unix:/run/app.sock}; see {@link ListenAddress#parse}), named
     * {@value #UNNAMED}.
     *
     * @throws IllegalArgumentException if {@code listen} is not a listen address; the message names it
     * @throws IOException              if the socket cannot be bound (the message names the address)
     */
    public static ListeningSocket open(String listen) throws IOException {
        return open(ListenAddress.parse(listen), UNNAMED);
    }

    /** As {@link #open(String)}, with the name the program finds in {@code LISTEN_FDNAMES}. */
    public static ListeningSocket open(String listen, String name) throws IOException {
        return open(ListenAddress.parse(listen), name);
    }

    /**
     * Binds and listens on {@code address}. A Unix socket file left behind by a listener that
     * is gone is replaced; one that still accepts connections, or a path that is not a socket,
     * is an error. The file stays when the socket is closed.
     *
     * @param name what {@code LISTEN_FDNAMES} calls it: printable ASCII without ':', at most 255 characters
     */
    public static ListeningSocket open(ListenAddress address, String name) throws IOException {
        Objects.requireNonNull(address);
        String problem = PassedSocket.nameProblem(name);
        if (problem != null) throw new IllegalArgumentException("listening socket " + address + ": " + problem);
        return switch (address) {
            case ListenAddress.Inet inet -> {
                int fd = Sockets.listenTcp(inet.host(), inet.port());
                try {
                    yield new ListeningSocket(fd, new ListenAddress.Inet(inet.host(), Sockets.localPort(fd)), name);
                } catch (NativeException e) {
                    Libc.close(fd);
                    throw e;
                }
            }
            case ListenAddress.Unix unix -> new ListeningSocket(listenUnix(unix.path()), unix, name);
        };
    }

    private static int listenUnix(String path) throws IOException {
        try {
            return Sockets.listenUnix(path);
        } catch (NativeException e) {
            if (e.errno() != Sockets.EADDRINUSE || !isStaleSocket(Path.of(path))) throw e;
            Files.deleteIfExists(Path.of(path));
            return Sockets.listenUnix(path);
        }
    }

    /** A socket file nobody accepts on any more: connecting to it is refused. */
    private static boolean isStaleSocket(Path path) throws IOException {
        int mode = (int) Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS);
        if ((mode & S_IFMT) != S_IFSOCK) return false; // anything but a socket is never ours to remove
        try (SocketChannel probe = SocketChannel.open(UnixDomainSocketAddress.of(path))) {
            return false;
        } catch (ConnectException e) {
            return true;
        }
    }

    /** Where it listens; for a TCP socket bound to port 0, with the port the kernel chose. */
    public ListenAddress address() {
        return address;
    }

    /** The name the program finds in {@code LISTEN_FDNAMES}. */
    public String name() {
        return name;
    }

    /** The descriptor in this process, or -1 once closed. */
    public synchronized int fd() {
        return fd;
    }

    public synchronized boolean isOpen() {
        return fd >= 0;
    }

    /** Stops listening here; jails already started keep their own copy. */
    @Override
    public synchronized void close() {
        if (fd >= 0) {
            Libc.close(fd);
            fd = -1;
        }
    }

    @Override
    public String toString() {
        return address + " (" + name + ")";
    }
}
