package dev.corral.config;

import dev.corral.spec.Capability;
import dev.corral.spec.CgroupSpec;
import dev.corral.spec.ResourceLimits;
import dev.corral.spec.IdMapping;
import dev.corral.spec.Rlimit;
import dev.corral.spec.Seccomp;
import dev.corral.spec.JailSpec;
import dev.corral.spec.MountSpec;
import dev.corral.spec.Namespace;
import dev.corral.spec.Problem;
import dev.corral.spec.SpecException;
import org.junit.jupiter.api.Test;

import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

class AppConfigTest {

    private static JailSpec read(String json) throws SpecException {
        return AppConfig.parse(json, "test.json").build();
    }

    private static java.util.List<String> problems(String json) {
        SpecException e = catchThrowableOfType(SpecException.class, () -> AppConfig.parse(json, "test.json"));
        assertThat(e).as("expected the config to be rejected").isNotNull();
        return e.problems().stream().map(Problem::toString).toList();
    }

    @Test
    void shippedUnitSpellings() throws Exception {
        JailSpec spec = read("""
                {"applications": {"web": {
                  "type": "external", "executable": "/usr/bin/python3", "arguments": ["-m", "http.server"],
                  "working_directory": "/srv", "user": "app", "group": "staff",
                  "environment": {"MODE": "prod"},
                  "isolation": {
                    "namespaces": {"credential": true, "mount": true, "pid": true, "network": false, "uname": true},
                    "uidmap": [{"container": 0, "host": 100000, "size": 65536}],
                    "gidmap": [{"container": 0, "host": 100000, "size": 65536}],
                    "rootfs": "/var/lib/root", "automount": {"procfs": true, "tmpfs": false, "language_deps": false},
                    "hostname": "web", "new_privs": true
                  }}}}""");
        assertThat(spec.command()).containsExactly("/usr/bin/python3", "-m", "http.server");
        assertThat(spec.workingDirectory()).isEqualTo("/srv");
        assertThat(spec.user()).isEqualTo("app");
        assertThat(spec.group()).isEqualTo("staff");
        assertThat(spec.environment()).containsEntry("MODE", "prod");
        assertThat(spec.namespaces()).isEqualTo(Set.of(Namespace.USER, Namespace.MOUNT, Namespace.PID, Namespace.UTS));
        assertThat(spec.uidMap()).containsExactly(new IdMapping(0, 100000, 65536, "/applications/web/isolation/uidmap/0"));
        assertThat(spec.rootfs()).isEqualTo("/var/lib/root");
        assertThat(spec.automount().procfs()).isTrue();
        assertThat(spec.automount().tmpfs()).isFalse();
        assertThat(spec.hostname()).isEqualTo("web");
        assertThat(spec.labels().of("hostname")).isEqualTo("/applications/web/isolation/hostname");
    }

    @Test
    void rootfsAsABaseWithAnOverlay() throws Exception {
        JailSpec spec = read("""
                {"executable": "/bin/app", "isolation": {"rootfs": {"base": "/srv/base", "overlay": true, "upper": "/srv/web"}}}""");
        assertThat(spec.rootfs()).isEqualTo("/srv/base");
        assertThat(spec.overlay()).isEqualTo(new dev.corral.spec.RootfsOverlay("/srv/web", null, null, null));
        assertThat(spec.labels().of("rootfs")).isEqualTo("/isolation/rootfs/base");
        assertThat(spec.labels().of("rootfsUpper")).isEqualTo("/isolation/rootfs/upper");
        assertThat(read("""
                {"executable": "/bin/app", "isolation": {"rootfs": {"base": "/srv/base"}}}""").overlay()).isNull();
        assertThat(problems("""
                {"executable": "/bin/app", "isolation": {"rootfs": {"overlay": true, "uper": "/x", "work": "/w"}}}"""))
                .containsExactlyInAnyOrder("/isolation/rootfs: missing \"base\" (the directory to use as the root)",
                        "/isolation/rootfs/uper: unknown key; did you mean \"upper\"?");
        assertThat(problems("""
                {"executable": "/bin/app", "isolation": {"rootfs": {"base": "/b", "upper": "/x"}}}"""))
                .containsExactly("/isolation/rootfs/upper: an upper or work directory needs \"overlay\": true");
        assertThat(problems("""
                {"executable": "/bin/app", "isolation": {"rootfs": 5}}"""))
                .containsExactly("/isolation/rootfs: expected a directory, or an object with \"base\", found the number 5");
    }

