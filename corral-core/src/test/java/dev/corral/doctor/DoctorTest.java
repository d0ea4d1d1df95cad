package dev.corral.doctor;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.corral.doctor.HostCheck.Status;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

/**
 * The doctor on this very host, compared with what the test reads or runs itself. Written for
 * the CI machine (root, kernel 6.x, hybrid cgroups, uidmap installed); where a fact may differ,
 * the expectation is computed from the host, not assumed.
 */
class DoctorTest {
    private static Caller caller;
    private static Map<String, HostCheck> checks;

    @BeforeAll
    static void examine() {
        caller = Caller.current();
        checks = new Doctor(caller).checks().stream().collect(Collectors.toMap(HostCheck::name, c -> c));
    }

    private static String read(String path) throws IOException {
        // sysctl files answer only a read at offset 0: one read, as the doctor does
        try (var in = new java.io.FileInputStream(path)) {
            return new String(in.readAllBytes()).strip();
        }
    }

    private static int run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        return p.waitFor();
    }

    private static String stdout(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String out = new String(p.getInputStream().readAllBytes()).strip();
        p.waitFor();
        return out;
    }

    @Test
    void everyCheckIsThereInOrderAndSaysWhatToChangeWhenNotOk() {
        List<HostCheck> list = new Doctor(caller).checks();
        assertThat(list).extracting(HostCheck::name).containsExactly("user-namespaces", "cgroups", "cgroup-moves", "subordinate-ids",
                "idmap-helpers", "idmapped-mounts", "overlayfs", "time-namespace", "network-helpers", "executor");
        for (HostCheck c : list) {
            assertThat(c.finding()).as(c.name()).isNotBlank().doesNotContain("\n");
            assertThat(c.fix()).as(c.name()).doesNotContain("\n");
            if (c.status() == Status.OK) assertThat(c.fix()).as(c.name()).isEmpty();
            else assertThat(c.fix()).as(c.name()).isNotBlank();
        }
    }

    @Test
    void userNamespacesReportTheSysctlAndTheProbe() throws Exception {
        HostCheck c = checks.get("user-namespaces");
        long max = Long.parseLong(read("/proc/sys/user/max_user_namespaces"));
        assertThat(c.facts()).containsEntry("max_user_namespaces", max);
        assertThat(c.finding()).contains("user.max_user_namespaces = " + max);
        if (Files.exists(Path.of("/proc/sys/kernel/unprivileged_userns_clone"))) {
            assertThat(c.facts()).containsEntry("unprivileged_userns_clone", Long.parseLong(read("/proc/sys/kernel/unprivileged_userns_clone")));
        } else {
            assertThat(c.facts()).doesNotContainKey("unprivileged_userns_clone");
        }
        // The same probe, run here: the doctor's answer must agree with it.
        boolean created = run("unshare", "--user", "--map-root-user", "--mount", "true") == 0;
        assertThat(c.facts()).containsEntry("created", created);
        if (created && max > 0) assertThat(c.status()).isEqualTo(Status.OK);
    }

    @Test
    void cgroupsOnThisHybridHostAreV1AndWritableForRoot() throws Exception {
        HostCheck c = checks.get("cgroups");
        String mountinfo = Files.readString(Path.of("/proc/self/mountinfo"));
        boolean v1 = mountinfo.lines().anyMatch(l -> l.contains(" - cgroup cgroup ") && l.matches(".*[ ,](memory|pids|cpu)(,.*)?$"));
        boolean v2 = mountinfo.lines().anyMatch(l -> l.contains(" - cgroup2 "));
        assumeThat(v1 && v2).as("a hybrid host, as CI is").isTrue();
        assertThat(c.facts()).containsEntry("layout", "hybrid").containsEntry("version", "v1")
                .containsEntry("cgroup2_mount", mountinfo.lines().filter(l -> l.contains(" - cgroup2 ")).findFirst().orElseThrow().split(" ")[4]);
        assertThat(c.finding()).startsWith("hybrid (v1 controllers, and cgroup2 at ").contains("corral drives v1");
        assumeThat(caller.privileged()).as("root writes every cgroup").isTrue();
        @SuppressWarnings("unchecked")
        List<String> writable = (List<String>) c.facts().get("writable_controllers");
        assertThat(writable).contains("memory", "pids", "cpu");
        assertThat(c.status()).isEqualTo(Status.OK);
        // corral's own memory cgroup, as /proc/self/cgroup names it
        String memory = Files.readString(Path.of("/proc/self/cgroup")).lines().filter(l -> l.matches("\\d+:memory:.*"))
                .findFirst().orElseThrow().split(":", 3)[2];
        assertThat(c.details()).contains("memory: /sys/fs/cgroup/memory" + (memory.equals("/") ? "" : memory) + " (writable)");
    }

    @Test
    void subordinateIdsAreWhatTheFilesSay() throws Exception {
        HostCheck c = checks.get("subordinate-ids");
        String prefix = caller.name() + ":";
        long lines = Files.exists(Path.of("/etc/subuid"))
                ? Files.readAllLines(Path.of("/etc/subuid")).stream().filter(l -> l.startsWith(prefix) || l.startsWith(caller.uid() + ":")).count()
                : 0;
        assertThat((List<?>) c.facts().get("subuid")).hasSize((int) lines);
        if (caller.root()) {
            assertThat(c.status()).isEqualTo(Status.OK);
            assertThat(c.finding()).contains("root writes any id map directly");
        }
    }

    @Test
    void newuidmapIsSetuidRootAsStatSays() throws Exception {
        HostCheck c = checks.get("idmap-helpers");
        assumeThat(Path.of("/usr/bin/newuidmap")).as("the test setup installs uidmap").exists();
        String[] stat = stdout("stat", "-c", "%a %u", "/usr/bin/newuidmap").split(" ");
        boolean setuidRoot = (Integer.parseInt(stat[0], 8) & 04000) != 0 && stat[1].equals("0");
        assertThat(((Map<?, ?>) c.facts().get("newuidmap")).get("setuid_root")).isEqualTo(setuidRoot);
        assertThat(c.finding()).contains("/usr/bin/newuidmap " + (setuidRoot ? "setuid root" : "not setuid"));
    }

    @Test
    void idmappedMountsAreSupportedOnThisKernelForRoot() throws Exception {
        HostCheck c = checks.get("idmapped-mounts");
        String release = read("/proc/sys/kernel/osrelease");
        String[] v = release.split("[.-]");
        boolean atLeast512 = Integer.parseInt(v[0]) > 5 || Integer.parseInt(v[0]) == 5 && Integer.parseInt(v[1]) >= 12;
        assertThat(c.facts()).containsEntry("kernel", release).containsEntry("kernel_at_least_5_12", atLeast512);
        assumeThat(atLeast512).as("kernel 5.12+ (CI has 6.x)").isTrue();
        assertThat(c.facts()).containsEntry("mount_setattr", "present").containsEntry("errno", MountSetattrProbe.EINVAL);
        assumeThat(caller.privileged()).isTrue();
        assertThat(c.status()).isEqualTo(Status.OK);
        assertThat(c.finding()).contains("kernel " + release + " (>= 5.12)", "answered EINVAL");
    }

    @Test
    void overlayfsAsProcFilesystemsSays() throws Exception {
        HostCheck c = checks.get("overlayfs");
        boolean listed = Files.readAllLines(Path.of("/proc/filesystems")).stream().anyMatch(l -> l.endsWith("\toverlay"));
        assertThat(c.facts()).containsEntry("in_proc_filesystems", listed);
        if (listed && dev.corral.sys.KernelFiles.kernel().atLeast(5, 11)) {
            assertThat(c.status()).isEqualTo(Status.OK);
            assertThat(c.finding()).contains("\"overlay\" in /proc/filesystems", "likely supported");
        }
    }

    @Test
    void timeNamespaceNetworkHelpersAndCompilerAreWhatTheShellFinds() throws Exception {
        boolean time = Files.exists(Path.of("/proc/self/ns/time"));
        assertThat(checks.get("time-namespace").status()).isEqualTo(time ? Status.OK : Status.MISSING);
        for (String tool : List.of("pasta", "slirp4netns", "musl-gcc", "gcc")) {
            String found = stdout("sh", "-c", "command -v " + tool + " || true");
            Map<String, Object> facts = tool.endsWith("gcc") ? checks.get("executor").facts() : checks.get("network-helpers").facts();
            // the doctor looks on PATH first, as the shell does (it also tries the sbin directories)
            if (!found.isEmpty()) assertThat(facts.get(tool)).as(tool).isEqualTo(found);
        }
        // the build put the executor into the classes this test runs with
        assertThat(checks.get("executor").facts().get("bundled_bytes")).isInstanceOf(Long.class);
    }

    @Test
    void theReportIsJsonWithEveryCheck() throws Exception {
        HostReport report = new Doctor(caller).examine();
        JsonNode json = new ObjectMapper().readTree(report.toJson());
        assertThat(json.get("uid").asLong()).isEqualTo(caller.uid());
        assertThat(json.get("kernel").asText()).isEqualTo(read("/proc/sys/kernel/osrelease"));
        assertThat(json.get("checks")).hasSize(10);
        for (JsonNode c : json.get("checks")) {
            assertThat(c.get("status").asText()).isIn("ok", "warn", "missing");
            assertThat(c.fieldNames()).toIterable().containsExactly("name", "title", "status", "finding", "fix", "facts");
        }
        assertThat(json.at("/checks/0/facts/max_user_namespaces").asLong())
                .isEqualTo(Long.parseLong(read("/proc/sys/user/max_user_namespaces")));
    }
}
