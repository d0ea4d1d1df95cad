package dev.corral;

import dev.corral.spec.Problem;
import dev.corral.spec.SpecException;
import dev.corral.testing.BusyboxRootfs;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** Failing closed: one clear message, the right status, and nothing left running. */
class JailErrorsTest {

    private static JailSetupException setupFailure(JailBuilder b) {
        JailSetupException e = catchThrowableOfType(JailSetupException.class, b::start);
        assertThat(e).as("expected the jail to fail to start").isNotNull();
        return e;
    }

    @Test
    void missingProgramIs127() {
        JailSetupException e = setupFailure(new JailBuilder().command("/no/such/program"));
        assertThat(e.getMessage()).isEqualTo("exec /no/such/program: No such file or directory");
        assertThat(e.exitStatus()).isEqualTo(127);
    }

    @Test
    void notExecutableIs126(@TempDir Path dir) throws Exception {
        Path script = Files.writeString(dir.resolve("script"), "#!/bin/sh\n");
        JailSetupException e = setupFailure(new JailBuilder().bind(dir.toString(), "/d").command("/d/script"));
        assertThat(e.getMessage()).isEqualTo("exec /d/script: Permission denied");
        assertThat(e.exitStatus()).isEqualTo(126);
    }

    @Test
    void aSymlinkPlantedInTheRootfsCannotSendAMountOutside(@TempDir Path dir) throws Exception {
        Path rootfs = BusyboxRootfs.create(dir.resolve("root"));
        Path outside = Files.createDirectories(dir.resolve("outside"));
        Files.createSymbolicLink(rootfs.resolve("escape"), Path.of("../outside"));
        Files.createSymbolicLink(rootfs.resolve("absolute"), outside);
        for (String target : new String[] {"/escape/x", "/absolute/x"}) {
            JailSetupException e = setupFailure(new JailBuilder().rootfs(rootfs.toString()).tmpfs(target)
                    .command("/bin/true"));
            assertThat(e.getMessage()).contains(target + " leads outside the root (symlink)");
            assertThat(e.errno()).isEqualTo(18); // EXDEV
            assertThat(e.exitStatus()).isEqualTo(125);
        }
        assertThat(outside).isEmptyDirectory();
    }

    @Test
    void badSpecsAreReportedWhole() {
        SpecException e = catchThrowableOfType(SpecException.class, () -> new JailBuilder()
                .rootfs("/no/such/dir").hostname("x".repeat(70)).uid(5).bind("relative", "/r")
                .command("true").start());
        assertThat(e.problems()).extracting(Problem::toString).contains(
                "rootfs: no such directory: /no/such/dir",
                "hostname: must be 1 to 64 bytes, not 70",
                "bind relative: source must be an absolute path: relative");
        assertThat(e.problems()).anyMatch(p -> p.where().equals("uid") && p.message().contains("not mapped"));
    }

    @Test
    void aMissingBindSourceIsASpecError() {
        SpecException e = catchThrowableOfType(SpecException.class, () -> new JailBuilder()
                .bind("/no/such/source", "/x").command("true").start());
        assertThat(e.problems()).extracting(Problem::toString)
                .containsExactly("bind /no/such/source: source does not exist: /no/such/source");
    }

    /**
     * A start that fails hands no process out, so its streams are corral's to close: each failed
     * exec left four descriptors to the garbage collector (a daemon restarting an application
     * that cannot exec lost four a try; found by a full test run, whose later descriptor numbers
     * moved).
     */
    @Test
    void aFailedStartLeavesNoDescriptorBehind() throws Exception {
        JailBuilder cannotExec = new JailBuilder().cgroup(dev.corral.spec.CgroupSpec.Mode.NONE).command("/no/such/program");
        for (int i = 0; i < 3; i++) catchThrowableOfType(JailSetupException.class, cannotExec::start); // spares settle
        long before = openDescriptors();
        for (int i = 0; i < 40; i++) {
            JailSetupException e = catchThrowableOfType(JailSetupException.class, cannotExec::start);
            assertThat(e).isNotNull();
        }
        // A spare executor made or replaced meanwhile may hold a few; the leak was 160.
        assertThat(openDescriptors()).isLessThanOrEqualTo(before + 6);
    }

    private static long openDescriptors() throws java.io.IOException {
        try (var fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        }
    }
}
