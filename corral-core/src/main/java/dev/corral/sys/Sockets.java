package dev.corral.sys;

import static dev.corral.sys.NativeFunction.pointer;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * Listening sockets as raw descriptors, through the Foreign Function &amp; Memory API: the JDK's
 * server channels keep their descriptor to themselves, and a jail needs it to pass on. Every
 * socket is made close-on-exec; the executor hands it to the jailed program deliberately. Also
 * Unix sockets that carry descriptors (SCM_RIGHTS) and tell who their peer is (SO_PEERCRED), for
 * the setns socket, which the JDK's channels cannot do.
 */
public final class Sockets {

    static final int AF_UNIX = 1, AF_INET = 2, AF_INET6 = 10;
    static final int SOCK_STREAM = 1, SOCK_CLOEXEC = 0x80000;
    static final int SOL_SOCKET = 1, SO_REUSEADDR = 2, IPPROTO_IPV6 = 41, IPV6_V6ONLY = 26;
    /** The kernel caps the backlog at net.core.somaxconn. */
    static final int BACKLOG = 4096;
    public static final int EADDRINUSE = 98;

    private static final NativeFunction SOCKET = NativeFunction.libc("socket");
    private static final NativeFunction SETSOCKOPT = NativeFunction.libc("setsockopt");
    private static final NativeFunction BIND = NativeFunction.libc("bind");
    private static final NativeFunction LISTEN = NativeFunction.libc("listen");
    private static final NativeFunction GETSOCKNAME = NativeFunction.libc("getsockname");

    private static final NativeFunction SHUTDOWN = NativeFunction.libc("shutdown");
    private static final NativeFunction CONNECT = NativeFunction.libc("connect");
    private static final NativeFunction ACCEPT4 = NativeFunction.libc("accept4");
    private static final NativeFunction GETSOCKOPT = NativeFunction.libc("getsockopt");
    private static final NativeFunction SENDMSG = NativeFunction.libc("sendmsg");
    private static final NativeFunction RECVMSG = NativeFunction.libc("recvmsg");
    private static final NativeFunction SOCKETPAIR = NativeFunction.libc("socketpair");
    private static final NativeFunction SEND = NativeFunction.libc("send");
    static final int SO_TYPE = 3, SO_PEERCRED = 17, SCM_RIGHTS = 1, MSG_NOSIGNAL = 0x4000, MSG_CMSG_CLOEXEC = 0x40000000;
    /** The most descriptors {@link #receiveWithFds} takes from one message (a setns socket's handful). */
    public static final int MAX_FDS = 16;
    /** The most descriptors one message may carry (the kernel's SCM_MAX_FD). */
    public static final int MAX_SENT_FDS = 253;

    private Sockets() {}

