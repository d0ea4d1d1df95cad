package dev.corral.daemon.api;

import jdk.net.ExtendedSocketOptions;
import jdk.net.UnixDomainPrincipal;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.io.SocketChannelEndPoint;

import java.io.IOException;
import java.nio.file.attribute.UserPrincipal;
import java.util.Optional;
import java.util.Set;

/**
 * Who is on the other end of the control socket (SO_PEERCRED), and whether they may be served:
 * only root and the daemon's own user. The socket's mode 0600 says the same; this holds even if
 * the file's mode is changed, or the socket is reached through a descriptor passed on.
 */
final class PeerCheck {
    private final Set<UserPrincipal> allowed;

    PeerCheck(Set<UserPrincipal> allowed) {
        this.allowed = Set.copyOf(allowed);
    }

    /** The peer's user, or empty when the connection is not a Unix socket or cannot say. */
    static Optional<UserPrincipal> peer(EndPoint endPoint) {
        if (!(endPoint instanceof SocketChannelEndPoint s)) return Optional.empty();
        try {
            UnixDomainPrincipal p = s.getChannel().getOption(ExtendedSocketOptions.SO_PEERCRED);
            return Optional.ofNullable(p).map(UnixDomainPrincipal::user);
        } catch (IOException | UnsupportedOperationException e) {
            return Optional.empty();
        }
    }

    boolean allows(EndPoint endPoint) {
        return peer(endPoint).map(allowed::contains).orElse(false);
    }
}
