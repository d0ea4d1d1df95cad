package dev.corral.spec;

/**
 * Where the jail's cgroup goes and what it limits.
 *
 * @param mode   whether the jail gets a cgroup
 * @param path   NGINX Unit's {@code isolation.cgroup.path}: the jail's own cgroup, relative to
 *               corral's cgroup or absolute (from the hierarchy's root); null for a generated
 *               {@code corral-...} cgroup beside corral's own
 * @param limits the limits written into it
 */
public record CgroupSpec(Mode mode, String path, ResourceLimits limits) {
    public enum Mode {
        /** A cgroup whenever the host lets this user create one (always for root). */
        AUTO,
        /** A cgroup or no jail: set by limits, a path, or a caller that needs accounting. */
        REQUIRED,
        /** No cgroup of its own: the jail stays in the caller's. */
        NONE
    }

    public static final CgroupSpec DEFAULT = new CgroupSpec(Mode.AUTO, null, ResourceLimits.NONE);

    /** Limits and an explicit path can only be honoured by a cgroup of the jail's own. */
    public Mode effectiveMode() {
        if (mode == Mode.NONE) return Mode.NONE;
        return limits.any() || path != null ? Mode.REQUIRED : mode;
    }
}
