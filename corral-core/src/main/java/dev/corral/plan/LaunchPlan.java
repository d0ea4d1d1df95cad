package dev.corral.plan;

import dev.corral.cgroup.CgroupPlan;
import dev.corral.cgroup.CgroupVersion;
import dev.corral.spec.Namespace;

import java.util.ArrayList;
import java.util.List;

/**
 * Exactly what will happen, in order: the clone flags, what the Java side does between clone and
 * "go" (the id maps), and every step the executor performs. Printed by {@code --dry-run}.
 *
 * @param idMaps null when the jail has no user namespace
 * @param cgroup null when the jail stays in the caller's cgroup
 * @param namespaceNames the namespaces the jail creates (by clone, or by unshare after joins)
 * @param passedFds the caller's descriptors the executor receives for the program (its
 *                  {@link Op#PASS_FDS} step), in order; empty for none
 * @param joins     the namespaces to join, in the order of their {@link Op#SETNS} steps (whose
 *                  first argument is the index here); the launcher opens them; empty for none
 */
public record LaunchPlan(long cloneFlags, List<String> namespaceNames, IdMapPlan idMaps, CgroupPlan cgroup,
                         List<Step> steps, List<Integer> passedFds, List<Join> joins) {
    public LaunchPlan {
        namespaceNames = List.copyOf(namespaceNames);
        steps = List.copyOf(steps);
        passedFds = List.copyOf(passedFds);
        joins = List.copyOf(joins);
    }

    /**
     * One namespace to join: the launcher opens {@code path} and checks again that it is a
     * namespace of that type; {@code where} names the field in messages ("--join-net").
     */
    public record Join(Namespace namespace, String path, String where) {}

    /** The plan in words, one numbered line per action. */
    public List<String> describe() {
        List<String> out = new ArrayList<>();
        if (cgroup != null) out.addAll(cgroup.describe());
        if (joins.isEmpty()) {
            out.add("clone a process into new namespaces: "
                    + (namespaceNames.isEmpty() ? "(none)" : String.join(", ", namespaceNames)));
        } else {
            out.add("clone a process in the caller's namespaces: it joins "
                    + String.join(", ", joins.stream().map(j -> j.namespace().userName()).toList())
                    + " first, then creates "
                    + (namespaceNames.isEmpty() ? "no new namespace" : String.join(", ", namespaceNames)) + " itself");
        }
        if (cgroup != null && cgroup.version() == CgroupVersion.V2) {
            out.add("create the jail in its cgroup (clone3 with CLONE_INTO_CGROUP, else moved in before anything runs;"
                    + " at the end the executor kills whatever is left there and removes the cgroup)");
        } else if (cgroup != null) {
            out.add("move it into its cgroup (the executor writes cgroup.procs before anything runs in the jail;"
                    + " at the end it kills whatever is left there and removes the cgroup)");
        }
        // The maps are written while the process waits for "go": after any joins and unshare.
        boolean mapsDone = false;
        for (Step s : steps) {
            if (!mapsDone && (s.op() == Op.WAIT_GO || s.op() == Op.IDMAP)) {
                describeMaps(out);
                mapsDone = true;
            }
            out.add(s.words());
        }
        List<String> numbered = new ArrayList<>();
        for (int i = 0; i < out.size(); i++) numbered.add(String.format("%2d. %s", i + 1, out.get(i)));
        return numbered;
    }

    private void describeMaps(List<String> out) {
        if (idMaps == null) return;
        String how = idMaps.useHelpers() ? " (through newuidmap/newgidmap)" : "";
        if (idMaps.denySetgroups()) {
            out.add(idMaps.useHelpers() ? "newgidmap writes \"deny\" to its /proc/PID/setgroups (the gid map holds no subordinate range)"
                    : "write \"deny\" to its /proc/PID/setgroups");
        }
        out.add("write its gid_map" + how + ": " + lines(idMaps.gid()));
        out.add("write its uid_map" + how + ": " + lines(idMaps.uid()));
    }

    private static String lines(List<dev.corral.spec.IdMapping> maps) {
        return String.join("; ", maps.stream().map(m -> m.mapLine()).toList());
    }
}
