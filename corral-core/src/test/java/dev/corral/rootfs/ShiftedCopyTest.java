package dev.corral.rootfs;

import dev.corral.JailBuilder;
import dev.corral.ids.IdPool;
import dev.corral.ids.IdRange;
import dev.corral.ids.RangeAllocator;
import dev.corral.sys.FileCalls;
import dev.corral.testing.BusyboxRootfs;
import dev.corral.testing.Run;
import dev.corral.testing.TreeSnapshot;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

/**
 * {@code corral rootfs shift}'s copy, as root (giving files to a range's ids needs it; nobody's
 * refusal is in the CLI's RootfsShiftCliIT): a busybox tree with hard links, a fifo, a setuid
 * file, foreign owners, an ACL, a file capability and old times, copied, interrupted and resumed,
 * then used as a jail's root on an allocated range at 0x820000, which no other test uses.
 */
class ShiftedCopyTest {
    static final long RANGE = 0x820000;
    static final LinkOption NOFOLLOW = LinkOption.NOFOLLOW_LINKS;

    @TempDir
    Path dir;
    Path src;

    @BeforeAll
    static void asRoot() {
        assumeThat(new com.sun.security.auth.module.UnixSystem().getUid()).as("gives files to other ids").isZero();
    }

    @BeforeEach
    void source() throws Exception {
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        src = BusyboxRootfs.create(dir.resolve("src"));
        Path home = Files.createDirectories(src.resolve("home/app"));
        Files.writeString(home.resolve("notes"), "mine\n");
        chown(home, 1000, 1000);
        chown(home.resolve("notes"), 1000, 50);
        Files.createSymbolicLink(home.resolve("link"), Path.of("notes"));
        chown(home.resolve("link"), 1000, 1000);
        Files.createLink(src.resolve("bin/busybox-again"), src.resolve("bin/busybox"));
        FileCalls.mknod(src.resolve("tmp/fifo"), 0010644, 0);
        Path suid = Files.writeString(src.resolve("bin/suid"), "#!/bin/sh\n");
        Files.setAttribute(suid, "unix:mode", 04755);
        FileCalls.setXattr(suid, "user.origin", "test".getBytes());
        // an ACL granting uid 1000 (named user) rw, and a v2 file capability (cap_net_raw, effective)
        FileCalls.setXattr(home.resolve("notes"), "system.posix_acl_access", acl(1000));
        // (not on busybox: exec refuses a file whose effective capabilities the jail's bounding set lacks)
        FileCalls.setXattr(Files.writeString(src.resolve("bin/pinger"), "x"), "security.capability", capability());
        for (Path p : List.of(home.resolve("notes"), home, src.resolve("etc"))) {
            Files.setLastModifiedTime(p, FileTime.fromMillis(1_500_000_000_123L));
        }
    }

    private static void chown(Path p, int uid, int gid) throws IOException {
        FileCalls.lchown(p, uid, gid);
    }

    private static byte[] acl(int user) {
        ByteBuffer b = ByteBuffer.allocate(4 + 5 * 8).order(ByteOrder.LITTLE_ENDIAN).putInt(2);
        int[][] entries = {{0x01, 6, -1}, {0x02, 6, user}, {0x04, 4, -1}, {0x10, 6, -1}, {0x20, 4, -1}};
        for (int[] e : entries) b.putShort((short) e[0]).putShort((short) e[1]).putInt(e[2]);
        return b.array();
    }

    private static byte[] capability() {
        return ByteBuffer.allocate(20).order(ByteOrder.LITTLE_ENDIAN).putInt(0x02000001).putInt(1 << 13).putInt(0).putInt(0).putInt(0)
                .array();
    }

    /** Every entry as TreeSnapshot shows it (owners shifted by {@code base}), with its times and its xattrs. */
    private static List<String> describe(Path root, long base) throws IOException {
        List<String> out = new ArrayList<>();
        for (String line : TreeSnapshot.content(root)) {
            String[] f = line.split(" ", 4);
            String[] owner = f[2].split(":");
            out.add(f[0] + " " + f[1] + " " + (Long.parseLong(owner[0]) + base) + ":" + (Long.parseLong(owner[1]) + base) + " " + f[3]);
        }
        try (Stream<Path> all = Files.walk(root)) {
            for (Path p : all.sorted().toList()) {
                Map<String, Object> a = Files.readAttributes(p, "unix:lastModifiedTime,nlink", NOFOLLOW);
                out.add("/" + root.relativize(p) + " mtime=" + a.get("lastModifiedTime") + " nlink=" + a.get("nlink")
                        + " xattrs=" + FileCalls.xattrs(p).keySet());
            }
        }
        return out;
    }

