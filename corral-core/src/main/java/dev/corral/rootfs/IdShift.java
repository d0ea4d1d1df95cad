package dev.corral.rootfs;

/**
 * Owners 0..count-1 on disk become uidBase+0.. and gidBase+0..: what a jail whose ids 0..count-1
 * are host ids uidBase.. (its uid_map "0 uidBase count") sees as its own 0..count-1.
 */
public record IdShift(long uidBase, long gidBase, long count) {
    public static final long DEFAULT_COUNT = 65536;
    static final long MAX_ID = 0xFFFFFFFFL - 1;

    public IdShift {
        if (count < 1) throw new IllegalArgumentException("the count must be at least 1, not " + count);
        if (uidBase < 0 || uidBase + count - 1 > MAX_ID) throw new IllegalArgumentException("uid base " + uidBase + " + " + count + " ids runs past the largest id");
        if (gidBase < 0 || gidBase + count - 1 > MAX_ID) throw new IllegalArgumentException("gid base " + gidBase + " + " + count + " ids runs past the largest id");
    }

    /** The shifted uid, or -1 when {@code uid} is outside 0..count-1 (it would show as nobody in the jail). */
    long uid(long uid) {
        return uid >= 0 && uid < count ? uidBase + uid : -1;
    }

    long gid(long gid) {
        return gid >= 0 && gid < count ? gidBase + gid : -1;
    }
}
