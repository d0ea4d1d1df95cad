package dev.corral.sys;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** What corral reads of itself from /proc instead of asking with a native call. */
class ProcSelfTest {
    @Test
    void theEffectiveIdsAreWhatTheKernelAnswers() {
        int[] ids = KernelFiles.effectiveIds();
        assertThat(ids).containsExactly(Libc.geteuid(), Libc.getegid());
    }

    @Test
    void noTerminalWhereThereIsNone() {
        // A forked test JVM's stdin is surefire's pipe, never a terminal; 999 is not open.
        assertThat(Libc.isatty(0)).as("stdin of the test JVM").isFalse();
        assertThat(Terminal.isForeground(0)).isFalse();
        assertThat(Terminal.isForeground(999)).isFalse();
    }
}