    @Test
    void theCopyIsTheSourceWithItsOwnersInTheRangeAndTheSourceIsUntouched() throws Exception {
        List<String> before = TreeSnapshot.of(src);
        Path dst = dir.resolve("dst");
        List<Long> seen = new ArrayList<>();
        ShiftedCopy.Result r = ShiftedCopy.run(src, dst, new IdShift(RANGE, RANGE + 7, 65536), new ShiftedCopy.Progress() {
            @Override public void total(long entries) { seen.add(entries); }
        });
        assertThat(TreeSnapshot.of(src)).as("the source, entry by entry with inodes and ctimes").isEqualTo(before);
        // Owners shifted (gids by their own base), all else the same: content, modes (setuid kept), links, times.
        List<String> want = new ArrayList<>();
        for (String line : describe(src, 0)) {
            if (line.contains(" mtime=")) want.add(line);
            else {
                String[] f = line.split(" ", 4);
                String[] o = f[2].split(":");
                want.add(f[0] + " " + f[1] + " " + (Long.parseLong(o[0]) + RANGE) + ":" + (Long.parseLong(o[1]) + RANGE + 7) + " " + f[3]);
            }
        }
        assertThat(describe(dst, 0)).isEqualTo(want);
        assertThat(Files.getAttribute(dst.resolve("bin/busybox"), "unix:ino"))
                .isEqualTo(Files.getAttribute(dst.resolve("bin/busybox-again"), "unix:ino"));
        assertThat(Files.getAttribute(dst.resolve("bin/suid"), "unix:mode")).isEqualTo(0104755);
        assertThat(Files.getAttribute(dst.resolve("tmp/fifo"), "unix:mode")).isEqualTo(0010644);
        // The ACL's named user moved with the owners; the capability survived the chown.
        ByteBuffer acl = ByteBuffer.wrap(FileCalls.xattrs(dst.resolve("home/app/notes")).get("system.posix_acl_access"))
                .order(ByteOrder.LITTLE_ENDIAN);
        assertThat(acl.getInt(4 + 8 + 4) & 0xFFFFFFFFL).isEqualTo(RANGE + 1000);
        assertThat(FileCalls.xattrs(dst.resolve("bin/pinger")).get("security.capability")).isEqualTo(capability());
        assertThat(FileCalls.xattrs(dst.resolve("bin/suid")).get("user.origin")).isEqualTo("test".getBytes());
        assertThat(r.entries()).isEqualTo(seen.getFirst()).isEqualTo(r.made());
        assertThat(r.links()).isEqualTo(1);
        assertThat(ShiftedCopy.journalOf(dst)).doesNotExist();
        assertThat(dst.resolve(ShiftedCopy.PART)).doesNotExist();
    }

    /** Stops a copy after {@code n} entries, as an interruption would. */
    static final class Interrupt implements ShiftedCopy.Progress {
        final long n;

        Interrupt(long n) {
            this.n = n;
        }

        @Override
        public void done(long entries, Path current) throws IOException {
            if (entries == n) throw new IOException("interrupted after " + n);
        }
    }

