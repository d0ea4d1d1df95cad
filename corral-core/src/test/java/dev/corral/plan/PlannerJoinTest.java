package dev.corral.plan;

import dev.corral.JailBuilder;
import dev.corral.spec.JailSpec;
import dev.corral.spec.Namespace;
import dev.corral.spec.SpecException;
import org.junit.jupiter.api.Test;

import java.util.EnumSet;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** Joining existing namespaces: the order of the steps, and what is refused before anything runs. */
class PlannerJoinTest {
    private static final String HOST_USER = "user:[4026531837]";
    private static final String JAIL_USER = "user:[4026532500]";
    private final FakeHost host = new FakeHost();

    PlannerJoinTest() {
        host.euid = 0;
        host.egid = 0;
        // A network namespace made by `ip netns add`: the host's user namespace owns it.
        ns("/run/netns/blue", Namespace.NET, "net:[4026532300]", List.of(HOST_USER), false);
        // Another jail's namespaces: its own user namespace owns them.
        ns("/proc/77/ns/user", Namespace.USER, JAIL_USER, List.of(HOST_USER), false);
        ns("/proc/77/ns/pid", Namespace.PID, "pid:[4026532502]", List.of(JAIL_USER, HOST_USER), false);
        ns("/proc/77/ns/uts", Namespace.UTS, "uts:[4026532503]", List.of(JAIL_USER, HOST_USER), false);
        ns("/proc/77/ns/mnt", Namespace.MOUNT, "mnt:[4026532504]", List.of(JAIL_USER, HOST_USER), false);
        ns("/proc/self/ns/user", Namespace.USER, HOST_USER, List.of(), true);
        host.namespaceFiles.put("/etc/passwd", NamespaceFile.not("not a namespace file"));
    }

    private void ns(String path, Namespace type, String id, List<String> owners, boolean callers) {
        host.namespaceFiles.put(path, NamespaceFile.of(type, id, owners, callers));
    }

    private static JailBuilder jail() {
        return new JailBuilder().namespaces(EnumSet.complementOf(EnumSet.of(Namespace.TIME)))
                .command("sh", "-c", "true").clearEnvironment(true);
    }

    private LaunchPlan plan(JailBuilder b) throws SpecException {
        return new Planner(host).plan(b.build());
    }

    private List<String> problems(JailSpec spec) {
        SpecException e = catchThrowableOfType(SpecException.class, () -> new Planner(host).plan(spec));
        assertThat(e).as("expected the spec to be refused").isNotNull();
        return e.problems().stream().map(Object::toString).toList();
    }

    private List<String> problems(JailBuilder b) {
        return problems(b.build());
    }

    private static List<Op> ops(LaunchPlan p) {
        return p.steps().stream().map(Step::op).toList();
    }

    private static int indexOf(LaunchPlan p, Op op) {
        return ops(p).indexOf(op);
    }

    @Test
    void joiningANetworkNamespaceOfTheHostPlan() throws Exception {
        LaunchPlan p = plan(jail().join(Namespace.NET, "/run/netns/blue"));
        PlannerTest.assertGolden("join-net.plan", p);
        // Nothing is created by clone: the process joins, then creates the rest itself.
        assertThat(p.cloneFlags()).isZero();
        assertThat(p.joins()).containsExactly(new LaunchPlan.Join(Namespace.NET, "/run/netns/blue", "join.net"));
        assertThat(p.steps().getFirst()).isEqualTo(new Step(Op.SETNS, List.of("0", "40000000"), p.steps().getFirst().words()));
        Step unshare = p.steps().get(1);
        assertThat(unshare.op()).isEqualTo(Op.UNSHARE);
        assertThat(unshare.args()).containsExactly(Long.toHexString(0x10000000L | 0x20000L | 0x20000000L | 0x4000000L | 0x8000000L));
        assertThat(ops(p).subList(2, 5)).containsExactly(Op.WAIT_GO, Op.FORK_INTO, Op.UNSHARE);
        // A joined network namespace is not the jail's to configure: no loopback step.
        assertThat(ops(p)).doesNotContain(Op.LO_UP);
        assertThat(indexOf(p, Op.FORK_INIT)).isGreaterThan(indexOf(p, Op.PIVOT_ROOT));
    }

