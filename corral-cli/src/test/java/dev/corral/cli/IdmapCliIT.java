package dev.corral.cli;

import dev.corral.testing.DefaultStateDir;
import dev.corral.testing.BusyboxRootfs;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

/**
 * {@code --rootfs-idmap}, {@code --ro-bind-idmap} and their JSON through the CLI, as root on a
 * range at 0x900000 (used by no other test) and as nobody, who is refused before anything starts.
 */
class IdmapCliIT {
    @AfterAll
    static void removeTheDefaultStateDirIfEmpty() throws Exception {
        DefaultStateDir.removeIfEmpty();
    }

    static final long RANGE = 0x900000;
    Path dir, base;

    @BeforeAll
    static void asRoot() {
        assumeThat(new com.sun.security.auth.module.UnixSystem().getUid()).as("switches to nobody, idmaps a disk").isZero();
    }

    @BeforeEach
    void setUp() throws Exception {
        Path work = Files.createDirectories(Path.of("target/idmap-work").toAbsolutePath());
        Files.setPosixFilePermissions(work, PosixFilePermissions.fromString("rwxr-xr-x"));
        dir = Files.createTempDirectory(work, "t");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        base = BusyboxRootfs.create(dir.resolve("base"));
        Path data = Files.createDirectories(dir.resolve("data"));
        Files.writeString(data.resolve("f"), "x");
        Files.setAttribute(data.resolve("f"), "unix:uid", 1000);
    }

    @AfterEach
    void tearDown() throws IOException {
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }

    private String[] idFlags() {
        return new String[] {"--userns", "auto", "--id-pool", RANGE + ":65536", "--id-state", dir.resolve("ids.json").toString()};
    }

    @Test
    void flagsShowTheDiskOwnersAsTheJailsOwn() throws Exception {
        String[] ids = idFlags();
        Cli.Result r = Cli.run("run", "--rootfs", base.toString(), "--rootfs-idmap", "--ro-bind-idmap", dir.resolve("data") + ":/data",
                ids[0], ids[1], ids[2], ids[3], ids[4], ids[5], "--", "sh", "-c",
                "head -1 /proc/self/uid_map; stat -c '%n %u:%g' /bin/busybox /data/f; touch /made");
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(r.out().lines().map(l -> l.strip().replaceAll("\\s+", " ")).toList())
                .containsExactly("0 " + RANGE + " 65536", "/bin/busybox 0:0", "/data/f 1000:0");
        assertThat(Files.getAttribute(base.resolve("made"), "unix:uid")).isEqualTo(0);
        // Writable idmapped mounts are said to be what they are; the read-only bind is not.
        assertThat(r.err()).isEqualTo("corral: warning: --rootfs-idmap: the jail's root writes there as uid 0 on disk (a setuid"
                + " file it makes is setuid root on the host); add --rootfs-overlay to keep " + base + " unwritten\n");
    }

    @Test
    void jsonAsksForItOnTheRootfsAndOnBinds() throws Exception {
        Path config = Files.writeString(dir.resolve("app.json"), """
                {"executable": "/bin/sh", "arguments": ["-c", "stat -c '%%n %%u' /etc/passwd /data/f"],
                 "isolation": {"uidmap": "auto",
                   "rootfs": {"base": "%s", "idmap": true},
                   "mounts": [{"type": "bind", "source": "%s", "target": "/data", "read_only": true, "idmap": true}]}}
                """.formatted(base, dir.resolve("data")));
        String[] ids = idFlags();
        Cli.Result r = Cli.run("run", "--config", config.toString(), ids[2], ids[3], ids[4], ids[5]);
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(r.out()).isEqualTo("/etc/passwd 0\n/data/f 1000\n");
        Files.writeString(config, Files.readString(config).replace("\"idmap\": true}", "\"idmap\": 1}"));
        Cli.Result bad = Cli.run("run", "--config", config.toString());
        assertThat(bad.status()).isEqualTo(2);
        assertThat(bad.err()).contains("corral: /isolation/rootfs/idmap: expected true or false, found the number 1");
    }

    @Test
    void nobodyIsRefusedBeforeAnythingStartsAndToldOfTheShiftedCopy() throws Exception {
        Cli.Result r = Cli.runAs(Cli.NOBODY, "run", "--rootfs", base.toString(), "--rootfs-idmap", "--", "true");
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err()).endsWith("corral: --rootfs-idmap: idmapped mounts need root: the kernel wants CAP_SYS_ADMIN over"
                + " the user namespace that owns the filesystem (the host's); as a normal user make a shifted copy instead:"
                + " corral rootfs shift SRC DST --uid-base N\n");
    }

    @Test
    void aFilesystemWithoutIdmappedMountsIsAnErrorNamingTheFlag() throws Exception {
        String[] ids = idFlags();
        Cli.Result r = Cli.run("run", "--rootfs", base.toString(), "--ro-bind-idmap", "/sys/kernel/mm:/mm",
                ids[0], ids[1], ids[2], ids[3], ids[4], ids[5], "--", "true");
        assertThat(r.status()).isEqualTo(125);
        assertThat(r.err()).startsWith("corral: --ro-bind-idmap /sys/kernel/mm:/mm: cannot idmap /sys/kernel/mm: Invalid argument"
                + " (this filesystem does not support idmapped mounts");
        assertThat(Files.readString(dir.resolve("ids.json"))).contains("\"allocations\" : [ ]");
    }
}