    /** A connected Unix stream socket to {@code path} (close-on-exec). */
    public static int connectUnix(String path) throws NativeException {
        String where = "unix:" + path;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment addr = unixAddress(arena, path);
            int fd = socket(AF_UNIX, where);
            MemorySegment state = NativeFunction.errnoSegment(arena);
            if ((int) CONNECT.call(state, fd, pointer(addr), (int) addr.byteSize()) < 0) {
                int e = errno(state);
                Libc.close(fd);
                throw new NativeException("connect " + where, e);
            }
            return fd;
        }
    }

    /** Shuts a socket down both ways; on a listening socket this also wakes a thread blocked in accept. */
    public static void shutdown(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            int ignored = (int) SHUTDOWN.call(NativeFunction.errnoSegment(arena), fd, 2 /* SHUT_RDWR */);
        }
    }

    /** Waits for the next connection on a listening socket; the new socket is close-on-exec. */
    public static int accept(int fd) throws NativeException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = NativeFunction.errnoSegment(arena);
            int c = (int) ACCEPT4.call(state, fd, 0, 0, SOCK_CLOEXEC);
            if (c < 0) throw new NativeException("accept", errno(state));
            return c;
        }
    }

    /** The peer of a connected Unix socket, as the kernel recorded it at connect (SO_PEERCRED). */
    public record PeerCredentials(int pid, int uid, int gid) {}

    public static PeerCredentials peer(int fd) throws NativeException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cred = arena.allocate(12, 4);
            MemorySegment len = arena.allocateFrom(JAVA_INT, 12);
            MemorySegment state = NativeFunction.errnoSegment(arena);
            if ((int) GETSOCKOPT.call(state, fd, SOL_SOCKET, SO_PEERCRED, pointer(cred), pointer(len)) < 0) {
                throw new NativeException("getsockopt(SO_PEERCRED)", errno(state));
            }
            return new PeerCredentials(cred.get(JAVA_INT, 0), cred.get(JAVA_INT, 4), cred.get(JAVA_INT, 8));
        }
    }

    /** Sends {@code data} with {@code fds} attached (SCM_RIGHTS), in one message. */
    public static void sendWithFds(int fd, byte[] data, int[] fds) throws NativeException {
        if (data.length == 0 || fds.length > MAX_SENT_FDS) {
            throw new IllegalArgumentException("1+ bytes and at most " + MAX_SENT_FDS + " fds");
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocateFrom(JAVA_BYTE, data);
            MemorySegment iov = arena.allocate(16, 8);
            iov.set(ADDRESS, 0, buf);
            iov.set(JAVA_LONG, 8, data.length);
            MemorySegment msg = arena.allocate(56, 8);
            msg.set(ADDRESS, 16, iov);
            msg.set(JAVA_LONG, 24, 1);
            if (fds.length > 0) {
                long space = 16 + align8(4L * fds.length);
                MemorySegment control = arena.allocate(space, 8);
                control.set(JAVA_LONG, 0, 16 + 4L * fds.length);
                control.set(JAVA_INT, 8, SOL_SOCKET);
                control.set(JAVA_INT, 12, SCM_RIGHTS);
                for (int i = 0; i < fds.length; i++) control.set(JAVA_INT, 16 + 4L * i, fds[i]);
                msg.set(ADDRESS, 32, control);
                msg.set(JAVA_LONG, 40, space);
            }
            MemorySegment state = NativeFunction.errnoSegment(arena);
            long n = (long) SENDMSG.call(state, fd, pointer(msg), MSG_NOSIGNAL);
            if (n < 0) throw new NativeException("sendmsg", errno(state));
            if (n != data.length) throw new NativeException("sendmsg (short)", 5 /* EIO */);
        }
    }

    /** One message and the descriptors attached to it (received close-on-exec). */
    public record Received(byte[] data, int[] fds) {}

    /** Receives one message of at most {@code max} bytes with its descriptors; empty data at end of stream. */
    public static Received receiveWithFds(int fd, int max) throws NativeException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(max);
            MemorySegment iov = arena.allocate(16, 8);
            iov.set(ADDRESS, 0, buf);
            iov.set(JAVA_LONG, 8, max);
            long space = 16 + align8(4L * MAX_FDS);
            MemorySegment control = arena.allocate(space, 8);
            MemorySegment msg = arena.allocate(56, 8);
            msg.set(ADDRESS, 16, iov);
            msg.set(JAVA_LONG, 24, 1);
            msg.set(ADDRESS, 32, control);
            msg.set(JAVA_LONG, 40, space);
            MemorySegment state = NativeFunction.errnoSegment(arena);
            long n = (long) RECVMSG.call(state, fd, pointer(msg), MSG_CMSG_CLOEXEC);
            if (n < 0) throw new NativeException("recvmsg", errno(state));
            int[] fds = new int[0];
            long controlLen = msg.get(JAVA_LONG, 40);
            if (controlLen >= 16 && control.get(JAVA_INT, 8) == SOL_SOCKET && control.get(JAVA_INT, 12) == SCM_RIGHTS) {
                int count = (int) ((control.get(JAVA_LONG, 0) - 16) / 4);
                fds = new int[count];
                for (int i = 0; i < count; i++) fds[i] = control.get(JAVA_INT, 16 + 4L * i);
            }
            return new Received(buf.asSlice(0, n).toArray(JAVA_BYTE), fds);
        }
    }

    /** send(2) with MSG_NOSIGNAL, again after EINTR: the bytes sent, or -errno. */
    static long send(int fd, MemorySegment buf) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = NativeFunction.errnoSegment(arena);
            while (true) {
                long n = (long) SEND.call(state, fd, pointer(buf), buf.byteSize(), MSG_NOSIGNAL);
                if (n >= 0) return n;
                int errno = errno(state);
                if (errno != Libc.EINTR) return -errno;
            }
        }
    }

    /** Whether {@code fd} is a socket (getsockopt answers it rather than ENOTSOCK). */
    public static boolean isSocket(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment value = arena.allocate(JAVA_INT);
            MemorySegment length = arena.allocate(JAVA_INT);
            length.set(JAVA_INT, 0, (int) JAVA_INT.byteSize());
            long r = (long) GETSOCKOPT.call(NativeFunction.errnoSegment(arena), fd, SOL_SOCKET, SO_TYPE, pointer(value), pointer(length));
            return r == 0;
        }
    }

    /** A connected pair of Unix stream sockets, both close-on-exec. */
    public static int[] streamPair() throws NativeException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment fds = arena.allocate(JAVA_INT, 2);
            MemorySegment state = NativeFunction.errnoSegment(arena);
            long r = (long) SOCKETPAIR.call(state, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pointer(fds));
            if (r < 0) throw new NativeException("socketpair", errno(state));
            return new int[] {fds.getAtIndex(JAVA_INT, 0), fds.getAtIndex(JAVA_INT, 1)};
        }
    }

    private static long align8(long n) {
        return (n + 7) & ~7L;
    }

    private static MemorySegment unixAddress(Arena arena, String path) {
        byte[] bytes = path.getBytes(StandardCharsets.UTF_8);
        if (bytes.length > 107) throw new IllegalArgumentException("Unix socket path too long: " + path);
        MemorySegment addr = arena.allocate(110); // sockaddr_un, zeroed: the path ends in NUL
        addr.set(JAVA_SHORT, 0, (short) AF_UNIX);
        MemorySegment.copy(bytes, 0, addr, JAVA_BYTE, 2, bytes.length);
        return addr;
    }

    /**
     * A TCP socket bound to {@code host:port} and listening, with SO_REUSEADDR (a restarted
     * supervisor rebinds at once) and, for IPv6, IPV6_V6ONLY (so {@code [::]} and
     * {@code 0.0.0.0} are two sockets whatever the host's bindv6only says).
     */
    public static int listenTcp(InetAddress host, int port) throws NativeException {
        boolean v6 = host instanceof Inet6Address;
        String where = (v6 ? "[" + host.getHostAddress() + "]" : host.getHostAddress()) + ":" + port;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment addr;
            if (v6) {
                addr = arena.allocate(28); // sockaddr_in6
                addr.set(JAVA_SHORT, 0, (short) AF_INET6);
                addr.set(JAVA_SHORT.withOrder(ByteOrder.BIG_ENDIAN), 2, (short) port);
                MemorySegment.copy(host.getAddress(), 0, addr, JAVA_BYTE, 8, 16);
                addr.set(JAVA_INT, 24, ((Inet6Address) host).getScopeId());
            } else if (host instanceof Inet4Address) {
                addr = arena.allocate(16); // sockaddr_in
                addr.set(JAVA_SHORT, 0, (short) AF_INET);
                addr.set(JAVA_SHORT.withOrder(ByteOrder.BIG_ENDIAN), 2, (short) port);
                MemorySegment.copy(host.getAddress(), 0, addr, JAVA_BYTE, 4, 4);
            } else {
                throw new IllegalArgumentException("not an IP address: " + host);
            }
            int fd = socket(v6 ? AF_INET6 : AF_INET, where);
            try {
                setIntOption(fd, SOL_SOCKET, SO_REUSEADDR, 1, arena, "setsockopt(SO_REUSEADDR) " + where);
                if (v6) setIntOption(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1, arena, "setsockopt(IPV6_V6ONLY) " + where);
                bindAndListen(fd, addr, where);
                return fd;
            } catch (NativeException | RuntimeException e) {
                Libc.close(fd);
                throw e;
            }
        }
    }

    /** A Unix stream socket bound to {@code path} (which must not exist yet) and listening. */
    public static int listenUnix(String path) throws NativeException {
        String where = "unix:" + path;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment addr = unixAddress(arena, path);
            int fd = socket(AF_UNIX, where);
            try {
                bindAndListen(fd, addr, where);
                return fd;
            } catch (NativeException | RuntimeException e) {
                Libc.close(fd);
                throw e;
            }
        }
    }

    /** The port a TCP socket is bound to (the kernel's choice when it was bound to port 0). */
    public static int localPort(int fd) throws NativeException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment addr = arena.allocate(128);
            MemorySegment len = arena.allocate(JAVA_INT);
            len.set(JAVA_INT, 0, 128);
            MemorySegment state = NativeFunction.errnoSegment(arena);
            int r = (int) GETSOCKNAME.call(state, fd, pointer(addr), pointer(len));
            if (r < 0) throw new NativeException("getsockname", errno(state));
            return Short.toUnsignedInt(addr.get(JAVA_SHORT.withOrder(ByteOrder.BIG_ENDIAN), 2));
        }
    }

    private static int socket(int family, String where) throws NativeException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = NativeFunction.errnoSegment(arena);
            int fd = (int) SOCKET.call(state, family, SOCK_STREAM | SOCK_CLOEXEC, 0);
            if (fd < 0) throw new NativeException("socket for " + where, errno(state));
            return fd;
        }
    }

    private static void setIntOption(int fd, int level, int name, int value, Arena arena, String what)
            throws NativeException {
        MemorySegment v = arena.allocateFrom(JAVA_INT, value);
        MemorySegment state = NativeFunction.errnoSegment(arena);
        if ((int) SETSOCKOPT.call(state, fd, level, name, pointer(v), 4) < 0) {
            throw new NativeException(what, errno(state));
        }
    }

    private static void bindAndListen(int fd, MemorySegment addr, String where) throws NativeException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = NativeFunction.errnoSegment(arena);
            if ((int) BIND.call(state, fd, pointer(addr), (int) addr.byteSize()) < 0) {
                throw new NativeException("bind " + where, errno(state));
            }
            if ((int) LISTEN.call(state, fd, BACKLOG) < 0) {
                throw new NativeException("listen " + where, errno(state));
            }
        }
    }

    private static int errno(MemorySegment state) {
        return NativeFunction.errno(state);
    }
}