    @Test
    void theUserNamespaceIsJoinedFirstAfterTheCallersGroupsAreDropped() throws Exception {
        LaunchPlan p = plan(jail().share(Namespace.USER).share(Namespace.TIME)
                .join(Namespace.UTS, "/proc/77/ns/uts").join(Namespace.PID, "/proc/77/ns/pid").join(Namespace.USER, "/proc/77/ns/user"));
        assertThat(p.joins()).extracting(LaunchPlan.Join::namespace).containsExactly(Namespace.USER, Namespace.PID, Namespace.UTS);
        assertThat(p.steps().subList(0, 5)).extracting(Step::op, Step::args).containsExactly(
                org.assertj.core.groups.Tuple.tuple(Op.SETGROUPS, List.of()),
                org.assertj.core.groups.Tuple.tuple(Op.SETNS, List.of("0", "10000000")),
                org.assertj.core.groups.Tuple.tuple(Op.SETNS, List.of("1", "20000000")),
                org.assertj.core.groups.Tuple.tuple(Op.SETNS, List.of("2", "4000000")),
                org.assertj.core.groups.Tuple.tuple(Op.UNSHARE, List.of(Long.toHexString(0x20000L | 0x40000000L | 0x8000000L))));
        assertThat(p.steps().get(1).words()).contains("first, as it owns the others").contains("not dumpable");
        assertThat(p.idMaps()).isNull();
        // The joined pid namespace has its own init: the program just forks into it.
        assertThat(ops(p)).contains(Op.FORK_INTO).doesNotContain(Op.FORK_INIT);
        // Its /proc can be mounted: the jail has the user namespace that owns it.
        assertThat(p.steps()).anyMatch(s -> s.op() == Op.MOUNT_FS && s.args().getFirst().equals("proc"));
        // Root of the joined user namespace, before any mount point is made, and again at the end.
        assertThat(p.steps().stream().filter(s -> s.op() == Op.SETUID).map(s -> s.args().getFirst())).containsExactly("0", "0");
        assertThat(indexOf(p, Op.SETUID)).isLessThan(indexOf(p, Op.MAKE_PRIVATE));
        assertThat(p.describe().get(0)).contains("joins user, pid, uts first, then creates mount, net, ipc itself");
    }

    @Test
    void aJoinedPidNamespaceWithoutItsUserNamespaceGetsNoProc() throws Exception {
        LaunchPlan p = plan(jail().join(Namespace.PID, "/proc/77/ns/pid"));
        assertThat(p.steps()).noneMatch(s -> s.op() == Op.MOUNT_FS && s.args().getFirst().equals("proc"));
        assertThat(ops(p)).contains(Op.FORK_INTO).doesNotContain(Op.FORK_INIT);
    }

    @Test
    void withoutJoinsThePlanIsUnchanged() throws Exception {
        LaunchPlan p = plan(jail());
        assertThat(p.joins()).isEmpty();
        assertThat(p.steps().getFirst().op()).isEqualTo(Op.WAIT_GO);
        assertThat(ops(p)).doesNotContain(Op.SETNS, Op.FORK_INTO);
    }

    @Test
    void aPathOfAnotherTypeOrNoNamespaceIsRefused() {
        assertThat(problems(jail().join(Namespace.NET, "/proc/77/ns/mnt").join(Namespace.IPC, "/etc/passwd")
                .join(Namespace.UTS, "/nowhere").join(Namespace.CGROUP, "relative/path")))
                .containsExactly(
                        "join.net: /proc/77/ns/mnt is not a network namespace (it is a mount namespace)",
                        "join.uts: /nowhere: no such file (expected /proc/PID/ns/uts, or a bind mount of one)",
                        "join.ipc: /etc/passwd: not a namespace file (expected /proc/PID/ns/ipc, or a bind mount of one)",
                        "join.cgroup: must be an absolute path: relative/path");
    }

