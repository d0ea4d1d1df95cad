package dev.corral.cli;

import dev.corral.testing.BusyboxRootfs;
import dev.corral.testing.TreeSnapshot;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

/**
 * {@code corral rootfs shift} as a process: killed outright in the middle and run again, it
 * ends with the same tree as an uninterrupted run; as nobody it is refused with the reason.
 */
class RootfsShiftCliIT {
    static final long RANGE = 0x910000;
    Path dir, src;

    @BeforeAll
    static void asRoot() {
        assumeThat(new com.sun.security.auth.module.UnixSystem().getUid()).as("gives files to a range's ids, switches to nobody").isZero();
    }

    @BeforeEach
    void setUp() throws Exception {
        Path work = Files.createDirectories(Path.of("target/idmap-work").toAbsolutePath());
        Files.setPosixFilePermissions(work, PosixFilePermissions.fromString("rwxr-xr-x"));
        dir = Files.createTempDirectory(work, "s");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        src = BusyboxRootfs.create(dir.resolve("src"));
        // Enough entries that the copy is still running when the first progress line comes.
        for (int d = 0; d < 50; d++) {
            Path sub = Files.createDirectories(src.resolve("usr/share/d" + d));
            for (int f = 0; f < 100; f++) Files.writeString(sub.resolve("f" + f), "file " + d + "/" + f + "\n");
            Files.setAttribute(sub.resolve("f0"), "unix:uid", 1000);
        }
    }

    @AfterEach
    void tearDown() throws IOException {
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }

    @Test
    void killedMidwayAndRunAgainItEndsAsAnUninterruptedCopy() throws Exception {
        List<String> source = TreeSnapshot.of(src);
        Path whole = dir.resolve("whole"), resumed = dir.resolve("resumed");
        Cli.Result once = Cli.run("rootfs", "shift", src.toString(), whole.toString(), "--uid-base", String.valueOf(RANGE));
        assertThat(once.status()).as(once.err()).isZero();
        assertThat(once.err()).containsPattern("corral: shifted (\\d+)/\\1 entries \\(100%\\)")
                .contains(" made now, 0 already there, 0 hard links)");

        Process p = new ProcessBuilder(Cli.command(List.of(), "rootfs", "shift", src.toString(), resumed.toString(),
                "--uid-base", String.valueOf(RANGE))).redirectInput(new File("/dev/null")).redirectOutput(new File("/dev/null")).start();
        BufferedReader err = new BufferedReader(new InputStreamReader(p.getErrorStream(), StandardCharsets.UTF_8));
        String line;
        while ((line = err.readLine()) != null && !line.contains("(10%)")) { /* wait for a tenth of the way */ }
        assertThat(line).as("a progress line").isNotNull();
        p.destroyForcibly(); // SIGKILL: no chance to tidy up
        p.waitFor(10, TimeUnit.SECONDS);
        assertThat(dir.resolve("resumed.corral-shift")).as("the copy was cut short").exists();

        Cli.Result again = Cli.run("rootfs", "shift", src.toString(), resumed.toString(), "--uid-base", String.valueOf(RANGE));
        assertThat(again.status()).as(again.err()).isZero();
        assertThat(again.err()).containsPattern("\\d+ made now, [1-9]\\d* already there");
        assertThat(TreeSnapshot.content(resumed)).isEqualTo(TreeSnapshot.content(whole));
        assertThat(dir.resolve("resumed.corral-shift")).doesNotExist();
        assertThat(resumed.resolve(".corral-shift-part")).doesNotExist();
        assertThat(Files.getAttribute(resumed.resolve("usr/share/d7/f0"), "unix:uid")).isEqualTo((int) RANGE + 1000);
        assertThat(TreeSnapshot.of(src)).as("the source").isEqualTo(source);
    }

