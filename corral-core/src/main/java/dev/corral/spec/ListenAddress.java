package dev.corral.spec;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;

/**
 * Where an application listens, in the spelling of NGINX Unit's {@code listen} entries:
 * {@code 127.0.0.1:8080}, {@code [::1]:8080}, {@code *:8080} or {@code :8080} (every IPv4
 * address, as in Unit; {@code [::]:8080} for every IPv6 one) and {@code unix:/run/app.sock}.
 * Hosts are numeric addresses, never names: a name could resolve to several addresses, or to
 * another one tomorrow.
 */
public sealed interface ListenAddress {
    /** Linux's {@code sun_path} holds 108 bytes, the terminating NUL included. */
    int MAX_UNIX_PATH_BYTES = 107;

    /** A TCP address; port 0 lets the kernel choose a free port. */
    record Inet(InetAddress host, int port) implements ListenAddress {
        @Override
        public String toString() {
            String h = host.getHostAddress();
            return (host instanceof Inet6Address ? "[" + h + "]" : h) + ":" + port;
        }
    }

    /** A Unix stream socket at an absolute path. */
    record Unix(String path) implements ListenAddress {
        @Override
        public String toString() {
            return "unix:" + path;
        }
    }

    /**
     * Parses one listen address.
     *
     * @throws IllegalArgumentException with a message that names {@code text} and says what is wrong
     */
    static ListenAddress parse(String text) {
        if (text.startsWith("unix:")) return new Unix(unixPath(text, text.substring(5)));
        int colon = text.lastIndexOf(':');
        if (colon < 0) {
            throw bad(text, "expected HOST:PORT, [IPV6]:PORT, *:PORT or unix:/PATH");
        }
        String host = text.substring(0, colon);
        int port = port(text, text.substring(colon + 1));
        return new Inet(host(text, host), port);
    }

    private static String unixPath(String text, String path) {
        if (path.startsWith("@")) throw bad(text, "abstract Unix sockets are not supported; give a path");
        if (!path.startsWith("/")) throw bad(text, "the Unix socket path must be absolute");
        if (path.indexOf('\0') >= 0) throw bad(text, "the Unix socket path holds a NUL byte");
        int bytes = path.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > MAX_UNIX_PATH_BYTES) {
            throw bad(text, "the Unix socket path is " + bytes + " bytes; at most " + MAX_UNIX_PATH_BYTES + " fit");
        }
        return path;
    }

    private static int port(String text, String port) {
        if (port.isEmpty()) throw bad(text, "no port after the last ':'");
        if (port.length() > 5 || !port.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw bad(text, "the port must be a number from 0 to 65535, not \"" + port + "\"");
        }
        int p = Integer.parseInt(port);
        if (p > 65535) throw bad(text, "the port must be a number from 0 to 65535, not " + p);
        return p;
    }

    private static InetAddress host(String text, String host) {
        if (host.isEmpty() || host.equals("*")) return ipv4(text, "0.0.0.0");
        if (host.startsWith("[")) {
            if (!host.endsWith("]")) throw bad(text, "an IPv6 address must be closed with ']' before the port");
            String literal = host.substring(1, host.length() - 1);
            if (literal.indexOf('%') >= 0) throw bad(text, "IPv6 zone ids (%...) are not supported");
            if (literal.indexOf(':') < 0) throw bad(text, "\"" + literal + "\" in brackets is not an IPv6 address");
            try {
                return Inet6Address.ofLiteral(literal);
            } catch (IllegalArgumentException e) {
                throw bad(text, "\"" + literal + "\" is not an IPv6 address");
            }
        }
        if (host.indexOf(':') >= 0) throw bad(text, "an IPv6 address must be in brackets, as in [::1]:8080");
        if (!host.chars().allMatch(c -> c == '.' || (c >= '0' && c <= '9'))) {
            throw bad(text, "\"" + host + "\" is not a numeric IPv4 address (host names are not resolved)");
        }
        return ipv4(text, host);
    }

    /** Exactly four decimal numbers 0..255 without leading zeros (which inet_aton reads as octal). */
    private static InetAddress ipv4(String text, String host) {
        String[] parts = host.split("\\.", -1);
        boolean ok = parts.length == 4;
        for (int i = 0; ok && i < 4; i++) {
            String p = parts[i];
            ok = !p.isEmpty() && p.length() <= 3 && (p.length() == 1 || p.charAt(0) != '0')
                    && Integer.parseInt(p) <= 255;
        }
        if (!ok) throw bad(text, "\"" + host + "\" is not an IPv4 address (four numbers 0-255, as in 127.0.0.1)");
        return Inet4Address.ofLiteral(host);
    }

    private static IllegalArgumentException bad(String text, String why) {
        return new IllegalArgumentException("bad listen address \"" + text + "\": " + why);
    }
}
