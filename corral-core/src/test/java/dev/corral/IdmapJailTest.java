package dev.corral;

import dev.corral.testing.DefaultStateDir;
import dev.corral.ids.IdPool;
import dev.corral.ids.IdRange;
import dev.corral.ids.RangeAllocator;
import dev.corral.rootfs.LayerStore;
import dev.corral.spec.RootfsOverlay;
import dev.corral.testing.BusyboxRootfs;
import dev.corral.testing.Run;
import dev.corral.testing.TreeSnapshot;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

/**
 * Idmapped mounts on real jails, as root (the only user the kernel lets idmap a disk; nobody's
 * refusal is in the CLI's IdmapCliIT). The base is a busybox tree owned by 0 on disk, with a
 * directory owned by 1000; the jails run on allocated ranges at 0x800000 + n * 0x10000, which no
 * other test nor /etc/subuid uses.
 */
class IdmapJailTest {
    @AfterAll
    static void removeTheDefaultStateDirIfEmpty() throws Exception {
        DefaultStateDir.removeIfEmpty();
    }

    static final long RANGE = 0x800000;

    @TempDir
    Path dir;
    Path base;
    RangeAllocator ids;

    @BeforeAll
    static void asRoot() {
        assumeThat(new com.sun.security.auth.module.UnixSystem().getUid()).as("idmaps a disk filesystem").isZero();
    }

    @BeforeEach
    void base() throws Exception {
        // The jail's root (a host uid of the range) attaches the base by its path: it must reach it.
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        base = BusyboxRootfs.create(dir.resolve("base"));
        Path data = Files.createDirectories(base.resolve("data"));
        Files.writeString(data.resolve("note"), "hi\n");
        for (Path p : List.of(data, data.resolve("note"))) {
            Files.setAttribute(p, "unix:uid", 1000);
            Files.setAttribute(p, "unix:gid", 1000);
        }
        ids = new RangeAllocator(dir.resolve("ids.json"), IdPool.of(RANGE, 2 * IdRange.SIZE));
    }

