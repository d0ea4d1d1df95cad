package dev.corral.cli;

import dev.corral.JailBuilder;
import dev.corral.JailedProcess;
import dev.corral.spec.CgroupSpec;
import dev.corral.spec.Seccomp;
import dev.corral.sys.Libc;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * What the launcher's AOT caches are made from: {@code ./corral} runs this once per build and kind
 * with {@code -XX:AOTCacheOutput}, and the cache then holds, loaded and linked, the classes the
 * command took as it ran. {@code run}: {@code corral run -- true}. {@code exec}: a jail, and
 * {@code corral exec} into it (trained on {@code run} alone, a cold {@code corral exec} loaded
 * its classes from the jar: 440 against 261 ms). {@code ctl}: {@code corral ctl status} (and
 * so {@code corral logs}: the same client) against a stand-in for the daemon that answers once.
 * Not in help; best effort.
 */
@Command(name = "aot-training", hidden = true)
final class AotTrainingCommand implements Callable<Integer> {
    @Parameters(paramLabel = "run|exec|ctl", description = "The kind of command to train.")
    String kind;

    @Override
    public Integer call() throws Exception {
        return switch (kind) {
            case "run" -> Main.run(new String[] {"run", "--", "true"});
            case "exec" -> exec();
            case "ctl" -> ctl();
            default -> {
                System.err.println("corral: aot-training: run, exec or ctl, not " + kind);
                yield ExitCodes.USAGE;
            }
        };
    }

    /** What a daemon with one application answers to GET /status (as far as `ctl status` reads it). */
    private static final String STATUS = """
            {"applications": {"web": {"state": "running", "pid": 2, "restarts": 1, "last_exit": 0, "uptime_s": 1.5}}}
            """;

    private static int ctl() throws Exception {
        Path dir = Files.createTempDirectory("corral-aot-training");
        Path socket = dir.resolve("control.sock");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(socket));
            Thread.ofPlatform().daemon().name("corral-aot-training-daemon").start(() -> answerOnce(server));
            return Main.run(new String[] {"ctl", "--socket", socket.toString(), "status"});
        } finally {
            Files.deleteIfExists(socket);
            Files.deleteIfExists(dir);
        }
    }

    /** Reads one request's head and answers it with {@link #STATUS}. */
    private static void answerOnce(ServerSocketChannel server) {
        try (SocketChannel client = server.accept()) {
            ByteBuffer in = ByteBuffer.allocate(16 * 1024);
            while (in.hasRemaining() && client.read(in) > 0) {
                if (new String(in.array(), 0, in.position(), StandardCharsets.ISO_8859_1).contains("\r\n\r\n")) break;
            }
            byte[] body = STATUS.getBytes(StandardCharsets.UTF_8);
            String head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + body.length
                    + "\r\nConnection: close\r\n\r\n";
            client.write(ByteBuffer.wrap(head.getBytes(StandardCharsets.ISO_8859_1)));
            client.write(ByteBuffer.wrap(body));
        } catch (IOException e) {
            // best effort: `ctl status` then trains its error path
        }
    }

    private static int exec() throws Exception {
        JailBuilder b = new JailBuilder().command("sleep", "60").stdio(JailBuilder.StdioMode.PIPE)
                .cgroup(CgroupSpec.Mode.NONE);
        // Only root may read a jail's seccomp filter (to give the joining process the same): a
        // normal user's exec into a filtered jail fails closed, and would train nothing.
        if (Libc.geteuid() != 0) b.seccomp(Seccomp.UNCONFINED);
        JailedProcess jail = b.start();
        try {
            return Main.run(new String[] {"exec", "--pid", String.valueOf(jail.pid()), "--", "true"});
        } finally {
            jail.destroyForcibly();
            jail.waitFor();
        }
    }
}
