package dev.corral.sys;

import static dev.corral.sys.NativeFunction.pointer;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

/**
 * One thread that reads every watched pipe, through epoll: a supervisor of a thousand jails
 * follows their event pipes and their output with this one thread instead of a blocked thread per
 * pipe (a platform thread's stack each; Java's pipe streams cannot be selected).
 *
 * <p>A watched descriptor belongs to the loop: it is made non-blocking, read whenever it has data,
 * and closed by the loop at end of file or on a read error, after which its reader's
 * {@link Reader#end()} runs. Readers run on the loop's thread and must be quick: anything that
 * may block (waiting for a process, starting one) goes elsewhere.
 *
 * <p>The thread runs while something is watched, and lingers a few seconds after the last watcher
 * (starting a thread for each of many short jails in a row costs ~0.3 ms each). A thread parked in
 * epoll_wait is "in native" to the JVM, and System.exit waits up to 300 ms for such threads before
 * it halts, so a shutdown hook wakes the loop and lets it end first: `corral run` exits at once.
 */
public final class EventLoop {
    /** What a watched descriptor's bytes go to. */
    public interface Reader {
        /** Bytes read; {@code b} is reused after the call returns. */
        void data(byte[] b, int off, int len);

        /** End of file (or a read error); the descriptor is closed already. */
        void end();
    }

    /**
     * A descriptor its owner reads itself (a listening socket: the owner accepts), told when it is
     * readable. Once {@link #unwatch} has returned, it is never told again.
     */
    private static final class Readiness {
        final Runnable ready;
        boolean watched = true;

        Readiness(Runnable ready) {
            this.ready = ready;
        }

        synchronized void fire() {
            if (watched) ready.run();
        }

        synchronized void stop() {
            watched = false;
        }
    }

    private static final int EPOLL_CLOEXEC = 0x80000, EPOLL_CTL_ADD = 1, EPOLL_CTL_DEL = 2;
    private static final int EPOLLIN = 0x1;
    /** struct epoll_event is packed on x86-64: u32 events, u64 data. */
    private static final int EVENT_SIZE = 12, MAX_EVENTS = 64;
    /** Read at most this much from one descriptor per wake-up, so a chatty one cannot starve the rest. */
    private static final int READ_BUDGET = 256 * 1024;

    private static final NativeFunction EPOLL_CREATE1 = NativeFunction.libc("epoll_create1");
    private static final NativeFunction EPOLL_CTL = NativeFunction.libc("epoll_ctl");
    private static final int EFD_CLOEXEC = 0x80000, EFD_NONBLOCK = 0x800;
    /** The epoll data of the wake-up eventfd, which no watched descriptor can have. */
    private static final long WAKE = -1;
    private static final NativeFunction EPOLL_WAIT = NativeFunction.libc("epoll_wait");

    private static final NativeFunction EVENTFD = NativeFunction.libc("eventfd");
    private static final NativeFunction EVENTFD_WRITE = NativeFunction.libc("eventfd_write");
    /** How long the shared loop's thread waits for a new watcher after the last one went. */
    private static final long LINGER_MILLIS = 5000;

    private static final class Holder {
        static final EventLoop SHARED = new EventLoop("corral-events", LINGER_MILLIS);
    }

    private final int epfd;
    /** Written to wake the thread from epoll_wait: the last watcher went, or the JVM is exiting. */
    private final int wake;
    /** Per watched descriptor: a {@link Reader}, or a {@link Readiness}. */
    private final Map<Integer, Object> watched = new ConcurrentHashMap<>();
    private final String name;
    private final long lingerMillis;
    /** The loop's thread while it runs, else null; changed only under this object's lock. */
    private Thread thread;
    /** The JVM is exiting: the thread does not linger. Guarded by this. */
    private boolean closing;

