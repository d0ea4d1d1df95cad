package dev.corral;

import dev.corral.cgroup.CgroupStats;
import dev.corral.cgroup.JailCgroup;
import dev.corral.plan.LaunchPlan;

import java.util.Optional;

/**
 * A program running in a jail. It behaves as any {@link Process}: streams, {@link #waitFor()},
 * {@link #exitValue()} (the program's status: {@code n} for exit(n), {@code 128+N} for signal N),
 * {@link #destroy()} (SIGTERM, forwarded to the program), {@link #destroyForcibly()} (SIGKILL to
 * the whole jail) and {@link #onExit()}.
 *
 * <p>{@link #pid()} is the host pid of corral's monitor process, the direct child of this JVM;
 * {@link #jailPid()} is the host pid of the jail's first process (its PID 1). A jail that joins
 * namespaces and has a pid or time namespace enters it after clone, which takes only children:
 * its first process forks into it, and the child (the PID 1, or for a joined pid namespace the
 * program) takes its place as the monitor's child; {@link #jailPid()} is then that child's.
 *
 * <p>When the wait ends: a jail with a tiny init (the default) and no cgroup of its own is over
 * for {@link #waitFor()} once init has reaped the program, killed whatever else ran in the jail
 * and reported the status, as bubblewrap's is; the kernel's teardown of the namespaces, and the
 * monitor's exit, follow a moment later. A jail with a cgroup is waited for until its processes
 * are gone, its final accounting read ({@link #stats()}) and the cgroup removed; one that gives
 * back an id range or a temporary overlay layer, until that is done.
 */
public abstract class JailedProcess extends Process {
    protected JailedProcess() {}

    /** Host pid of the jail's first process (its init, or the program when it is PID 1 or joined a pid namespace). */
    public abstract long jailPid();

    /** The plan this jail was set up with. */
    public abstract LaunchPlan plan();

    /**
     * What the jail uses, live from its cgroup; after the jail ended, the figures read once its
     * last process was gone. Empty when the jail has no cgroup of its own.
     */
    public abstract Optional<CgroupStats> stats();

    /** The jail's own cgroup (its directories, interface and accounting), if it has one. */
    public abstract Optional<JailCgroup> cgroup();

    /**
     * Completes with the program's status ({@code n}, or {@code 128+N} for signal N) as soon as it
     * is known: once the jail's init has reaped it and killed whatever else ran in the jail. For a
     * jail with a cgroup that is before {@link #onExit()}, which also waits for the teardown, the
     * cgroup's accounting and its removal; a supervisor can start the next jail meanwhile. For
     * any other jail both complete together. If the program's status never comes on its own (the
     * monitor was killed), it completes with {@link #exitValue()} when the jail has ended.
     */
    public abstract java.util.concurrent.CompletableFuture<Integer> onProgramExit();

    /** Sends {@code signal} to the program (through the monitor and the jail's init). */
    public abstract void signal(int signal);
}
