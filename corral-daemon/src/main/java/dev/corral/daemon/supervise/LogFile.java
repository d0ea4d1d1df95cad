package dev.corral.daemon.supervise;

import dev.corral.OutputSink;

import java.io.IOException;
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
    private boolean closed;

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
        if (closed) throw new IOException(file + ": closed");
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

    /** A jail's output into this log, written by the event loop as it arrives. */
    public OutputSink sink() {
        return (b, off, len) -> {
            try {
                write(b, off, len);
            } catch (IOException ignored) {
                // a log that cannot be written (disk full, closed after a delete) loses the bytes
            }
        };
    }

    public synchronized void close() throws IOException {
        closed = true;
        out.close();
    }
}