    @Test
    void idmapOnTheRootfsAndOnBinds() throws Exception {
        JailSpec spec = read("""
                {"executable": "/bin/app", "isolation": {"rootfs": {"base": "/srv/base", "overlay": true, "idmap": true},
                  "mounts": [{"type": "bind", "source": "/srv/data", "target": "/data", "read_only": true, "idmap": true},
                             {"type": "bind", "source": "/srv/logs", "target": "/logs"}]}}""");
        assertThat(spec.rootfsIdmap()).isTrue();
        assertThat(spec.labels().of("rootfsIdmap")).isEqualTo("/isolation/rootfs/idmap");
        assertThat(spec.mounts()).containsExactly(
                new dev.corral.spec.MountSpec.Bind("/srv/data", "/data", true, true, "/isolation/mounts/0"),
                new dev.corral.spec.MountSpec.Bind("/srv/logs", "/logs", false, false, "/isolation/mounts/1"));
        assertThat(read("""
                {"executable": "/bin/app", "isolation": {"rootfs": "/srv/base"}}""").rootfsIdmap()).isFalse();
        assertThat(problems("""
                {"executable": "/bin/app", "isolation": {"rootfs": {"base": "/b", "idmap": "yes"},
                  "mounts": [{"type": "tmpfs", "target": "/t", "idmap": true}]}}"""))
                .containsExactlyInAnyOrder("/isolation/rootfs/idmap: expected true or false, found the string \"yes\"",
                        "/isolation/mounts/0/idmap: only bind mounts can be idmapped");
    }

    @Test
    void proposalSpellingsAndCorralExtensions() throws Exception {
        JailSpec spec = read("""
                {"executable": "/bin/app", "user": 1000, "isolation": {
                  "namespaces": {"user": true, "uts": true, "ipc": true, "cgroup": true},
                  "uidmap": [{"containerID": 0, "hostID": 1000, "size": 1}, {"containerID": 1, "hostID": 200000, "size": 10}],
                  "mounts": [
                    {"source": "/mnt/nfs1", "target": "/nfs", "type": "bind", "read_only": true},
                    {"target": "/scratch", "type": "tmpfs"},
                    {"source": "/nfs", "target": "/data", "type": "symlink"}],
                  "init": false}}""");
        assertThat(spec.uid()).isEqualTo(1000L);
        assertThat(spec.namespaces()).isEqualTo(Set.of(Namespace.USER, Namespace.UTS, Namespace.IPC, Namespace.CGROUP));
        assertThat(spec.uidMap()).extracting(IdMapping::outside).containsExactly(1000L, 200000L);
        assertThat(spec.mounts()).containsExactly(
                new MountSpec.Bind("/mnt/nfs1", "/nfs", true, "/isolation/mounts/0"),
                new MountSpec.Tmpfs("/scratch", "/isolation/mounts/1"),
                new MountSpec.Symlink("/nfs", "/data", "/isolation/mounts/2"));
        assertThat(spec.init()).isFalse();
    }

