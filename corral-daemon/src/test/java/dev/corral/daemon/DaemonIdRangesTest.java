package dev.corral.daemon;

import com.fasterxml.jackson.databind.JsonNode;
import dev.corral.daemon.client.ControlClient;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

/**
 * Applications with {@code "uidmap": "auto"}: a range each from the document's {@code id_pool}
 * (explicit ranges at 0x500000 + n * 0x10000, used by no other test), kept under the
 * application's name in ids.json beside the state file, across restarts, until it is deleted.
 */
class DaemonIdRangesTest extends RunningDaemon {
    static final long BASE = 0x500000, SLOT = 65536;

    @BeforeAll
    static void asRoot() {
        assumeThat(new com.sun.security.auth.module.UnixSystem().getUid()).as("maps ranges outside /etc/subuid").isZero();
    }

    void restart() throws Exception {
        stop();
        start();
    }

    static String auto() {
        return "{\"executable\": \"/bin/sh\", \"arguments\": [\"-c\", \"sleep 1000\"], \"isolation\": {\"uidmap\": \"auto\"}}";
    }

    static String explicit(long host) {
        return "{\"executable\": \"/bin/sh\", \"arguments\": [\"-c\", \"sleep 1000\"], \"isolation\": {"
                + "\"uidmap\": [{\"container\": 0, \"host\": " + host + ", \"size\": 65536}],"
                + "\"gidmap\": [{\"container\": 0, \"host\": " + host + ", \"size\": 65536}]}}";
    }

    static String pool(int slots) {
        return "\"id_pool\": {\"uid\": [" + BASE + ", " + slots * SLOT + "]}";
    }

    /** The host uid each running application's ids 0.. are, from its jail's own uid_map. */
    long hostUidOf(String name) throws Exception {
        JsonNode s = JSON.readTree(client.get("/status").body()).path("applications");
        for (int i = 0; i < 1000 && !s.path(name).path("state").asText().equals("running"); i++) {
            Thread.sleep(10);
            s = JSON.readTree(client.get("/status").body()).path("applications");
        }
        assertThat(s.path(name).path("state").asText()).as(name + ": " + s).isEqualTo("running");
        String map = Files.readString(Path.of("/proc/" + s.path(name).path("pid").asLong() + "/uid_map")).strip();
        String[] f = map.split("\\s+");
        assertThat(f[0]).isEqualTo("0");
        assertThat(f[2]).isEqualTo("65536");
        return Long.parseLong(f[1]);
    }

    List<String> allocatedNames() throws Exception {
        List<String> out = new ArrayList<>();
        JSON.readTree(Files.readString(dir.resolve("state/ids.json"))).path("allocations").forEach(a -> out.add(a.path("name").asText()));
        return out;
    }

    static List<String> paths(ControlClient.Reply r) throws Exception {
        return JSON.readTree(r.body()).path("problems").findValuesAsText("path");
    }

    @Test
    void eachApplicationKeepsItsRangeAcrossRestartsUntilItIsDeleted() throws Exception {
        ControlClient.Reply r = client.put("/config", "{" + pool(3) + ", \"applications\": {\"a\": " + auto() + ", \"b\": " + auto() + "}}");
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        long a = hostUidOf("a"), b = hostUidOf("b");
        assertThat(List.of(a, b)).containsExactlyInAnyOrder(BASE, BASE + SLOT);
        assertThat(allocatedNames()).containsExactlyInAnyOrder("a", "b");
        assertThat(JSON.readTree(client.get("/config").body()).path("id_pool").path("uid").get(0).asLong()).isEqualTo(BASE);

        restart();
        assertThat(hostUidOf("a")).isEqualTo(a);
        assertThat(hostUidOf("b")).isEqualTo(b);

        // A reload keeps the range too.
        assertThat(client.put("/config/applications/a", auto().replace("sleep 1000", "sleep 999")).status()).isEqualTo(200);
        assertThat(hostUidOf("a")).isEqualTo(a);

        assertThat(client.delete("/config/applications/a").status()).isEqualTo(200);
        assertThat(allocatedNames()).containsExactly("b");
        assertThat(client.put("/config/applications/c", auto()).status()).isEqualTo(200);
        assertThat(hostUidOf("c")).as("a's range, free again").isEqualTo(a);
        assertThat(allocatedNames()).containsExactlyInAnyOrder("b", "c");
    }

    @Test
    void anExhaustedPoolRejectsThePutNamingTheApplication() throws Exception {
        assertThat(client.put("/config", "{" + pool(1) + ", \"applications\": {\"a\": " + auto() + "}}").status()).isEqualTo(200);
        long a = hostUidOf("a");
        String before = client.get("/config").body();
        ControlClient.Reply r = client.put("/config", "{" + pool(1) + ", \"applications\": {\"a\": " + auto()
                + ", \"b\": " + auto() + "}}");
        assertThat(r.status()).isEqualTo(400);
        assertThat(paths(r)).containsExactly("/applications/b/isolation/uidmap");
        assertThat(r.body()).contains("the id pool is exhausted: no free range of 65536 ids left in ids " + BASE + ":65536 (1 range);"
                + " held by \\\"a\\\"");
        assertThat(client.get("/config").body()).isEqualTo(before);
        assertThat(allocatedNames()).containsExactly("a");
        assertThat(hostUidOf("a")).isEqualTo(a);
        ControlClient.Reply bad = client.put("/config", "{\"id_pool\": {\"uid\": [1, 2, 3], \"gdi\": []}, \"applications\": {}}");
        assertThat(bad.status()).isEqualTo(400);
        assertThat(paths(bad)).containsExactlyInAnyOrder("/id_pool/uid", "/id_pool/gdi");
    }

    @Test
    void anExplicitMapOverlappingAnAllocatedRangeIsRejected() throws Exception {
        assertThat(client.put("/config", "{" + pool(3) + ", \"applications\": {\"a\": " + auto() + "}}").status()).isEqualTo(200);
        long a = hostUidOf("a");
        ControlClient.Reply r = client.put("/config/applications/d", explicit(a + 100));
        assertThat(r.status()).isEqualTo(400);
        assertThat(paths(r)).containsExactly("/applications/d/isolation/uidmap/0", "/applications/d/isolation/gidmap/0");
        assertThat(r.body()).contains("host uids " + (a + 100) + ".." + (a + 100 + 65535) + " overlap the id range allocated to"
                + " \\\"a\\\" (uids " + a + ".." + (a + 65535) + ", gids " + a + ".." + (a + 65535) + ")");
        assertThat(allocatedNames()).containsExactly("a");
        // Beside the allocated range it is fine, and a new automatic range keeps clear of it.
        assertThat(client.put("/config/applications/d", explicit(BASE + SLOT)).status()).isEqualTo(200);
        assertThat(client.put("/config/applications/e", auto()).status()).isEqualTo(200);
        assertThat(hostUidOf("e")).isEqualTo(BASE + 2 * SLOT);
        // An application moving from its automatic range to explicit maps of the same ids is not in its own way.
        assertThat(client.put("/config/applications/a", explicit(a)).status()).isEqualTo(200);
        assertThat(allocatedNames()).containsExactly("e");
    }
}
