package dev.corral.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * Listening sockets as raw descriptors, through the Foreign Function &amp; Memory API: the JDK's
 * server channels keep their descriptor to themselves, and a jail needs it to pass on. Every
 * socket is made close-on-exec; the executor hands it to the jailed program deliberately.
 */
public final class Sockets {

    static final int AF_UNIX = 1, AF_INET = 2, AF_INET6 = 10;
    static final int SOCK_STREAM = 1, SOCK_CLOEXEC = 0x80000;
    static final int SOL_SOCKET = 1, SO_REUSEADDR = 2, IPPROTO_IPV6 = 41, IPV6_V6ONLY = 26;
    /** The kernel caps the backlog at net.core.somaxconn. */
    static final int BACKLOG = 4096;
    public static final int EADDRINUSE = 98;

    private static final MethodHandle SOCKET = errno("socket",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle SETSOCKOPT = errno("setsockopt",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle BIND = errno("bind", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle LISTEN = errno("listen", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle GETSOCKNAME = errno("getsockname",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));

    private Sockets() {}

    private static MethodHandle errno(String name, FunctionDescriptor fd) {
        return Downcalls.withErrno(name, fd);
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
        byte[] bytes = path.getBytes(StandardCharsets.UTF_8);
        if (bytes.length > 107) throw new IllegalArgumentException("Unix socket path too long: " + path);
        String where = "unix:" + path;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment addr = arena.allocate(110); // sockaddr_un, zeroed: the path ends in NUL
            addr.set(JAVA_SHORT, 0, (short) AF_UNIX);
            MemorySegment.copy(bytes, 0, addr, JAVA_BYTE, 2, bytes.length);
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
            MemorySegment state = Downcalls.errnoSegment(arena);
            int r = (int) GETSOCKNAME.invokeExact(state, fd, addr, len);
            if (r < 0) throw new NativeException("getsockname", errno(state));
            return Short.toUnsignedInt(addr.get(JAVA_SHORT.withOrder(ByteOrder.BIG_ENDIAN), 2));
        } catch (NativeException e) { throw e; } catch (Throwable t) { throw fatal(t); }
    }

    private static int socket(int family, String where) throws NativeException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Downcalls.errnoSegment(arena);
            int fd = (int) SOCKET.invokeExact(state, family, SOCK_STREAM | SOCK_CLOEXEC, 0);
            if (fd < 0) throw new NativeException("socket for " + where, errno(state));
            return fd;
        } catch (NativeException e) { throw e; } catch (Throwable t) { throw fatal(t); }
    }

    private static void setIntOption(int fd, int level, int name, int value, Arena arena, String what)
            throws NativeException {
        try {
            MemorySegment v = arena.allocateFrom(JAVA_INT, value);
            MemorySegment state = Downcalls.errnoSegment(arena);
            if ((int) SETSOCKOPT.invokeExact(state, fd, level, name, v, 4) < 0) {
                throw new NativeException(what, errno(state));
            }
        } catch (NativeException e) { throw e; } catch (Throwable t) { throw fatal(t); }
    }

    private static void bindAndListen(int fd, MemorySegment addr, String where) throws NativeException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Downcalls.errnoSegment(arena);
            if ((int) BIND.invokeExact(state, fd, addr, (int) addr.byteSize()) < 0) {
                throw new NativeException("bind " + where, errno(state));
            }
            if ((int) LISTEN.invokeExact(state, fd, BACKLOG) < 0) {
                throw new NativeException("listen " + where, errno(state));
            }
        } catch (NativeException e) { throw e; } catch (Throwable t) { throw fatal(t); }
    }

    private static int errno(MemorySegment state) {
        return Downcalls.errno(state);
    }

    private static RuntimeException fatal(Throwable t) {
        return new IllegalStateException("native call failed to link or run", t);
    }
}
