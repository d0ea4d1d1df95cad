package dev.corral;

import dev.corral.spec.ListenAddress;
import dev.corral.spec.Namespace;
import dev.corral.spec.Problem;
import dev.corral.spec.SpecException;
import dev.corral.testing.ListenProbe;
import dev.corral.testing.Run;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Listening sockets passed into jails with systemd's protocol, served from a private network namespace. */
class JailListenTest {
    private final List<ListeningSocket> sockets = new ArrayList<>();

    @AfterEach
    void closeSockets() {
        sockets.forEach(ListeningSocket::close);
    }

    private ListeningSocket open(String listen, String name) throws IOException {
        ListeningSocket s = ListeningSocket.open(listen, name);
        sockets.add(s);
        return s;
    }

    private static int port(ListeningSocket s) {
        return ((ListenAddress.Inet) s.address()).port();
    }

    private static String ask(ListeningSocket s) throws IOException {
        try (Socket c = new Socket()) {
            c.connect(new InetSocketAddress("127.0.0.1", port(s)), 10_000);
            c.setSoTimeout(10_000);
            return new BufferedReader(new InputStreamReader(c.getInputStream(), StandardCharsets.UTF_8)).readLine();
        }
    }

    private static String askUnix(Path path) throws IOException {
        try (SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(path))) {
            ByteBuffer buf = ByteBuffer.allocate(256);
            while (c.read(buf) >= 0) { }
            return new String(buf.array(), 0, buf.position(), StandardCharsets.UTF_8).strip();
        }
    }

    private static JailBuilder probe() throws Exception {
        JailBuilder b = new JailBuilder();
        return b.command(dev.corral.testing.StaticBinary.bindInto(b, ListenProbe.build()));
    }

    private static void assertExitsCleanly(JailedProcess p) throws Exception {
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(new String(p.getErrorStream().readAllBytes())).isZero();
    }

    @Test
    void aProgramInAPrivateNetworkNamespaceServesOnThePassedSocket() throws Exception {
        ListeningSocket http = open("127.0.0.1:0", "http");
        JailedProcess p = probe().passListeningSocket(http).start();
        assertThat(ask(http)).isEqualTo("http fd 3 pid 2");
        assertExitsCleanly(p);
        // The jail's network namespace is its own: nothing listens on loopback there but what it was given.
        assertThat(Run.of(new JailBuilder().command("sh", "-c", "cat /proc/net/tcp | wc -l")).out().strip()).isEqualTo("1");
    }

    @Test
    void tcpAndUnixSocketsArriveInOrderWithTheirNames(@TempDir Path dir) throws Exception {
        Path sock = dir.resolve("app.sock");
        ListeningSocket web = open("127.0.0.1:0", "web");
        ListeningSocket admin = open("unix:" + sock, "admin");
        JailedProcess p = probe().passListeningSockets(List.of(web, admin)).start();
        assertThat(ask(web)).isEqualTo("web fd 3 pid 2");
        assertThat(askUnix(sock)).isEqualTo("admin fd 4 pid 2");
        assertExitsCleanly(p);
    }

    @Test
    void theEnvironmentFollowsSystemdsProtocol(@TempDir Path dir) throws Exception {
        List<ListeningSocket> two = List.of(open("127.0.0.1:0", "web"), open("unix:" + dir.resolve("a.sock"), "admin"));
        String script = "echo $LISTEN_FDS $LISTEN_PID $LISTEN_FDNAMES $$";
        // Under the tiny init the program is PID 2; as PID 1 it is 1.
        assertThat(Run.of(new JailBuilder().passListeningSockets(two).command("sh", "-c", script)).out())
                .isEqualTo("2 2 web:admin 2\n");
        assertThat(Run.of(new JailBuilder().init(false).passListeningSockets(two).command("sh", "-c", script)).out())
                .isEqualTo("2 1 web:admin 1\n");
        // Without a pid namespace, its pid is the host's.
        String[] shared = Run.of(new JailBuilder().share(Namespace.PID).passListeningSockets(two)
                .command("sh", "-c", script)).out().strip().split(" ");
        assertThat(shared[1]).isEqualTo(shared[3]).isNotEqualTo("2");
        // Unnamed sockets are "unknown", as systemd reports them.
        try (ListeningSocket plain = ListeningSocket.open("127.0.0.1:0")) {
            assertThat(Run.of(new JailBuilder().passListeningSocket(plain).command("sh", "-c", script)).out())
                    .isEqualTo("1 2 unknown 2\n");
        }
    }

    @Test
    void theListenVariablesAreCorralsToSet() throws Exception {
        SpecException e = catchThrowableOfType(SpecException.class, () -> new JailBuilder()
                .passListeningSocket(open("127.0.0.1:0", "web")).env("LISTEN_FDS", "5").command("true").start());
        assertThat(e.problems()).extracting(Problem::toString)
                .containsExactly("environment: LISTEN_FDS is set by corral for the passed sockets");
    }

    @Test
    void onlyStdioAndThePassedSocketsAreOpenInTheProgram() throws Exception {
        // Ten sockets: their fds 3-12 cover the ones the executor itself had open in the jail.
        List<ListeningSocket> ten = new ArrayList<>();
        for (int i = 0; i < 10; i++) ten.add(open("127.0.0.1:0", "s" + i));
        assertThat(openFds(new JailBuilder().passListeningSockets(ten)))
                .containsExactlyElementsOf(IntStream.rangeClosed(0, 12).boxed().toList());
        assertThat(Run.of(new JailBuilder().passListeningSockets(ten).command("sh", "-c",
                "readlink /proc/$$/fd/3 /proc/$$/fd/12; echo $LISTEN_FDS")).out())
                .matches("socket:\\[\\d+]\nsocket:\\[\\d+]\n10\n");
        assertThat(openFds(new JailBuilder().passListeningSocket(ten.get(3)))).containsExactly(0, 1, 2, 3);
        // Every socket still answers from the right fd.
        JailedProcess p = probe().passListeningSockets(ten).start();
        for (int i = 0; i < 10; i++) assertThat(ask(ten.get(i))).isEqualTo("s" + i + " fd " + (3 + i) + " pid 2");
        assertExitsCleanly(p);
    }

    /**
     * The shell's own descriptors, listed by a child while the shell waits: a plain command, no
     * pipe the shell would hold, and not the last one (which the shell would exec).
     */
    private static List<Integer> openFds(JailBuilder b) throws Exception {
        String out = Run.of(b.command("sh", "-c", "ls /proc/$$/fd; true")).out();
        return out.lines().map(Integer::valueOf).sorted().toList();
    }

    @Test
    void neitherTheMonitorNorInitKeepsACopy() throws Exception {
        ListeningSocket http = open("127.0.0.1:0", "http");
        JailedProcess p = new JailBuilder().passListeningSocket(http).command("sh", "-c", "echo up; read x || true").start();
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream()));
        assertThat(out.readLine()).isEqualTo("up");
        String passed = Files.readSymbolicLink(Path.of("/proc/self/fd/" + http.fd())).toString();
        assertThat(passed).startsWith("socket:");
        // (A monitor that was a spare executor has a socket of its own: its plan channel.)
        assertThat(links(p.pid())).as("monitor's fds").doesNotContain(passed);
        List<String> initFds = links(p.jailPid());
        assertThat(initFds).as("init's fds").noneMatch(l -> l.startsWith("socket:"));
        // Its signalfd, and the pipe on which it tells the monitor the program's status: nothing else.
        assertThat(initFds.stream().filter(l -> !l.startsWith("anon_inode:")).toList()).as("init's fds")
                .singleElement().satisfies(pipe -> assertThat(links(p.pid())).as("monitor's fds").contains(pipe));
        p.getOutputStream().close();
        assertExitsCleanly(p);
    }

    private static List<String> links(long pid) throws IOException {
        try (var fds = Files.list(Path.of("/proc/" + pid + "/fd"))) {
            return fds.map(f -> {
                try {
                    return Files.readSymbolicLink(f).toString();
                } catch (IOException e) {
                    return "gone";
                }
            }).toList();
        }
    }

    @Test
    void aReloadKeepsTheSocketAndTheConnectionsWaitingOnIt() throws Exception {
        ListeningSocket http = open("127.0.0.1:0", "http");
        JailedProcess first = probe().passListeningSocket(http).start();
        assertThat(ask(http)).isEqualTo("http fd 3 pid 2");
        assertExitsCleanly(first);
        // Between two jails the kernel queues new connections on the caller's socket.
        try (Socket waiting = new Socket()) {
            waiting.connect(new InetSocketAddress("127.0.0.1", port(http)), 10_000);
            waiting.setSoTimeout(10_000);
            JailedProcess second = probe().passListeningSocket(http).start();
            assertThat(new BufferedReader(new InputStreamReader(waiting.getInputStream())).readLine())
                    .isEqualTo("http fd 3 pid 2");
            assertExitsCleanly(second);
        }
        assertThat(http.isOpen()).isTrue();
    }

    @Test
    void ipv6AndTheWildcardBind() throws Exception {
        Path inet6 = Path.of("/proc/net/if_inet6");
        assumeTrue(Files.exists(inet6) && Files.readString(inet6).lines().anyMatch(l -> l.startsWith("0".repeat(31) + "1 ")),
                "this host has no ::1");
        ListeningSocket v6 = open("[::1]:0", "v6");
        assertThat(v6.address().toString()).startsWith("[0:0:0:0:0:0:0:1]:");
        ListeningSocket any = open("*:0", "any");
        assertThat(any.address().toString()).startsWith("0.0.0.0:");
        JailedProcess p = probe().passListeningSockets(List.of(v6, any)).start();
        try (Socket c = new Socket()) {
            c.connect(new InetSocketAddress("::1", port(v6)), 10_000);
            assertThat(new BufferedReader(new InputStreamReader(c.getInputStream())).readLine()).isEqualTo("v6 fd 3 pid 2");
        }
        assertThat(ask(any)).isEqualTo("any fd 4 pid 2");
        assertExitsCleanly(p);
    }

    @Test
    void badListenAddressesAndNamesAreNamedInTheError() {
        assertThatThrownBy(() -> ListeningSocket.open("127.0.0.1:99999"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("bad listen address \"127.0.0.1:99999\": the port must be a number from 0 to 65535, not 99999");
        assertThatThrownBy(() -> ListeningSocket.open("localhost:8080"))
                .hasMessage("bad listen address \"localhost:8080\": \"localhost\" is not a numeric IPv4 address"
                        + " (host names are not resolved)");
        assertThatThrownBy(() -> ListeningSocket.open("127.0.0.1:0", "a:b"))
                .hasMessage("listening socket 127.0.0.1:0: name \"a:b\" holds ':', which separates names in LISTEN_FDNAMES");
    }

    @Test
    void aBusyAddressIsAnErrorNamingIt() throws Exception {
        ListeningSocket http = open("127.0.0.1:0", "http");
        String taken = "127.0.0.1:" + port(http);
        assertThatThrownBy(() -> open(taken, "again")).isInstanceOf(IOException.class)
                .hasMessage("bind " + taken + ": Address already in use");
    }

    @Test
    void aClosedSocketIsRefusedBeforeAnythingStarts() throws Exception {
        ListeningSocket http = open("127.0.0.1:0", "http");
        JailBuilder b = new JailBuilder().passListeningSocket(http).command("true");
        http.close();
        SpecException e = catchThrowableOfType(SpecException.class, b::start);
        assertThat(e.problems()).extracting(Problem::toString).containsExactly("passedSockets[0]: socket \"http\" is closed");
    }

    @Test
    void aStaleUnixSocketIsReplacedButALiveOneOrAFileIsNot(@TempDir Path dir) throws Exception {
        Path stale = dir.resolve("stale.sock");
        ListeningSocket first = open("unix:" + stale, "first");
        first.close(); // leaves the file, as a crashed server would
        assertThat(stale).exists();
        open("unix:" + stale, "second");

        Path live = dir.resolve("live.sock");
        try (ServerSocketChannel other = ServerSocketChannel.open(java.net.StandardProtocolFamily.UNIX)) {
            other.bind(UnixDomainSocketAddress.of(live));
            assertThatThrownBy(() -> open("unix:" + live, "mine"))
                    .hasMessage("bind unix:" + live + ": Address already in use");
        }
        Path file = Files.writeString(dir.resolve("file"), "keep me");
        assertThatThrownBy(() -> open("unix:" + file, "mine")).hasMessage("bind unix:" + file + ": Address already in use");
        assertThat(file).hasContent("keep me");
    }
}
