package dev.corral.plan;

import dev.corral.spec.IdMapping;

import java.util.List;

/**
 * How the Java side writes the jail's id maps once the executor has cloned it.
 *
 * @param uid            uid_map lines
 * @param gid            gid_map lines
 * @param denySetgroups  write "deny" to /proc/PID/setgroups first (required of an unprivileged
 *                       writer of gid_map)
 * @param useHelpers     go through newuidmap/newgidmap (subordinate ids of a normal user)
 */
public record IdMapPlan(List<IdMapping> uid, List<IdMapping> gid, boolean denySetgroups, boolean useHelpers) {
    public IdMapPlan {
        uid = List.copyOf(uid);
        gid = List.copyOf(gid);
    }
}
