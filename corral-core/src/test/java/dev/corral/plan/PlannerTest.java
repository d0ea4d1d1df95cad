package dev.corral.plan;

import dev.corral.JailBuilder;
import dev.corral.spec.Capability;
import dev.corral.spec.Namespace;
import dev.corral.spec.Rlimit;
import dev.corral.spec.Seccomp;
import dev.corral.spec.SpecException;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The planner is pure: a spec and a host view give exactly one plan, compared with golden files. */
class PlannerTest {
    private final FakeHost host = new FakeHost();

    private LaunchPlan plan(JailBuilder b) throws SpecException {
        return new Planner(host).plan(b.build());
    }

    private static JailBuilder jail() {
        return new JailBuilder().namespaces(java.util.EnumSet.complementOf(java.util.EnumSet.of(Namespace.TIME)));
    }

    /**
     * Compares with a golden file; {@code -Dcorral.updateGolden=true} rewrites the file instead
     * (then review the diff before committing).
     */
    static void assertGolden(String name, LaunchPlan plan) throws IOException {
        String actual = String.join("\n", plan.describe()) + "\n";
        if (Boolean.getBoolean("corral.updateGolden")) {
            java.nio.file.Files.writeString(java.nio.file.Path.of("src/test/resources/dev/corral/plan", name), actual);
            return;
        }
        try (InputStream in = PlannerTest.class.getResourceAsStream(name)) {
            assertThat(actual).isEqualTo(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
    }

    private static int indexOf(LaunchPlan p, Op op) {
        for (int i = 0; i < p.steps().size(); i++) if (p.steps().get(i).op() == op) return i;
        return -1;
    }

    @Test
    void defaultJailPlan() throws Exception {
        LaunchPlan p = plan(jail().command("sh", "-c", "echo hi").clearEnvironment(true));
        assertGolden("default-jail.plan", p);
        assertThat(p.idMaps().denySetgroups()).isTrue();
        assertThat(p.idMaps().useHelpers()).isFalse();
        // The cgroup namespace is unshared after "go", once the jail sits in its own cgroup.
        assertThat(p.cloneFlags()).isEqualTo(0x10000000L | 0x20000L | 0x20000000L | 0x40000000L | 0x4000000L | 0x8000000L);
        int go = indexOf(p, Op.WAIT_GO), unshare = indexOf(p, Op.UNSHARE);
        assertThat(unshare).isGreaterThan(go);
        assertThat(p.steps().get(unshare).args()).containsExactly(Long.toHexString(0x2000000L));
    }

    /**
     * With CAP_SYS_ADMIN the mounts are locked: after they are made (pivot_root) and before
     * anything that a nested user namespace would change (hostname, lo, init), the jail enters
     * a nested user namespace mapping its ids to themselves, with its own mount, net, uts and ipc
     * namespaces, which the clone therefore does not make.
     */
    @Test
    void sysAdminLocksTheMountsInANestedUserNamespace() throws Exception {
        host.euid = 0;
        host.egid = 0;
        LaunchPlan p = plan(jail().command("true").hostname("h").addCapability(Capability.SYS_ADMIN)
                .uidMap(0, 100000, 1000).uidMap(5000, 200000, 10).gidMap(0, 100000, 1000));
        long net = 0x40000000L, uts = 0x4000000L, ipc = 0x8000000L, user = 0x10000000L, mnt = 0x20000L;
        assertThat(p.cloneFlags()).isEqualTo(user | mnt | 0x20000000L);
        int lock = indexOf(p, Op.LOCK_MOUNTS);
        assertThat(lock).isGreaterThan(indexOf(p, Op.PIVOT_ROOT)).isLessThan(indexOf(p, Op.SETHOSTNAME))
                .isLessThan(indexOf(p, Op.LO_UP)).isLessThan(indexOf(p, Op.FORK_INIT));
        assertThat(p.steps().get(lock).args()).containsExactly(Long.toHexString(user | mnt | net | uts | ipc), "/proc",
                "0 0 1000\n5000 5000 10\n", "0 0 1000\n");
        assertThat(p.describe()).anyMatch(l -> l.contains("clone a process into new namespaces: user, mount, pid"))
                .anyMatch(l -> l.contains("lock the mounts") && l.contains("create the net, uts, ipc namespaces there"));

        LaunchPlan without = plan(jail().command("true").uidMap(0, 100000, 1000).gidMap(0, 100000, 1000));
        assertThat(indexOf(without, Op.LOCK_MOUNTS)).isEqualTo(-1);
        assertThat(without.cloneFlags() & (net | uts | ipc)).isEqualTo(net | uts | ipc);
        // In the host's user namespace there is nothing to lock them with (the CLI warns).
        LaunchPlan hostUser = plan(jail().command("true").share(Namespace.USER).addCapability(Capability.SYS_ADMIN));
        assertThat(indexOf(hostUser, Op.LOCK_MOUNTS)).isEqualTo(-1);
    }

    @Test
    void lockingTheMountsWantsAProcOfTheJailsOwn() throws Exception {
        assertThatThrownBy(() -> plan(jail().command("true").share(Namespace.PID).addCapability(Capability.SYS_ADMIN)))
                .hasMessageContaining("capabilities: with CAP_SYS_ADMIN corral locks the jail's mounts")
                .hasMessageContaining("this jail has none");
        assertThatThrownBy(() -> plan(jail().command("true").init(false).pidsLimit(1).addCapability(Capability.SYS_ADMIN)))
                .hasMessageContaining("limits.pids: 1 leaves no room for the helper that locks the mounts");
        LaunchPlan elsewhere = plan(jail().command("true").rootfs("/srv/rootfs")
                .automount(new dev.corral.spec.Automount(false, true, true)).proc("/p").addCapability(Capability.SYS_ADMIN));
        assertThat(elsewhere.steps().get(indexOf(elsewhere, Op.LOCK_MOUNTS)).args().get(1)).isEqualTo("/p");
    }

    @Test
    void defaultJailWithANewMountPointHasATmpfsRoot() throws Exception {
        LaunchPlan p = plan(jail().command("true").clearEnvironment(true).readOnlyBind("/srv/data", "/data"));
        assertGolden("default-jail-tmpfs-root.plan", p);
    }

    @Test
    void overlayRootfsIsTheBaseClonedReadOnlyUnderALayerMadeFromDescriptors() throws Exception {
        LaunchPlan p = plan(jail().command("/bin/app").rootfs("/srv/rootfs")
                .rootfsOverlay(new dev.corral.spec.RootfsOverlay("/srv/layer/upper", "/srv/layer/work", null, null)));
        List<Step> fs = p.steps().stream().filter(s -> s.op() == Op.OPEN_TREE || s.op() == Op.OVERLAY || s.op() == Op.ATTACH_ROOT)
                .toList();
        assertThat(fs.get(0)).isEqualTo(new Step(Op.OPEN_TREE, List.of("0", "/srv/rootfs", "0", "1"),
                "clone the base /srv/rootfs read-only (the overlay's lower layer)"));
        List<Step> dirs = p.steps().stream().filter(s -> s.op() == Op.OPEN_DIR).toList();
        assertThat(dirs).extracting(Step::args).containsExactly(List.of("1", "/srv/layer/upper"), List.of("2", "/srv/layer/work"));
        assertThat(fs.get(1).op()).isEqualTo(Op.OVERLAY);
        assertThat(fs.get(1).args()).containsExactly("3", "0", "1", "2", "userxattr", "-");
        assertThat(fs.getLast()).isEqualTo(new Step(Op.ATTACH_ROOT, List.of("3", "/tmp"),
                "attach the new root at /tmp (in the jail's mount namespace only)"));
        // The layers are taken as the caller (who can reach them), the overlay made as the jail's root.
        int setuid = p.steps().indexOf(p.steps().stream().filter(s -> s.op() == Op.SETUID).findFirst().orElseThrow());
        assertThat(p.steps().indexOf(fs.get(0))).isLessThan(setuid);
        assertThat(p.steps().indexOf(dirs.getLast())).isLessThan(setuid);
        assertThat(p.steps().indexOf(fs.get(1))).isGreaterThan(setuid);
    }

    @Test
    void overlayLayersMustSitOnOneFilesystemThatIsNotAnOverlay() {
        host.filesystems.put("/srv/layer/upper", new HostView.Filesystem("overlay", 1));
        host.filesystems.put("/srv/layer/work", new HostView.Filesystem("overlay", 1));
        host.filesystems.put("/srv/other/upper", new HostView.Filesystem("ext4", 2));
        host.filesystems.put("/mnt/work", new HostView.Filesystem("ext4", 3));
        assertThatThrownBy(() -> plan(jail().command("true").rootfs("/srv/rootfs")
                .rootfsOverlay(new dev.corral.spec.RootfsOverlay("/srv/layer/upper", "/srv/layer/work", null, null))))
                .hasMessageContaining("rootfsUpper: /srv/layer/upper is on an overlayfs, which cannot hold the upper layer of another overlay");
        assertThatThrownBy(() -> plan(jail().command("true").rootfs("/srv/rootfs")
                .rootfsOverlay(new dev.corral.spec.RootfsOverlay("/srv/other/upper", "/mnt/work", null, null))))
                .hasMessageContaining("rootfsWork: /mnt/work is on another filesystem than the upper directory /srv/other/upper");
        assertThatThrownBy(() -> plan(jail().command("true").rootfs("/srv/rootfs")
                .rootfsOverlay(new dev.corral.spec.RootfsOverlay("/srv/l/upper", "/srv/l/upper/work", null, null))))
                .hasMessageContaining("rootfsWork: the work directory /srv/l/upper/work and the upper directory /srv/l/upper must be apart");
        assertThatThrownBy(() -> plan(jail().command("true").rootfs("/srv/rootfs").rootfsOverlay()))
                .hasMessageContaining("rootfsOverlay: the overlay's layer is not placed yet");
    }

    @Test
    void rootfsJailPlan() throws Exception {
        host.euid = 0;
        host.egid = 0;
        LaunchPlan p = plan(jail().command("/bin/app").rootfs("/srv/rootfs").hostname("web")
                .uidMap(0, 100000, 65536).gidMap(0, 100000, 65536).user("app")
                .readOnlyBind("/srv/data", "/data").clearEnvironment(true).env("MODE", "prod"));
        assertGolden("rootfs-jail.plan", p);
    }

    @Test
    void subordinateIdsGoThroughTheHelpers() throws Exception {
        LaunchPlan p = plan(jail().command("true").uidMap(0, 100000, 65536).gidMap(0, 100000, 65536));
        assertThat(p.idMaps().useHelpers()).isTrue();
        assertThat(p.idMaps().denySetgroups()).isFalse();
    }

    @Test
    void everyProblemIsReportedAtOnce() {
        assertThatThrownBy(() -> plan(jail().command("true").uidMap(0, 5, 1).hostname("x".repeat(65))
                .tmpfs("/a/../b").bind("/no/such", "/x")))
                .isInstanceOfSatisfying(SpecException.class, e -> assertThat(e.problems()).extracting(Object::toString)
                        .containsExactly(
                                "uidMap[0]: maps host ids 5..5 which this user (1000) does not own: only its own id and the ranges in /etc/subuid [100000..165535]",
                                "tmpfs /a/../b: target /a/../b has a '..' component (it could leave the jail's root)",
                                "bind /no/such: source does not exist: /no/such",
                                "hostname: must be 1 to 64 bytes, not 65"));
    }

    @Test
    void hardeningProblems() {
        host.files.put("/srv/bad-profile.json", "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"nosuchcall\"], \"action\": \"SCMP_ACT_ALLOW\"}]}");
        assertThatThrownBy(() -> plan(jail().command("true")
                .rlimit(new Rlimit(Rlimit.Resource.NOFILE, 100, 50, "--rlimit nofile=100:50"))
                .rlimit(new Rlimit(Rlimit.Resource.NOFILE, 10, 8192, "--rlimit nofile=10:8192"))
                .procHidepid("7")
                .seccomp(Seccomp.profile("/srv/bad-profile.json", "--seccomp /srv/bad-profile.json"))))
                .isInstanceOfSatisfying(SpecException.class, e -> assertThat(e.problems()).extracting(Object::toString)
                        .contains(
                                "--rlimit nofile=100:50: soft limit 100 is above the hard limit 50",
                                "--rlimit nofile=10:8192: hard limit 8192 is above yours (4096); raising a hard limit needs CAP_SYS_RESOURCE on the host",
                                "procHidepid: expected one of [0, 1, 2, 4, off, noaccess, invisible, ptraceable], not 7")
                        .anyMatch(p -> p.contains("nosuchcall")));
    }

    @Test
    void aNonRootProgramKeepsItsCapabilitiesThroughAmbientSet() throws Exception {
        host.euid = 0;
        host.egid = 0;
        LaunchPlan p = plan(jail().command("/bin/app").rootfs("/srv/rootfs").uidMap(0, 100000, 65536)
                .gidMap(0, 100000, 65536).user("app").capabilities(java.util.Set.of(Capability.NET_BIND_SERVICE)));
        assertThat(p.describe()).anyMatch(l -> l.endsWith("keep the permitted capabilities across the change of uid"))
                .anyMatch(l -> l.endsWith("set the capabilities to CAP_NET_BIND_SERVICE (ambient too, as uid 1000 is not root)"));
    }

    @Test
    void mapsMustNotOverlap() {
        host.euid = 0;
        assertThatThrownBy(() -> plan(jail().command("true").uidMap(0, 1000, 10).uidMap(5, 2000, 10).uidMap(20, 1005, 2)))
                .hasMessageContaining("uidMap[1]: inside ids overlap uidMap[0]")
                .hasMessageContaining("uidMap[2]: outside ids overlap uidMap[0]");
    }

    @Test
    void userMustBeMapped() {
        assertThatThrownBy(() -> plan(jail().command("true").rootfs("/srv/rootfs").user("app")))
                .hasMessage("user: uid 1000 is not mapped in the jail's user namespace (map: [0 1000 1])\n"
                        + "user: gid 1001 is not mapped in the jail's user namespace (map: [0 1000 1])");
    }

    @Test
    void namespacesWithoutUserNamespaceNeedRoot() {
        assertThatThrownBy(() -> plan(jail().command("true").share(Namespace.USER)))
                .hasMessageContaining("creating namespaces without a user namespace needs root");
        host.euid = 0;
        List<Step> steps = assertThatNoProblem(jail().command("true").share(Namespace.USER)).steps();
        assertThat(steps).extracting(Step::op).doesNotContain(Op.SETGID, Op.SETUID);
    }

    private LaunchPlan assertThatNoProblem(JailBuilder b) {
        try {
            return plan(b);
        } catch (SpecException e) {
            throw new AssertionError(e.getMessage());
        }
    }

    @Test
    void encodingIsStable() throws Exception {
        byte[] bytes = PlanEncoder.encode(plan(jail().command("true").clearEnvironment(true)));
        assertThat(new String(bytes, 0, 4, StandardCharsets.US_ASCII)).isEqualTo("CRLP");
        assertThat(bytes[4]).isEqualTo((byte) PlanEncoder.VERSION);
        int len = (bytes[8] & 0xff) | (bytes[9] & 0xff) << 8 | (bytes[10] & 0xff) << 16 | (bytes[11] & 0xff) << 24;
        assertThat(len).isEqualTo(bytes.length - 12);
    }
}
