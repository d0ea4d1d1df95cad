package dev.corral.doctor;

import dev.corral.cgroup.CgroupDetector;
import dev.corral.cgroup.CgroupVersion;
import dev.corral.cgroup.CgroupView;
import dev.corral.doctor.HostCheck.Status;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Cgroups as corral itself would see them ({@link CgroupDetector}, CORRAL_CGROUP included): the
 * interface, corral's own cgroup in each hierarchy, and which controllers this user may create
 * cgroups under. Limits need memory, pids and cpu; without any writable controller jails run
 * without limits or accounting.
 */
final class CgroupCheck {
    /** The controllers behind corral's limits (--memory, --pids, --cpu). */
    static final List<String> LIMITS = List.of("memory", "pids", "cpu");
    /** Kernel v1 controllers, to tell a v1 controller mount from a named one (name=systemd). */
    private static final Set<String> V1_KERNEL_CONTROLLERS = Set.of("cpu", "cpuacct", "cpuset", "memory", "devices",
            "freezer", "net_cls", "net_prio", "blkio", "perf_event", "hugetlb", "pids", "rdma", "misc");

    private CgroupCheck() {}

    /** What is mounted: "v1", "hybrid" (v1 controllers and a cgroup2 mount), "v2" or "none". */
    record Layout(String name, String cgroup2Mount) {}

    static Layout layout(String mountinfo) {
        boolean v1 = false;
        String v2 = null;
        for (String line : mountinfo.split("\n")) {
            int dash = line.indexOf(" - ");
            if (dash < 0) continue;
            String[] pre = line.substring(0, dash).split(" ");
            String[] post = line.substring(dash + 3).split(" ");
            if (pre.length < 5 || post.length < 3) continue;
            if (post[0].equals("cgroup2") && v2 == null) v2 = pre[4].replace("\\040", " ");
            if (post[0].equals("cgroup")) {
                for (String o : post[2].split(",")) v1 |= V1_KERNEL_CONTROLLERS.contains(o);
            }
        }
        String name = v1 && v2 != null ? "hybrid" : v1 ? "v1" : v2 != null ? "v2" : "none";
        return new Layout(name, v2);
    }

    static HostCheck check(Caller caller) {
        Layout layout = layout(HostFiles.read("/proc/self/mountinfo").orElse(""));
        CgroupView view = CgroupDetector.detect();
        Map<String, Object> facts = new LinkedHashMap<>();
        facts.put("layout", layout.name());
        if (layout.cgroup2Mount() != null) facts.put("cgroup2_mount", layout.cgroup2Mount());
        String wantedInterface = System.getenv().getOrDefault("CORRAL_CGROUP", "");
        if (!wantedInterface.isEmpty()) facts.put("CORRAL_CGROUP", wantedInterface);
        String shape = switch (layout.name()) {
            case "hybrid" -> "hybrid (v1 controllers, and cgroup2 at " + layout.cgroup2Mount() + ")";
            case "none" -> "no cgroup file system mounted";
            default -> layout.name();
        };
        if (view.version() == null) {
            facts.put("version", null);
            facts.put("why_none", view.whyNone());
            String fix = !wantedInterface.isEmpty() ? "set CORRAL_CGROUP to v1 or v2 as the host has it, or unset it"
                    : layout.name().equals("none") ? "as root: mount -t cgroup2 cgroup2 /sys/fs/cgroup"
                    : "corral's own cgroup must be visible: run it in the host's cgroup namespace, or mount the cgroup"
                            + " file system of its own cgroup namespace";
            return HostCheck.of("cgroups", "Cgroups", Status.MISSING, shape + "; corral cannot use cgroups: " + view.whyNone(),
                    fix, facts);
        }

        facts.put("version", view.version().label());
        Set<String> writable = new LinkedHashSet<>();
        List<Map<String, Object>> hierarchies = new ArrayList<>();
        List<String> details = new ArrayList<>();
        for (CgroupView.Hierarchy h : view.hierarchies()) {
            Map<String, Object> one = new LinkedHashMap<>();
            List<String> controllers = h.controllers().stream().sorted().toList();
            one.put("controllers", controllers);
            one.put("mount", h.mount());
            one.put("own_dir", h.ownDir());
            one.put("writable", h.writable());
            if (view.version() == CgroupVersion.V2) {
                one.put("enabled", h.enabled().stream().sorted().toList());
                one.put("root", h.root());
                one.put("other_processes", h.otherProcesses());
                one.put("can_kill", h.canKill());
            }
            hierarchies.add(one);
            if (h.writable()) writable.addAll(controllers);
            details.add((controllers.isEmpty() ? "(no controllers)" : String.join(",", controllers)) + ": " + h.ownDir()
                    + (h.writable() ? " (writable)" : " (not writable)"));
        }
        facts.put("hierarchies", hierarchies);
        facts.put("writable_controllers", List.copyOf(writable));
        List<String> lacking = LIMITS.stream().filter(c -> !writable.contains(c)).toList();
        facts.put("limits_unavailable", lacking);

        String finding = shape + "; corral drives " + view.version().label() + "; writable for " + caller.name() + ": "
                + (writable.isEmpty() ? "no controllers" : String.join(", ", writable));
        Status status = writable.isEmpty() ? Status.MISSING : lacking.isEmpty() ? Status.OK : Status.WARN;
        String fix = "";
        if (view.version() == CgroupVersion.V1) {
            if (!lacking.isEmpty()) fix = delegateV1(caller, view, lacking);
        } else {
            CgroupView.Hierarchy h = view.hierarchies().getFirst();
            if (!h.writable()) {
                fix = delegateV2(caller, h);
            } else if (!lacking.isEmpty() && h.root()) {
                // No parent to enable them in: the hierarchy itself does not have them.
                fix = "the cgroup2 hierarchy at " + h.mount() + " offers no " + String.join(", ", lacking)
                        + (layout.name().equals("hybrid") ? ": they are bound to cgroup v1 here; use CORRAL_CGROUP=v1, or boot"
                                + " with cgroup_no_v1=all for a pure v2 host" : ": the kernel was built without them");
            } else if (!lacking.isEmpty()) {
                fix = "the cgroup2 controllers " + String.join(", ", lacking) + " are not available to children of " + h.ownDir()
                        + ": as root, enable them in its parent (echo +" + String.join(" +", lacking) + " > "
                        + Path.of(h.ownDir()).getParent() + "/cgroup.subtree_control)"
                        + (layout.name().equals("hybrid") ? "; on this hybrid host they may be bound to v1 (CORRAL_CGROUP=v1)" : "");
            } else if (!h.root() && h.otherProcesses() > 0 && !h.enabled().containsAll(LIMITS)) {
                // cgroup v2 lets no process sit in a cgroup whose children have controllers.
                status = Status.WARN;
                finding += "; but " + h.ownDir() + " holds " + h.otherProcesses() + " other process(es)";
                fix = "start corral in a cgroup of its own so it can enable controllers for its children, e.g."
                        + " systemd-run --user --scope -p Delegate=yes corral ...";
            }
        }
        return new HostCheck("cgroups", "Cgroups", status, finding, status == Status.OK ? "" : fix, details, facts);
    }

