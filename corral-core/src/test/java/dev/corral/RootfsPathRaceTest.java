package dev.corral;

import dev.corral.sys.NativeFunction;
import dev.corral.testing.BusyboxRootfs;
import dev.corral.testing.Run;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A rootfs under a directory someone else can write: while jails start, that someone swaps the
 * rootfs's parent with a symlink to a decoy, over and over. Whichever the path names when the
 * executor clones it is the jail's root, and every later step works beneath that clone. Before,
 * the executor looked the path up again after attaching the clone, and could find the decoy then:
 * it made the mount points proc, tmp and dev there, outside the rootfs it had cloned, and
 * failed at pivot_root ("Invalid argument").
 */
class RootfsPathRaceTest {
    private static final NativeFunction RENAMEAT2 = NativeFunction.libc("renameat2");
    private static final int AT_FDCWD = -100, RENAME_EXCHANGE = 2;

    @Test
    void aRootfsPathSwappedDuringStartsIsOneRootOrTheOtherNeverAMix(@TempDir Path dir) throws Exception {
        Path race = Files.createDirectories(dir.resolve("race"));
        BusyboxRootfs.create(race.resolve("u/root"));
        Path decoy = Files.createDirectories(dir.resolve("decoy/root"));
        Files.createSymbolicLink(race.resolve("v"), Path.of("../decoy"));
        String rootfs = race.resolve("u/root").toString();

        AtomicBoolean swapping = new AtomicBoolean(true);
        Thread swapper = Thread.ofPlatform().start(() -> {
            try (Arena arena = Arena.ofConfined()) {
                long u = NativeFunction.pointer(arena.allocateFrom(race.resolve("u").toString()));
                long v = NativeFunction.pointer(arena.allocateFrom(race.resolve("v").toString()));
                MemorySegment errno = NativeFunction.errnoSegment(arena);
                while (swapping.get()) RENAMEAT2.call(errno, AT_FDCWD, u, AT_FDCWD, v, RENAME_EXCHANGE);
            }
        });
        List<String> mixed = new ArrayList<>();
        int real = 0, decoys = 0;
        try {
            for (int i = 0; i < 300; i++) {
                try {
                    Run r = Run.of(new JailBuilder().rootfs(rootfs).cgroup(dev.corral.spec.CgroupSpec.Mode.NONE).command("/bin/true"));
                    if (r.status() == 0) real++;
                    else mixed.add("status " + r.status() + ": " + r.err().strip());
                } catch (dev.corral.spec.SpecException e) {
                    decoys++; // the planner saw the path between swaps: fine, nothing started
                } catch (JailSetupException e) {
                    if (e.getMessage().equals("exec /bin/true: No such file or directory")) decoys++; // the decoy's
                    else mixed.add(e.getMessage());
                }
            }
        } finally {
            swapping.set(false);
            swapper.join();
        }
        assertThat(mixed).as("starts that mixed the two roots").isEmpty();
        assertThat(real).as("starts in the real rootfs").isPositive();
        assertThat(decoys).as("starts in (or refused for) the decoy").isPositive();
        // Mount points appear only in a root a jail was actually given: the decoy's own, and only
        // when the path named it at the clone.
        try (var entries = Files.list(decoy)) {
            assertThat(entries.map(p -> p.getFileName().toString()).toList()).isSubsetOf("proc", "tmp", "dev");
        }
    }
}
