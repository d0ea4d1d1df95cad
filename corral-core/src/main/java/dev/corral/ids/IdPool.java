package dev.corral.ids;

import dev.corral.spec.IdMapping;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Where automatic id ranges come from: host uid ranges and host gid ranges, each cut into
 * 65,536-wide slots from its start (a range of 200,000 ids holds three). Slot {@code i} of the
 * uids goes with slot {@code i} of the gids, so an allocation is one slot index; there are as
 * many slots as the shorter side has.
 *
 * <p>By default ({@link #ofCaller()}) the pool is what /etc/subuid and /etc/subgid delegate to
 * the user running corral: those are the only ids a normal user may map (through newuidmap), and
 * ranges nobody else on the host is meant to use.
 */
public record IdPool(List<SubIdRange> uids, List<SubIdRange> gids) {
    public IdPool {
        uids = List.copyOf(uids);
        gids = List.copyOf(gids);
        check(uids, "uid");
        check(gids, "gid");
    }

    /** The same ranges for uids and gids. */
    public static IdPool of(List<SubIdRange> both) {
        return new IdPool(both, both);
    }

    public static IdPool of(long start, long count) {
        return of(List.of(new SubIdRange(start, count)));
    }

    private static void check(List<SubIdRange> ranges, String kind) {
        for (int i = 0; i < ranges.size(); i++) {
            SubIdRange r = ranges.get(i);
            if (r.start() < 0 || r.count() < 1 || r.start() + r.count() - 1 > IdMapping.MAX_ID) {
                throw new IllegalArgumentException(kind + " range " + r.start() + ":" + r.count()
                        + " is not within 0.." + IdMapping.MAX_ID);
            }
            for (int j = 0; j < i; j++) {
                SubIdRange o = ranges.get(j);
                if (r.start() < o.start() + o.count() && o.start() < r.start() + r.count()) {
                    throw new IllegalArgumentException(kind + " ranges " + o.start() + ":" + o.count() + " and "
                            + r.start() + ":" + r.count() + " overlap");
                }
            }
        }
    }

    /**
     * {@code START:COUNT} (the same for uids and gids), as the {@code --id-pool} flag takes it.
     *
     * @throws IllegalArgumentException with a message for the user
     */
    public static SubIdRange parseRange(String value) {
        String[] f = value.split(":", -1);
        if (f.length != 2) throw new IllegalArgumentException("expected START:COUNT");
        try {
            return new SubIdRange(Long.parseLong(f[0].strip()), Long.parseLong(f[1].strip()));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("expected two whole numbers START:COUNT");
        }
    }

    /**
     * The subordinate ids /etc/subuid and /etc/subgid delegate to the user running this process.
     *
     * @throws IdAllocationException when there are none, saying how to add some
     */
    public static IdPool ofCaller() throws IdAllocationException {
        long uid = new com.sun.security.auth.module.UnixSystem().getUid();
        String name = userName(uid);
        return ofUser(Path.of("/etc/subuid"), Path.of("/etc/subgid"), name, uid);
    }

    static IdPool ofUser(Path subuid, Path subgid, String name, long uid) throws IdAllocationException {
        List<SubIdRange> u = SubIds.of(subuid, name, uid), g = SubIds.of(subgid, name, uid);
        if (slotsIn(u) == 0 || slotsIn(g) == 0) {
            throw new IdAllocationException("no id pool: " + subuid + " and " + subgid + " give " + name
                    + " no range of " + IdRange.SIZE + " ids (" + describe(u) + " / " + describe(g) + "); add one, e.g. "
                    + "`usermod --add-subuids 1000000-1999999 --add-subgids 1000000-1999999 " + name
                    + "`, or give a pool explicitly (--id-pool START:COUNT, or \"id_pool\" in the daemon's configuration)");
        }
        return new IdPool(u, g);
    }

    private static String userName(long uid) {
        try {
            for (String line : Files.readAllLines(Path.of("/etc/passwd"))) {
                String[] f = line.split(":");
                if (f.length > 2 && f[2].equals(Long.toString(uid))) return f[0];
            }
        } catch (java.io.IOException ignored) {
            // the number names the user as well
        }
        return Long.toString(uid);
    }

    private static String describe(List<SubIdRange> ranges) {
        if (ranges.isEmpty()) return "none";
        return String.join(", ", ranges.stream().map(r -> r.start() + ":" + r.count()).toList());
    }

    private static int slotsIn(List<SubIdRange> ranges) {
        long n = 0;
        for (SubIdRange r : ranges) n += r.count() / IdRange.SIZE;
        return (int) Math.min(n, Integer.MAX_VALUE);
    }

    /** How many ranges the pool holds. */
    public int slots() {
        return Math.min(slotsIn(uids), slotsIn(gids));
    }

    /** The {@code i}-th range, {@code 0 <= i < slots()}. */
    public IdRange slot(int i) {
        if (i < 0 || i >= slots()) throw new IndexOutOfBoundsException("slot " + i + " of " + slots());
        return new IdRange(nth(uids, i).orElseThrow(), nth(gids, i).orElseThrow());
    }

    private static Optional<Long> nth(List<SubIdRange> ranges, long i) {
        for (SubIdRange r : ranges) {
            long here = r.count() / IdRange.SIZE;
            if (i < here) return Optional.of(r.start() + i * IdRange.SIZE);
            i -= here;
        }
        return Optional.empty();
    }

    /** "uids 300000:65536, gids 300000:65536 (1 range)" */
    public String describe() {
        String u = describe(uids), g = describe(gids);
        String ranges = slots() + (slots() == 1 ? " range" : " ranges");
        return u.equals(g) ? "ids " + u + " (" + ranges + ")" : "uids " + u + ", gids " + g + " (" + ranges + ")";
    }
}
