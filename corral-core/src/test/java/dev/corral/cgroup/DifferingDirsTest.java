package dev.corral.cgroup;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** The cgroups a joining process must enter: those of the other process it is not in, reachable or refused. */
class DifferingDirsTest {
    @Test
    void sameCgroupsNothingToEnterUnreachableOnesRefused() throws Exception {
        String own = Files.readString(Path.of("/proc/self/cgroup"));
        assertThat(CgroupDetector.differingDirs(own)).isEmpty();
        // Every path moved outside this process's view: a process there cannot be joined.
        String outside = own.lines().map(l -> l.substring(0, l.lastIndexOf(':') + 1) + "/../corral-elsewhere")
                .collect(Collectors.joining("\n"));
        IllegalStateException e = catchThrowableOfType(IllegalStateException.class, () -> CgroupDetector.differingDirs(outside));
        assertThat(e.getMessage()).startsWith("its cgroup /../corral-elsewhere (").contains("is not reachable from here under /sys/fs/cgroup");
        String missing = own.lines().map(l -> l.substring(0, l.lastIndexOf(':') + 1) + "/corral-no-such-cgroup-" + ProcessHandle.current().pid())
                .collect(Collectors.joining("\n"));
        assertThat(catchThrowableOfType(IllegalStateException.class, () -> CgroupDetector.differingDirs(missing)))
                .isNotNull();
    }
}
