package dev.corral.launch;

import dev.corral.JailSetupException;
import dev.corral.JailedProcess;
import dev.corral.cgroup.CgroupStats;
import dev.corral.cgroup.JailCgroup;
import dev.corral.plan.LaunchPlan;
import dev.corral.plan.Step;
import dev.corral.sys.EventLoop;
import dev.corral.sys.Libc;
import dev.corral.sys.NativeException;

import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A jail seen from Java: the executor's monitor process (our child), its event pipe, and the
 * program's streams. Once the program runs, the event pipe is followed by the JVM's one
 * {@link EventLoop}; when it ends, a virtual thread reaps the monitor and completes the exit, so a
 * running jail costs no thread of its own.
 */
final class MonitoredJail extends JailedProcess {
    private static final int SIGTERM = 15, SIGKILL = 9;
    private static final int ENOENT = 2, EACCES = 13;

    private final int monitorPid;
    private final LaunchPlan plan;
    /** The plan's steps as sent, with the monitor's cgroup steps: failures are numbered in it. */
    private final List<Step> steps;
    private final JailCgroup cgroup;
    private volatile CgroupStats finalStats;
    private final OutputStream control;
    private final EventLines events;
    private final OutputStream stdin;
    private final InputStream stdout;
    private final InputStream stderr;
    private final CompletableFuture<Process> exit = new CompletableFuture<>();
    /** The program's status, as soon as it is known (completed off the event loop's thread). */
    private final CompletableFuture<Integer> programExit = new CompletableFuture<>();
    private final CountDownLatch exited = new CountDownLatch(1);
    private final Object reapLock = new Object();
    private boolean reaped;
    private volatile long jailPid = -1;
    private volatile int exitValue = -1;
    /** The status in the monitor's EXIT event; -1 until it comes (it never does if the monitor is killed). */
    private volatile int reportedExit = -1;
    /** Run once the jail is gone, before waitFor() returns (the launcher gives back an id range). */
    private final List<Runnable> whenGone = new java.util.ArrayList<>();
    private boolean gone;
    /**
     * Whether the program's status, as the jail's init reports it, ends the wait. Then the
     * kernel's teardown of the namespaces goes on after waitFor() returns (as it does after
     * bubblewrap's); a jail with a cgroup or with work for {@link #whenGone} is waited for whole.
     */
    private final boolean endsAtReport;
    private final java.util.concurrent.atomic.AtomicBoolean finished = new java.util.concurrent.atomic.AtomicBoolean();

    /**
     * {@code waitsForTeardown}: something must run once the jail is gone (see {@link #whenGone}),
     * and it must have run before {@link #waitFor()} returns.
     */
    MonitoredJail(int monitorPid, LaunchPlan plan, List<Step> steps, JailCgroup cgroup, boolean waitsForTeardown,
                  int controlFd, int eventFd, int stdinFd, int stdoutFd, int stderrFd) throws IOException {
        this.monitorPid = monitorPid;
        this.plan = plan;
        this.steps = List.copyOf(steps);
        this.cgroup = cgroup;
        this.endsAtReport = cgroup == null && !waitsForTeardown;
        // A spare executor's plan channel is a socket (see Launcher#giveToSpare), a pipe otherwise.
        this.control = dev.corral.sys.Sockets.isSocket(controlFd) ? new dev.corral.sys.SocketOutputStream(controlFd)
                : output(controlFd);
        this.events = new EventLines(eventFd);
        this.stdin = stdinFd < 0 ? OutputStream.nullOutputStream() : output(stdinFd);
        this.stdout = stdoutFd < 0 ? InputStream.nullInputStream() : input(stdoutFd);
        this.stderr = stderrFd < 0 ? InputStream.nullInputStream() : input(stderrFd);
    }

    /*
     * Java streams cannot wrap a raw descriptor, but they can open its /proc/self/fd entry: for a
     * pipe that is a new description of the same pipe. The raw descriptor is closed right after.
     */
    private static FileInputStream input(int fd) throws IOException {
        try {
            return new FileInputStream("/proc/self/fd/" + fd);
        } finally {
            Libc.close(fd);
        }
    }

