package dev.corral;

import dev.corral.testing.DefaultStateDir;
import dev.corral.ids.IdPool;
import dev.corral.ids.IdRange;
import dev.corral.ids.RangeAllocator;
import dev.corral.launch.Launcher;
import dev.corral.plan.LaunchPlan;
import dev.corral.rootfs.LayerStore;
import dev.corral.spec.RootfsOverlay;
import dev.corral.spec.SpecException;
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
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

/**
 * Jails on a shared base with a writable layer of their own (overlayfs), as root; the same as
 * nobody is in the CLI's OverlayCliIT. The base is compared entry by entry (content, mode, owner,
 * inode, ctime) before and after jails write.
 */
class OverlayJailTest {
    @AfterAll
    static void removeTheDefaultStateDirIfEmpty() throws Exception {
        DefaultStateDir.removeIfEmpty();
    }

    /** Ranges here sit at 0x700000, used by no other test nor /etc/subuid. */
    static final long BASE_ID = 0x700000;

    @TempDir
    Path dir;
    Path base;
    LayerStore store;

    @BeforeAll
    static void asRoot() {
        assumeThat(new com.sun.security.auth.module.UnixSystem().getUid()).as("writes id maps of foreign ranges directly").isZero();
    }

    @BeforeEach
    void base() throws Exception {
        base = BusyboxRootfs.create(dir.resolve("base"));
        store = new LayerStore(dir.resolve("state"));
    }

    private JailBuilder jail(RootfsOverlay overlay, String script) {
        return new JailBuilder().rootfs(base.toString()).rootfsOverlay(overlay).command("sh", "-c", script);
    }

