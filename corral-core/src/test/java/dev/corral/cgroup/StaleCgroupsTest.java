package dev.corral.cgroup;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

/** The sweep of cgroups left behind, on the host's real pids (or unified) hierarchy. */
class StaleCgroupsTest {
    @Test
    void emptyCgroupsOfDeadCorralProcessesGoOthersStay() throws Exception {
        CgroupView host = CgroupDetector.detect();
        assumeThat(host.version()).as("cgroups: " + host.whyNone()).isNotNull();
        CgroupView.Hierarchy h = host.hierarchies().stream().filter(CgroupView.Hierarchy::writable).findFirst().orElse(null);
        assumeThat(h).as("a writable cgroup").isNotNull();
        Path parent = Path.of(h.ownDir());
        Process gone = new ProcessBuilder("true").start();
        gone.waitFor();
        Path stale = parent.resolve("corral-" + gone.pid() + "-1");
        Path alive = parent.resolve("corral-" + ProcessHandle.current().pid() + "-999999");
        Path other = parent.resolve("corral-test-not-a-jail-" + ProcessHandle.current().pid());
        Files.createDirectory(stale);
        Files.createDirectory(alive);
        Files.createDirectory(other);
        try {
            StaleCgroups.sweep(parent);
            assertThat(stale).as("owner dead, empty: removed").doesNotExist();
            assertThat(alive).as("owner running: kept").exists();
            assertThat(other).as("not corral's naming: kept").exists();
        } finally {
            Files.deleteIfExists(stale);
            Files.deleteIfExists(alive);
            Files.deleteIfExists(other);
        }
    }
}
