package dev.corral.sys;

import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/**
 * Writes to a connected stream socket held as a raw descriptor, which Java's streams cannot wrap
 * (a socket's {@code /proc/self/fd} entry cannot be opened as a pipe's can). Sent with
 * MSG_NOSIGNAL: a peer gone is an IOException, not a SIGPIPE. Closing closes the descriptor.
 */
public final class SocketOutputStream extends OutputStream {
    private final int fd;
    private boolean closed;

    public SocketOutputStream(int fd) {
        this.fd = fd;
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public synchronized void write(byte[] b, int off, int len) throws IOException {
        java.util.Objects.checkFromIndexSize(off, len, b.length);
        if (closed) throw new IOException("socket closed");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(Math.max(1, len));
            MemorySegment.copy(b, off, buf, JAVA_BYTE, 0, len);
            long done = 0;
            while (done < len) {
                long n = Sockets.send(fd, buf.asSlice(done, len - done));
                if (n < 0) throw new IOException("send: " + Libc.strerror((int) -n));
                done += n;
            }
        }
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        Libc.close(fd);
    }
}
