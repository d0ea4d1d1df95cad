package dev.corral.spec;

/**
 * One range of a uid or gid map: ids {@code inside .. inside+count-1} in the jail are
 * {@code outside .. outside+count-1} on the host. {@code origin} names where it came from
 * (a flag or a JSON path) so errors can point at it.
 */
public record IdMapping(long inside, long outside, long count, String origin) {
    public static final long MAX_ID = 0xFFFFFFFFL - 1; // (uid_t)-1 is never a valid id

    public IdMapping(long inside, long outside, long count) {
        this(inside, outside, count, "id map");
    }

    public boolean coversInside(long id) {
        return id >= inside && id < inside + count;
    }

    public boolean overlapsInside(IdMapping o) {
        return inside < o.inside + o.count && o.inside < inside + count;
    }

    public boolean overlapsOutside(IdMapping o) {
        return outside < o.outside + o.count && o.outside < outside + count;
    }

    /** The line written to /proc/PID/uid_map. */
    public String mapLine() {
        return inside + " " + outside + " " + count;
    }
}
