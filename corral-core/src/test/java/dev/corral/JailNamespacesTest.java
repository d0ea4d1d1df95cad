package dev.corral;

import dev.corral.spec.Namespace;
import dev.corral.testing.Run;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** Real namespaces, as root: what the jailed program sees and what the host sees of it. */
class JailNamespacesTest {

    private static String hostNs(Namespace ns) throws Exception {
        return Files.readSymbolicLink(Path.of("/proc/self/ns/" + ns.procName())).toString();
    }

    private static boolean kernelHas(Namespace ns) {
        return Files.exists(Path.of("/proc/self/ns/" + ns.procName()));
    }

    @ParameterizedTest
    @EnumSource(Namespace.class)
    void everyNamespaceIsUnsharedByDefault(Namespace ns) throws Exception {
        if (!kernelHas(ns)) return;
        Run r = Run.sh("readlink /proc/self/ns/" + ns.procName());
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(r.out().strip()).startsWith(ns.procName() + ":[").isNotEqualTo(hostNs(ns));
    }

    @ParameterizedTest
    @EnumSource(value = Namespace.class, names = {"NET", "IPC", "UTS", "CGROUP", "TIME"})
    void aSharedNamespaceIsTheCallers(Namespace ns) throws Exception {
        if (!kernelHas(ns)) return;
        Run r = Run.of(new JailBuilder().share(ns).command("readlink", "/proc/self/ns/" + ns.procName()));
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(r.out().strip()).isEqualTo(hostNs(ns));
    }

    @Test
    void initIsPid1AndTheProgramPid2_orTheProgramIsPid1() throws Exception {
        Run withInit = Run.sh("echo $$; cat /proc/1/comm; ls /proc | grep -c '^[0-9]'");
        assertThat(withInit.out()).as(withInit.err()).startsWith("2\ncorral-init\n");
        // init and the shell, plus the grep and ls of the pipeline at most: no host process is visible.
        assertThat(Integer.parseInt(withInit.out().lines().toList().get(2))).isBetween(2, 4);
        Run asPid1 = Run.of(new JailBuilder().init(false).command("sh", "-c", "echo $$"));
        assertThat(asPid1.out()).isEqualTo("1\n");
    }

    @Test
    void hostnameAndLoopback() throws Exception {
        Run r = Run.of(new JailBuilder().hostname("jail-7").command("sh", "-c", "hostname; busybox ip -o link"));
        assertThat(r.status()).as(r.err()).isZero();
        var lines = r.out().lines().toList();
        assertThat(lines.getFirst()).isEqualTo("jail-7");
        assertThat(lines.subList(1, lines.size())).singleElement().asString()
                .contains(": lo: <LOOPBACK,UP,LOWER_UP>");
    }

    @Test
    void callerIsRootInsideByDefault() throws Exception {
        JailedProcess p = new JailBuilder().command("sh", "-c", "id -u; id -g; cat /proc/self/setgroups; read x").start();
        long euid = new com.sun.security.auth.module.UnixSystem().getUid();
        try {
            assertThat(Files.readString(Path.of("/proc/" + p.jailPid() + "/uid_map")).strip().split("\\s+"))
                    .containsExactly("0", Long.toString(euid), "1");
        } finally {
            p.getOutputStream().close();
        }
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        String out = new String(p.getInputStream().readAllBytes());
        // The kernel insists on "deny" only when an unprivileged user wrote the gid map.
        assertThat(out).isEqualTo("0\n0\n" + (euid == 0 ? "allow" : "deny") + "\n");
    }

    @Test
    void severalRangesAreWrittenAsGiven() throws Exception {
        JailedProcess p = new JailBuilder()
                .uidMap(0, 0, 1).uidMap(1, 200000, 1000)
                .gidMap(0, 0, 1).gidMap(1, 200000, 1000)
                .uid(5).gid(6)
                .command("sh", "-c", "id -u; id -g; read x").start();
        try {
            assertThat(Files.readAllLines(Path.of("/proc/" + p.jailPid() + "/uid_map")))
                    .extracting(l -> l.strip().replaceAll("\\s+", " "))
                    .containsExactly("0 0 1", "1 200000 1000");
            assertThat(Files.readAllLines(Path.of("/proc/" + p.jailPid() + "/gid_map")))
                    .extracting(l -> l.strip().replaceAll("\\s+", " "))
                    .containsExactly("0 0 1", "1 200000 1000");
        } finally {
            p.getOutputStream().close();
        }
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(new String(p.getInputStream().readAllBytes())).isEqualTo("5\n6\n");
    }
}
