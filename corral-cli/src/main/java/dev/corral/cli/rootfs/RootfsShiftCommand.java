package dev.corral.cli.rootfs;

import dev.corral.ids.IdAllocationException;
import dev.corral.ids.IdPool;
import dev.corral.ids.IdRange;
import dev.corral.ids.RangeAllocator;
import dev.corral.ids.SubIdRange;
import dev.corral.rootfs.IdShift;
import dev.corral.rootfs.ShiftedCopy;
import dev.corral.sys.Libc;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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
                "  corral rootfs shift /srv/base /srv/web-root --range-of web --id-state /var/lib/corral/ids.json",
                "  corral run --rootfs /srv/base-0x20000 --uid-map 0:131072:65536 --gid-map 0:131072:65536 -- sh"})
public final class RootfsShiftCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "SRC", description = "The root filesystem to copy (only read).")
    Path source;
    @Parameters(index = "1", paramLabel = "DST", description = "The new directory (or an unfinished copy to continue).")
    Path target;
    @Option(names = "--uid-base", paramLabel = "N", description = "The first host uid of the jail's range.")
    Long uidBase;
    @Option(names = "--range-of", paramLabel = "NAME", description = "Shift into the range kept under NAME in --id-state"
            + " (taken now if NAME has none): the range `corral daemon` gives application NAME (its ids.json lies beside"
            + " its state file) or --userns auto a jail of that name.")
    String rangeOf;
    @Option(names = "--id-state", paramLabel = "FILE", description = "With --range-of: the allocations (default"
            + " /var/lib/corral/ids.json as root, $XDG_STATE_HOME/corral/ids.json otherwise).")
    Path idState;
    @Option(names = "--id-pool", paramLabel = "START:COUNT", description = "With --range-of: where a new range comes from"
            + " (default: your /etc/subuid and /etc/subgid entries).")
    List<String> idPool = new ArrayList<>();
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
            shift = shift();
        } catch (IllegalArgumentException | IdAllocationException e) {
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

    private IdShift shift() throws IdAllocationException {
        if ((uidBase == null) == (rangeOf == null)) {
            throw new IllegalArgumentException("give --uid-base N or --range-of NAME (one of them)");
        }
        if (rangeOf == null) {
            if (idState != null || !idPool.isEmpty()) throw new IllegalArgumentException("--id-state and --id-pool go with --range-of");
            return new IdShift(uidBase, gidBase != null ? gidBase : uidBase, count);
        }
        if (gidBase != null) throw new IllegalArgumentException("--gid-base goes with --uid-base; --range-of gives both");
        if (count != IdShift.DEFAULT_COUNT) throw new IllegalArgumentException("--range-of ranges hold " + IdShift.DEFAULT_COUNT + " ids");
        List<SubIdRange> pool = new ArrayList<>();
        for (String p : idPool) {
            try {
                pool.add(IdPool.parseRange(p));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--id-pool " + p + ": " + e.getMessage(), e);
            }
        }
        RangeAllocator ids = RangeAllocator.of(idState, pool);
        IdRange range = ids.allocate(rangeOf);
        if (!quiet) System.err.println("corral: the range of " + rangeOf + ": uids " + range.uid() + "-" + (range.uid() + 65535)
                + ", gids " + range.gid() + "-" + (range.gid() + 65535));
        return new IdShift(range.uid(), range.gid(), IdShift.DEFAULT_COUNT);
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