    private static String owner(Path p) throws Exception {
        return Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS) + ":" + Files.getAttribute(p, "unix:gid", LinkOption.NOFOLLOW_LINKS);
    }

    @Test
    void theDiskOwnersAreTheJailsOwnAndWhatItWritesIsStoredAsOnDisk() throws Exception {
        JailedProcess p = new JailBuilder().rootfs(base.toString()).rootfsIdmap(true).autoIdRange(ids, null)
                .command("sh", "-c", "stat -c '%n %u:%g' /bin/busybox /etc/passwd /data /data/note; id -u;"
                        + " touch /made && mkdir /data/sub && echo more >> /data/note && chown 1000:1000 /made"
                        + " && stat -c '%n %u:%g' /made /data/sub && read x; exit 0").start();
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        List<String> lines = List.of(out.readLine(), out.readLine(), out.readLine(), out.readLine(), out.readLine(),
                out.readLine(), out.readLine());
        // The jail runs as host uid RANGE (its 0), and yet the files owned by 0 on disk are its root's.
        assertThat(Files.readString(Path.of("/proc/" + p.jailPid() + "/status"))).containsPattern("Uid:\\s+" + RANGE + "\\s");
        assertThat(lines).containsExactly("/bin/busybox 0:0", "/etc/passwd 0:0", "/data 1000:1000", "/data/note 1000:1000",
                "0", "/made 1000:1000", "/data/sub 0:0");
        p.getOutputStream().close();
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isZero();
        // Written back through the mapping: on disk, the jail's 0 and 1000 are 0 and 1000, not RANGE + n.
        assertThat(owner(base.resolve("made"))).isEqualTo("1000:1000");
        assertThat(owner(base.resolve("data/sub"))).isEqualTo("0:0");
        assertThat(base.resolve("data/note")).hasContent("hi\nmore");
    }

    @Test
    void anIdmappedRootfsNeedNotBeReachableByTheJailsRoot() throws Exception {
        // The base under a directory only host root may enter: the clone is made as the caller.
        Path closed = Files.createDirectories(dir.resolve("closed"), PosixFilePermissions.asFileAttribute(
                PosixFilePermissions.fromString("rwx------")));
        Path inside = BusyboxRootfs.create(closed.resolve("base"));
        Run r = Run.of(new JailBuilder().rootfs(inside.toString()).rootfsIdmap(true).autoIdRange(ids, null)
                .command("sh", "-c", "stat -c '%u:%g' /etc/passwd"));
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(r.out()).isEqualTo("0:0\n");
        // Without idmap the jail's root (host uid RANGE) is refused the path.
        assertThatThrownBy(() -> new JailBuilder().rootfs(inside.toString()).autoIdRange(ids, null).command("true").start())
                .isInstanceOf(JailSetupException.class).hasMessageContaining("Permission denied");
    }

    @Test
    void withoutIdmapTheSameBaseIsNobodysInTheJail() throws Exception {
        Run r = Run.of(new JailBuilder().rootfs(base.toString()).autoIdRange(ids, null)
                .command("sh", "-c", "stat -c '%u:%g' /bin/busybox /data; touch /made"));
        assertThat(r.out()).isEqualTo("65534:65534\n65534:65534\n");
        assertThat(r.err()).contains("touch: /made: Permission denied");
        assertThat(r.status()).isNotZero();
        assertThat(base.resolve("made")).doesNotExist();
    }

    @Test
    void anIdmappedReadOnlyBindShowsItsOwnersAndTakesNoWrites() throws Exception {
        Path shared = Files.createDirectories(dir.resolve("shared"));
        Files.writeString(shared.resolve("f"), "x");
        Files.setAttribute(shared.resolve("f"), "unix:uid", 1000);
        List<String> before = TreeSnapshot.of(shared);
        Run r = Run.of(new JailBuilder().rootfs(base.toString()).rootfsIdmap(true).idmappedBind(shared.toString(), "/shared", true)
                .readOnlyBind(shared.toString(), "/plain").autoIdRange(ids, null)
                .command("sh", "-c", "stat -c '%n %u' /shared/f /plain/f; touch /shared/g"));
        assertThat(r.out()).isEqualTo("/shared/f 1000\n/plain/f 65534\n");
        assertThat(r.err()).contains("touch: /shared/g: Read-only file system");
        assertThat(TreeSnapshot.of(shared)).isEqualTo(before);
    }

    @Test
    void aFilesystemThatCannotBeIdmappedIsNamedWithTheWayAround() throws Exception {
        // sysfs has no idmapped mounts: the kernel answers EINVAL to the monitor's mount_setattr.
        assertThatThrownBy(() -> new JailBuilder().rootfs(base.toString()).idmappedBind("/sys/kernel/mm", "/mm", true)
                .autoIdRange(ids, null).command("true").start())
                .isInstanceOf(JailSetupException.class)
                .hasMessage("ro-bind-idmap /sys/kernel/mm: cannot idmap /sys/kernel/mm: Invalid argument (this filesystem does"
                        + " not support idmapped mounts, or a mount under it does not; ext4, xfs, btrfs, tmpfs and overlayfs do);"
                        + " without idmapping, make a shifted copy: corral rootfs shift SRC DST --uid-base N");
        // The range the failed start held is free again.
        assertThat(ids.allocations()).isEmpty();
    }

    @Test
    void twoJailsOnTwoRangesShareOneIdmappedBaseThroughOverlaysAndSeeOnlyTheirOwnWrites() throws Exception {
        List<String> before = TreeSnapshot.of(base);
        LayerStore store = new LayerStore(dir.resolve("state"));
        RootfsOverlay a = new RootfsOverlay(null, null, store, "a"), b = new RootfsOverlay(null, null, store, "b");
        String script = "stat -c '%u:%g' /bin/busybox; echo $0 > /mine; mkdir -p /home/app; touch /home/app/f;"
                + " chown 1000:1000 /home/app/f; echo $0 >> /etc/passwd; ls /";
        JailedProcess first = new JailBuilder().rootfs(base.toString()).rootfsIdmap(true).rootfsOverlay(a).autoIdRange(ids, null)
                .command("sh", "-c", script + "; read x", "a").start();
        BufferedReader firstOut = new BufferedReader(new InputStreamReader(first.getInputStream(), StandardCharsets.UTF_8));
        assertThat(firstOut.readLine()).isEqualTo("0:0");
        // While the first runs (on the first range), the second takes the next range.
        Run second = Run.of(new JailBuilder().rootfs(base.toString()).rootfsIdmap(true).rootfsOverlay(b).autoIdRange(ids, null)
                .command("sh", "-c", script + "; cat /mine; busybox tail -n 1 /etc/passwd", "b"));
        assertThat(second.status()).as(second.err()).isZero();
        assertThat(second.out()).startsWith("0:0\n").endsWith("b\nb\n");
        assertThat(second.out().lines()).contains("mine").doesNotContain("a");
        first.getOutputStream().close();
        assertThat(first.waitFor(10, TimeUnit.SECONDS)).isTrue();
        List<String> firstListing = firstOut.lines().toList();
        assertThat(firstListing).contains("mine").doesNotContain("b");
        // The base is untouched, entry by entry (content, mode, owner, inode, ctime).
        assertThat(TreeSnapshot.of(base)).isEqualTo(before);
        // Each layer holds its jail's writes, owned by its range on the host (the layer is not idmapped).
        Path upperA = store.named("a").upper(), upperB = store.named("b").upper();
        assertThat(upperA.resolve("mine")).hasContent("a");
        assertThat(upperB.resolve("mine")).hasContent("b");
        assertThat(owner(upperA.resolve("mine"))).isEqualTo(RANGE + ":" + RANGE);
        assertThat(owner(upperB.resolve("mine"))).isEqualTo((RANGE + IdRange.SIZE) + ":" + (RANGE + IdRange.SIZE));
        assertThat(owner(upperB.resolve("home/app/f"))).isEqualTo((RANGE + IdRange.SIZE + 1000) + ":" + (RANGE + IdRange.SIZE + 1000));
        // /etc/passwd was copied up from the idmapped base, keeping its owner as the jail saw it.
        assertThat(owner(upperA.resolve("etc/passwd"))).isEqualTo(RANGE + ":" + RANGE);
        assertThat(Files.readString(upperA.resolve("etc/passwd"))).endsWith("\na\n");
        dev.corral.launch.Launcher.shared().removeLayer(store.named("a"));
        dev.corral.launch.Launcher.shared().removeLayer(store.named("b"));
    }
}
