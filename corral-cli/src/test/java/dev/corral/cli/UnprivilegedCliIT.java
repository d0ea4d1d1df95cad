package dev.corral.cli;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

/** The unprivileged path: corral run by the normal user nobody (65534), through setpriv. */
class UnprivilegedCliIT {
    @BeforeAll
    static void needsRootToSwitchUser() {
        assumeThat(new com.sun.security.auth.module.UnixSystem().getUid()).as("these tests switch to nobody with setpriv").isZero();
    }

    @Test
    void defaultJailMapsNobodyToRoot() throws Exception {
        Cli.Result r = Cli.runAs(Cli.NOBODY, "run", "--hostname", "mine", "--",
                "sh", "-c", "id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups; hostname; echo $$");
        assertThat(r.err()).isEmpty();
        assertThat(r.status()).isZero();
        assertThat(r.out().lines().map(String::strip).toList())
                .containsExactly("0", "0", "0      65534          1", "0      65534          1", "deny", "mine", "2");
    }

    @Test
    void nobodyCannotMapIdsItDoesNotOwn() throws Exception {
        Cli.Result r = Cli.runAs(Cli.NOBODY, "run", "--uid-map", "0:0:1", "--", "true");
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err()).contains("corral: --uid-map 0:0:1: maps host ids 0..0 which this user (65534) does not own");
    }

    @Test
    void nobodyCannotUnshareWithoutAUserNamespace() throws Exception {
        Cli.Result r = Cli.runAs(Cli.NOBODY, "run", "--share-user", "--", "true");
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err()).contains("creating namespaces without a user namespace needs root");
    }

    @Test
    void subordinateRangesGoThroughNewuidmap() throws Exception {
        assumeNobodyHasSubordinateRanges();
        Cli.Result r = Cli.runAs(Cli.NOBODY, "run", "--uid-map", "0:300000:65536", "--gid-map", "0:300000:65536",
                "--uid", "1000", "--gid", "1000", "--", "sh", "-c", "id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map");
        assertThat(r.err()).isEmpty();
        assertThat(lines(r))
                .containsExactly("1000", "1000", "0 300000 65536", "0 300000 65536");
    }

    /**
     * Subordinate uids with the caller's own gid alone: newgidmap denies setgroups for such a gid
     * map, so the plan must not call it (it did: "drop supplementary groups: setgroups: Operation
     * not permitted", exit 125). With a subordinate gid range setgroups stays allowed.
     */
    @Test
    void subordinateUidsWithTheCallersOwnGid() throws Exception {
        assumeNobodyHasSubordinateRanges();
        String show = "cat /proc/self/setgroups; id -u; cat /proc/self/uid_map /proc/self/gid_map";
        Cli.Result own = Cli.runAs(Cli.NOBODY, "run", "--uid-map", "0:65534:1", "--uid-map", "1:300000:65536", "--", "sh", "-c", show);
        assertThat(own.status()).as(own.err()).isZero();
        assertThat(lines(own))
                .containsExactly("deny", "0", "0 65534 1", "1 300000 65536", "0 65534 1");
        Cli.Result sub = Cli.runAs(Cli.NOBODY, "run", "--gid-map", "0:300000:1", "--", "sh", "-c", show);
        assertThat(sub.status()).as(sub.err()).isZero();
        assertThat(lines(sub))
                .containsExactly("allow", "0", "0 65534 1", "0 300000 1");
    }

    /**
     * With SYS_ADMIN the mounts are locked in a nested user namespace whose maps the jail itself
     * writes, mapping every id the subordinate ranges gave it to itself: the ranges still work
     * (a file chowned to 1000 keeps that owner) and the mounts stay put.
     */
    @Test
    void lockedMountsOnSubordinateRanges() throws Exception {
        assumeNobodyHasSubordinateRanges();
        Cli.Result r = Cli.runAs(Cli.NOBODY, "run", "--uid-map", "0:65534:1", "--uid-map", "1:300000:65536",
                "--gid-map", "0:65534:1", "--gid-map", "1:300000:65536", "--cap-add", "SYS_ADMIN", "--", "sh", "-c",
                "cat /proc/self/uid_map; mount -o remount,rw / || echo locked; touch /tmp/f && chown 1000:1000 /tmp/f"
                        + " && stat -c '%u %g' /tmp/f");
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(lines(r))
                .containsExactly("0 0 1", "1 1 65536", "locked", "1000 1000");
    }

    /** A source nobody cannot reach is said to be out of reach, not to be missing. */
    @Test
    void aSourceOutOfReachIsNotCalledMissing(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
        Path inner = Files.createDirectory(dir.resolve("inner"));
        Cli.Result r = Cli.runAs(Cli.NOBODY, "run", "--bind", inner + ":/x", "--", "true");
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err()).isEqualTo("corral: --bind " + inner + ":/x: source is not reachable by uid 65534 (permission denied on the way): "
                + inner + "\n");
    }

    @Test
    void nobodyJoinsItsOwnJailThroughItsUserNamespace() throws Exception {
        Process jail = new ProcessBuilder(Cli.command(Cli.NOBODY, "run", "--hostname", "first", "--", "sleep", "1000"))
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try {
            long sleep = -1;
            for (int i = 0; i < 200 && sleep < 0; i++) {
                sleep = jail.descendants().filter(h -> h.info().command().orElse("").endsWith("sleep"))
                        .mapToLong(ProcessHandle::pid).findFirst().orElse(-1);
                if (sleep < 0) Thread.sleep(50);
            }
            assertThat(sleep).as("the first jail's sleep").isPositive();
            String ns = "/proc/" + sleep + "/ns/";
            // Without its user namespace the kernel would refuse (no CAP_SYS_ADMIN): so does corral, in words.
            Cli.Result refused = Cli.runAs(Cli.NOBODY, "run", "--join-uts", ns + "uts", "--", "hostname");
            assertThat(refused.status()).isEqualTo(2);
            assertThat(refused.err()).contains("--join-uts: joining a namespace needs root, or also joining the user"
                    + " namespace that owns it");
            Cli.Result r = Cli.runAs(Cli.NOBODY, "run", "--join-user", ns + "user", "--join-uts", ns + "uts",
                    "--join-net", ns + "net", "--", "sh", "-c", "hostname; id -u; readlink /proc/self/ns/net");
            assertThat(r.err()).isEmpty();
            assertThat(r.out().lines().toList()).containsExactly("first", "0",
                    Files.readSymbolicLink(Path.of(ns + "net")).toString());
        } finally {
            jail.destroy();
            jail.waitFor();
        }
    }

    private static void assumeNobodyHasSubordinateRanges() throws java.io.IOException {
        assumeThat(Files.readString(Path.of("/etc/subuid"))).as("needs a subuid range for nobody (CI adds one)").contains("nobody:300000:65536");
        assumeThat(Files.readString(Path.of("/etc/subgid"))).contains("nobody:300000:65536");
    }

    /** The output's lines with their runs of blanks made one (id maps are padded). */
    private static java.util.List<String> lines(Cli.Result r) {
        return r.out().lines().map(l -> l.strip().replaceAll("\\s+", " ")).toList();
    }
}