    private static int uid(Path p) throws Exception {
        return (int) Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS);
    }

    @Test
    void theJailChangesItsLayerAndNeverTheBase() throws Exception {
        List<String> before = TreeSnapshot.of(base);
        Path upper = dir.resolve("changes");
        Run r = Run.of(jail(new RootfsOverlay(upper.toString(), null, null, null),
                "echo new >> /etc/passwd && rm /etc/group && mkdir /srv && echo hi > /srv/made && chmod 700 /bin/busybox"
                        + " && rm /bin/ls && busybox tail -n 1 /etc/passwd && ls /etc && cat /srv/made"));
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(r.out()).isEqualTo("new\npasswd\nhi\n");
        assertThat(TreeSnapshot.of(base)).isEqualTo(before);
        // What the jail changed is in the upper directory, whiteouts for what it removed.
        assertThat(Files.readString(upper.resolve("etc/passwd"))).endsWith("app:x:1000:1000:app:/home/app:/bin/sh\nnew\n");
        assertThat(Files.readString(upper.resolve("srv/made"))).isEqualTo("hi\n");
        assertThat(Files.getAttribute(upper.resolve("etc/group"), "unix:rdev", LinkOption.NOFOLLOW_LINKS)).isEqualTo(0L);
        assertThat(Files.readAttributes(upper.resolve("bin/ls"), "unix:mode", LinkOption.NOFOLLOW_LINKS).get("mode"))
                .satisfies(m -> assertThat(((int) m) & 0170000).isEqualTo(0020000)); // a character device: a whiteout
        // Kept: the next jail on this layer sees the changes.
        assertThat(Run.of(jail(new RootfsOverlay(upper.toString(), null, null, null), "cat /srv/made; ls /etc")).out())
                .isEqualTo("hi\npasswd\n");
        assertThat(upper.resolveSibling("changes.work")).isDirectory();
        // A user added in the layer is found by --user: the planner reads the layer's /etc/passwd first.
        Files.writeString(upper.resolve("etc/passwd"), "root:x:0:0::/:/bin/sh\nlater:x:4242:4242::/:/bin/sh\n");
        assertThat(Run.of(jail(new RootfsOverlay(upper.toString(), null, null, null), "id -u").user("later")
                .uidMap(0, 0, 65536).gidMap(0, 0, 65536)).out())
                .isEqualTo("4242\n");
    }

    @Test
    void aFileMadeInsideBelongsToTheRangeOnTheHost() throws Exception {
        RangeAllocator ids = new RangeAllocator(dir.resolve("ids.json"), IdPool.of(BASE_ID, IdRange.SIZE));
        // The test's directory is 0700: the jail's root (host uid BASE_ID) could not pass it, so the
        // base and the layer are opened before it becomes that.
        Path upper = dir.resolve("upper");
        Run r = Run.of(jail(new RootfsOverlay(upper.toString(), null, null, null),
                "echo hi > /made && mkdir /home && touch /home/app-file && chown 1000:1000 /home/app-file && id -u")
                .autoIdRange(ids, null));
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(uid(upper)).isEqualTo(BASE_ID);
        assertThat(uid(upper.resolve("made"))).isEqualTo(BASE_ID);
        assertThat(uid(upper.resolve("home/app-file"))).isEqualTo(BASE_ID + 1000);
        assertThat(Files.getAttribute(upper.resolve("home/app-file"), "unix:gid")).isEqualTo((int) BASE_ID + 1000);
    }

    @Test
    void twoJailsOverOneBaseSeeOnlyTheirOwnWrites() throws Exception {
        List<String> before = TreeSnapshot.of(base);
        RootfsOverlay a = new RootfsOverlay(null, null, store, "a"), b = new RootfsOverlay(null, null, store, "b");
        JailedProcess first = jail(a, "echo a > /from-a; echo ready; read x; ls /").start();
        BufferedReader firstOut = new BufferedReader(new InputStreamReader(first.getInputStream(), StandardCharsets.UTF_8));
        assertThat(firstOut.readLine()).isEqualTo("ready");
        // While the first runs, the second writes its own file and sees none of the first's.
        Run second = Run.of(jail(b, "echo b > /from-b; ls /"));
        assertThat(second.out()).contains("from-b").doesNotContain("from-a");
        first.getOutputStream().close();
        assertThat(first.waitFor(10, TimeUnit.SECONDS)).isTrue();
        String firstListing = new String(first.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(firstListing).contains("from-a").doesNotContain("from-b");
        assertThat(store.named("a").upper().resolve("from-a")).hasContent("a");
        assertThat(store.named("b").upper().resolve("from-b")).hasContent("b");
        assertThat(TreeSnapshot.of(base)).isEqualTo(before);
        // A named layer stays until removed.
        assertThat(Run.of(jail(a, "cat /from-a")).out()).isEqualTo("a\n");
        Launcher.shared().removeLayer(store.named("a"));
        assertThat(store.named("a").dir()).doesNotExist();
        assertThat(store.named("b").dir()).isDirectory();
    }

    @Test
    void aLayerForOneRunIsGoneWhenTheJailEnds() throws Exception {
        RootfsOverlay temporary = new RootfsOverlay(null, null, store, null);
        LaunchPlan dry = Launcher.shared().plan(jail(temporary, "true").build());
        assertThat(dry.describe()).anyMatch(s -> s.contains("make an overlayfs of them to be the new root; the jail's changes go to "
                + store.layers() + "/run-" + ProcessHandle.current().pid() + "-XXXXXXXX/upper"));
        // The layer of a run whose process died without removing it goes at the next run.
        Process gone = new ProcessBuilder("true").start();
        gone.waitFor();
        Path stale = Files.createDirectories(store.layers().resolve("run-" + gone.pid() + "-0badc0de/upper/etc"));
        Files.writeString(stale.resolve("passwd"), "x");
        JailedProcess p = jail(temporary, "echo x > /x; ls -d /x; read y").start();
        assertThat(store.layers().resolve("run-" + gone.pid() + "-0badc0de")).doesNotExist();
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        assertThat(out.readLine()).isEqualTo("/x");
        try (var running = Files.list(store.layers())) {
            Path layer = running.findFirst().orElseThrow();
            assertThat(layer.getFileName().toString()).startsWith("run-" + ProcessHandle.current().pid() + "-");
            assertThat(layer.resolve("upper/x")).hasContent("x");
            assertThat(Files.getPosixFilePermissions(layer)).hasSize(3); // rwx------
        }
        p.getOutputStream().close();
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        try (var left = Files.list(store.layers())) {
            assertThat(left).isEmpty();
        }
    }

    @Test
    void badLayersAreRefusedNamingTheField() throws Exception {
        assertThatThrownBy(() -> jail(new RootfsOverlay(base.resolve("tmp/upper").toString(), null, null, null), "true").start())
                .isInstanceOf(SpecException.class)
                .hasMessageContaining("rootfsUpper: " + base.resolve("tmp/upper") + " and the base " + base + " must be apart");
        assertThatThrownBy(() -> jail(new RootfsOverlay(null, dir.resolve("w").toString(), null, null), "true").start())
                .isInstanceOf(SpecException.class).hasMessageContaining("rootfsWork: a work directory goes with an upper directory");
        assertThatThrownBy(() -> new JailBuilder().rootfsOverlay().command("true").start())
                .isInstanceOf(SpecException.class).hasMessageContaining("rootfsOverlay: an overlay needs a rootfs to be its base");
        Path file = Files.writeString(dir.resolve("file"), "x");
        assertThatThrownBy(() -> jail(new RootfsOverlay(file.toString(), null, null, null), "true").start())
                .isInstanceOf(SpecException.class).hasMessageContaining("rootfsUpper: not a directory: " + file);
        Path upper = dir.resolve("relative");
        assertThatThrownBy(() -> jail(new RootfsOverlay("rel/upper", null, null, null), "true").start())
                .isInstanceOf(SpecException.class).hasMessageContaining("rootfsUpper: must be an absolute path: rel/upper");
        // An upper that belongs to someone else than the jail's root (here host root) is not taken over.
        Files.createDirectories(upper);
        Files.setAttribute(upper, "unix:uid", 12345);
        assertThatThrownBy(() -> jail(new RootfsOverlay(upper.toString(), null, null, null), "true").start())
                .isInstanceOf(JailSetupException.class)
                .hasMessage("rootfsUpper: " + upper + " belongs to 12345:0, but the jail's root is host 0:0 and must own its layer"
                        + " (chown it, or choose another directory)");
        // A missing parent is named.
        assertThatThrownBy(() -> jail(new RootfsOverlay(dir.resolve("no/such/upper").toString(), null, null, null), "true").start())
                .isInstanceOf(JailSetupException.class)
                .hasMessageContaining("rootfsUpper: cannot make " + dir.resolve("no/such/upper") + ": its parent directory does not exist");
    }
}
