package dev.corral;

import dev.corral.ids.IdPool;
import dev.corral.ids.IdRange;
import dev.corral.ids.RangeAllocator;
import dev.corral.plan.LaunchPlan;
import dev.corral.spec.Rlimit;
import dev.corral.spec.Seccomp;
import dev.corral.spec.SpecException;
import dev.corral.testing.Run;
import dev.corral.testing.StaticBinary;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

/**
 * Jails on allocated id ranges, as root (the maps are written directly). Pools here are
 * explicit ranges at 0x400000 + n * 0x10000, which no other test (nor /etc/subuid) uses, so the
 * per-user accounting the tests measure is theirs alone.
 */
class IdRangeJailTest {
    static final long BASE = 0x400000, SLOT = IdRange.SIZE;
    static Path probe;

    @TempDir
    Path dir;

    @BeforeAll
    static void asRoot() throws Exception {
        assumeThat(new com.sun.security.auth.module.UnixSystem().getUid()).as("writes id maps of foreign ranges directly").isZero();
        probe = StaticBinary.build(Path.of("src/test/native/accounting-probe.c"), Path.of("target/accounting-probe/accounting-probe"));
    }

    RangeAllocator allocator(long first, int slots) {
        return new RangeAllocator(dir.resolve("ids.json"), IdPool.of(first, slots * SLOT));
    }

    static String map(String line) {
        return line.strip().replaceAll("\\s+", " ");
    }

    @Test
    void anUnnamedJailHoldsAFreeRangeWhileItRuns() throws Exception {
        RangeAllocator ids = allocator(BASE, 2);
        ids.allocate("other"); // the first slot is taken
        JailedProcess p = new JailBuilder().autoIdRange(ids, null)
                .command("sh", "-c", "cat /proc/self/uid_map /proc/self/gid_map; id -u; read x").start();
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        long second = BASE + SLOT;
        assertThat(map(out.readLine())).isEqualTo("0 " + second + " 65536");
        assertThat(map(out.readLine())).isEqualTo("0 " + second + " 65536");
        assertThat(out.readLine()).isEqualTo("0");
        // The jail's processes are host uid `second`, and the file says the range is this JVM's.
        assertThat(Files.readString(Path.of("/proc/" + p.jailPid() + "/status"))).containsPattern("Uid:\\s+" + second + "\\s");
        assertThat(ids.allocations()).extracting(a -> a.range().uid()).containsExactly(BASE, second);
        assertThat(p.plan().describe()).anyMatch(s -> s.contains("write its uid_map: 0 " + second + " 65536"));
        assertThatThrownBy(() -> new JailBuilder().autoIdRange(ids, null).command("true").start())
                .isInstanceOf(SpecException.class).hasMessageContaining("autoIds: the id pool is exhausted");
        p.getOutputStream().close();
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        // Given back as the jail ended, before waitFor returned.
        assertThat(ids.allocations()).extracting(RangeAllocator.Allocation::name).containsExactly("other");
    }

    @Test
    void aNamedRangeIsTheSameAtEveryStartAndThePlanShowsItWithoutTakingIt() throws Exception {
        RangeAllocator ids = allocator(BASE + 2 * SLOT, 3);
        LaunchPlan dry = dev.corral.launch.Launcher.shared().plan(new JailBuilder().autoIdRange(ids, "web").command("true").build());
        assertThat(dry.idMaps().uid().getFirst().outside()).isEqualTo(BASE + 2 * SLOT);
        assertThat(ids.allocations()).isEmpty();
        ids.allocate("db");
        String first = Run.of(new JailBuilder().autoIdRange(ids, "web").command("cat", "/proc/self/uid_map")).out();
        RangeAllocator again = allocator(BASE + 2 * SLOT, 3);
        String second = Run.of(new JailBuilder().autoIdRange(again, "web").command("cat", "/proc/self/uid_map")).out();
        assertThat(map(first)).isEqualTo("0 " + (BASE + 3 * SLOT) + " 65536").isEqualTo(map(second));
        assertThat(again.find("web")).contains(new IdRange(BASE + 3 * SLOT, BASE + 3 * SLOT));
    }

