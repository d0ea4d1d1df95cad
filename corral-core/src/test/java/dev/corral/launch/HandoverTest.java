package dev.corral.launch;

import dev.corral.JailBuilder;
import dev.corral.plan.LaunchPlan;
import dev.corral.plan.PlanEncoder;
import dev.corral.spec.CgroupSpec;
import dev.corral.sys.Libc;
import dev.corral.sys.SocketOutputStream;
import dev.corral.sys.Sockets;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.FileInputStream;
import java.io.InputStreamReader;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The executor's side of a spare's handover (native/src/handover.c), driven by hand: descriptors
 * that are not exactly those the plan names, or a first byte that is not the handover's, end the
 * executor with one error and no jail.
 */
class HandoverTest {
    /** A plan that hands the executor nothing: `true` in the default jail, no cgroup. */
    private static byte[] plainPlan() throws Exception {
        LaunchPlan plan = Launcher.shared().plan(new JailBuilder().command("true").cgroup(CgroupSpec.Mode.NONE).build());
        return PlanEncoder.encode(plan.cloneFlags(), Launcher.stepsFor(plan, null));
    }

    @Test
    void aDescriptorThePlanDoesNotNameFailsTheStart() throws Exception {
        int[] extra = Libc.pipe();
        try {
            String reply = handOver(new byte[] {'H'}, new int[] {extra[0]}, plainPlan());
            assertThat(reply).isEqualTo("ERR -1 9 handover: not the descriptors the plan names"); // EBADF
        } finally {
            Libc.close(extra[0]);
            Libc.close(extra[1]);
        }
    }

    @Test
    void anotherFirstByteFailsTheStart() throws Exception {
        assertThat(handOver(new byte[] {'X'}, new int[0], plainPlan())).isEqualTo("ERR -1 22 handover: malformed");
    }

    @Test
    void theRightHandoverStartsTheJail() throws Exception {
        assertThat(handOver(new byte[] {'H'}, new int[0], plainPlan())).startsWith("PID ");
    }

    /**
     * Spawns a spare (a socket for its plan channel), sends {@code first} with {@code fds}, then
     * the plan; returns the executor's first event line. Then ends its plan channel, as a JVM
     * that is gone would: the executor kills and reaps a jail it started, and exits; it is reaped
     * here, so nothing is left for init.
     */
    private static String handOver(byte[] first, int[] fds, byte[] plan) throws Exception {
        int[] control = Sockets.streamPair();
        int[] events = Libc.pipe();
        Executor executor = Executor.load(Launcher.SOURCE_FD);
        int pid = Libc.spawn(executor.path(), List.of("corral-exec", "0,0,0"),
                new int[] {control[0], events[1]}, new int[] {Launcher.PLAN_FD, Launcher.EVENT_FD});
        Libc.close(executor.fd()); // posix_spawn returns once the child has executed it
        Libc.close(control[0]);
        Libc.close(events[1]);
        String reply;
        try (SocketOutputStream out = new SocketOutputStream(control[1]);
             BufferedReader in = new BufferedReader(new InputStreamReader(new FileInputStream("/proc/self/fd/" + events[0])))) {
            Libc.close(events[0]);
            Sockets.sendWithFds(control[1], first, fds);
            try {
                out.write(plan);
            } catch (java.io.IOException e) {
                // the executor may have refused already
            }
            reply = in.readLine();
            out.close();
            while (in.readLine() != null) {
                // until the executor exits
            }
        }
        Libc.waitpid(pid);
        return reply;
    }
}
