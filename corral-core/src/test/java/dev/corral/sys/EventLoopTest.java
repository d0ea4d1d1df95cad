package dev.corral.sys;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.FileOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The one thread that reads every watched pipe. */
class EventLoopTest {

    /** Collects what one pipe carried. */
    private static final class Collect implements EventLoop.Reader {
        final ByteArrayOutputStream got = new ByteArrayOutputStream();
        final CountDownLatch ended = new CountDownLatch(1);
        volatile String thread;

        @Override
        public synchronized void data(byte[] b, int off, int len) {
            thread = Thread.currentThread().getName();
            got.write(b, off, len);
        }

        @Override
        public void end() {
            ended.countDown();
        }

        synchronized String text() {
            return got.toString(StandardCharsets.UTF_8);
        }
    }

    @Test
    void everyPipeIsReadInOrderUntilItsEndAndThenClosed() throws Exception {
        int pipes = 50;
        List<Collect> readers = new ArrayList<>();
        List<FileOutputStream> writers = new ArrayList<>();
        List<Integer> readEnds = new ArrayList<>();
        for (int i = 0; i < pipes; i++) {
            int[] p = Libc.pipe();
            Collect c = new Collect();
            EventLoop.shared().watch(p[0], c);
            readers.add(c);
            readEnds.add(p[0]);
            writers.add(new FileOutputStream("/proc/self/fd/" + p[1]));
            Libc.close(p[1]);
        }
        // More than the loop reads at once from one pipe in one turn, interleaved across pipes.
        StringBuilder expected = new StringBuilder();
        for (int line = 0; line < 3000; line++) {
            String s = "line " + line + " " + "x".repeat(line % 97) + "\n";
            expected.append(s);
            for (FileOutputStream w : writers) w.write(s.getBytes(StandardCharsets.UTF_8));
        }
        for (FileOutputStream w : writers) w.close();
        for (Collect c : readers) {
            assertThat(c.ended.await(20, TimeUnit.SECONDS)).isTrue();
            assertThat(c.text()).isEqualTo(expected.toString());
            assertThat(c.thread).isEqualTo("corral-events");
        }
        // The loop closed each read end once its writer was gone.
        for (int fd : readEnds) {
            String target = Files.isSymbolicLink(Path.of("/proc/self/fd/" + fd))
                    ? Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString() : "";
            assertThat(target).as("fd %d after its end", fd).doesNotStartWith("pipe:");
        }
    }

    /** A loop of its own whose thread lingers 50 ms, named apart from the shared one. */
    private static final EventLoop SHORT = new EventLoop("corral-events-test", 50);

    @Test
    void theLoopsThreadEndsSoonAfterItsLastWatcher() throws Exception {
        int[] p = Libc.pipe();
        Collect c = new Collect();
        SHORT.watch(p[0], c);
        assertThat(loopThreadAlive()).isTrue();
        Libc.close(p[1]);
        assertThat(c.ended.await(10, TimeUnit.SECONDS)).isTrue();
        // Parked in epoll_wait it would be "in native", and System.exit waits 300 ms for such threads.
        for (int i = 0; i < 500 && loopThreadAlive(); i++) Thread.sleep(10);
        assertThat(loopThreadAlive()).isFalse();
        assertThat(SHORT.watching()).isZero();
        // And it comes back for the next one.
        int[] q = Libc.pipe();
        Collect d = new Collect();
        SHORT.watch(q[0], d);
        try (FileOutputStream w = new FileOutputStream("/proc/self/fd/" + q[1])) {
            Libc.close(q[1]);
            w.write("again\n".getBytes());
        }
        assertThat(d.ended.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(d.text()).isEqualTo("again\n");
    }

    @Test
    void aReadableWatcherIsToldUntilUnwatchedAndTheLoopThenStops() throws Exception {
        int[] p = Libc.pipe();
        assertThat(Libc.setNonBlocking(p[0])).isTrue();
        java.util.concurrent.atomic.AtomicInteger told = new java.util.concurrent.atomic.AtomicInteger();
        CountDownLatch once = new CountDownLatch(1);
        try (FileOutputStream w = new FileOutputStream("/proc/self/fd/" + p[1])) {
            java.lang.foreign.MemorySegment buf = java.lang.foreign.Arena.global().allocate(16);
            SHORT.watchReadable(p[0], () -> {
                while (Libc.read(p[0], buf) > 0) { } // the owner reads, the loop does not
                told.incrementAndGet();
                once.countDown();
            });
            w.write('x');
            w.flush();
            assertThat(once.await(10, TimeUnit.SECONDS)).isTrue();
            SHORT.unwatch(p[0]);
            int after = told.get();
            w.write('y');
            w.flush();
            for (int i = 0; i < 500 && loopThreadAlive(); i++) Thread.sleep(10);
            // Unwatched: never told again, and with the last watcher gone the loop stops.
            assertThat(told.get()).isEqualTo(after);
            assertThat(loopThreadAlive()).isFalse();
            // The loop did not close it: the owner still reads the second byte.
            byte[] got = new byte[1];
            try (var in = new java.io.FileInputStream("/proc/self/fd/" + p[0])) {
                assertThat(in.read(got)).isEqualTo(1);
            }
            assertThat((char) got[0]).isEqualTo('y');
        } finally {
            Libc.close(p[0]);
            Libc.close(p[1]);
        }
    }

    private static boolean loopThreadAlive() {
        return Thread.getAllStackTraces().keySet().stream().anyMatch(t -> t.getName().equals("corral-events-test") && t.isAlive());
    }

    @Test
    void aReaderThatThrowsDoesNotStopTheLoop() throws Exception {
        int[] bad = Libc.pipe();
        EventLoop.shared().watch(bad[0], new EventLoop.Reader() {
            @Override public void data(byte[] b, int off, int len) { throw new IllegalStateException("boom"); }
            @Override public void end() { throw new IllegalStateException("boom at end"); }
        });
        try (FileOutputStream w = new FileOutputStream("/proc/self/fd/" + bad[1])) {
            Libc.close(bad[1]);
            w.write("x".getBytes());
        }
        int[] good = Libc.pipe();
        Collect c = new Collect();
        EventLoop.shared().watch(good[0], c);
        try (FileOutputStream w = new FileOutputStream("/proc/self/fd/" + good[1])) {
            Libc.close(good[1]);
            w.write("still read\n".getBytes());
        }
        assertThat(c.ended.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(c.text()).isEqualTo("still read\n");
    }

    @Test
    void aDescriptorThatCannotBeWatchedIsAnError() {
        assertThatThrownBy(() -> EventLoop.shared().watch(987_654, new Collect()))
                .isInstanceOf(NativeException.class).hasMessageContaining("fd 987654");
    }
}
