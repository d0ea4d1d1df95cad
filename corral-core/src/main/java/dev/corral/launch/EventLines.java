package dev.corral.launch;

import dev.corral.sys.Libc;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/**
 * The monitor's event pipe, as lines ("PID n", "OK", "ERR …", "EXIT n"). Read blocking while the
 * jail starts, then fed by the {@link dev.corral.sys.EventLoop} with whatever arrives; bytes past
 * a line's end wait for the next call, so nothing read early is lost when the reading changes hands.
 */
final class EventLines {
    private final int fd;
    private byte[] pending = new byte[256];
    private int length;

    EventLines(int fd) {
        this.fd = fd;
    }

    int fd() {
        return fd;
    }

    void feed(byte[] b, int off, int len) {
        if (length + len > pending.length) pending = Arrays.copyOf(pending, Math.max(pending.length * 2, length + len));
        System.arraycopy(b, off, pending, length, len);
        length += len;
    }

    /** The next whole line already read, without its newline; null if there is none. */
    String next() {
        for (int i = 0; i < length; i++) {
            if (pending[i] == '\n') {
                String line = new String(pending, 0, i, StandardCharsets.UTF_8);
                System.arraycopy(pending, i + 1, pending, 0, length - i - 1);
                length -= i + 1;
                return line;
            }
        }
        return null;
    }

    /** The next line, blocking until it has come; null at end of file. */
    String readLine() throws IOException {
        String line = next();
        if (line != null) return line;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(512);
            byte[] bytes = new byte[512];
            while ((line = next()) == null) {
                long n = Libc.read(fd, buf);
                if (n == 0) return null;
                if (n < 0) {
                    if (Libc.errno() == Libc.EINTR) continue;
                    throw new IOException("reading the executor's events: " + Libc.strerror(Libc.errno()));
                }
                MemorySegment.copy(buf, JAVA_BYTE, 0, bytes, 0, (int) n);
                feed(bytes, 0, (int) n);
            }
            return line;
        }
    }
}
