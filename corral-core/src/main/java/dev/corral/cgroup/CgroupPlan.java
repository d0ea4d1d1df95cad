package dev.corral.cgroup;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The jail's cgroup, decided: which directories to create (one per v1 hierarchy, one on v2),
 * what to write into them, and how to kill whatever is left in them at the end.
 *
 * @param version      the interface
 * @param dirs         the jail's cgroup in each hierarchy; a path ending in {@link #GENERATED}
 *                     gets a fresh name at launch
 * @param moveSelfTo   v2: a leaf cgroup corral moves its own process into first, so that its
 *                     own cgroup may enable controllers for its children; null if not needed
 * @param enable       v2: controllers to enable in the parent's {@code cgroup.subtree_control}
 * @param parent       v2: that parent
 * @param notes        what the jail goes without and why (shown by --dry-run)
 */
public record CgroupPlan(CgroupVersion version, List<Dir> dirs, String moveSelfTo, List<String> enable, String parent,
                         List<String> notes) {
    /** The last path element of a generated cgroup, replaced at launch by a unique name. */
    public static final String GENERATED = "corral-*";

    public CgroupPlan {
        dirs = List.copyOf(dirs);
        enable = List.copyOf(enable);
        notes = List.copyOf(notes);
    }

    /** How the monitor kills what is left in a cgroup once the jail's first process is gone. */
    public enum Kill {
        /** Nothing: another directory of the same jail does it. */
        NONE("none"),
        /** v2 {@code cgroup.kill}: the kernel kills every process, forks included. */
        KILL("kill"),
        /** v1 freezer: freeze, SIGKILL every process, thaw; nothing can fork in between. */
        FREEZE("freeze"),
        /** SIGKILL every listed process until none is left. */
        SIGNAL("signal");

        private final String word;

        Kill(String word) {
            this.word = word;
        }

        public String word() {
            return word;
        }
    }

    /** One value written into one of the cgroup's files, in order. */
    public record Setting(String file, String value, boolean optional) {}

    /**
     * @param path        the jail's cgroup in this hierarchy
     * @param controllers the controllers it serves the jail for
     * @param settings    values to write, in order
     * @param kill        how to empty it at the end
     */
    public record Dir(String path, Set<String> controllers, List<Setting> settings, Kill kill) {
        public Dir {
            controllers = Set.copyOf(controllers);
            settings = List.copyOf(settings);
        }
    }

    /** The cgroup part of a plan in words. */
    public List<String> describe() {
        List<String> out = new ArrayList<>();
        if (moveSelfTo != null) out.add("move corral's own process into the leaf cgroup " + moveSelfTo);
        if (!enable.isEmpty()) out.add("enable " + String.join(" ", enable) + " in " + parent + "/cgroup.subtree_control");
        for (Dir d : dirs) {
            StringBuilder s = new StringBuilder("create cgroup " + d.path() + " (" + version.label() + ": "
                    + String.join(", ", d.controllers().stream().sorted().toList()) + ")");
            if (!d.settings().isEmpty()) {
                s.append(" and write ");
                s.append(String.join(", ", d.settings().stream().map(x -> x.file() + "=" + x.value()
                        + (x.optional() ? " (where the file exists)" : "")).toList()));
            }
            out.add(s.toString());
        }
        for (String n : notes) out.add("note: " + n);
        return out;
    }
}
