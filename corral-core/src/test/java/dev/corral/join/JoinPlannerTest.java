package dev.corral.join;

import dev.corral.plan.LaunchPlan;
import dev.corral.plan.Op;
import dev.corral.plan.Step;
import dev.corral.spec.Namespace;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The plan of a process joining a running jail, without running it: order and arguments. */
class JoinPlannerTest {
    private static final byte[] FILTER = {6, 0, 0, 0, 0, 0, (byte) 0xff, 0x7f}; // RET ALLOW

    private static Confinement confinement(long uid, boolean nnp, List<Long> groups) {
        return new Confinement(uid, uid, groups, 0x3fL, 0x21L, uid == 0 ? 0 : 0x21L, nnp, List.of(FILTER, FILTER),
                "the filters", List.of(new long[] {7, 64, 128}));
    }

    private static List<Op> ops(LaunchPlan p) {
        return p.steps().stream().map(Step::op).toList();
    }

    @Test
    void everyNamespaceUserFirstThenRootThenTheForkThenTheConfinement() {
        LaunchPlan p = new JoinPlanner(42, List.of(Namespace.USER, Namespace.MOUNT, Namespace.PID, Namespace.NET),
                List.of("/sys/fs/cgroup/pids/jail"), true, true, confinement(1000, true, List.of(5L)),
                List.of("ps", "-e"), Map.of("A", "b"), false, null).plan();
        assertThat(ops(p)).containsExactly(Op.WAIT_GO, Op.JOIN_CGROUP, Op.SETGROUPS, Op.SETNS, Op.SETNS, Op.SETNS, Op.SETNS,
                Op.ENTER_ROOT, Op.FORK_INTO, Op.SETSID, Op.RLIMIT, Op.CAP_BOUND, Op.SETGROUPS, Op.SETGID, Op.KEEP_CAPS,
                Op.SETUID, Op.CAPS, Op.NO_NEW_PRIVS, Op.SECCOMP, Op.SECCOMP, Op.EXEC);
        assertThat(p.cloneFlags()).isZero();
        assertThat(p.joins()).extracting(LaunchPlan.Join::namespace)
                .containsExactly(Namespace.USER, Namespace.MOUNT, Namespace.PID, Namespace.NET);
        assertThat(p.steps()).filteredOn(s -> s.op() == Op.SETNS).extracting(Step::args).containsExactly(
                List.of("0", "10000000"), List.of("1", "20000"), List.of("2", "20000000"), List.of("3", "40000000"));
        assertThat(p.steps().get(3).words()).contains("user namespace of process 42").contains("not dumpable");
        assertThat(p.steps()).filteredOn(s -> s.op() == Op.CAPS).singleElement().extracting(Step::args)
                .isEqualTo(List.of("21", "21"));
        assertThat(p.steps()).filteredOn(s -> s.op() == Op.RLIMIT).singleElement().extracting(Step::args)
                .isEqualTo(List.of("7", "64", "128"));
        assertThat(p.steps().getLast().args()).containsExactly("ps", "2", "ps", "-e", "A=b",
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    }

    @Test
    void withoutNoNewPrivsTheFiltersComeFirstAndATerminalReplacesTheNewSession() {
        LaunchPlan p = new JoinPlanner(42, List.of(Namespace.NET), List.of(), false, false, confinement(0, false, List.of()),
                List.of("true"), Map.of(), true, "/srv").plan();
        assertThat(ops(p)).containsExactly(Op.WAIT_GO, Op.SETNS, Op.CHDIR, Op.TAKE_TERMINAL, Op.RLIMIT, Op.CAP_BOUND,
                Op.SECCOMP, Op.SECCOMP, Op.SETGID, Op.SETUID, Op.CAPS, Op.EXEC);
        assertThat(p.describe()).anyMatch(l -> l.contains("change directory to /srv"));
    }
}
