package dev.corral.plan;

import dev.corral.JailBuilder;
import dev.corral.spec.JailSpec;
import dev.corral.spec.Namespace;
import dev.corral.spec.PassedSocket;
import dev.corral.spec.SpecException;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** How the planner passes listening sockets: one step, the right place, systemd's variables. */
class PlannerPassedSocketsTest {
    private final FakeHost host = new FakeHost();

    private static JailBuilder jail() {
        return new JailBuilder().namespaces(EnumSet.complementOf(EnumSet.of(Namespace.TIME))).command("/bin/app");
    }

    /** The builder's spec with these sockets; no real descriptor is needed to plan. */
    private static JailSpec withSockets(JailBuilder b, List<PassedSocket> sockets) {
        JailSpec s = b.build();
        return new JailSpec(s.command(), s.namespaces(), s.joins(), s.uidMap(), s.gidMap(), s.rootfs(), s.automount(), s.mounts(),
                s.hostname(), s.workingDirectory(), s.environment(), s.clearEnvironment(), s.uid(), s.gid(), s.user(),
                s.group(), s.init(), s.takeTerminal(), s.hardening(), s.cgroup(), sockets, s.labels(), s.autoIds(), s.overlay(), s.rootfsIdmap());
    }

    private LaunchPlan plan(JailSpec spec) throws SpecException {
        return new Planner(host).plan(spec);
    }

    private static Step only(LaunchPlan p, Op op) {
        List<Step> found = p.steps().stream().filter(s -> s.op() == op).toList();
        assertThat(found).hasSize(1);
        return found.getFirst();
    }

    private static int indexOf(LaunchPlan p, Op op) {
        for (int i = 0; i < p.steps().size(); i++) if (p.steps().get(i).op() == op) return i;
        return -1;
    }

    private static List<String> listenEnv(LaunchPlan p) {
        return only(p, Op.EXEC).args().stream().filter(a -> a.startsWith("LISTEN_")).toList();
    }

    @Test
    void socketsAreOneStepAfterInitAndBeforeTheHardening() throws Exception {
        LaunchPlan p = plan(withSockets(jail(), List.of(new PassedSocket(12, "web"), new PassedSocket(15, "admin"))));
        Step pass = only(p, Op.PASS_FDS);
        assertThat(pass.args()).containsExactly("2");
        assertThat(pass.words()).isEqualTo("pass 2 listening sockets as fds 3-4"
                + " (LISTEN_FDS=2, LISTEN_FDNAMES=web:admin, LISTEN_PID=the program's pid)");
        assertThat(p.describe()).anyMatch(line -> line.endsWith(pass.words()));
        assertThat(p.passedFds()).containsExactly(12, 15);
        int at = indexOf(p, Op.PASS_FDS);
        assertThat(at).isGreaterThan(indexOf(p, Op.FORK_INIT)).isGreaterThan(indexOf(p, Op.SETSID))
                .isLessThan(indexOf(p, Op.CHDIR)).isLessThan(indexOf(p, Op.SECCOMP)).isLessThan(indexOf(p, Op.CAPS));
        // LISTEN_PID is left to the executor, which alone knows the program's pid.
        assertThat(listenEnv(p)).containsExactly("LISTEN_FDS=2", "LISTEN_FDNAMES=web:admin");
    }

    @Test
    void oneSocketIsFdThree() throws Exception {
        LaunchPlan p = plan(withSockets(jail().init(false), List.of(new PassedSocket(7, "http"))));
        assertThat(only(p, Op.PASS_FDS).words()).startsWith("pass 1 listening socket as fd 3 (LISTEN_FDS=1, ");
        assertThat(indexOf(p, Op.FORK_INIT)).isEqualTo(-1);
    }

    @Test
    void theCallersOwnListenVariablesNeverReachTheJail() throws Exception {
        host.environment.putAll(Map.of("LISTEN_FDS", "3", "LISTEN_PID", "2", "LISTEN_FDNAMES", "x:y:z"));
        LaunchPlan without = plan(withSockets(jail(), List.of()));
        assertThat(without.steps()).extracting(Step::op).doesNotContain(Op.PASS_FDS);
        assertThat(without.passedFds()).isEmpty();
        assertThat(listenEnv(without)).isEmpty();
        LaunchPlan with = plan(withSockets(jail(), List.of(new PassedSocket(9, "web"))));
        assertThat(listenEnv(with)).containsExactly("LISTEN_FDS=1", "LISTEN_FDNAMES=web");
        // Set on purpose, without sockets, they are the caller's business.
        LaunchPlan own = plan(withSockets(jail().env("LISTEN_FDS", "0"), List.of()));
        assertThat(listenEnv(own)).containsExactly("LISTEN_FDS=0");
    }

    @Test
    void everyProblemIsNamed() {
        List<PassedSocket> sockets = new ArrayList<>(List.of(new PassedSocket(5, "a:b"), new PassedSocket(-1, "gone"),
                new PassedSocket(6, "tab\there"), new PassedSocket(7, "x".repeat(256))));
        SpecException e = catchThrowableOfType(SpecException.class,
                () -> plan(withSockets(jail().env("LISTEN_PID", "1"), sockets)));
        assertThat(e.getMessage()).isEqualTo(String.join("\n",
                "passedSockets[0]: name \"a:b\" holds ':', which separates names in LISTEN_FDNAMES",
                "passedSockets[1]: socket \"gone\" is closed",
                "passedSockets[2]: name \"tab\there\" holds a character that is not printable ASCII",
                "passedSockets[3]: name is longer than 255 characters",
                "environment: LISTEN_PID is set by corral for the passed sockets"));
        List<PassedSocket> many = IntStream.range(0, Planner.MAX_PASSED_SOCKETS + 1)
                .mapToObj(i -> new PassedSocket(10 + i, "s" + i)).toList();
        assertThat(catchThrowableOfType(SpecException.class, () -> plan(withSockets(jail(), many))).getMessage())
                .isEqualTo("passedSockets: 65 sockets; at most 64 can be passed");
        // An empty name is systemd's too.
        assertThat(PassedSocket.nameProblem("")).isNull();
    }
}