    @Test
    void aTypeIsJoinedOrNewNeverBoth() {
        JailSpec s = jail().join(Namespace.NET, "/run/netns/blue").build();
        JailSpec both = new JailSpec(s.command(), EnumSet.complementOf(EnumSet.of(Namespace.TIME)), s.joins(), s.uidMap(),
                s.gidMap(), s.rootfs(), s.automount(), s.mounts(), s.hostname(), s.workingDirectory(), s.environment(),
                s.clearEnvironment(), s.uid(), s.gid(), s.user(), s.group(), s.init(), s.takeTerminal(), s.hardening(),
                s.cgroup(), s.passedSockets(), s.labels(), s.autoIds(), s.overlay(), s.rootfsIdmap());
        assertThat(problems(both)).containsExactly(
                "join.net: the network namespace is both joined and new; a jail joins a namespace or creates one");
    }

    @Test
    void theBuilderKeepsTheLastChoiceForAType() {
        JailSpec s = jail().join(Namespace.NET, "/run/netns/blue").unshare(Namespace.NET)
                .join(Namespace.UTS, "/proc/77/ns/uts").share(Namespace.UTS).join(Namespace.IPC, "/x").build();
        assertThat(s.joins()).isEqualTo(Map.of(Namespace.IPC, "/x"));
        assertThat(s.namespaces()).contains(Namespace.NET).doesNotContain(Namespace.UTS, Namespace.IPC);
    }

    @Test
    void afterJoiningAUserNamespaceOnlyWhatItOwnsCanBeJoined() {
        assertThat(problems(jail().join(Namespace.USER, "/proc/77/ns/user").join(Namespace.NET, "/run/netns/blue")))
                .containsExactly("join.net: /run/netns/blue belongs to another user namespace than the joined one"
                        + " (/proc/77/ns/user): once in that, a jail can join only what it owns (the kernel wants"
                        + " CAP_SYS_ADMIN over the owner of what it joins)");
    }

    @Test
    void theCallersOwnUserNamespaceIsSharedNotJoined() {
        assertThat(problems(jail().join(Namespace.USER, "/proc/self/ns/user"))).containsExactly(
                "join.user: /proc/self/ns/user is the caller's own user namespace: share it instead of joining it");
    }

    @Test
    void aNormalUserJoinsOnlyWithTheOwningUserNamespace() throws Exception {
        host.euid = 1000;
        host.egid = 1000;
        assertThat(problems(jail().join(Namespace.NET, "/run/netns/blue"))).containsExactly(
                "join.net: joining a namespace needs root, or also joining the user namespace that owns it"
                        + " (the kernel wants CAP_SYS_ADMIN over that)");
        // Inside the joined user namespace it may create the others, and it keeps its groups:
        // only root could drop them before joining.
        LaunchPlan p = plan(jail().share(Namespace.USER).join(Namespace.USER, "/proc/77/ns/user")
                .join(Namespace.UTS, "/proc/77/ns/uts"));
        assertThat(p.steps().getFirst().op()).isEqualTo(Op.SETNS);
        assertThat(ops(p)).doesNotContain(Op.SETGROUPS);
    }

    @Test
    void whatAJoinedNamespaceCannotTake() {
        assertThat(problems(jail().hostname("web").join(Namespace.UTS, "/proc/77/ns/uts")
                .join(Namespace.MOUNT, "/proc/77/ns/mnt").rootfs("/srv/rootfs")
                .share(Namespace.USER).join(Namespace.USER, "/proc/77/ns/user").uidMap(0, 0, 1)))
                .containsExactly(
                        "uidMap: id maps need a new user namespace (a joined one has its own)",
                        "rootfs: a rootfs needs a new mount namespace, not a joined one",
                        "hostname: setting the hostname needs a new uts namespace (it would rename the joined one)");
    }
}
