package dev.corral.cli;

import dev.corral.testing.DefaultStateDir;
import dev.corral.testing.BusyboxRootfs;
import dev.corral.testing.TreeSnapshot;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

/**
 * Shared bases with a layer per jail through the CLI: {@code corral rootfs import} from tar
 * archives and directories (and hostile archives refused), {@code --rootfs-overlay} and
 * {@code --overlay-upper} as root and as nobody, with and without {@code --userns auto}.
 * Everything lives under target/overlay-work, which nobody can reach; each test has its own
 * directory there and removes it.
 */
class OverlayCliIT {
    @AfterAll
    static void removeTheDefaultStateDirIfEmpty() throws Exception {
        DefaultStateDir.removeIfEmpty();
    }

    static final LinkOption NOFOLLOW = LinkOption.NOFOLLOW_LINKS;
    Path dir;
    Path state;

    @BeforeAll
    static void asRoot() {
        assumeThat(new com.sun.security.auth.module.UnixSystem().getUid()).as("switches to nobody, maps foreign ranges").isZero();
    }

    @BeforeEach
    void setUp() throws IOException {
        Path work = Files.createDirectories(Path.of("target/overlay-work").toAbsolutePath());
        Files.setPosixFilePermissions(work, PosixFilePermissions.fromString("rwxr-xr-x"));
        dir = Files.createTempDirectory(work, "t");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        state = dir.resolve("state");
    }

    @AfterEach
    void tearDown() throws Exception {
        // What jails on a subordinate range wrote is removed by root here.
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }

    private static int uid(Path p) throws IOException {
        return (int) Files.getAttribute(p, "unix:uid", NOFOLLOW);
    }

