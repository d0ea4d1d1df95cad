package dev.corral;

import dev.corral.spec.Capability;
import dev.corral.spec.Rlimit;
import dev.corral.spec.Seccomp;
import dev.corral.testing.BusyboxRootfs;
import dev.corral.testing.Run;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/** What the kernel reports of the program's confinement, read from its own /proc/self/status. */
class JailHardeningTest {

    private static Map<String, String> status(JailBuilder b) throws Exception {
        Run r = Run.of(b.command("sh", "-c", "cat /proc/self/status"));
        assertThat(r.status()).as(r.err()).isZero();
        return r.out().lines().filter(l -> l.contains(":\t"))
                .collect(Collectors.toMap(l -> l.substring(0, l.indexOf(':')), l -> l.substring(l.indexOf(':') + 1).strip(),
                        (a, b2) -> a));
    }

    private static long hex(String v) {
        return Long.parseUnsignedLong(v, 16);
    }

    @Test
    void defaultsAreTheSmallCapabilitySetNoNewPrivsAndTheFilter() throws Exception {
        Map<String, String> s = status(new JailBuilder());
        long mask = Capability.mask(Capability.DEFAULT);
        assertThat(hex(s.get("CapBnd"))).isEqualTo(mask);
        assertThat(hex(s.get("CapEff"))).isEqualTo(mask);
        assertThat(hex(s.get("CapPrm"))).isEqualTo(mask);
        assertThat(hex(s.get("CapAmb"))).isZero();
        assertThat(s.get("NoNewPrivs")).isEqualTo("1");
        assertThat(s.get("Seccomp")).isEqualTo("2");
    }

    @Test
    void everythingCanBeAskedOffExplicitly() throws Exception {
        Map<String, String> s = status(new JailBuilder().capabilities(Set.of()).noNewPrivs(false)
                .seccomp(Seccomp.UNCONFINED));
        assertThat(hex(s.get("CapBnd"))).isZero();
        assertThat(hex(s.get("CapEff"))).isZero();
        assertThat(s.get("NoNewPrivs")).isEqualTo("0");
        assertThat(s.get("Seccomp")).isEqualTo("0");
    }

    @Test
    void aNonRootUserKeepsItsCapabilitiesThroughExec(@TempDir Path dir) throws Exception {
        Path rootfs = BusyboxRootfs.create(dir.resolve("root"));
        Map<String, String> s = status(new JailBuilder().rootfs(rootfs.toString())
                .uidMap(0, 0, 1).uidMap(1000, 301000, 1).gidMap(0, 0, 1).gidMap(1000, 301000, 1).user("app")
                .capabilities(EnumSet.of(Capability.NET_BIND_SERVICE)));
        long bind = 1L << Capability.NET_BIND_SERVICE.number();
        assertThat(s.get("Uid")).startsWith("1000");
        assertThat(hex(s.get("CapEff"))).isEqualTo(bind);
        assertThat(hex(s.get("CapAmb"))).isEqualTo(bind);
        assertThat(hex(s.get("CapBnd"))).isEqualTo(bind);
    }

    @Test
    void rlimitsAndHidepidReachTheProgram() throws Exception {
        Run r = Run.of(new JailBuilder().rlimit(Rlimit.Resource.NOFILE, 64, 128).rlimit(Rlimit.Resource.CORE, 0, 0)
                .procHidepid("invisible")
                .command("sh", "-c", "ulimit -n; ulimit -Hn; ulimit -c; grep ' /proc proc' /proc/mounts | tail -1"));
        var lines = r.out().lines().toList();
        assertThat(lines.subList(0, 3)).as(r.err()).containsExactly("64", "128", "0");
        assertThat(lines.get(3)).contains("hidepid=invisible");
    }
}