    @Test
    void explicitMapsAndAnAutomaticRangeDoNotMix() {
        assertThatThrownBy(() -> new JailBuilder().autoIdRange(allocator(BASE, 1), null).uidMap(0, 1000, 1).command("true").start())
                .isInstanceOf(SpecException.class)
                .hasMessage("autoIds: an automatic id range replaces the uid and gid maps: give one or the other");
    }

    /** A jail running the probe, holding what it got until {@link #close()}. */
    record Holder(JailedProcess p, String got) implements AutoCloseable {
        static Holder start(JailBuilder b, String what, int n) throws Exception {
            JailedProcess p = b.command(StaticBinary.bindInto(b, probe), what, Integer.toString(n), "--hold").start();
            String line = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8)).readLine();
            return new Holder(p, line);
        }

        @Override
        public void close() throws Exception {
            p.getOutputStream().close();
            if (!p.waitFor(10, TimeUnit.SECONDS)) p.destroyForcibly().waitFor();
        }
    }

    /**
     * RLIMIT_NPROC, 20 processes a user: two jails on distinct ranges each start 15 while the
     * other holds its 15 (17 with the init and the probe), and a jail asking for more than the
     * limit is stopped at it — the limit is in force, per jail.
     */
    @Test
    void jailsOnDistinctRangesEachRunUpToTheProcessLimit() throws Exception {
        RangeAllocator ids = allocator(BASE + 5 * SLOT, 2);
        try (Holder a = Holder.start(nproc(ids, "a"), "procs", 15);
             Holder b = Holder.start(nproc(ids, "b"), "procs", 15)) {
            assertThat(a.got()).isEqualTo("15 ok");
            assertThat(b.got()).isEqualTo("15 ok");
            assertThat(ids.find("a")).isNotEqualTo(ids.find("b"));
        }
        try (Holder greedy = Holder.start(nproc(ids, "a"), "procs", 30)) {
            // init and the probe count too: the 19th fork would be the user's 21st process.
            assertThat(greedy.got()).isEqualTo("18 EAGAIN");
        }
        // Since Linux 5.14 RLIMIT_NPROC is counted per user namespace and uid (ucounts), so two
        // jails mapping one range do not share this count; the key quota below is still per host uid.
    }

    private static JailBuilder nproc(RangeAllocator ids, String name) {
        return new JailBuilder().autoIdRange(ids, name).rlimit(Rlimit.Resource.NPROC, 20, 20);
    }

    /**
     * The kernel's key quota (kernel.keys.maxkeys keys a user, 200 by default) is per host uid:
     * a jail sharing a range with one that holds most of the quota is refused keys, while a jail
     * on a range of its own gets all it asks for. (add_key is outside the default seccomp filter.)
     */
    @Test
    void jailsSharingARangeShareTheKeyQuotaAndDistinctRangesDoNot() throws Exception {
        // KernelFiles reads in one go: a sysctl file read from an offset past 0 reads as empty.
        int maxkeys = Integer.parseInt(dev.corral.sys.KernelFiles.read(Path.of("/proc/sys/kernel/keys/maxkeys")).orElse("0").strip());
        assumeThat(maxkeys).as("kernel.keys.maxkeys small enough to use up").isBetween(20, 5000);
        RangeAllocator ids = allocator(BASE + 8 * SLOT, 2);
        int most = maxkeys * 3 / 4, half = maxkeys / 2;
        try (Holder first = Holder.start(keys(ids, "shared"), "keys", most)) {
            assertThat(first.got()).isEqualTo(most + " ok");
            try (Holder sameRange = Holder.start(keys(ids, "shared"), "keys", half);
                 Holder ownRange = Holder.start(keys(ids, "own"), "keys", half)) {
                assertThat(sameRange.got()).endsWith(" EDQUOT");
                assertThat(Integer.parseInt(sameRange.got().split(" ")[0])).isLessThan(maxkeys - most);
                assertThat(ownRange.got()).isEqualTo(half + " ok");
            }
        }
    }

    private static JailBuilder keys(RangeAllocator ids, String name) {
        return new JailBuilder().autoIdRange(ids, name).seccomp(Seccomp.UNCONFINED);
    }
}
