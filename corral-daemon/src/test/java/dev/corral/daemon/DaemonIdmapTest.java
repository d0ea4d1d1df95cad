package dev.corral.daemon;

import com.fasterxml.jackson.databind.JsonNode;
import dev.corral.testing.BusyboxRootfs;
import dev.corral.testing.TreeSnapshot;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

/**
 * Applications on one base with {@code "rootfs": {"base", "overlay": true, "idmap": true}} and
 * {@code "uidmap": "auto"}: each on its own range (0x880000 + n * 0x10000, used by no other test)
 * sees the base's owners as its own and only its own writes, across a daemon restart, and the
 * base is never written.
 */
class DaemonIdmapTest extends RunningDaemon {
    static final long BASE = 0x880000;

    @BeforeAll
    static void asRoot() {
        assumeThat(new com.sun.security.auth.module.UnixSystem().getUid()).as("idmaps a disk, maps foreign ranges").isZero();
    }

    static String app(Path base, String name) {
        return "{\"executable\": \"/bin/sh\", \"arguments\": [\"-c\", \"stat -c %u:%g /bin/busybox; ls /; echo " + name
                + " > /mine-" + name + "; exec sleep 1000\"], \"isolation\": {\"uidmap\": \"auto\","
                + " \"rootfs\": {\"base\": \"" + base + "\", \"overlay\": true, \"idmap\": true}}}";
    }

    String runningLog(String name, String until) throws Exception {
        Path log = dir.resolve("logs/" + name + ".log");
        for (int i = 0; i < 1000; i++) {
            if (Files.exists(log) && Files.readString(log).contains(until)) return Files.readString(log);
            Thread.sleep(10);
        }
        JsonNode s = JSON.readTree(client.get("/status").body());
        throw new AssertionError(name + " printed no " + until + ": " + s + " " + (Files.exists(log) ? Files.readString(log) : ""));
    }

    @Test
    void applicationsOnRangesShareOneIdmappedBaseAndSeeOnlyTheirOwnWrites() throws Exception {
        Path base = BusyboxRootfs.create(dir.resolve("base"));
        List<String> before = TreeSnapshot.of(base);
        String doc = "{\"id_pool\": {\"uid\": [" + BASE + ", " + 2 * 65536 + "]}, \"applications\": {\"a\": " + app(base, "a")
                + ", \"b\": " + app(base, "b") + "}}";
        var r = client.put("/config", doc);
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        String a = runningLog("a", "tmp"), b = runningLog("b", "tmp");
        assertThat(a.lines().toList()).startsWith("0:0").doesNotContain("mine-b");
        assertThat(b.lines().toList()).startsWith("0:0").doesNotContain("mine-a");
        // After a restart each finds its own layer (and write) again, and still none of the other's.
        stop();
        Files.delete(dir.resolve("logs/a.log"));
        start();
        assertThat(runningLog("a", "tmp").lines().toList()).startsWith("0:0").contains("mine-a").doesNotContain("mine-b");
        assertThat(TreeSnapshot.of(base)).isEqualTo(before);
    }
}
