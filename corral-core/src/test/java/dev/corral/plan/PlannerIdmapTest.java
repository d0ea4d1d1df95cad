package dev.corral.plan;

import dev.corral.JailBuilder;
import dev.corral.spec.IdMapping;
import dev.corral.spec.Namespace;
import dev.corral.spec.RootfsOverlay;
import dev.corral.spec.SpecException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.EnumSet;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Idmapped mounts in the plan: where the clone and the mapping happen, and who may ask. */
class PlannerIdmapTest {
    private final FakeHost host = new FakeHost();

    @BeforeEach
    void asRoot() {
        host.euid = 0;
        host.egid = 0;
    }

    private LaunchPlan plan(JailBuilder b) throws SpecException {
        return new Planner(host).plan(b.build());
    }

    private static JailBuilder jail() {
        return new JailBuilder().namespaces(EnumSet.complementOf(EnumSet.of(Namespace.TIME))).command("true")
                .uidMap(new IdMapping(0, 0x200000, 65536)).gidMap(new IdMapping(0, 0x200000, 65536));
    }

    private static List<Op> ops(LaunchPlan p) {
        return p.steps().stream().map(Step::op).toList();
    }

    private static Step first(LaunchPlan p, Op op) {
        return p.steps().stream().filter(s -> s.op() == op).findFirst().orElseThrow();
    }

    @Test
    void theRootfsIsClonedBeforeTheMapsAndIdmappedByTheMonitorBeforeGo() throws Exception {
        LaunchPlan p = plan(jail().rootfs("/srv/rootfs").rootfsIdmap(true));
        List<Op> ops = ops(p);
        assertThat(ops.subList(0, 3)).containsExactly(Op.IDMAP_TREE, Op.IDMAP, Op.WAIT_GO);
        // slot 0, fd IDMAP_FD_BASE + 0, the rootfs recursively, writable
        assertThat(first(p, Op.IDMAP_TREE).args()).containsExactly("0", "0", "/srv/rootfs", "1", "0");
        assertThat(first(p, Op.IDMAP).args()).containsExactly("0", "1", "/srv/rootfs", "rootfsIdmap");
        // The clone is the root: no second clone of the rootfs.
        assertThat(openTrees(p)).doesNotContain("/srv/rootfs");
        // Staged on /tmp: the jail's root need not reach /srv/rootfs by its path (the clone was the caller's).
        assertThat(first(p, Op.ATTACH_ROOT).args()).containsExactly("0", "/tmp");
        // In words: the maps are written between the clone and the idmapping.
        List<String> words = p.describe();
        int tree = indexOf(words, "clone the rootfs /srv/rootfs, detached, to be idmapped (rootfsIdmap)");
        int map = indexOf(words, "write its uid_map: 0 2097152 65536");
        int idmap = indexOf(words, "idmap the clone of /srv/rootfs with the jail's user namespace");
        assertThat(tree).isLessThan(map);
        assertThat(map).isLessThan(idmap);
        assertThat(words.get(idmap)).contains("on-disk uids 0-65535 and gids 0-65535 are the jail's own");
    }

    /** The host paths cloned after "go" (the rootfs, binds, the /dev nodes). */
    private static List<String> openTrees(LaunchPlan p) {
        return p.steps().stream().filter(s -> s.op() == Op.OPEN_TREE).map(s -> s.args().get(1)).toList();
    }

    private static int indexOf(List<String> words, String part) {
        for (int i = 0; i < words.size(); i++) if (words.get(i).contains(part)) return i;
        throw new AssertionError("no step says " + part + ": " + words);
    }

