package dev.corral.doctor;

import dev.corral.cgroup.CgroupDetector;
import dev.corral.cgroup.CgroupVersion;
import dev.corral.doctor.HostCheck.Status;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How a jail gets into its cgroup, and what that costs. On cgroup v2 clone3 creates the jail in
 * it (CLONE_INTO_CGROUP). On v1 the executor moves it in after clone, and a move takes the
 * kernel's global cgroup_threadgroup_rwsem for writing: unless some cgroup mount has
 * {@code favordynmods}, the first move after a quiet moment waits for an RCU grace period,
 * 7-13 ms measured on an idle 2-cpu host at HZ=250, which every isolated start (a daemon's
 * respawn) pays. The option is the host's to set; corral only says so.
 */
final class CgroupMoveCheck {
    private CgroupMoveCheck() {}

    static HostCheck check() {
        var view = CgroupDetector.detect();
        return check(view.version(), HostFiles.read("/proc/self/mountinfo").orElse(""));
    }

    /** The check for a driver (null: no cgroups) on a host with this mountinfo. */
    static HostCheck check(CgroupVersion driver, String mountinfo) {
        String favoring = favorDynmodsMount(mountinfo);
        String cgroup2 = CgroupCheck.layout(mountinfo).cgroup2Mount();
        Map<String, Object> facts = new LinkedHashMap<>();
        facts.put("driver", driver == null ? null : driver.label());
        facts.put("favordynmods", favoring);
        if (driver == null) {
            return HostCheck.of("cgroup-moves", "Joining cgroups", Status.OK, "corral uses no cgroups here: nothing is moved", "", facts);
        }
        if (driver == CgroupVersion.V2) {
            return HostCheck.of("cgroup-moves", "Joining cgroups", Status.OK,
                    "cgroup v2: clone3 creates each jail in its cgroup (CLONE_INTO_CGROUP), nothing is moved", "", facts);
        }
        if (favoring != null) {
            return HostCheck.of("cgroup-moves", "Joining cgroups", Status.OK,
                    "cgroup v1: each jail is moved into its cgroups after clone; cheap, as " + favoring + " has favordynmods", "",
                    facts);
        }
        String fix = cgroup2 != null
                ? "as root: mount -o remount,favordynmods " + cgroup2 + " (one mount is enough: the lock is shared by every"
                        + " hierarchy; forks and exits get a little dearer), or use a pure cgroup v2 host"
                : "as root, mount a cgroup2 file system with favordynmods (mount -t cgroup2 -o favordynmods none DIR),"
                        + " or use a pure cgroup v2 host";
        return HostCheck.of("cgroup-moves", "Joining cgroups", Status.WARN,
                "cgroup v1: each jail is moved into its cgroups after clone, and without favordynmods the first move after a"
                        + " pause waits for an RCU grace period (7-13 ms measured on a quiet host): isolated starts such as"
                        + " the daemon's respawns pay it",
                fix, facts);
    }

    /** The mount point of a cgroup file system mounted with favordynmods, or null. */
    static String favorDynmodsMount(String mountinfo) {
        for (String line : mountinfo.split("\n")) {
            int dash = line.indexOf(" - ");
            if (dash < 0) continue;
            String[] pre = line.substring(0, dash).split(" ");
            String[] post = line.substring(dash + 3).split(" ");
            if (pre.length < 6 || post.length < 3 || !post[0].startsWith("cgroup")) continue;
            for (String options : new String[] {pre[5], post[2]}) {
                for (String o : options.split(",")) {
                    if (o.equals("favordynmods")) return pre[4].replace("\\040", " ");
                }
            }
        }
        return null;
    }
}
