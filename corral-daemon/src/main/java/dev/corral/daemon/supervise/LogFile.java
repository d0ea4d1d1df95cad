package dev.corral.daemon.supervise;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * One application's log: its stdout and stderr appended to NAME.log, rotated by size to
 * NAME.log.1 … NAME.log.KEEP. Writers share it; each write is whole.
 */
public final class LogFile {
    private final Path file;
    private final long maxBytes;
    private final int keep;
    private OutputStream out;
    private long size;

    public LogFile(Path file, long maxBytes, int keep) throws IOException {
        this.file = file;
        this.maxBytes = maxBytes;
        this.keep = keep;
        Files.createDirectories(file.getParent());
        open();
    }

    public Path path() {
        return file;
    }

    private void open() throws IOException {
        out = Files.newOutputStream(file, StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.WRITE);
        size = Files.size(file);
    }

    public synchronized void write(byte[] b, int off, int len) throws IOException {
        if (size > 0 && size + len > maxBytes) rotate();
        out.write(b, off, len);
        out.flush();
        size += len;
    }

    private void rotate() throws IOException {
        out.close();
        for (int i = keep - 1; i >= 1; i--) {
            Path from = Path.of(file + "." + i);
            if (Files.exists(from)) Files.move(from, Path.of(file + "." + (i + 1)), StandardCopyOption.REPLACE_EXISTING);
        }
        Files.move(file, Path.of(file + ".1"), StandardCopyOption.REPLACE_EXISTING);
        open();
    }

    /** Copies a stream into the log until it ends, on a small platform thread of its own. */
    public void pump(InputStream in, String name) {
        Thread.ofPlatform().daemon().name(name).stackSize(256 * 1024).start(() -> {
            byte[] buf = new byte[8192];
            try (in) {
                int n;
                while ((n = in.read(buf)) > 0) write(buf, 0, n);
            } catch (IOException ignored) {
                // the jail or the log went away; the other side says why
            }
        });
    }

    public synchronized void close() throws IOException {
        out.close();
    }
}
