package dev.corral.cli;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

/**
 * {@code corral run --userns auto}: a range of the id pool per jail, as root (explicit pools at
 * 0x600000 + n * 0x10000, used by no other test) and as nobody (its one /etc/subuid range,
 * through newuidmap). Every run records its ranges in a file of the test's own directory.
 */
class IdRangesCliIT {
    static final long BASE = 0x600000;

    @TempDir
    Path dir;

    @BeforeAll
    static void asRoot() {
        assumeThat(new com.sun.security.auth.module.UnixSystem().getUid()).as("maps foreign ranges, switches to nobody").isZero();
    }

    static List<String> maps(String out) {
        return out.lines().map(s -> s.strip().replaceAll("\\s+", " ")).toList();
    }

    @Test
    void separateProcessesNeverTakeOneRange() throws Exception {
        String state = dir.resolve("ids.json").toString();
        List<Callable<Cli.Result>> runs = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            runs.add(() -> Cli.run("run", "--userns", "auto", "--id-pool", BASE + ":" + 4 * 65536, "--id-state", state,
                    "--", "sh", "-c", "cat /proc/self/uid_map; sleep 1"));
        }
        Set<String> got = new HashSet<>();
        try (var exec = Executors.newFixedThreadPool(4)) {
            for (Future<Cli.Result> f : exec.invokeAll(runs)) {
                Cli.Result r = f.get();
                assertThat(r.status()).as(r.err()).isZero();
                got.add(maps(r.out()).getFirst());
            }
        }
        assertThat(got).containsExactlyInAnyOrder("0 " + BASE + " 65536", "0 " + (BASE + 65536) + " 65536",
                "0 " + (BASE + 2 * 65536) + " 65536", "0 " + (BASE + 3 * 65536) + " 65536");
        assertThat(Files.readString(dir.resolve("ids.json"))).as("every range given back").contains("\"allocations\" : [ ]");
    }

    @Test
    void aDryRunShowsTheRangeAndTakesNothing() throws Exception {
        Cli.Result r = Cli.run("run", "--dry-run", "--userns", "auto", "--id-pool", (BASE + 4 * 65536) + ":65536",
                "--id-state", dir.resolve("ids.json").toString(), "--", "true");
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(r.out()).contains("write its gid_map: 0 " + (BASE + 4 * 65536) + " 65536")
                .contains("write its uid_map: 0 " + (BASE + 4 * 65536) + " 65536");
        assertThat(dir.resolve("ids.json")).doesNotExist();
    }

    @Test
    void badFlagsAreNamed() throws Exception {
        Cli.Result r = Cli.run("run", "--userns", "private", "--id-pool", "5", "--", "true");
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err()).contains("corral: --userns private: expected \"auto\"").contains("corral: --id-pool 5: expected START:COUNT");
        r = Cli.run("run", "--id-pool", BASE + ":65536", "--", "true");
        assertThat(r.err()).contains("corral: --id-pool: only with --userns auto");
        r = Cli.run("run", "--userns", "auto", "--uid-map", "0:0:1", "--", "true");
        assertThat(r.err()).contains("corral: --userns auto: an automatic id range replaces the uid and gid maps");
    }

    @Test
    void rootWithoutSubordinateIdsIsToldHowToAddThem() throws Exception {
        assumeThat(Files.readAllLines(Path.of("/etc/subuid"))).as("root has no /etc/subuid entry")
                .noneMatch(l -> l.startsWith("root:") || l.startsWith("0:"));
        Cli.Result r = Cli.run("run", "--userns", "auto", "--id-state", dir.resolve("ids.json").toString(), "--", "true");
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err()).contains("corral: --userns auto: no id pool: /etc/subuid and /etc/subgid give root no range of 65536 ids")
                .contains("usermod --add-subuids 1000000-1999999 --add-subgids 1000000-1999999 root");
    }

    @Test
    void nobodyGetsItsSubordinateRangeThroughNewuidmapAndOnlyOneJailAtATime() throws Exception {
        assumeThat(Files.readString(Path.of("/etc/subuid"))).as("needs a subuid range for nobody (CI adds one)").contains("nobody:300000:65536");
        assumeThat(Files.readString(Path.of("/etc/subgid"))).contains("nobody:300000:65536");
        Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwx--x--x"));
        Path own = Files.createDirectory(dir.resolve("nobody"));
        Files.setOwner(own, own.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("nobody"));
        String state = own.resolve("ids.json").toString();
        Cli.Result r = Cli.runAs(Cli.NOBODY, "run", "--userns", "auto", "--id-state", state, "--",
                "sh", "-c", "cat /proc/self/uid_map /proc/self/gid_map; id -u");
        assertThat(r.err()).isEmpty();
        assertThat(maps(r.out())).containsExactly("0 300000 65536", "0 300000 65536", "0");
        // nobody's one range is held while a jail runs: a second jail is refused, clearly.
        Process first = new ProcessBuilder(Cli.command(Cli.NOBODY, "run", "--userns", "auto", "--id-state", state, "--",
                "sh", "-c", "echo up; read x")).directory(new java.io.File("/")).start();
        try {
            assertThat(new String(first.getInputStream().readNBytes(3))).isEqualTo("up\n");
            Cli.Result second = Cli.runAs(Cli.NOBODY, "run", "--userns", "auto", "--id-state", state, "--", "true");
            assertThat(second.status()).isEqualTo(2);
            assertThat(second.err()).contains("corral: --userns auto: the id pool is exhausted: no free range of 65536 ids"
                    + " left in ids 300000:65536 (1 range); held by a jail started by pid " + first.pid());
        } finally {
            first.getOutputStream().close();
            first.waitFor();
        }
        assertThat(Files.readString(own.resolve("ids.json"))).contains("\"allocations\" : [ ]");
    }
}