    @Test
    void hardeningKeys() throws Exception {
        JailSpec spec = read("""
                {"executable": "/bin/app", "isolation": {
                  "new_privs": true, "allow_userns": true, "seccomp": "unconfined", "hidepid": "invisible",
                  "capabilities": {"drop": ["ALL"], "add": ["net_bind_service", "CAP_CHOWN"]},
                  "rlimits": {"nofile": 1024, "core": "0", "as": {"soft": "1G", "hard": "2G"}, "nproc": "unlimited"}}}""");
        var h = spec.hardening();
        assertThat(h.noNewPrivs()).isFalse();
        assertThat(h.allowUserns()).isTrue();
        assertThat(h.seccomp()).isEqualTo(Seccomp.UNCONFINED);
        assertThat(h.procHidepid()).isEqualTo("invisible");
        assertThat(h.capabilities()).containsExactlyInAnyOrder(Capability.NET_BIND_SERVICE, Capability.CHOWN);
        assertThat(h.rlimits()).containsExactly(
                new Rlimit(Rlimit.Resource.NOFILE, 1024, 1024, "/isolation/rlimits/nofile"),
                new Rlimit(Rlimit.Resource.CORE, 0, 0, "/isolation/rlimits/core"),
                new Rlimit(Rlimit.Resource.AS, 1L << 30, 2L << 30, "/isolation/rlimits/as"),
                new Rlimit(Rlimit.Resource.NPROC, Rlimit.UNLIMITED, Rlimit.UNLIMITED, "/isolation/rlimits/nproc"));
        assertThat(read("{\"executable\": \"/bin/app\"}").hardening()).isEqualTo(dev.corral.spec.Hardening.DEFAULT);
        assertThat(problems("""
                {"executable": "/bin/app", "isolation": {"capabilities": {"add": ["NET_ADMN"], "dorp": []},
                  "rlimits": {"nofiles": 1, "core": -1}}}""")).containsExactlyInAnyOrder(
                "/isolation/capabilities/add/0: unknown capability \"NET_ADMN\"",
                "/isolation/capabilities/dorp: unknown key; did you mean \"drop\"?",
                "/isolation/rlimits/nofiles: unknown resource limit",
                "/isolation/rlimits/core: expected a whole number, \"unlimited\", or {\"soft\": ..., \"hard\": ...}");
    }

    @Test
    void withoutNamespacesEverythingStaysUnshared() throws Exception {
        JailSpec spec = read("{\"executable\": \"/bin/true\"}");
        assertThat(spec.namespaces()).contains(Namespace.USER, Namespace.MOUNT, Namespace.PID, Namespace.NET,
                Namespace.UTS, Namespace.IPC, Namespace.CGROUP);
    }

    @Test
    void uidmapAutoAsksForAnAllocatedRange() throws Exception {
        JailSpec spec = read("""
                {"executable": "/bin/true", "isolation": {"uidmap": "auto"}}""");
        assertThat(spec.autoIds()).isNotNull();
        assertThat(spec.autoIds().name()).isNull();
        assertThat(spec.uidMap()).isEmpty();
        assertThat(spec.labels().of("autoIds")).isEqualTo("/isolation/uidmap");
        assertThat(read("""
                {"executable": "/bin/true", "isolation": {"uidmap": "auto", "gidmap": "auto"}}""").autoIds()).isNotNull();
        assertThat(problems("""
                {"executable": "/bin/true", "isolation": {"uidmap": "auto",
                  "gidmap": [{"container": 0, "host": 100000, "size": 65536}]}}""")).containsExactly(
                "/isolation/gidmap: with \"uidmap\": \"auto\" the gids and uids come from one allocated range:"
                        + " leave \"gidmap\" out or make it \"auto\" too");
        assertThat(problems("""
                {"executable": "/bin/true", "isolation": {"uidmap": "automatic"}}""")).containsExactly(
                "/isolation/uidmap: expected an array, found the string \"automatic\"");
    }