    private static FileOutputStream output(int fd) throws IOException {
        try {
            return new FileOutputStream("/proc/self/fd/" + fd);
        } finally {
            Libc.close(fd);
        }
    }

    /** Sends the plan, runs the id map helpers if the plan needs them (then says "go"), and waits for exec. */
    void begin(byte[] encodedPlan) throws JailSetupException, IOException {
        boolean started = false;
        try {
            started = sendPlanAndAwaitExec(encodedPlan);
        } finally {
            // A start that failed hands no process out: nobody else would close these (each a
            // descriptor until the garbage collector finds it; a daemon restarting an app that
            // cannot exec lost four a try).
            if (!started) closeQuietly(control, stdin, stdout, stderr);
        }
    }

    private boolean hasMemoryLimit() {
        return plan.cgroup() != null && plan.cgroup().dirs().stream().flatMap(d -> d.settings().stream())
                .anyMatch(s -> s.file().equals("memory.limit_in_bytes") || s.file().equals("memory.max"));
    }

    private static void closeQuietly(java.io.Closeable... streams) {
        for (java.io.Closeable c : streams) {
            try {
                c.close();
            } catch (IOException ignored) {
                // closing is all that is left to do
            }
        }
    }

    /** {@link #begin}'s work: true once the program runs (its streams are the caller's then). */
    private boolean sendPlanAndAwaitExec(byte[] encodedPlan) throws JailSetupException, IOException {
        try {
            control.write(encodedPlan);
            control.flush();
            String line;
            while ((line = events.readLine()) != null) {
                if (line.startsWith("PID ")) {
                    // A second PID: the first process forked into its pid namespace, and its child
                    // took its place (it had the maps already: they belong to the user namespace).
                    boolean first = jailPid < 0;
                    jailPid = Long.parseLong(line.substring(4).trim());
                    // Unless the maps need newuidmap/newgidmap, the monitor has written them and gone on.
                    if (first && plan.idMaps() != null && plan.idMaps().useHelpers()) {
                        try {
                            IdMapWriter.writeWithHelpers(plan.idMaps(), jailPid);
                        } catch (JailSetupException e) {
                            control.write('A');
                            control.flush();
                            drainAndReap();
                            throw e;
                        }
                        control.write('G');
                        control.flush();
                    }
                } else if (line.startsWith("ERR ")) {
                    JailSetupException failure = failure(line);
                    drainAndReap();
                    throw failure;
                } else if (line.equals("OK")) {
                    follow();
                    return true;
                } else if (line.startsWith("EXIT ")) {
                    exitReported();
                    break;
                }
            }
            Libc.close(events.fd());
            int status = reap();
            throw new JailSetupException("the executor ended before the program started (status " + status + ")"
                    + (status == 128 + 9 && hasMemoryLimit() ? "; killed, most likely by the kernel for the jail's memory limit,"
                    + " which its own set-up already exceeds (--memory / limits.memory too small)" : ""), 0, 125);
        } catch (IOException e) {
            Libc.close(events.fd());
            killMonitor(SIGKILL);
            reapQuietly();
            throw e;
        }
    }

    private JailSetupException failure(String line) {
        // ERR <step> <errno> <detail>
        String[] f = line.split(" ", 4);
        int step = Integer.parseInt(f[1]);
        int errno = Integer.parseInt(f[2]);
        String detail = f.length > 3 ? f[3] : "";
        String reason = Libc.strerror(errno);
        String words;
        if (step >= 0 && step < steps.size()) {
            Step s = steps.get(step);
            if (s.op() == dev.corral.plan.Op.IDMAP) {
                // args: k, recursive, path, the field that asked for it; the detail is the path when
                // mount_setattr itself refused, else the step before it that failed
                String path = s.args().get(2);
                return new JailSetupException(s.args().get(3) + ": cannot idmap " + path + ": "
                        + (detail.equals(path) ? reason + IdmapFailure.why(errno) : detail + ": " + reason), errno, 125);
            }
            words = s.words();
            if (detail.isEmpty() || words.contains(detail) || detail.startsWith("exec ")) {
                return new JailSetupException(words + ": " + reason, errno, exitFor(s, errno));
            }
            return new JailSetupException(words + ": " + detail + ": " + reason, errno, exitFor(s, errno));
        }
        return new JailSetupException("executor: " + detail + ": " + reason, errno, 125);
    }

