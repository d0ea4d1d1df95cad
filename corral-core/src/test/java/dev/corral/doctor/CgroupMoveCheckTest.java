package dev.corral.doctor;

import dev.corral.cgroup.CgroupDetector;
import dev.corral.cgroup.CgroupVersion;
import dev.corral.doctor.HostCheck.Status;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** What the doctor says of moving jails into cgroups, on made-up mount tables and on this host. */
class CgroupMoveCheckTest {
    private static final String V1_MEMORY = "30 25 0:26 / /sys/fs/cgroup/memory rw,relatime shared:11 - cgroup cgroup rw,memory\n";
    private static final String V2_PLAIN = "35 25 0:31 / /sys/fs/cgroup/unified rw,relatime shared:16 - cgroup2 cgroup2 rw\n";
    private static final String V2_FAVORING = "35 25 0:31 / /sys/fs/cgroup/unified rw,relatime shared:16 - cgroup2 cgroup2 rw,favordynmods\n";

    @Test
    void v1WithoutFavordynmodsWarnsAndNamesTheRemount() {
        HostCheck c = CgroupMoveCheck.check(CgroupVersion.V1, V1_MEMORY + V2_PLAIN);
        assertThat(c.status()).isEqualTo(Status.WARN);
        assertThat(c.finding()).contains("RCU grace period");
        assertThat(c.fix()).contains("mount -o remount,favordynmods /sys/fs/cgroup/unified");
        assertThat(c.facts()).containsEntry("favordynmods", null);
    }

    @Test
    void v1WithoutAnyCgroup2MountSaysToMountOne() {
        HostCheck c = CgroupMoveCheck.check(CgroupVersion.V1, V1_MEMORY);
        assertThat(c.status()).isEqualTo(Status.WARN);
        assertThat(c.fix()).contains("mount -t cgroup2 -o favordynmods");
    }

    @Test
    void anyMountWithFavordynmodsMakesV1MovesCheap() {
        HostCheck c = CgroupMoveCheck.check(CgroupVersion.V1, V1_MEMORY + V2_FAVORING);
        assertThat(c.status()).isEqualTo(Status.OK);
        assertThat(c.finding()).contains("/sys/fs/cgroup/unified has favordynmods");
        assertThat(c.facts()).containsEntry("favordynmods", "/sys/fs/cgroup/unified");
    }

    @Test
    void v2CreatesJailsInTheirCgroupWhateverTheMountOptions() {
        HostCheck c = CgroupMoveCheck.check(CgroupVersion.V2, V2_PLAIN);
        assertThat(c.status()).isEqualTo(Status.OK);
        assertThat(c.finding()).contains("CLONE_INTO_CGROUP");
    }

    @Test
    void withoutCgroupsNothingIsMoved() {
        assertThat(CgroupMoveCheck.check(null, "").status()).isEqualTo(Status.OK);
    }

    @Test
    void onThisHostTheCheckFollowsTheMountTable() throws Exception {
        String mountinfo = Files.readString(Path.of("/proc/self/mountinfo"));
        boolean favoring = mountinfo.lines().anyMatch(l -> l.contains(" - cgroup") && l.contains("favordynmods"));
        CgroupVersion driver = CgroupDetector.detect().version();
        HostCheck c = new Doctor(Caller.current()).checks().stream().filter(h -> h.name().equals("cgroup-moves")).findFirst()
                .orElseThrow();
        Status expected = driver == CgroupVersion.V1 && !favoring ? Status.WARN : Status.OK;
        assertThat(c.status()).as(c.finding()).isEqualTo(expected);
    }
}
