package dev.corral.cli.rootfs;

import dev.corral.rootfs.IdShift;
import dev.corral.rootfs.ShiftedCopy;
import dev.corral.sys.Libc;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "shift", mixinStandardHelpOptions = true,
        description = {"Copy the root filesystem SRC to DST with every owner shifted into a jail's host id range: a file"
                + " owned by U:G in SRC is owned by UID_BASE+U:GID_BASE+G in DST, so a jail whose ids 0-65535 are host ids"
                + " UID_BASE... (--userns auto, or --uid-map 0:UID_BASE:65536) sees it as U:G. The chown way of"
                + " --rootfs-idmap, for a kernel, filesystem or user that cannot idmap.",
                "Modes, times, symlinks, hard links, devices, fifos and extended attributes are copied (ACL ids shifted"
                + " too); SRC is only read.",
                "Resumable: run the same command again after an interruption and it continues where it stopped (a"
                + " journal DST.corral-shift lies beside DST until the copy is complete)."},
        footer = {"", "Examples:", "  corral rootfs shift /srv/base /srv/base-0x20000 --uid-base 131072",
                "  corral run --rootfs /srv/base-0x20000 --uid-map 0:131072:65536 --gid-map 0:131072:65536 -- sh"})
public final class RootfsShiftCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "SRC", description = "The root filesystem to copy (only read).")
    Path source;
    @Parameters(index = "1", paramLabel = "DST", description = "The new directory (or an unfinished copy to continue).")
    Path target;
    @Option(names = "--uid-base", paramLabel = "N", required = true, description = "The first host uid of the jail's range.")
    long uidBase;
    @Option(names = "--gid-base", paramLabel = "N", description = "The first host gid (default: the uid base).")
    Long gidBase;
    @Option(names = "--count", paramLabel = "N", description = "Ids in the range (default 65536); an owner at or above it is an error.")
    long count = IdShift.DEFAULT_COUNT;
    @Option(names = "--quiet", description = "No progress.")
    boolean quiet;

    @Override
    public Integer call() {
        IdShift shift;
        try {
            shift = new IdShift(uidBase, gidBase != null ? gidBase : uidBase, count);
        } catch (IllegalArgumentException e) {
            System.err.println("corral: " + e.getMessage());
            return 2;
        }
        ShiftProgress progress = quiet ? new ShiftProgress(null, false) : new ShiftProgress(System.err, Libc.isatty(2));
        long start = System.nanoTime();
        try {
            ShiftedCopy.Result r = ShiftedCopy.run(source, target, shift, progress);
            progress.end();
            double seconds = (System.nanoTime() - start) / 1e9;
            if (!quiet) {
                System.err.printf("corral: %s is %s shifted by %d:%d: %d entries (%d made now, %d already there, %d hard links)"
                                + " in %.1f s, %.0f entries/s%n", target, source, shift.uidBase(), shift.gidBase(), r.entries(),
                        r.made(), r.kept(), r.links(), seconds, r.entries() / Math.max(seconds, 1e-9));
            }
            return 0;
        } catch (ShiftedCopy.ShiftException e) {
            progress.end();
            System.err.println("corral: " + e.getMessage());
            return 2;
        } catch (IOException e) {
            progress.end();
            System.err.println("corral: rootfs shift: " + e.getMessage() + (e.getMessage().contains("Operation not permitted")
                    ? " (giving files to other users' ids needs root)" : "")
                    + "; run the same command again to continue");
            return 1;
        }
    }

    /** A bar on a terminal; elsewhere a plain line at every tenth of the way. */
    static final class ShiftProgress implements ShiftedCopy.Progress {
        private final PrintStream out;
        private final boolean terminal;
        private long total = -1, lastTenth = -1, lastDraw;

        ShiftProgress(PrintStream out, boolean terminal) {
            this.out = out;
            this.terminal = terminal;
        }

        @Override
        public void total(long entries) {
            total = entries;
        }

        @Override
        public void done(long entries, Path current) {
            if (out == null || total <= 0) return;
            if (terminal) {
                long now = System.nanoTime();
                if (now - lastDraw < 100_000_000L && entries < total) return;
                lastDraw = now;
                int width = 30, filled = (int) (width * entries / total);
                out.print("\r[" + "#".repeat(filled) + " ".repeat(width - filled) + "] "
                        + String.format("%3d%% %d/%d", 100 * entries / total, entries, total));
                out.flush();
            } else {
                long tenth = 10 * entries / total;
                if (tenth != lastTenth) {
                    lastTenth = tenth;
                    out.println("corral: shifted " + entries + "/" + total + " entries (" + 100 * entries / total + "%)");
                }
            }
        }

        void end() {
            if (out != null && terminal && lastDraw != 0) out.println();
        }
    }
}