    private static int exitFor(Step s, int errno) {
        if (s.op() != dev.corral.plan.Op.EXEC) return 125;
        return errno == ENOENT ? 127 : 126;
    }

    /** After a failure: wait for the monitor's last words and reap it. */
    private void drainAndReap() {
        try {
            String line;
            while ((line = events.readLine()) != null) {
                if (line.startsWith("EXIT ")) exitReported();
            }
        } catch (IOException ignored) {
            // nothing more to learn
        }
        Libc.close(events.fd());
        reapQuietly();
    }

    /** The program runs: the event loop takes the pipe (and any line already read past "OK"). */
    private void follow() throws JailSetupException {
        drainEvents();
        try {
            EventLoop.shared().watch(events.fd(), new EventLoop.Reader() {
                @Override
                public void data(byte[] b, int off, int len) {
                    events.feed(b, off, len);
                    drainEvents();
                }

                @Override
                public void end() {
                    // Reaping and whatever waits on the exit may block: not on the loop's thread.
                    Thread.ofVirtual().name("corral-jail-end-" + monitorPid).start(MonitoredJail.this::ended);
                }
            });
        } catch (NativeException e) {
            // The loop has closed the pipe already; without it the jail could not be followed.
            killMonitor(SIGKILL);
            reapQuietly();
            throw new JailSetupException("cannot follow the jail: " + e.getMessage(), e.errno(), 125);
        }
    }

    private void drainEvents() {
        String line;
        while ((line = events.next()) != null) {
            if (line.startsWith("STATUS ")) {
                try {
                    programExited(Integer.parseInt(line.substring(7).trim()));
                } catch (NumberFormatException ignored) {
                    // a garbled report: the EXIT line or the monitor's wait status tells it
                }
            } else if (line.startsWith("EXIT ")) {
                try {
                    reportedExit = Integer.parseInt(line.substring(5).trim());
                } catch (NumberFormatException ignored) {
                    // a garbled report: the monitor's wait status tells the rest
                }
                exitReported();
                if (endsAtReport && reportedExit >= 0) finish(reportedExit);
            }
        }
    }

    /** The monitor closed its event pipe: it is exiting or gone. */
    private void ended() {
        int code = reportedExit;
        int status = reapQuietly();
        if (code < 0 && cgroup != null) {
            // The monitor died without its last word (killed itself): its jail dies by its death
            // signal, and the emptied cgroup is left to us.
            cgroup.removeWhenEmpty(java.time.Duration.ofSeconds(2));
        }
        try {
            control.close();
        } catch (IOException ignored) {
            // already closed
        }
        runWhenGone();
        finish(code >= 0 ? code : status);
    }

    /**
     * The exit is known: waitFor() returns. Called from the event loop (a reported status) or at
     * the pipe's end, whichever comes first; the exit future's actions never run on the loop.
     */
    private void finish(int value) {
        if (!finished.compareAndSet(false, true)) return;
        exitValue = value;
        exited.countDown();
        offLoop(() -> {
            programExit.complete(value);
            exit.complete(this);
        });
    }

    /** The program's status came ahead of the jail's end (a jail with a cgroup: STATUS). */
    private void programExited(int status) {
        offLoop(() -> programExit.complete(status));
    }

    /** Runs {@code r} on a virtual thread unless on one already: never a caller's action on the loop. */
    private void offLoop(Runnable r) {
        if (Thread.currentThread().isVirtual()) {
            r.run();
        } else {
            Thread.ofVirtual().name("corral-jail-exit-" + monitorPid).start(r);
        }
    }

