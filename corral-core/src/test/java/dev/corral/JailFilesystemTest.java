package dev.corral;

import dev.corral.testing.BusyboxRootfs;
import dev.corral.testing.Run;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Real mounts: what the jail sees, and that the host sees nothing of them. */
class JailFilesystemTest {

    private static String hostMounts() throws Exception {
        return Files.readString(Path.of("/proc/self/mountinfo"));
    }

    @Test
    void defaultJailShowsTheHostReadOnlyWithPrivateTmpProcAndDev() throws Exception {
        Path hostFile = Files.createTempFile("corral-visible", ".txt");
        try {
            Files.writeString(hostFile, "host data");
            Run r = Run.sh("cat /etc/hostname >/dev/null && echo etc-readable; touch /etc/corral-x 2>&1;"
                    + " ls -A /tmp | wc -l; touch /tmp/scratch && echo tmp-writable;"
                    + " ls /dev | tr '\\n' ' '; echo; test -e /dev/sda || echo no-disks");
            assertThat(r.status()).as(r.err()).isZero();
            assertThat(r.out()).startsWith("etc-readable\n")
                    .contains("touch: cannot touch '/etc/corral-x': Read-only file system")
                    .contains("\n0\ntmp-writable\n")
                    .contains("full null ptmx pts random shm stderr stdin stdout tty urandom zero")
                    .endsWith("no-disks\n");
        } finally {
            Files.delete(hostFile);
        }
        assertThat(Path.of("/etc/corral-x")).doesNotExist();
    }

    @Test
    void bindsReadWriteAndReadOnly(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("in.txt"), "from host");
        Run r = Run.of(new JailBuilder().bind(dir.toString(), "/data").readOnlyBind(dir.toString(), "/ro")
                .command("sh", "-c", "cat /data/in.txt; echo written > /data/out.txt; echo x > /ro/y"));
        assertThat(r.out()).isEqualTo("from host");
        assertThat(r.err()).contains("/ro/y: Read-only file system");
        assertThat(Files.readString(dir.resolve("out.txt"))).isEqualTo("written\n");
        assertThat(dir.resolve("y")).doesNotExist();
    }

    @Test
    void nothingTheJailMountsReachesTheHost(@TempDir Path dir) throws Exception {
        String before = hostMounts();
        Run r = Run.of(new JailBuilder().bind(dir.toString(), "/data").tmpfs("/data/inner")
                .command("sh", "-c", "echo hi > /data/inner/f; cat /data/inner/f"));
        assertThat(r.out()).isEqualTo("hi\n");
        assertThat(hostMounts()).isEqualTo(before);
        assertThat(dir.resolve("inner")).isEmptyDirectory();
    }

    @Test
    void rootfsIsEnteredWithPivotRootAndTheHostIsGone(@TempDir Path dir) throws Exception {
        Path rootfs = BusyboxRootfs.create(dir.resolve("root"));
        Run r = Run.of(new JailBuilder().rootfs(rootfs.toString())
                .command("/bin/sh", "-c", "pwd; ls /; cat /etc/hostname; cat /proc/self/mountinfo | wc -l"));
        var lines = r.out().lines().toList();
        assertThat(lines.getFirst()).isEqualTo("/");
        assertThat(lines).contains("bin", "dev", "etc", "proc", "tmp").doesNotContain("usr", "home", "root");
        assertThat(r.err()).contains("can't open '/etc/hostname': No such file or directory");
        // root, /proc, /tmp, /dev, its six nodes, devpts, /dev/shm and the eight /proc masks and
        // read-only binds this kernel has: no host mount left.
        assertThat(Integer.parseInt(lines.getLast().strip())).isLessThanOrEqualTo(20);
    }

    @Test
    void userAndGroupResolveInTheJailsOwnFiles(@TempDir Path dir) throws Exception {
        Path rootfs = BusyboxRootfs.create(dir.resolve("root"));
        Run r = Run.of(new JailBuilder().rootfs(rootfs.toString())
                .uidMap(0, 0, 1).uidMap(1000, 301000, 1).gidMap(0, 0, 1).gidMap(1000, 301000, 1)
                .user("app").command("/bin/sh", "-c", "id -u; id -g"));
        assertThat(r.out()).as(r.err()).isEqualTo("1000\n1000\n");
    }

    @Test
    void symlinksAndDirectories(@TempDir Path dir) throws Exception {
        Run r = Run.of(new JailBuilder().dir("/made/here").symlink("/made/here", "/shortcut")
                .command("sh", "-c", "readlink /shortcut; test -d /shortcut && echo dir"));
        assertThat(r.out()).as(r.err()).isEqualTo("/made/here\ndir\n");
    }

    /**
     * A relative symlink in a rootfs that climbs but stays inside it (usr/up -> ../etc) is judged
     * against the root, also where the rest of the target is still to be made: it was refused
     * as "leads outside the root" when the last component was missing. One that climbs out is.
     */
    @Test
    void aRelativeSymlinkThatStaysInsideTheRootLeadsToTheTarget(@TempDir Path dir) throws Exception {
        Path rootfs = BusyboxRootfs.create(dir.resolve("root"));
        Files.createDirectories(rootfs.resolve("usr"));
        Files.createSymbolicLink(rootfs.resolve("usr/up"), Path.of("../etc"));
        Files.createSymbolicLink(rootfs.resolve("usr/out"), Path.of("../../.."));
        Run r = Run.of(new JailBuilder().rootfs(rootfs.toString()).tmpfs("/usr/up/made/here")
                .command("/bin/sh", "-c", "grep -c ' /etc/made/here ' /proc/self/mountinfo"));
        assertThat(r.out()).as(r.err()).isEqualTo("1\n");
        assertThat(rootfs.resolve("etc/made/here")).isDirectory();
        assertThatThrownBy(() -> Run.of(new JailBuilder().rootfs(rootfs.toString()).tmpfs("/usr/out/made")
                .command("/bin/true")))
                .isInstanceOf(JailSetupException.class)
                .hasMessageContaining("/usr/out/made leads outside the root (symlink)");
        assertThat(dir.resolve("made")).doesNotExist();
    }
}