    @Test
    void idmappedBindsTakeTheirOwnClonesAndKeepTheirOrder() throws Exception {
        LaunchPlan p = plan(jail().rootfs("/srv/rootfs").idmappedBind("/srv/data", "/data", true)
                .readOnlyBind("/srv/data", "/plain"));
        Step tree = first(p, Op.IDMAP_TREE);
        // Slots are numbered in the order of the steps that fill them: the idmapped clones come first.
        assertThat(tree.args()).containsExactly("0", "0", "/srv/data", "1", "1");
        assertThat(first(p, Op.OPEN_TREE).args()).containsExactly("1", "/srv/rootfs", "1", "0");
        List<Step> attaches = p.steps().stream().filter(s -> s.op() == Op.ATTACH && !s.args().get(1).startsWith("/dev")).toList();
        assertThat(attaches.get(0).args()).containsExactly("0", "/data", "d");
        assertThat(attaches.get(0).words()).isEqualTo("mount /srv/data idmapped on /data (read-only)");
        assertThat(attaches.get(1).args().get(1)).isEqualTo("/plain");
    }

    @Test
    void anIdmappedBaseIsTheOverlaysLowerLayer() throws Exception {
        LaunchPlan p = plan(jail().rootfs("/srv/rootfs").rootfsIdmap(true)
                .rootfsOverlay(new RootfsOverlay("/srv/layer/upper", "/srv/layer/work", null, null)));
        // the base alone, read-only, in slot 0, cloned before the maps
        assertThat(first(p, Op.IDMAP_TREE).args()).containsExactly("0", "0", "/srv/rootfs", "0", "1");
        assertThat(first(p, Op.IDMAP).args()).containsExactly("0", "0", "/srv/rootfs", "rootfsIdmap");
        assertThat(openTrees(p)).doesNotContain("/srv/rootfs");
        // slots 1 and 2 are the upper and work directories; the overlay, the root, is slot 3
        assertThat(first(p, Op.OVERLAY).args().subList(0, 4)).containsExactly("3", "0", "1", "2");
        assertThat(first(p, Op.ATTACH_ROOT).args().getFirst()).isEqualTo("3");
    }

    @Test
    void aJailWithoutIdmapPlansAsBefore() throws Exception {
        LaunchPlan p = plan(jail().rootfs("/srv/rootfs"));
        assertThat(ops(p)).doesNotContain(Op.IDMAP_TREE, Op.IDMAP);
        assertThat(first(p, Op.OPEN_TREE).args()).containsExactly("0", "/srv/rootfs", "1", "0");
    }

    @Test
    void aNormalUserIsToldToMakeAShiftedCopy() {
        host.euid = 1000;
        host.egid = 1000;
        assertThatThrownBy(() -> plan(jail().rootfs("/srv/rootfs").rootfsIdmap(true)
                .uidMap(new IdMapping(0, 100000, 65536)).gidMap(new IdMapping(0, 100000, 65536))))
                .isInstanceOf(SpecException.class)
                .hasMessageContaining("rootfsIdmap: idmapped mounts need root: the kernel wants CAP_SYS_ADMIN over the user"
                        + " namespace that owns the filesystem")
                .hasMessageContaining("corral rootfs shift SRC DST --uid-base N");
    }

    @Test
    void anIdmapNeedsARootfsAndANewUserNamespace() {
        assertThatThrownBy(() -> plan(jail().rootfsIdmap(true)))
                .hasMessageContaining("rootfsIdmap: an idmapped rootfs needs a rootfs");
        assertThatThrownBy(() -> plan(new JailBuilder().namespaces(EnumSet.of(Namespace.MOUNT)).command("true")
                .rootfs("/srv/rootfs").rootfsIdmap(true)))
                .hasMessageContaining("rootfsIdmap: an idmapped mount takes the mapping of the jail's own user namespace: it needs a new one");
        assertThatThrownBy(() -> plan(jail().rootfs("/srv/rootfs").idmappedBind("relative", "/x", false)
                .idmappedBind("/no/such", "/y", false)))
                .hasMessageContaining("bind-idmap relative: source must be an absolute path: relative")
                .hasMessageContaining("bind-idmap /no/such: source does not exist: /no/such");
    }

    @Test
    void atMostSixteenIdmappedMountsAJail() {
        JailBuilder b = jail().rootfs("/srv/rootfs").rootfsIdmap(true);
        for (int i = 0; i < 16; i++) b.idmappedBind("/srv/data", "/d" + i, true);
        assertThatThrownBy(() -> plan(b)).hasMessageContaining("rootfsIdmap: 17 idmapped mounts; at most 16 per jail");
    }
}
