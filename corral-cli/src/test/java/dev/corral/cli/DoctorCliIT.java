package dev.corral.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.StreamSupport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

/** corral doctor as a process: the human report, the JSON one, and what changes for nobody. */
class DoctorCliIT {
    private static final List<String> TITLES = List.of("User namespaces", "Cgroups", "Joining cgroups", "Subordinate ids",
            "newuidmap/newgidmap", "Idmapped mounts", "Overlayfs in a user namespace", "Time namespace", "Rootless networking", "Executor build");
    private static final List<String> NAMES = List.of("user-namespaces", "cgroups", "cgroup-moves", "subordinate-ids", "idmap-helpers",
            "idmapped-mounts", "overlayfs", "time-namespace", "network-helpers", "executor");

    private static JsonNode check(JsonNode report, String name) {
        return StreamSupport.stream(report.get("checks").spliterator(), false)
                .filter(c -> c.get("name").asText().equals(name)).findFirst().orElseThrow();
    }

    private static void assumeRoot() {
        assumeThat(new com.sun.security.auth.module.UnixSystem().getUid()).as("switching to nobody needs root").isZero();
    }

    /** "start:count" for each line of an /etc/sub?id file naming nobody (by name or by 65534). */
    private static List<String> rangesOfNobody(String file) throws Exception {
        List<String> out = new ArrayList<>();
        if (!Files.exists(Path.of(file))) return out;
        for (String line : Files.readAllLines(Path.of(file))) {
            String[] f = line.strip().split(":");
            if (f.length == 3 && (f[0].equals("nobody") || f[0].equals("65534"))) out.add(f[1] + ":" + f[2]);
        }
        return out;
    }

    private static List<String> ranges(JsonNode list) {
        List<String> out = new ArrayList<>();
        list.forEach(r -> out.add(r.get("start").asLong() + ":" + r.get("count").asLong()));
        return out;
    }

    @Test
    void humanReportNamesEverySectionAndExitsZero() throws Exception {
        Cli.Result r = Cli.run("doctor");
        assertThat(r.err()).isEmpty();
        assertThat(r.status()).isZero();
        long uid = new com.sun.security.auth.module.UnixSystem().getUid();
        assertThat(r.out()).startsWith("corral doctor: what this host allows for jails, for ")
                .contains("(uid " + uid + "), Linux " + Files.readString(Path.of("/proc/sys/kernel/osrelease")).strip());
        for (String title : TITLES) assertThat(r.out()).containsPattern("(?m)^\\[(ok|warn|missing)\\] +" + java.util.regex.Pattern.quote(title) + "$");
        assertThat(r.out()).containsPattern("(?m)^\\d+ ok, \\d+ warn, \\d+ missing$");
        // every section that is not ok says what to change
        long notOk = r.out().lines().filter(l -> l.matches("\\[(warn|missing)\\].*")).count();
        assertThat(r.out().lines().filter(l -> l.startsWith("          fix: ")).count()).isEqualTo(notOk);
    }

    @Test
    void jsonReportHasEveryCheck() throws Exception {
        Cli.Result r = Cli.run("doctor", "--json");
        assertThat(r.err()).isEmpty();
        assertThat(r.status()).isZero();
        JsonNode json = new ObjectMapper().readTree(r.out());
        assertThat(json.get("uid").asLong()).isEqualTo(new com.sun.security.auth.module.UnixSystem().getUid());
        assertThat(json.get("checks")).extracting(c -> c.get("name").asText()).containsExactlyElementsOf(NAMES);
        for (JsonNode c : json.get("checks")) {
            assertThat(c.get("status").asText()).isIn("ok", "warn", "missing");
            assertThat(c.get("finding").asText()).isNotBlank();
            assertThat(c.get("fix").asText().isEmpty()).as(c.get("name").asText()).isEqualTo(c.get("status").asText().equals("ok"));
        }
        String max = Files.readAllLines(Path.of("/proc/sys/user/max_user_namespaces")).getFirst().strip();
        assertThat(check(json, "user-namespaces").at("/facts/max_user_namespaces").asText()).isEqualTo(max);
    }

    @Test
    void nobodyHasNoWritableCgroupAndIsToldHowToGetOne() throws Exception {
        assumeRoot();
        Cli.Result r = Cli.runAs(Cli.NOBODY, "doctor", "--json");
        assertThat(r.err()).isEmpty();
        assertThat(r.status()).isZero();
        JsonNode json = new ObjectMapper().readTree(r.out());
        assertThat(json.get("user").asText()).isEqualTo("nobody");
        assertThat(json.get("uid").asLong()).isEqualTo(65534);
        JsonNode cgroups = check(json, "cgroups");
        assertThat(cgroups.get("status").asText()).isEqualTo("missing");
        assertThat(cgroups.at("/facts/writable_controllers")).isEmpty();
        assertThat(cgroups.get("finding").asText()).contains("writable for nobody: no controllers");
        assertThat(cgroups.get("fix").asText()).contains("as root: mkdir ", "corral-nobody", "chown");
    }

    @Test
    void nobodysSubordinateIdsAreWhatTheFilesSay() throws Exception {
        assumeRoot();
        JsonNode subids = check(new ObjectMapper().readTree(Cli.runAs(Cli.NOBODY, "doctor", "--json").out()), "subordinate-ids");
        List<String> uids = rangesOfNobody("/etc/subuid");
        List<String> gids = rangesOfNobody("/etc/subgid");
        assertThat(ranges(subids.at("/facts/subuid"))).containsExactlyElementsOf(uids);
        assertThat(ranges(subids.at("/facts/subgid"))).containsExactlyElementsOf(gids);
        String expected = uids.isEmpty() && gids.isEmpty() ? "missing" : uids.isEmpty() || gids.isEmpty() ? "warn" : "ok";
        assertThat(subids.get("status").asText()).isEqualTo(expected);
        if (!uids.isEmpty()) {
            String[] first = uids.getFirst().split(":");
            assertThat(subids.get("finding").asText()).contains("/etc/subuid: " + first[1] + " ids from " + first[0]);
        } else {
            assertThat(subids.get("fix").asText()).contains("usermod --add-subuids");
        }
    }

    @Test
    void nobodysUserNamespaceAnswerMatchesTheSameProbeRunHere() throws Exception {
        assumeRoot();
        JsonNode userns = check(new ObjectMapper().readTree(Cli.runAs(Cli.NOBODY, "doctor", "--json").out()), "user-namespaces");
        List<String> probe = new ArrayList<>(Cli.NOBODY);
        probe.addAll(List.of("unshare", "--user", "--map-root-user", "--mount", "true"));
        boolean created = new ProcessBuilder(probe).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start().waitFor() == 0;
        assertThat(userns.at("/facts/created").asBoolean()).isEqualTo(created);
        if (created) assertThat(userns.get("status").asText()).isIn("ok", "warn");
        else assertThat(userns.get("status").asText()).isEqualTo("missing");
    }

    @Test
    void nobodysHumanReportShowsTheCgroupFix() throws Exception {
        assumeRoot();
        Cli.Result r = Cli.runAs(Cli.NOBODY, "doctor");
        assertThat(r.status()).isZero();
        assertThat(r.out()).contains("for nobody (uid 65534)").containsPattern("(?m)^\\[missing\\] +Cgroups$")
                .containsPattern("(?m)^ +fix: as root: mkdir .*corral-nobody");
    }

    @Test
    void corralWithoutACommandMentionsDoctor() throws Exception {
        Cli.Result r = Cli.run();
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err()).contains("run, plan, doctor");
        assertThat(Cli.run("doctor", "--help").out()).contains("--json");
    }
}
