package dev.corral.ids;

import dev.corral.spec.IdMapping;

/**
 * One allocated range: host uids {@code uid .. uid+65535} and host gids {@code gid .. gid+65535},
 * which a jail sees as ids 0 .. 65535.
 */
public record IdRange(long uid, long gid) {
    /** Ids in every range: a whole 16-bit id space, as most distributions expect inside. */
    public static final long SIZE = 65536;

    /** The jail's uid_map line: 0..65535 inside are {@code uid..} outside. */
    public IdMapping uidMapping(String origin) {
        return new IdMapping(0, uid, SIZE, origin);
    }

    public IdMapping gidMapping(String origin) {
        return new IdMapping(0, gid, SIZE, origin);
    }

    public boolean overlapsUids(long start, long count) {
        return overlaps(uid, start, count);
    }

    public boolean overlapsGids(long start, long count) {
        return overlaps(gid, start, count);
    }

    public boolean overlaps(IdRange o) {
        return overlapsUids(o.uid, SIZE) || overlapsGids(o.gid, SIZE);
    }

    private static boolean overlaps(long first, long start, long count) {
        return first < start + count && start < first + SIZE;
    }

    /** "uids 131072..196607, gids 131072..196607" */
    public String describe() {
        return "uids " + uid + ".." + (uid + SIZE - 1) + ", gids " + gid + ".." + (gid + SIZE - 1);
    }
}
