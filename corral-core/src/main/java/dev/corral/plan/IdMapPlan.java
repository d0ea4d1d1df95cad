package dev.corral.plan;

import dev.corral.spec.IdMapping;

import java.util.List;

/**
 * How the Java side writes the jail's id maps once the executor has cloned it.
 *
 * @param uid            uid_map lines
 * @param gid            gid_map lines
 * @param denySetgroups  setgroups is denied in the jail: "deny" is written to /proc/PID/setgroups
 *                       first (required of an unprivileged writer of gid_map), by the monitor, or
 *                       by newgidmap itself for a gid map with no subordinate range
 * @param useHelpers     go through newuidmap/newgidmap (subordinate ids of a normal user)
 */
public record IdMapPlan(List<IdMapping> uid, List<IdMapping> gid, boolean denySetgroups, boolean useHelpers) {
    public IdMapPlan {
        uid = List.copyOf(uid);
        gid = List.copyOf(gid);
    }
}
