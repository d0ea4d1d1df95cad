package dev.corral.daemon.api;

import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Blocker;
import org.eclipse.jetty.util.Callback;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * Reads an application's log from where it last stopped, and follows it across rotations: when
 * the file is replaced (a new inode) or shrinks, reading starts again at its beginning.
 */
final class LogTail {
    private static final long POLL_MS = 100;
    private final Path file;
    private Object identity;
    private long offset;

    LogTail(Path file) {
        this.file = file;
    }

    /** What the log gained since the last call (all of it the first time). */
    byte[] next() {
        try {
            BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
            if (identity != null && (!identity.equals(a.fileKey()) || a.size() < offset)) offset = 0;
            identity = a.fileKey();
            if (a.size() <= offset) return new byte[0];
            try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
                f.seek(offset);
                byte[] b = new byte[(int) Math.min(a.size() - offset, 1 << 20)];
                f.readFully(b);
                offset += b.length;
                return b;
            }
        } catch (IOException e) {
            return new byte[0]; // no log yet
        }
    }

    /** Streams the log and what follows until the client goes away. */
    void follow(Response response, Callback done) {
        try {
            while (true) {
                byte[] b = next();
                // An empty write still fails once the client is gone, which ends the loop.
                try (Blocker.Callback written = Blocker.callback()) {
                    response.write(false, ByteBuffer.wrap(b), written);
                    written.block();
                }
                Thread.sleep(POLL_MS);
            }
        } catch (IOException | InterruptedException e) {
            done.failed(e);
        }
    }
}