    /** A busybox rootfs with what an import must keep: owners, modes, a hard link, symlinks. */
    private Path richSource() throws Exception {
        Path src = BusyboxRootfs.create(dir.resolve("src"));
        Path secret = Files.writeString(src.resolve("etc/shadow"), "root:*:1::::::\n");
        Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("rw-r-----"));
        Files.setAttribute(secret, "unix:gid", 42);
        Path home = Files.createDirectories(src.resolve("home/app"));
        Files.setAttribute(home, "unix:uid", 1000);
        Files.setAttribute(home, "unix:gid", 1000);
        Files.setPosixFilePermissions(home, PosixFilePermissions.fromString("rwx------"));
        Files.createLink(src.resolve("bin/busybox-again"), src.resolve("bin/busybox"));
        Files.createSymbolicLink(src.resolve("etc/localtime"), Path.of("/usr/share/zoneinfo/UTC"));
        Path ro = Files.createDirectories(src.resolve("usr/ro"));
        Files.writeString(ro.resolve("f"), "x");
        Files.setPosixFilePermissions(ro, PosixFilePermissions.fromString("r-xr-xr-x"));
        return src;
    }

    private static void sh(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(out).isZero();
    }

    @Test
    void importsTarArchivesAndDirectoriesFaithfully() throws Exception {
        Path src = richSource();
        List<String> want = TreeSnapshot.content(src);
        sh("tar", "-C", src.toString(), "--numeric-owner", "-czf", dir.resolve("base.tar.gz").toString(), ".");
        sh("tar", "-C", src.toString(), "--numeric-owner", "-cJf", dir.resolve("base.tar.xz").toString(), ".");
        sh("tar", "-C", src.toString(), "--numeric-owner", "-cf", dir.resolve("base.tar").toString(), ".");
        String[][] imports = {{"base.tar.gz", "gz"}, {"base.tar.xz", "xz"}, {"base.tar", "plain"}, {"src", "dir"}};
        for (String[] i : imports) {
            Cli.Result r = Cli.run("rootfs", "import", "--state-dir", state.toString(), dir.resolve(i[0]).toString(), i[1]);
            assertThat(r.status()).as(r.err()).isZero();
            Path base = state.resolve("bases").resolve(i[1]);
            assertThat(r.out()).isEqualTo(base + "\n");
            assertThat(TreeSnapshot.content(base)).as(i[0]).isEqualTo(want);
            assertThat(Files.getAttribute(base.resolve("bin/busybox-again"), "unix:ino"))
                    .isEqualTo(Files.getAttribute(base.resolve("bin/busybox"), "unix:ino"));
        }
        Cli.Result list = Cli.run("rootfs", "list", "--state-dir", state.toString());
        assertThat(list.out()).isEqualTo("dir\t" + state.resolve("bases/dir") + "\ngz\t" + state.resolve("bases/gz") + "\nplain\t"
                + state.resolve("bases/plain") + "\nxz\t" + state.resolve("bases/xz") + "\n");
        Cli.Result again = Cli.run("rootfs", "import", "--state-dir", state.toString(), dir.resolve("src").toString(), "gz");
        assertThat(again.status()).isEqualTo(2);
        assertThat(again.err()).contains(state.resolve("bases/gz") + " exists already (remove it first: corral rootfs rm gz)");
        Cli.Result rm = Cli.run("rootfs", "rm", "--state-dir", state.toString(), "gz");
        assertThat(rm.status()).as(rm.err()).isZero();
        assertThat(state.resolve("bases/gz")).doesNotExist();
        assertThat(Cli.run("rootfs", "list", "--state-dir", state.toString(), "--path", "gz").status()).isEqualTo(2);
        // The base works as a rootfs.
        Cli.Result run = Cli.run("run", "--rootfs", state.resolve("bases/xz").toString(), "--rootfs-overlay",
                "--", "sh", "-c", "cat /usr/ro/f; echo y > /usr/ro/g; cat /usr/ro/g");
        assertThat(run.out()).as(run.err()).isEqualTo("xy\n");
    }

    /** An archive of the given entries: {name, type ("f", "d", "l" symlink, "h" hard link), link target}. */
    private Path tar(String name, String[]... entries) throws IOException {
        Path t = dir.resolve(name);
        try (OutputStream out = Files.newOutputStream(t); TarArchiveOutputStream tar = new TarArchiveOutputStream(out)) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            for (String[] e : entries) {
                TarArchiveEntry te = switch (e[1]) {
                    case "d" -> new TarArchiveEntry(e[0] + "/", true);
                    case "l" -> {
                        TarArchiveEntry s = new TarArchiveEntry(e[0], TarArchiveEntry.LF_SYMLINK, true);
                        s.setLinkName(e[2]);
                        yield s;
                    }
                    case "h" -> {
                        TarArchiveEntry h = new TarArchiveEntry(e[0], TarArchiveEntry.LF_LINK, true);
                        h.setLinkName(e[2]);
                        yield h;
                    }
                    default -> new TarArchiveEntry(e[0], true);
                };
                byte[] content = e[1].equals("f") ? "evil\n".getBytes(StandardCharsets.UTF_8) : new byte[0];
                te.setSize(content.length);
                tar.putArchiveEntry(te);
                tar.write(content);
                tar.closeArchiveEntry();
            }
        }
        return t;
    }

    @Test
    void hostileArchivesAreRefusedAndWriteNothingOutside() throws Exception {
        Path outside = Files.createDirectories(dir.resolve("outside"));
        Path victim = Files.writeString(outside.resolve("victim"), "safe\n");
        String rel = "../../outside/victim"; // from state/bases/.import-NAME-X
        record Case(Path archive, String message) {}
        List<Case> cases = new ArrayList<>();
        cases.add(new Case(tar("dotdot.tar", new String[] {"etc", "d"}, new String[] {"etc/../" + rel, "f"}),
                "entry etc/../" + rel + ": etc/../" + rel + " has a '..' component (refused: it could leave the base)"));
        cases.add(new Case(tar("absolute.tar", new String[] {victim.toString(), "f"}),
                "entry " + victim + ": absolute path " + victim + " (refused: it would leave the base)"));
        cases.add(new Case(tar("through-symlink.tar", new String[] {"lib", "l", outside.toString()},
                new String[] {"lib/victim", "f"}),
                "entry lib/victim: its parent /lib is a symlink (refused: writing through it could leave the base)"));
        cases.add(new Case(tar("relative-symlink.tar", new String[] {"a", "d"}, new String[] {"a/up", "l", "../../../../outside"},
                new String[] {"a/up/victim", "f"}),
                "entry a/up/victim: its parent /a/up is a symlink"));
        cases.add(new Case(tar("hardlink.tar", new String[] {"passwd", "h", rel}),
                "entry passwd (hard link target " + rel + "): " + rel + " has a '..' component"));
        cases.add(new Case(tar("hardlink-abs.tar", new String[] {"passwd", "h", victim.toString()}),
                "entry passwd (hard link target " + victim + "): absolute path " + victim));
        // A symlink then a file of the same name: the file replaces the link, it is not written through it.
        Path replaced = tar("replace.tar", new String[] {"x", "l", victim.toString()}, new String[] {"x", "f"});
        for (Case c : cases) {
            Cli.Result r = Cli.run("rootfs", "import", "--state-dir", state.toString(), c.archive().toString(), "evil");
            assertThat(r.status()).as(c.archive() + ": " + r.err()).isEqualTo(2);
            assertThat(r.err()).as(c.archive().toString()).contains("corral: rootfs import " + c.archive() + ": " + c.message());
            assertThat(state.resolve("bases/evil")).doesNotExist();
            try (Stream<Path> left = Files.list(state.resolve("bases"))) {
                assertThat(left).as("nothing half-imported").isEmpty();
            }
        }
        Cli.Result r = Cli.run("rootfs", "import", "--state-dir", state.toString(), replaced.toString(), "replaced");
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(state.resolve("bases/replaced/x")).isRegularFile().hasContent("evil");
        try (Stream<Path> all = Files.list(outside)) {
            assertThat(all).containsExactly(victim);
        }
        assertThat(victim).hasContent("safe");
        Cli.Result notTar = Cli.run("rootfs", "import", "--state-dir", state.toString(), victim.toString(), "bad");
        assertThat(notTar.status()).isEqualTo(2);
        assertThat(notTar.err()).contains("not a readable tar archive");
    }

    @Test
    void asRootTheBaseStaysUntouchedAndARunLayerGoes() throws Exception {
        Path base = BusyboxRootfs.create(dir.resolve("base"));
        List<String> before = TreeSnapshot.of(base);
        Cli.Result r = Cli.runAs(List.of("env", "XDG_STATE_HOME=" + state), "run", "--rootfs", base.toString(), "--rootfs-overlay",
                "--", "sh", "-c", "echo changed > /etc/passwd; rm /bin/ls; echo new > /new; cat /etc/passwd /new; ls /bin/ls");
        assertThat(r.out()).isEqualTo("changed\nnew\n");
        assertThat(r.err()).contains("/bin/ls: No such file or directory");
        assertThat(TreeSnapshot.of(base)).isEqualTo(before);
        // As root, the default layer place is /var/lib/corral: the run's layer is gone from there (a
        // layer of a live process may be another test's, running meanwhile; one of a gone one would be ours).
        assertThat(Path.of("/var/lib/corral/layers")).isDirectory();
        try (Stream<Path> left = Files.list(Path.of("/var/lib/corral/layers"))) {
            assertThat(left).noneMatch(p -> p.getFileName().toString().startsWith("run-")
                    && ProcessHandle.of(Long.parseLong(p.getFileName().toString().split("-")[1])).isEmpty());
        }
    }

    @Test
    void asNobodyOnItsSubordinateRangeTheLayerBelongsToTheRange() throws Exception {
        assumeThat(Files.readString(Path.of("/etc/subuid"))).as("needs a subuid range for nobody (CI adds one)").contains("nobody:300000:65536");
        // All under a directory only nobody may enter (as a home often is): the layers and the base
        // are opened before the jail becomes its range's root, who could not pass.
        Path nobodyState = Files.createDirectory(dir.resolve("nobody"));
        Files.setAttribute(nobodyState, "unix:uid", 65534);
        Files.setAttribute(nobodyState, "unix:gid", 65534);
        Files.setPosixFilePermissions(nobodyState, PosixFilePermissions.fromString("rwx------"));
        Path base = BusyboxRootfs.create(nobodyState.resolve("base"));
        List<String> before = TreeSnapshot.of(base);
        List<String> nobody = new ArrayList<>(Cli.NOBODY);
        nobody.addAll(List.of("env", "XDG_STATE_HOME=" + nobodyState));
        Path upper = nobodyState.resolve("upper");
        String ids = nobodyState.resolve("ids.json").toString();
        // The base belongs to host root, which the range does not map: the layer's root is the jail's own.
        Cli.Result r = Cli.runAs(nobody, "run", "--userns", "auto", "--id-state", ids, "--rootfs", base.toString(),
                "--overlay-upper", upper.toString(), "--", "sh", "-c",
                "echo hi > /made && mkdir /home && touch /home/f && chown 1000:1000 /home/f && id -u && cat /proc/self/uid_map");
        assertThat(r.err()).isEmpty();
        assertThat(r.status()).isZero();
        assertThat(uid(upper)).isEqualTo(300000);
        assertThat(uid(upper.resolve("made"))).isEqualTo(300000);
        assertThat(uid(upper.resolve("home/f"))).isEqualTo(301000);
        assertThat(Files.getAttribute(upper.resolve("home/f"), "unix:gid", NOFOLLOW)).isEqualTo(301000);
        assertThat(uid(nobodyState.resolve("upper.work"))).isEqualTo(300000);
        // A layer for one run, on the range: made and removed by a helper on nobody's ranges.
        Cli.Result once = Cli.runAs(nobody, "run", "--userns", "auto", "--id-state", ids, "--rootfs", base.toString(),
                "--rootfs-overlay", "--", "sh", "-c", "mkdir -m 000 /locked && echo x > /x && ls /");
        assertThat(once.status()).as(once.err()).isZero();
        assertThat(once.out()).contains("locked").contains("x");
        try (Stream<Path> left = Files.list(nobodyState.resolve("corral/layers"))) {
            assertThat(left).isEmpty();
        }
        // Without a range: the jail's root is nobody itself.
        Cli.Result self = Cli.runAs(nobody, "run", "--rootfs", base.toString(), "--overlay-upper", nobodyState.resolve("own").toString(),
                "--", "sh", "-c", "echo hi > /made");
        assertThat(self.status()).as(self.err()).isZero();
        assertThat(uid(nobodyState.resolve("own/made"))).isEqualTo(65534);
        assertThat(TreeSnapshot.of(base)).isEqualTo(before);
    }

    @Test
    void nobodyImportsABaseAndTwoJailsOnItSeeOnlyTheirOwnWrites() throws Exception {
        Path src = BusyboxRootfs.create(dir.resolve("src"));
        sh("tar", "-C", src.toString(), "-cjf", dir.resolve("base.tar.bz2").toString(), ".");
        Path nobodyState = Files.createDirectory(dir.resolve("nobody"));
        Files.setAttribute(nobodyState, "unix:uid", 65534);
        Files.setAttribute(nobodyState, "unix:gid", 65534);
        List<String> nobody = new ArrayList<>(Cli.NOBODY);
        nobody.addAll(List.of("env", "XDG_STATE_HOME=" + nobodyState));
        Cli.Result imported = Cli.runAs(nobody, "rootfs", "import", dir.resolve("base.tar.bz2").toString(), "mine");
        assertThat(imported.status()).as(imported.err()).isZero();
        Path base = nobodyState.resolve("corral/bases/mine");
        assertThat(imported.out()).isEqualTo(base + "\n");
        // Not root: the files are nobody's, who is root in its own jails.
        assertThat(uid(base.resolve("etc/passwd"))).isEqualTo(65534);
        List<String> before = TreeSnapshot.of(base);
        Process first = new ProcessBuilder(Cli.command(nobody, "run", "--rootfs", base.toString(), "--rootfs-overlay", "--",
                "sh", "-c", "echo a > /etc/from-a; echo ready; read x; ls /etc")).directory(new java.io.File("/")).start();
        try {
            assertThat(new String(first.getInputStream().readNBytes(6), StandardCharsets.UTF_8)).isEqualTo("ready\n");
            Cli.Result second = Cli.runAs(nobody, "run", "--rootfs", base.toString(), "--rootfs-overlay", "--",
                    "sh", "-c", "ls -ln /etc/passwd; echo b > /etc/from-b; ls /etc");
            assertThat(second.err()).isEmpty();
            assertThat(second.out()).contains(" 0 ").contains("from-b").doesNotContain("from-a");
            first.getOutputStream().close();
            String firstOut = new String(first.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(firstOut).contains("from-a").doesNotContain("from-b");
        } finally {
            first.getOutputStream().close();
            first.waitFor();
        }
        assertThat(first.exitValue()).isZero();
        assertThat(TreeSnapshot.of(base)).isEqualTo(before);
        try (Stream<Path> left = Files.list(nobodyState.resolve("corral/layers"))) {
            assertThat(left).isEmpty();
        }
    }

    @Test
    void badOverlayFlagsAreNamed() throws Exception {
        Path base = BusyboxRootfs.create(dir.resolve("base"));
        Cli.Result r = Cli.run("run", "--rootfs-overlay", "--", "true");
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err()).contains("corral: --rootfs-overlay: an overlay needs a rootfs to be its base");
        r = Cli.run("run", "--rootfs", base.toString(), "--overlay-work", dir.resolve("w").toString(), "--", "true");
        assertThat(r.err()).contains("corral: --overlay-work: a work directory goes with an upper directory");
        r = Cli.run("run", "--rootfs", base.toString(), "--overlay-upper", base.resolve("etc").toString(), "--", "true");
        assertThat(r.err()).contains("corral: --overlay-upper: " + base.resolve("etc") + " and the base " + base + " must be apart");
        r = Cli.run("run", "--dry-run", "--rootfs", base.toString(), "--overlay-upper", dir.resolve("u").toString(), "--", "true");
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(r.out()).contains("clone the base " + base + " read-only (the overlay's lower layer)")
                .contains("make an overlayfs of them to be the new root; the jail's changes go to " + dir.resolve("u")
                        + " (work directory " + dir.resolve("u.work") + ")");
        assertThat(dir.resolve("u")).doesNotExist();
    }
}