    @Test
    void anInterruptedCopyContinuesToTheResultOfAnUninterruptedOne() throws Exception {
        IdShift shift = new IdShift(RANGE, RANGE, 65536);
        Path whole = dir.resolve("whole"), resumed = dir.resolve("resumed");
        ShiftedCopy.run(src, whole, shift, new ShiftedCopy.Progress() {});
        assertThatThrownBy(() -> ShiftedCopy.run(src, resumed, shift, new Interrupt(9))).hasMessage("interrupted after 9");
        assertThat(ShiftedCopy.journalOf(resumed)).exists();
        // An unfinished copy is not taken for another's, nor resumed with other arguments.
        assertThatThrownBy(() -> ShiftedCopy.run(src, resumed, new IdShift(RANGE + 65536, RANGE, 65536), new ShiftedCopy.Progress() {}))
                .isInstanceOf(ShiftedCopy.ShiftException.class)
                .hasMessageContaining(resumed + ": an unfinished copy of another source or shift is there");
        assertThatThrownBy(() -> ShiftedCopy.run(src, resumed, shift, new Interrupt(25))).hasMessage("interrupted after 25");
        ShiftedCopy.Result r = ShiftedCopy.run(src, resumed, shift, new ShiftedCopy.Progress() {});
        assertThat(r.kept()).isGreaterThanOrEqualTo(20);
        assertThat(r.made() + r.kept()).isEqualTo(r.entries());
        assertThat(describe(resumed, 0)).isEqualTo(describe(whole, 0));
        assertThat(Files.getAttribute(resumed.resolve("bin/busybox"), "unix:ino"))
                .isEqualTo(Files.getAttribute(resumed.resolve("bin/busybox-again"), "unix:ino"));
        assertThat(ShiftedCopy.journalOf(resumed)).doesNotExist();
    }

    @Test
    void whatCannotBeShiftedIsRefusedNamingThePath() throws Exception {
        IdShift shift = new IdShift(RANGE, RANGE, 65536);
        Path taken = Files.createDirectories(dir.resolve("taken"));
        assertThatThrownBy(() -> ShiftedCopy.run(src, taken, shift, new ShiftedCopy.Progress() {}))
                .isInstanceOf(ShiftedCopy.ShiftException.class)
                .hasMessage(taken + ": exists and is not an unfinished shifted copy (no taken.corral-shift beside it); choose a new directory");
        assertThatThrownBy(() -> ShiftedCopy.run(src, src.resolve("tmp/inside"), shift, new ShiftedCopy.Progress() {}))
                .hasMessageContaining("the copy and " + src + " cannot hold one another");
        chown(src.resolve("etc/group"), 70000, 0);
        Path dst = dir.resolve("dst");
        assertThatThrownBy(() -> ShiftedCopy.run(src, dst, shift, new ShiftedCopy.Progress() {}))
                .isInstanceOf(ShiftedCopy.ShiftException.class)
                .hasMessage(src.resolve("etc/group") + ": owned by 70000:0, outside the 0-65535 a jail's range maps (it would show"
                        + " as nobody); change its owner in the source or give a larger --count");
        assertThat(ShiftedCopy.journalOf(dst)).exists(); // unfinished: fix the source and run again
        chown(src.resolve("etc/group"), 0, 0);
        ShiftedCopy.run(src, dst, shift, new ShiftedCopy.Progress() {});
        assertThat(Files.getAttribute(dst.resolve("etc/group"), "unix:uid")).isEqualTo((int) RANGE);
    }

    @Test
    void aJailOnTheShiftedCopySeesItsOwnersAndWhatItWritesBelongsToItsRange() throws Exception {
        Path dst = dir.resolve("dst");
        ShiftedCopy.run(src, dst, new IdShift(RANGE, RANGE, 65536), new ShiftedCopy.Progress() {});
        RangeAllocator ids = new RangeAllocator(dir.resolve("ids.json"), IdPool.of(RANGE, IdRange.SIZE));
        Run r = Run.of(new JailBuilder().rootfs(dst.toString()).autoIdRange(ids, null).command("sh", "-c",
                "stat -c '%n %u:%g' /bin/busybox /home/app /home/app/notes; echo x > /made; touch /home/app/more;"
                        + " chown 1000:1000 /home/app/more"));
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(r.out()).isEqualTo("/bin/busybox 0:0\n/home/app 1000:1000\n/home/app/notes 1000:50\n");
        // On the host: range base + the id inside.
        assertThat(Files.getAttribute(dst.resolve("made"), "unix:uid")).isEqualTo((int) RANGE);
        assertThat(Files.getAttribute(dst.resolve("home/app/more"), "unix:uid")).isEqualTo((int) RANGE + 1000);
        assertThat(Files.getAttribute(dst.resolve("home/app/more"), "unix:gid")).isEqualTo((int) RANGE + 1000);
        assertThat(src.resolve("made")).doesNotExist();
    }
}