    @Test
    void everyProblemIsReportedWithItsPath() {
        assertThat(problems("""
                {"executable": 5, "arguments": ["ok", 7], "limts": {},
                 "isolation": {"namespces": {}, "namespaces": {"netwrk": true, "pid": "yes"},
                   "uidmap": [{"container": 0, "host": 0, "hostID": 0, "size": -1}],
                   "mounts": [{"target": "/x", "type": "tmpf"}, {"type": "bind", "target": "/y"}],
                   "automount": {"proc": true}}}""")).containsExactlyInAnyOrder(
                "/executable: expected a string, found the number 5",
                "/arguments/1: expected a string, found the number 7",
                "/limts: unknown key; did you mean \"limits\"?",
                "/isolation/namespces: unknown key; did you mean \"namespaces\"?",
                "/isolation/namespaces/netwrk: unknown namespace; expected one of credential (user), mount, pid, "
                        + "network, uname (uts), ipc, cgroup, time",
                "/isolation/namespaces/pid: expected true or false, found the string \"yes\"",
                "/isolation/uidmap/0: give \"host\" or \"hostID\", not both",
                "/isolation/uidmap/0/size: expected a whole number from 0 to 4294967295, found the number -1",
                "/isolation/mounts/0/type: unknown mount type \"tmpf\"; expected bind, tmpfs, proc, dev, dir or symlink",
                "/isolation/mounts/1: a bind mount needs \"source\"",
                "/isolation/automount/proc: unknown key; did you mean \"procfs\"?");
    }

    @Test
    void keysNotImplementedYetAreRefusedNotIgnored() {
        assertThat(problems("{\"executable\": \"/bin/true\", \"processes\": 4}"))
                .containsExactly("/processes: not supported yet: corral runs one process per application");
    }

    @Test
    void cgroupLimitsAndUnitsCgroupPath() throws Exception {
        JailSpec spec = read("""
                {"executable": "/bin/app",
                 "limits": {"memory": "256M", "memory_swap": 0, "pids": 64, "cpu": "50%", "cpu_weight": 200,
                            "io_weight": 50, "cpuset": "0-1"},
                 "isolation": {"cgroup": {"path": "apps/web"}}}""");
        assertThat(spec.cgroup().limits()).isEqualTo(new ResourceLimits(256L << 20, 0L, 64L, 0.5, 200L, 50L, "0-1"));
        assertThat(spec.cgroup().path()).isEqualTo("apps/web");
        assertThat(spec.cgroup().effectiveMode()).isEqualTo(CgroupSpec.Mode.REQUIRED);
        assertThat(spec.labels().of("limits.pids")).isEqualTo("/limits/pids");
        assertThat(read("{\"executable\": \"/a\", \"limits\": {\"memory\": 1048576, \"cpu\": 1.5}}").cgroup().limits())
                .isEqualTo(ResourceLimits.NONE.withMemory(1048576L).withCpu(1.5));
    }

    @Test
    void badLimitsAreNamedByTheirPath() {
        assertThat(problems("""
                {"executable": "/bin/app",
                 "limits": {"memory": "12XB", "pids": "many", "cpu": "fast", "memroy": 1, "timeout": 10},
                 "isolation": {"cgroup": {}}}"""))
                .containsExactlyInAnyOrder(
                        "/limits/memory: \"12XB\" is not a size; expected a whole number of bytes, optionally with K, M, G or T (powers of 1024), such as 256M",
                        "/limits/pids: expected a whole number, found the string \"many\"",
                        "/limits/cpu: \"fast\" is not a CPU amount; expected cores such as 0.5 or 2, or a percentage of one core such as 50%",
                        "/limits/timeout: not supported yet: corral does not route requests; request limits belong to the server in the jail",
                        "/limits/memroy: unknown key; did you mean \"memory\"?",
                        "/isolation/cgroup: missing \"path\"");
    }

    @Test
    void exactlyOneApplication() {
        assertThat(problems("{\"applications\": {\"a\": {\"executable\": \"/a\"}, \"b\": {\"executable\": \"/b\"}}}"))
                .containsExactly("/applications: holds 2 applications; corral run takes exactly one");
        assertThat(problems("{\"applications\": {\"a\": {}}}"))
                .containsExactly("/applications/a: missing \"executable\"");
    }