    @Test
    void nobodyRunsOnACopyShiftedIntoItsSubordinateRange() throws Exception {
        // What a normal user does instead of idmapping: root shifts the base once into the user's
        // /etc/subuid range, and the user's jails (--userns auto, through newuidmap) see it as theirs.
        assumeThat(Files.readString(Path.of("/etc/subuid"))).as("needs a subuid range for nobody (CI adds one)").contains("nobody:300000:65536");
        assumeThat(Files.readString(Path.of("/etc/subgid"))).contains("nobody:300000:65536");
        Path copy = dir.resolve("nobody-root");
        Cli.Result shift = Cli.run("rootfs", "shift", "--quiet", src.toString(), copy.toString(), "--uid-base", "300000");
        assertThat(shift.status()).as(shift.err()).isZero();
        Path own = Files.createDirectories(dir.resolve("nobody-state"));
        Files.setAttribute(own, "unix:uid", 65534);
        Cli.Result r = Cli.runAs(Cli.NOBODY, "run", "--rootfs", copy.toString(), "--userns", "auto", "--id-state",
                own.resolve("ids.json").toString(), "--", "sh", "-c",
                "stat -c '%n %u:%g' /bin/busybox /usr/share/d1/f0; touch /made; chown 1000:1000 /made; id -u");
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(r.out()).isEqualTo("/bin/busybox 0:0\n/usr/share/d1/f0 1000:0\n0\n");
        assertThat(Files.getAttribute(copy.resolve("made"), "unix:uid")).isEqualTo(301000);
        assertThat(Files.getAttribute(copy.resolve("made"), "unix:gid")).isEqualTo(301000);
    }

    @Test
    void nobodyCannotGiveFilesToARangeAndIsToldSo() throws Exception {
        Path out = Files.createDirectories(dir.resolve("mine"));
        Files.setAttribute(out, "unix:uid", 65534);
        Cli.Result r = Cli.runAs(Cli.NOBODY, "rootfs", "shift", "--quiet", src.toString(), out.resolve("copy").toString(),
                "--uid-base", String.valueOf(RANGE));
        assertThat(r.status()).isEqualTo(1);
        assertThat(r.err()).startsWith("corral: rootfs shift: lchown " + out.resolve("copy/bin/busybox") + " to " + RANGE + ":"
                + RANGE + ": Operation not permitted (giving files to other users' ids needs root); run the same command again"
                + " to continue");
    }

    @Test
    void rangeOfShiftsIntoTheRangeKeptUnderAName() throws Exception {
        String state = dir.resolve("ids.json").toString(), pool = (RANGE + 65536) + ":" + 2 * 65536;
        Cli.Result r = Cli.run("rootfs", "shift", src.toString(), dir.resolve("web").toString(), "--range-of", "web",
                "--id-state", state, "--id-pool", pool);
        assertThat(r.status()).as(r.err()).isZero();
        long web = RANGE + 65536;
        assertThat(r.err()).startsWith("corral: the range of web: uids " + web + "-" + (web + 65535) + ", gids " + web + "-" + (web + 65535) + "\n");
        assertThat(Files.getAttribute(dir.resolve("web/usr/share/d3/f0"), "unix:uid")).isEqualTo((int) web + 1000);
        assertThat(Files.readString(dir.resolve("ids.json"))).contains("\"name\" : \"web\"");
        // The same name, the same range (as the daemon's application "web" will have).
        Cli.Result again = Cli.run("rootfs", "shift", "--quiet", src.toString(), dir.resolve("web2").toString(), "--range-of", "web",
                "--id-state", state, "--id-pool", pool);
        assertThat(again.status()).as(again.err()).isZero();
        assertThat(Files.getAttribute(dir.resolve("web2/bin/busybox"), "unix:uid")).isEqualTo((int) web);
        Cli.Result both = Cli.run("rootfs", "shift", src.toString(), dir.resolve("x").toString(), "--range-of", "web", "--uid-base", "5");
        assertThat(both.status()).isEqualTo(2);
        assertThat(both.err()).isEqualTo("corral: give --uid-base N or --range-of NAME (one of them)\n");
    }

    @Test
    void badArgumentsAreUsageErrors() throws Exception {
        Cli.Result r = Cli.run("rootfs", "shift", src.toString(), src.resolve("tmp/x").toString(), "--uid-base", "5");
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err()).isEqualTo("corral: " + src.resolve("tmp/x") + ": the copy and " + src + " cannot hold one another\n");
        Cli.Result big = Cli.run("rootfs", "shift", src.toString(), dir.resolve("y").toString(), "--uid-base", "4294967290");
        assertThat(big.status()).isEqualTo(2);
        assertThat(big.err()).isEqualTo("corral: uid base 4294967290 + 65536 ids runs past the largest id\n");
    }
}
