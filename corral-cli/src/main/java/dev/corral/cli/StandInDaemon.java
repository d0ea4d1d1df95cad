package dev.corral.cli;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * A stand-in for the daemon's control socket, for the AOT training of the commands that talk to
 * it ({@code ctl}, {@code logs}, {@code exec APP}): each GET of a known path gets its canned JSON
 * (200), anything else a 404, one request per connection. Not an HTTP server: it reads a request
 * head and nothing more.
 */
final class StandInDaemon implements AutoCloseable {
    private final Path dir;
    private final Path socket;
    private final ServerSocketChannel server;
    private final Map<String, String> answers;

    StandInDaemon(Map<String, String> answers) throws IOException {
        this.answers = Map.copyOf(answers);
        this.dir = Files.createTempDirectory("corral-aot-training");
        this.socket = dir.resolve("control.sock");
        this.server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socket));
        Thread.ofPlatform().daemon().name("corral-stand-in-daemon").start(this::serve);
    }

    Path socket() {
        return socket;
    }

    private void serve() {
        while (server.isOpen()) {
            try (SocketChannel client = server.accept()) {
                answer(client);
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    private void answer(SocketChannel client) throws IOException {
        ByteBuffer in = ByteBuffer.allocate(16 * 1024);
        String head = "";
        while (in.hasRemaining() && client.read(in) > 0) {
            head = new String(in.array(), 0, in.position(), StandardCharsets.ISO_8859_1);
            if (head.contains("\r\n\r\n")) break;
        }
        // "GET /path HTTP/1.1"
        String[] requestLine = head.lines().findFirst().orElse("").split(" ");
        String body = requestLine.length > 1 && requestLine[0].equals("GET") ? answers.get(requestLine[1]) : null;
        int status = body != null ? 200 : 404;
        byte[] bytes = (body != null ? body : "{\"error\": \"not found\"}").getBytes(StandardCharsets.UTF_8);
        String responseHead = "HTTP/1.1 " + status + (status == 200 ? " OK" : " Not Found")
                + "\r\nContent-Type: application/json\r\nContent-Length: " + bytes.length + "\r\nConnection: close\r\n\r\n";
        client.write(ByteBuffer.wrap(responseHead.getBytes(StandardCharsets.ISO_8859_1)));
        client.write(ByteBuffer.wrap(bytes));
    }

    @Override
    public void close() throws IOException {
        server.close();
        Files.deleteIfExists(socket);
        Files.deleteIfExists(dir);
    }
}
