package dev.corral.daemon;

import dev.corral.daemon.client.ControlClient;
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
 * Applications on a shared base with {@code "overlay": true}: each keeps its layer under its
 * name in {@code layers/} beside the state file, across daemon restarts and reloads, until it is
 * deleted; the base is never written.
 */
class DaemonOverlayTest extends RunningDaemon {
    @BeforeAll
    static void asRoot() {
        assumeThat(new com.sun.security.auth.module.UnixSystem().getUid()).as("runs jails as root").isZero();
    }

    static String app(Path base, String extra) {
        return "{\"executable\": \"/bin/sh\", \"arguments\": [\"-c\", \"echo start >> /starts; sleep 1000\"]" + extra
                + ", \"isolation\": {\"rootfs\": {\"base\": \"" + base + "\", \"overlay\": true}}}";
    }

    Path layer(String name) {
        return dir.resolve("state/layers").resolve(name);
    }

    /** Waits until the application has started {@code n} times, by the file it keeps in its layer. */
    void awaitStarts(String name, int n) throws Exception {
        Path starts = layer(name).resolve("upper/starts");
        for (int i = 0; i < 1000 && (!Files.exists(starts) || Files.readAllLines(starts).size() < n); i++) Thread.sleep(10);
        assertThat(Files.readAllLines(starts)).hasSize(n);
    }

    @Test
    void eachApplicationKeepsItsLayerAcrossRestartsAndReloadsUntilItIsDeleted() throws Exception {
        Path base = BusyboxRootfs.create(dir.resolve("base"));
        List<String> before = TreeSnapshot.of(base);
        ControlClient.Reply r = client.put("/config", "{\"applications\": {\"web\": " + app(base, "") + ", \"db\": " + app(base, "") + "}}");
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        awaitStarts("web", 1);
        awaitStarts("db", 1);

        stop();
        start();
        awaitStarts("web", 2);

        // A reload (here the same program, new arguments) keeps the layer; it stops the old jail first.
        r = client.put("/config/applications/web", app(base, "").replace("sleep 1000", "sleep 999"));
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        awaitStarts("web", 3);
        r = client.put("/config/applications/web", app(base, ", \"reload\": \"start-first\""));
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.body()).contains("/applications/web/reload")
                .contains("an application on an overlay rootfs reloads stop-first");

        assertThat(client.delete("/config/applications/web").status()).isEqualTo(200);
        assertThat(layer("web")).doesNotExist();
        assertThat(layer("db").resolve("upper/starts")).exists();
        assertThat(TreeSnapshot.of(base)).isEqualTo(before);
    }

    @Test
    void twoApplicationsCannotShareAnUpperDirectory() throws Exception {
        Path base = BusyboxRootfs.create(dir.resolve("base"));
        String upper = dir.resolve("shared-upper").toString();
        String app = "{\"executable\": \"/bin/sh\", \"arguments\": [\"-c\", \"sleep 1000\"], \"isolation\": {\"rootfs\":"
                + " {\"base\": \"" + base + "\", \"overlay\": true, \"upper\": \"" + upper + "\"}}}";
        ControlClient.Reply r = client.put("/config", "{\"applications\": {\"a\": " + app + ", \"b\": " + app + "}}");
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.body()).contains("/applications/b/isolation/rootfs/upper")
                .contains(upper + " is a layer directory of \\\"a\\\" too: two jails cannot share a layer");
        assertThat(Path.of(upper)).doesNotExist();
    }
}