    private static String delegateV1(Caller caller, CgroupView view, List<String> lacking) {
        List<String> dirs = new ArrayList<>();
        for (String c : lacking) {
            view.holding(c).ifPresent(h -> {
                String d = h.mount() + "/corral-" + caller.name();
                if (!dirs.contains(d)) dirs.add(d);
            });
        }
        if (dirs.isEmpty()) return "the " + String.join(", ", lacking) + " controllers are not mounted: as root, mount them (cgroup v1)";
        String all = dirs.size() == 1 ? dirs.getFirst() : commonBrace(dirs);
        return "as root: mkdir " + all + " && chown -R " + caller.name() + " " + all + "; then, as " + caller.name()
                + ", move your shell into each (echo $$ > DIR/cgroup.procs) before running corral";
    }

    private static String delegateV2(Caller caller, CgroupView.Hierarchy h) {
        if (Files.isDirectory(Path.of("/run/systemd/system"))) {
            return "run corral in a delegated scope: systemd-run --user --scope -p Delegate=yes corral ...";
        }
        String d = h.mount() + "/corral-" + caller.name();
        return "as root: mkdir " + d + " && chown " + caller.name() + " " + d + " " + d + "/cgroup.procs " + d
                + "/cgroup.subtree_control " + d + "/cgroup.threads, echo +memory +pids +cpu > " + h.mount()
                + "/cgroup.subtree_control, and move the user's shell in (echo PID > " + d + "/cgroup.procs)";
    }

    /** "/sys/fs/cgroup/{memory,pids}/corral-u" for dirs that differ only in one path element. */
    private static String commonBrace(List<String> dirs) {
        List<String[]> parts = dirs.stream().map(d -> d.split("/")).toList();
        int n = parts.getFirst().length;
        int differing = -1;
        for (String[] p : parts) if (p.length != n) return String.join(" ", dirs);
        for (int i = 0; i < n; i++) {
            final int at = i;
            if (parts.stream().map(p -> p[at]).distinct().count() > 1) {
                if (differing >= 0) return String.join(" ", dirs);
                differing = i;
            }
        }
        String[] out = parts.getFirst().clone();
        final int at = differing;
        out[at] = "{" + String.join(",", parts.stream().map(p -> p[at]).toList()) + "}";
        return String.join("/", out);
    }
}