    EventLoop(String name, long lingerMillis) {
        try {
            MemorySegment errno = NativeFunction.errnoSegment(Arena.global());
            epfd = (int) EPOLL_CREATE1.call(errno, EPOLL_CLOEXEC);
            if (epfd < 0) throw new IllegalStateException("epoll_create1: " + Libc.strerror(NativeFunction.errno(errno)));
            wake = (int) EVENTFD.call(errno, 0, EFD_CLOEXEC | EFD_NONBLOCK);
            if (wake < 0) throw new IllegalStateException("eventfd: " + Libc.strerror(NativeFunction.errno(errno)));
            add(wake, WAKE);
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("native call failed to link or run", t);
        }
        this.name = name;
        this.lingerMillis = lingerMillis;
        Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().name(name + "-exit").unstarted(this::endForExit));
    }

    /**
     * At System.exit: an idle loop leaves epoll_wait before the JVM halts (see the class comment).
     * One that still follows jails keeps doing so (other shutdown hooks may be waiting for them)
     * and ends as soon as its last watcher goes.
     */
    private void endForExit() {
        Thread t;
        synchronized (this) {
            closing = true;
            t = thread;
            if (t == null || !watched.isEmpty()) return;
        }
        wake();
        try {
            t.join(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The loop of this JVM; its thread runs while it watches something. */
    public static EventLoop shared() {
        return Holder.SHARED;
    }

    /**
     * Hands {@code fd} to the loop: from now on {@code reader} gets what it carries, and the loop
     * closes it. If it cannot be watched, it is closed and the exception says why.
     */
    public void watch(int fd, Reader reader) throws NativeException {
        if (!Libc.setNonBlocking(fd)) {
            int errno = Libc.errno();
            Libc.close(fd);
            throw new NativeException("fcntl(O_NONBLOCK) on fd " + fd, errno);
        }
        register(fd, reader);
    }

    /**
     * Calls {@code ready} on the loop's thread whenever {@code fd} is readable, until
     * {@link #unwatch}. The loop neither reads nor closes it; it should be non-blocking, and
     * {@code ready} quick.
     */
    public void watchReadable(int fd, Runnable ready) throws NativeException {
        register(fd, new Readiness(ready));
    }

    /** Stops telling about a descriptor given to {@link #watchReadable}; its owner may close it now. */
    public void unwatch(int fd) {
        Object w = watched.remove(fd);
        if (w instanceof Readiness r) {
            r.stop();
            delete(fd);
            if (watched.isEmpty()) wake(); // to start its linger: a reader's end needs no wake-up
        }
    }

    /** Makes the thread leave epoll_wait and look again whether anything is watched. */
    private void wake() {
        try {
            int ignored = (int) EVENTFD_WRITE.callIgnoringErrno(wake, 1L);
        } catch (Throwable t) {
            throw new IllegalStateException("eventfd_write failed to run", t);
        }
    }

    private void register(int fd, Object watcher) throws NativeException {
        synchronized (this) {
            watched.put(fd, watcher);
            try {
                add(fd, fd);
            } catch (NativeException e) {
                if (watched.remove(fd) instanceof Reader) Libc.close(fd); // a reader's descriptor is ours to close
                throw e;
            }
            if (thread == null) {
                thread = Thread.ofPlatform().daemon().name(name).stackSize(256 * 1024).start(this::run);
            }
        }
    }

    private void add(int fd, long data) throws NativeException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ev = arena.allocate(EVENT_SIZE);
            ev.set(JAVA_INT_UNALIGNED, 0, EPOLLIN);
            ev.set(JAVA_LONG_UNALIGNED, 4, data);
            MemorySegment errno = NativeFunction.errnoSegment(arena);
            if ((int) EPOLL_CTL.call(errno, epfd, EPOLL_CTL_ADD, fd, pointer(ev)) < 0) {
                throw new NativeException("epoll_ctl(ADD) fd " + fd, NativeFunction.errno(errno));
            }
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("native call failed to link or run", t);
        }
    }

    /** How many descriptors are watched now. */
    public int watching() {
        return watched.size();
    }

    private void run() {
        Arena arena = Arena.ofConfined();
        MemorySegment events = arena.allocate((long) EVENT_SIZE * MAX_EVENTS, 8);
        MemorySegment errno = NativeFunction.errnoSegment(arena);
        MemorySegment buffer = arena.allocate(64 * 1024, 8);
        byte[] bytes = new byte[(int) buffer.byteSize()];
        long idleSince = 0;
        for (;;) {
            int timeout = -1;
            synchronized (this) {
                if (watched.isEmpty()) {
                    long now = System.nanoTime();
                    if (idleSince == 0) idleSince = now;
                    long left = lingerMillis - (now - idleSince) / 1_000_000;
                    if (left <= 0 || closing) {
                        thread = null;
                        arena.close();
                        return;
                    }
                    timeout = (int) left;
                } else {
                    idleSince = 0;
                }
            }
            int n;
            try {
                n = (int) EPOLL_WAIT.call(errno, epfd, pointer(events), MAX_EVENTS, timeout);
            } catch (Throwable t) {
                throw new IllegalStateException("epoll_wait failed to run", t);
            }
            if (n < 0) {
                if (NativeFunction.errno(errno) == Libc.EINTR) continue;
                throw new IllegalStateException("epoll_wait: " + Libc.strerror(NativeFunction.errno(errno)));
            }
            for (int i = 0; i < n; i++) {
                long data = events.get(JAVA_LONG_UNALIGNED, (long) i * EVENT_SIZE + 4);
                if (data == WAKE) {
                    Libc.read(wake, buffer.asSlice(0, 8)); // reset; the loop's top looks again
                    continue;
                }
                int fd = (int) data;
                Object w = watched.get(fd);
                if (w instanceof Reader reader) {
                    drain(fd, reader, buffer, bytes);
                } else if (w instanceof Readiness r) {
                    try {
                        r.fire();
                    } catch (RuntimeException e) {
                        report(e);
                    }
                }
            }
        }
    }

    /** Reads what {@code fd} has (up to the budget; epoll is level-triggered, the rest comes next turn). */
    private void drain(int fd, Reader reader, MemorySegment buffer, byte[] bytes) {
        int budget = READ_BUDGET;
        while (budget > 0) {
            long got = Libc.read(fd, buffer);
            if (got > 0) {
                MemorySegment.copy(buffer, JAVA_BYTE, 0, bytes, 0, (int) got);
                deliver(reader, bytes, (int) got);
                budget -= (int) got;
                continue;
            }
            if (got < 0 && (Libc.errno() == Libc.EAGAIN || Libc.errno() == Libc.EINTR)) return;
            finish(fd, reader);
            return;
        }
    }

    private void finish(int fd, Reader reader) {
        watched.remove(fd);
        // Closing removes it from the epoll set too; DEL first so nothing fires for a reused number.
        delete(fd);
        Libc.close(fd);
        try {
            reader.end();
        } catch (RuntimeException e) {
            report(e);
        }
    }

    private void delete(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            int ignored = (int) EPOLL_CTL.call(NativeFunction.errnoSegment(arena), epfd, EPOLL_CTL_DEL, fd, 0);
        } catch (Throwable t) {
            throw new IllegalStateException("epoll_ctl failed to run", t);
        }
    }

    private static void deliver(Reader reader, byte[] bytes, int len) {
        try {
            reader.data(bytes, 0, len);
        } catch (RuntimeException e) {
            report(e);
        }
    }

    /** A reader's bug must not stop every other jail's pipes. */
    private static void report(RuntimeException e) {
        System.getLogger(EventLoop.class.getName()).log(System.Logger.Level.ERROR, "a watcher of the event loop failed", e);
    }
}
