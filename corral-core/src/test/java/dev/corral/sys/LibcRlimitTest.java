package dev.corral.sys;

import dev.corral.launch.LocalHost;
import dev.corral.spec.Rlimit;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** This process's limits asked of the kernel (getrlimit) are what /proc/self/limits shows. */
class LibcRlimitTest {
    @Test
    void getrlimitAgreesWithProcSelfLimits() throws Exception {
        Map<Rlimit.Resource, long[]> fromProc = LocalHost.rlimits(Files.readString(Path.of("/proc/self/limits")));
        Map<Rlimit.Resource, long[]> asked = LocalHost.ownRlimits();
        assertThat(asked.keySet()).containsExactlyInAnyOrder(Rlimit.Resource.values());
        for (Rlimit.Resource r : Rlimit.Resource.values()) {
            assertThat(asked.get(r)).as(r.name()).containsExactly(fromProc.get(r));
        }
        // Not all unlimited: a limit with numbers (open files has a finite hard limit) came through.
        assertThat(asked.get(Rlimit.Resource.NOFILE)[1]).isPositive();
    }
}
