package dev.corral.launch;

import dev.corral.sys.Libc;
import org.junit.jupiter.api.Test;

import java.io.FileOutputStream;
import java.io.IOException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The executor's sealed memfd, which every spawn executes as /proc/self/fd/N. */
class ExecutorTest {
    @Test
    void itsDescriptorIsClearOfEveryTargetOfTheSpawnsDup2s() {
        // Whatever low descriptors are free now (3 and 4 are the plan and event pipes' targets),
        // the memfd sits at or above the first descriptor no dup2 of a spawn aims at.
        Executor e = Executor.load(Launcher.SOURCE_FD);
        try {
            assertThat(e.fd()).isGreaterThanOrEqualTo(Launcher.SOURCE_FD);
            assertThat(e.path()).isEqualTo("/proc/self/fd/" + e.fd());
            assertThat(new java.io.File(e.path()).length()).as("the image is there").isPositive();
        } finally {
            Libc.close(e.fd());
        }
    }

    @Test
    void itIsSealedAgainstWrites() {
        Executor e = Executor.load(Launcher.SOURCE_FD);
        try {
            assertThatThrownBy(() -> {
                try (FileOutputStream out = new FileOutputStream(e.path(), true)) {
                    out.write(0);
                }
            }).isInstanceOf(IOException.class);
        } finally {
            Libc.close(e.fd());
        }
    }
}