    @Test
    void malformedJsonNamesLineAndColumn() {
        assertThat(problems("{\"executable\": \"/bin/true\",\n  \"arguments\": [1,}"))
                .singleElement().asString().startsWith("test.json:2:").contains("malformed JSON");
        assertThat(problems("{\"executable\": \"/a\", \"executable\": \"/b\"}"))
                .singleElement().asString().contains("Duplicate field 'executable'");
        assertThat(problems("{} {}")).singleElement().asString().contains("malformed JSON");
    }

    @Test
    void joinedNamespacesTakeTheKeysOfNamespaces() throws Exception {
        JailSpec spec = read("""
                {"executable": "/bin/app", "isolation": {"join": {
                  "network": "/run/netns/blue", "credential": "/proc/42/ns/user", "uname": "/proc/42/ns/uts"}}}""");
        assertThat(spec.joins()).isEqualTo(java.util.Map.of(Namespace.NET, "/run/netns/blue",
                Namespace.USER, "/proc/42/ns/user", Namespace.UTS, "/proc/42/ns/uts"));
        // Without "namespaces" the others stay new, as they would without "join".
        assertThat(spec.namespaces()).doesNotContain(Namespace.NET, Namespace.USER, Namespace.UTS)
                .contains(Namespace.MOUNT, Namespace.PID, Namespace.IPC, Namespace.CGROUP);
        assertThat(spec.labels().of("join.net")).isEqualTo("/isolation/join/network");
        assertThat(spec.labels().of("join.user")).isEqualTo("/isolation/join/credential");
    }

    @Test
    void aJoinedNamespaceCannotAlsoBeNew() {
        assertThat(problems("""
                {"executable": "/bin/app", "isolation": {
                  "namespaces": {"network": true, "pid": false},
                  "join": {"network": "/run/netns/blue", "pid": "/proc/42/ns/pid", "netwrk": "/x", "ipc": 5}}}"""))
                .containsExactly(
                        "/isolation/join/network: \"namespaces\" makes this namespace new; a jail joins a namespace or creates one",
                        "/isolation/join/netwrk: unknown namespace; expected one of credential (user), mount, pid, network,"
                                + " uname (uts), ipc, cgroup, time",
                        "/isolation/join/ipc: expected the path of a namespace file, found the number 5");
    }

    @Test
    void setnsSocketsBelongToTheDaemon() throws Exception {
        assertThat(problems("{\"executable\": \"/bin/true\", \"isolation\": {\"setns_socket\": true}}"))
                .containsExactly("/isolation/setns_socket: not supported yet: setns sockets belong to the supervisor daemon");
        var problems = new java.util.ArrayList<Problem>();
        var doc = new com.fasterxml.jackson.databind.ObjectMapper().readTree("""
                {"applications": {
                  "a": {"executable": "/bin/true", "isolation": {"setns_socket": true}},
                  "b": {"executable": "/bin/true", "isolation": {"setns_socket": "/run/b.sock", "setns_skip": ["user", "net"]}},
                  "c": {"executable": "/bin/true"},
                  "d": {"executable": "/bin/true", "isolation": {"setns_socket": "relative", "setns_skip": ["netwrk"]}}}}""");
        var apps = AppConfig.applications(doc, problems);
        assertThat(problems.stream().map(Problem::toString)).containsExactly(
                "/applications/d/isolation/setns_socket: expected true, false or an absolute path, found the string \"relative\"",
                "/applications/d/isolation/setns_skip/0: unknown namespace \"netwrk\"; expected one of user, mount, pid,"
                        + " network, uts, ipc, cgroup, time");
        assertThat(apps.get("a").setnsSocket()).isEqualTo(new AppConfig.SetnsSocketConfig("", Set.of(Namespace.USER)));
        assertThat(apps.get("b").setnsSocket()).isEqualTo(new AppConfig.SetnsSocketConfig("/run/b.sock",
                Set.of(Namespace.USER, Namespace.NET)));
        assertThat(apps.get("c").setnsSocket()).isNull();
        // The jail of one application on its own: what corral exec takes the hardening from.
        JailSpec b = AppConfig.application("b", doc.path("applications").path("b"));
        assertThat(b.command()).containsExactly("/bin/true");
    }
}