    /** Runs {@code r} once the jail has ended, before {@link #waitFor()} returns; at once if it has. */
    void whenGone(Runnable r) {
        synchronized (whenGone) {
            if (!gone) {
                whenGone.add(r);
                return;
            }
        }
        r.run();
    }

    private void runWhenGone() {
        List<Runnable> all;
        synchronized (whenGone) {
            gone = true;
            all = List.copyOf(whenGone);
            whenGone.clear();
        }
        all.forEach(Runnable::run);
    }

    /**
     * The jail's processes are all gone and its cgroup still exists: read the final accounting,
     * then let the monitor remove the cgroup.
     */
    private void exitReported() {
        if (cgroup == null) return;
        finalStats = cgroup.stats();
        try {
            synchronized (control) {
                control.write('R');
                control.flush();
            }
        } catch (IOException ignored) {
            // the monitor is gone already, and so is the cgroup
        }
    }

    @Override
    public Optional<JailCgroup> cgroup() {
        return Optional.ofNullable(cgroup);
    }

    @Override
    public Optional<CgroupStats> stats() {
        if (cgroup == null) return Optional.empty();
        CgroupStats last = finalStats;
        return Optional.of(last != null ? last : cgroup.stats());
    }

    private int reap() {
        synchronized (reapLock) {
            try {
                int status = Libc.waitpid(monitorPid);
                reaped = true;
                return decode(status);
            } catch (NativeException e) {
                reaped = true;
                return 125;
            }
        }
    }

    private int reapQuietly() {
        synchronized (reapLock) {
            if (reaped) return exitValue;
        }
        return reap();
    }

    private static int decode(int status) {
        int sig = status & 0x7f;
        return sig == 0 ? (status >> 8) & 0xff : 128 + sig;
    }

    private void killMonitor(int signal) {
        synchronized (reapLock) {
            if (!reaped) Libc.kill(monitorPid, signal);
        }
    }

    @Override public OutputStream getOutputStream() { return stdin; }

    @Override public InputStream getInputStream() { return stdout; }

    @Override public InputStream getErrorStream() { return stderr; }

    @Override
    public int waitFor() throws InterruptedException {
        exited.await();
        return exitValue;
    }

    @Override
    public boolean waitFor(long timeout, TimeUnit unit) throws InterruptedException {
        return exited.await(timeout, unit);
    }

    @Override
    public int exitValue() {
        if (exited.getCount() > 0) throw new IllegalThreadStateException("the jailed program is still running");
        return exitValue;
    }

    @Override public void destroy() { killMonitor(SIGTERM); }

    /**
     * Asks the monitor to SIGKILL the jail's PID 1, which takes the whole pid namespace down; the
     * monitor then reaps it and reports 137, so {@link #waitFor()} returns once the jail is gone.
     * If the monitor cannot be told, it is killed itself (and the jail follows by its death signal).
     */
    @Override
    public Process destroyForcibly() {
        try {
            synchronized (control) {
                control.write('K');
                control.flush();
            }
        } catch (IOException e) {
            killMonitor(SIGKILL);
        }
        return this;
    }

    @Override public boolean supportsNormalTermination() { return true; }

    @Override public boolean isAlive() { return exited.getCount() > 0; }

    @Override public long pid() { return monitorPid; }

    @Override public CompletableFuture<Process> onExit() { return exit.copy(); }

    @Override public CompletableFuture<Integer> onProgramExit() { return programExit.copy(); }

    @Override public long jailPid() { return jailPid; }

    @Override public LaunchPlan plan() { return plan; }

    @Override public void signal(int signal) { killMonitor(signal); }

    @Override
    public String toString() {
        return "JailedProcess[monitor=" + monitorPid + ", jail=" + jailPid + (isAlive() ? ", running]" : ", exit=" + exitValue + "]");
    }
}
