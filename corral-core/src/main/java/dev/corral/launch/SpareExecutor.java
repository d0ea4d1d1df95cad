package dev.corral.launch;

import dev.corral.sys.Libc;
import dev.corral.sys.NativeException;

import java.lang.foreign.Arena;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One executor spawned ahead of need, blocked reading its plan. A JVM that starts jail after jail
 * (the daemon, a test suite, a build farm) then finds the next executor already running: its spawn
 * (about 0.7 ms of a 4 ms jail on the machine we measure on) happens while the previous jail runs,
 * not on the path of the next start.
 *
 * <p>A spare is made from the second start on, so a JVM that starts one jail pays for none, unless
 * it asks for one ahead of that start ({@link #makeNow}: the CLI, which spawns it while it parses
 * its arguments, and drops it if no start comes). It serves a start with the same kind of streams
 * as the start before; what a plan hands the executor (listening sockets, namespaces and a root
 * to join) it receives with the plan, on its plan channel, a socket. An unused spare is an idle
 * process named {@code corral-spare}; it exits when the JVM does (its plan channel ends).
 * {@code -Dcorral.spareExecutor=false} turns spares off.
 *
 * <p>A spare made behind a start also clones the next jail's first process while it waits, with
 * that start's clone flags, unless that jail was born in a v2 cgroup or its plan handed the
 * executor descriptors (the child, cloned before they come, would not have them): the new namespaces are then
 * made off the next start's path (the executor makes the mount and uts copies only once the plan
 * has come, and uses the child only for a plan with the same flags). {@code -Dcorral.cloneAhead=false}
 * turns that off.
 */
final class SpareExecutor {
    private static final boolean ENABLED = !"false".equals(System.getProperty("corral.spareExecutor"));
    /** Whether a spare clones the next jail's first process while it waits ({@code -Dcorral.cloneAhead=false}: no). */
    private static final boolean CLONE_AHEAD = !"false".equals(System.getProperty("corral.cloneAhead"));

    /** How the program's streams are wired: the JVM's own, three pipes, or one pipe to a sink. */
    enum Streams { INHERIT, PIPE, SINK }

    /**
     * A spawned executor and the parent's ends of its pipes, -1 for a stream it does not have
     * (a SINK executor's stdout carries stderr too).
     */
    record Spawned(Streams streams, int pid, int control, int events, int stdin, int stdout, int stderr) {
        /** Closes our ends, so the executor reads the end of its plan and exits, and reaps it. */
        void discard() {
            closeOurEnds();
            reap();
        }

        /** As {@link #discard}, and waits for it to exit, on this thread. */
        void discardAndWait() {
            closeOurEnds();
            try {
                Libc.waitpid(pid);
            } catch (NativeException ignored) {
                // reaped already
            }
        }

        private void closeOurEnds() {
            for (int fd : new int[] {control, events, stdin, stdout, stderr}) {
                if (fd >= 0) Libc.close(fd);
            }
        }

        /** Kills it without touching its descriptors (someone else has them), and reaps it. */
        void kill() {
            Libc.kill(pid, 9 /* SIGKILL */);
            reap();
        }

        private void reap() {
            Thread.ofVirtual().name("corral-spare-reap-" + pid).start(() -> {
                try {
                    Libc.waitpid(pid);
                } catch (NativeException ignored) {
                    // reaped already
                }
            });
        }

        /** Still waiting for its plan: its event pipe has not ended (it writes nothing before the plan). */
        boolean waiting() {
            int flags = Libc.fcntl(events, Libc.F_GETFL, 0);
            if (flags < 0 || Libc.fcntl(events, Libc.F_SETFL, flags | Libc.O_NONBLOCK) < 0) return false;
            try (Arena arena = Arena.ofConfined()) {
                long n = Libc.read(events, arena.allocate(1));
                return n < 0 && Libc.errno() == Libc.EAGAIN;
            } finally {
                Libc.fcntl(events, Libc.F_SETFL, flags);
            }
        }
    }

    /** Spawns an executor with the given streams. */
    interface Spawner {
        /**
         * {@code cloneAhead}: the clone flags of the plan the spare will likely get, with which it
         * clones the jail's first process while it waits (0: it does not); a plan with other
         * flags gets a fresh one.
         */
        Spawned spawn(Streams streams, long cloneAhead) throws NativeException;
    }

    private final Spawner spawner;
    private final AtomicReference<Spawned> ready = new AtomicReference<>();
    private final Object lock = new Object();
    /** A spare is being spawned: a start waits for it rather than spawn a second one. */
    private boolean making; // guarded by lock
    /** The spare waiting now was asked for ({@link #makeNow}) by a program about to start one jail. */
    private volatile boolean madeAhead;
    private final AtomicInteger starts = new AtomicInteger();

    SpareExecutor(Spawner spawner) {
        this.spawner = spawner;
    }

    /**
     * For a start with {@code streams}: the spare if there is one of that kind and it still waits,
     * else null (the caller spawns its own). From the second start on, a new spare is made behind
     * it, which clones its child ahead with {@code cloneFlags} (0: it does not).
     */
    Spawned take(Streams streams, long cloneFlags) {
        int n = starts.incrementAndGet();
        Spawned spare = awaitReady();
        madeAhead = false;
        if (spare != null && (spare.streams() != streams || !spare.waiting())) {
            spare.discard();
            spare = null;
        }
        if (n >= 2 && ENABLED) refill(streams, CLONE_AHEAD ? cloneFlags : 0);
        return spare;
    }

    /**
     * Ends the spare {@link #makeNow} made if no start took it, and waits for it to exit: a
     * program that ends without a start (a bad argument) leaves no process for init to reap.
     */
    void dropAhead() {
        if (!madeAhead) return;
        Spawned spare = awaitReady();
        madeAhead = false;
        if (spare != null) spare.discardAndWait();
    }

    /** The pid of the spare waiting now, or -1. */
    long readyPid() {
        Spawned spare = ready.get();
        return spare == null ? -1 : spare.pid();
    }

    /** Discards the spare waiting now, if any; its pid, or -1. */
    long discardReady() {
        Spawned spare = ready.getAndSet(null);
        if (spare == null) return -1;
        spare.discard();
        return spare.pid();
    }

    /**
     * Spawns a spare now, on the calling thread, for a start known to come (the CLI spawns it
     * while it parses its arguments). Nothing if spares are off or one is being made.
     */
    void makeNow(Streams streams) {
        if (ENABLED && claim()) {
            madeAhead = true;
            make(streams, 0);
        }
    }

    private void refill(Streams streams, long cloneAhead) {
        if (claim()) Thread.ofVirtual().name("corral-spare-executor").start(() -> make(streams, cloneAhead));
    }

    private boolean claim() {
        synchronized (lock) {
            if (making) return false;
            making = true;
            return true;
        }
    }

    private void make(Streams streams, long cloneAhead) {
        try {
            Spawned old = ready.getAndSet(spawner.spawn(streams, cloneAhead));
            if (old != null) old.discard();
        } catch (NativeException | RuntimeException e) {
            // No spare this time: the next start spawns its own, as the first one did.
        } finally {
            synchronized (lock) {
                making = false;
                lock.notifyAll();
            }
        }
    }

    /** The spare, once one being spawned is there (a spawn takes about a millisecond); null if none. */
    private Spawned awaitReady() {
        synchronized (lock) {
            boolean interrupted = false;
            while (making) {
                try {
                    lock.wait();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) Thread.currentThread().interrupt();
            return ready.getAndSet(null);
        }
    }
}
