package dev.corral.cgroup;

import dev.corral.spec.CgroupSpec;
import dev.corral.spec.Labels;
import dev.corral.spec.Problem;
import dev.corral.spec.Quantities;
import dev.corral.spec.ResourceLimits;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Decides the jail's cgroup from its {@link CgroupSpec} and the host's {@link CgroupView}. Pure,
 * like the planner it serves. A jail that asked for a limit gets the limit or no jail at all.
 */
public final class CgroupPlanner {
    static final long CPU_PERIOD_US = 100_000;
    /** The kernel refuses a CFS quota under 1 ms. */
    static final double MIN_CPU = 0.01;
    /** Controllers read for accounting when nothing limits them; used where available. */
    static final List<String> V1_ACCOUNTING = List.of("memory", "pids", "cpuacct", "freezer");
    static final List<String> V2_ACCOUNTING = List.of("memory", "pids");

    private final CgroupSpec spec;
    private final CgroupView view;
    private final Labels labels;
    private final List<Problem> problems;
    private final boolean required;

    private CgroupPlanner(CgroupSpec spec, CgroupView view, Labels labels, List<Problem> problems) {
        this.spec = spec;
        this.view = view;
        this.labels = labels;
        this.problems = problems;
        this.required = spec.effectiveMode() == CgroupSpec.Mode.REQUIRED;
    }

    /** The plan, or empty when the jail runs without a cgroup of its own; problems are added to the list. */
    public static Optional<CgroupPlan> plan(CgroupSpec spec, CgroupView view, Labels labels, List<Problem> problems) {
        if (spec.effectiveMode() == CgroupSpec.Mode.NONE) return Optional.empty();
        return new CgroupPlanner(spec, view, labels, problems).plan();
    }

    private void problem(String field, String message) {
        problems.add(new Problem(labels.of(field), message));
    }

    /** The field that made a cgroup necessary, for messages about the host. */
    private String cause() {
        ResourceLimits l = spec.limits();
        if (l.memory() != null) return "limits.memory";
        if (l.memorySwap() != null) return "limits.memorySwap";
        if (l.pids() != null) return "limits.pids";
        if (l.cpu() != null) return "limits.cpu";
        if (l.cpuWeight() != null) return "limits.cpuWeight";
        if (l.ioWeight() != null) return "limits.ioWeight";
        if (l.cpuset() != null) return "limits.cpuset";
        if (spec.path() != null) return "cgroupPath";
        return "cgroup";
    }

    private Optional<CgroupPlan> plan() {
        int before = problems.size();
        checkValues();
        if (view.version() == null) {
            if (required) problem(cause(), "needs a cgroup, but " + view.whyNone());
            return Optional.empty();
        }
        if (spec.path() != null) checkPath(spec.path());
        if (problems.size() > before) return Optional.empty();
        return view.version() == CgroupVersion.V1 ? planV1() : planV2();
    }

    private void checkValues() {
        ResourceLimits l = spec.limits();
        CgroupView.Capacity host = view.capacity();
        if (l.memory() != null) {
            if (l.memory() <= 0) problem("limits.memory", "must be more than 0");
            else if (host.memoryBytes() > 0 && l.memory() > host.memoryBytes()) {
                problem("limits.memory", Quantities.showBytes(l.memory()) + " is more than this host has ("
                        + Quantities.showBytes(host.memoryBytes()) + ")");
            }
        }
        if (l.memorySwap() != null) {
            if (l.memorySwap() < 0) problem("limits.memorySwap", "must not be negative");
            else if (l.memorySwap() > host.swapBytes()) {
                problem("limits.memorySwap", Quantities.showBytes(l.memorySwap()) + " is more swap than this host has ("
                        + Quantities.showBytes(host.swapBytes()) + ")");
            }
        }
        if (l.pids() != null) {
            if (l.pids() <= 0) problem("limits.pids", "must be at least 1");
            else if (l.pids() > host.pidMax()) problem("limits.pids", l.pids() + " is more than kernel.pid_max (" + host.pidMax() + ")");
        }
        if (l.cpu() != null) {
            if (l.cpu().isNaN() || l.cpu() <= 0) problem("limits.cpu", "must be more than 0");
            else if (l.cpu() < MIN_CPU) problem("limits.cpu", "must be at least " + MIN_CPU + " (1% of a core): the kernel's smallest quota is 1 ms");
            else if (l.cpu() > host.cpus()) problem("limits.cpu", l.cpu() + " cores is more than this host has (" + host.cpus() + ")");
        }
        weight(l.cpuWeight(), "limits.cpuWeight");
        weight(l.ioWeight(), "limits.ioWeight");
        if (l.cpuset() != null) {
            Optional<BitSet> cpus = CpuList.parse(l.cpuset());
            if (cpus.isEmpty()) {
                problem("limits.cpuset", "\"" + l.cpuset() + "\" is not a CPU list such as 0-3 or 0,2");
            } else {
                BitSet online = CpuList.parse(host.cpuList()).orElse(null);
                if (online != null) {
                    BitSet extra = (BitSet) cpus.get().clone();
                    extra.andNot(online);
                    if (!extra.isEmpty()) problem("limits.cpuset", "CPUs " + extra + " are not online here (online: " + host.cpuList() + ")");
                }
            }
        }
    }

    private void weight(Long w, String field) {
        if (w != null && (w < 1 || w > 10000)) problem(field, "must be between 1 and 10000 (100 is the default), not " + w);
    }

    private void checkPath(String path) {
        for (String part : path.split("/")) {
            if (part.equals("..") || part.equals(".")) problem("cgroupPath", "must not contain \".\" or \"..\": " + path);
        }
        if (path.isBlank() || path.equals("/")) problem("cgroupPath", "names the root cgroup; give the jail a cgroup of its own");
        if (path.indexOf('\n') >= 0 || path.indexOf('\0') >= 0) problem("cgroupPath", "holds a control character");
    }

    /** The jail's cgroup in a hierarchy: the given path (relative to corral's own, or absolute), or a fresh one. */
    private String pathIn(CgroupView.Hierarchy h) {
        String p = spec.path();
        if (p == null) return h.ownDir() + "/" + CgroupPlan.GENERATED;
        String rel = p.replaceAll("/+", "/").replaceAll("/$", "");
        if (rel.startsWith("/")) return h.mount() + rel;
        return h.ownDir() + "/" + rel;
    }

    /** Controller → settings for it, in write order. */
    private Map<String, List<CgroupPlan.Setting>> settings(CgroupVersion v) {
        ResourceLimits l = spec.limits();
        Map<String, List<CgroupPlan.Setting>> out = new LinkedHashMap<>();
        boolean v1 = v == CgroupVersion.V1;
        if (l.memory() != null || l.memorySwap() != null) {
            List<CgroupPlan.Setting> s = new ArrayList<>();
            long swap = l.memorySwap() == null ? 0 : l.memorySwap();
            boolean swapOptional = l.memorySwap() == null; // no swap by default, where it can be said
            if (v1) {
                if (l.memory() != null) {
                    s.add(new CgroupPlan.Setting("memory.limit_in_bytes", Long.toString(l.memory()), false));
                    s.add(new CgroupPlan.Setting("memory.memsw.limit_in_bytes", Long.toString(l.memory() + swap), swapOptional));
                } else {
                    problem("limits.memorySwap", "cgroup v1 can only limit swap together with memory: give limits.memory too");
                }
            } else {
                if (l.memory() != null) s.add(new CgroupPlan.Setting("memory.max", Long.toString(l.memory()), false));
                s.add(new CgroupPlan.Setting("memory.swap.max", Long.toString(swap), swapOptional));
            }
            out.put("memory", s);
        }
        if (l.pids() != null) out.put("pids", List.of(new CgroupPlan.Setting("pids.max", Long.toString(l.pids()), false)));
        if (l.cpu() != null || l.cpuWeight() != null) {
            List<CgroupPlan.Setting> s = new ArrayList<>();
            if (l.cpu() != null) {
                long quota = Math.round(l.cpu() * CPU_PERIOD_US);
                if (v1) {
                    s.add(new CgroupPlan.Setting("cpu.cfs_period_us", Long.toString(CPU_PERIOD_US), false));
                    s.add(new CgroupPlan.Setting("cpu.cfs_quota_us", Long.toString(quota), false));
                } else {
                    s.add(new CgroupPlan.Setting("cpu.max", quota + " " + CPU_PERIOD_US, false));
                }
            }
            if (l.cpuWeight() != null) {
                // cgroup v1 shares: 1024 is the default as 100 is v2's, 2 the least.
                String value = v1 ? Long.toString(Math.max(2, l.cpuWeight() * 1024 / 100)) : Long.toString(l.cpuWeight());
                s.add(new CgroupPlan.Setting(v1 ? "cpu.shares" : "cpu.weight", value, false));
            }
            out.put("cpu", s);
        }
        if (l.ioWeight() != null) {
            if (v1) {
                if (l.ioWeight() > 1000) problem("limits.ioWeight", "cgroup v1 (blkio.bfq.weight) takes 1 to 1000, not " + l.ioWeight());
                out.put("blkio", List.of(new CgroupPlan.Setting("blkio.bfq.weight", Long.toString(l.ioWeight()), false)));
            } else {
                out.put("io", List.of(new CgroupPlan.Setting("io.weight", "default " + l.ioWeight(), false)));
            }
        }
        if (l.cpuset() != null) out.put("cpuset", List.of(new CgroupPlan.Setting("cpuset.cpus", l.cpuset(), false)));
        return out;
    }

    private String delegationHint(String dir) {
        return "corral cannot create cgroups in " + dir + ". Delegate one to this user, e.g. as root: mkdir "
                + dir + "/corral-$USER && chown -R $USER " + dir + "/corral-$USER, then move your shell into it"
                + " (echo $$ > " + dir + "/corral-$USER/cgroup.procs); under systemd: systemd-run --user --scope"
                + " -p Delegate=yes corral ...";
    }

    private Optional<CgroupPlan> planV1() {
        int before = problems.size();
        Map<String, List<CgroupPlan.Setting>> wanted = settings(CgroupVersion.V1);
        Map<String, CgroupView.Hierarchy> used = new LinkedHashMap<>();
        for (String c : wanted.keySet()) {
            Optional<CgroupView.Hierarchy> h = view.holding(c);
            if (h.isEmpty()) {
                problem(fieldOf(c), "the " + c + " controller is not mounted on this host (cgroup v1)");
            } else if (!h.get().writable()) {
                problem(fieldOf(c), delegationHint(h.get().ownDir()));
            } else {
                used.put(h.get().mount(), h.get());
            }
        }
        if (problems.size() > before) return Optional.empty();
        List<String> notes = new ArrayList<>();
        for (String c : V1_ACCOUNTING) {
            view.holding(c).filter(CgroupView.Hierarchy::writable).ifPresentOrElse(h -> used.putIfAbsent(h.mount(), h),
                    () -> notes.add("no writable " + c + " hierarchy: " + switch (c) {
                        case "freezer" -> "what is left at the end is killed by signals, without freezing";
                        case "cpuacct" -> "no CPU accounting";
                        default -> "no " + c + " accounting";
                    }));
        }
        if (used.isEmpty()) {
            if (required) problem(cause(), delegationHint(view.hierarchies().getFirst().ownDir()));
            return Optional.empty();
        }
        boolean freezer = used.values().stream().anyMatch(h -> h.has("freezer"));
        List<CgroupPlan.Dir> dirs = new ArrayList<>();
        boolean first = true;
        for (CgroupView.Hierarchy h : used.values()) {
            List<CgroupPlan.Setting> s = new ArrayList<>();
            for (String c : h.controllers()) s.addAll(wanted.getOrDefault(c, List.of()));
            CgroupPlan.Kill kill = freezer ? (h.has("freezer") ? CgroupPlan.Kill.FREEZE : CgroupPlan.Kill.NONE)
                    : (first ? CgroupPlan.Kill.SIGNAL : CgroupPlan.Kill.NONE);
            dirs.add(new CgroupPlan.Dir(pathIn(h), h.controllers(), s, kill));
            first = false;
        }
        return Optional.of(new CgroupPlan(CgroupVersion.V1, dirs, null, List.of(), null, notes));
    }

    private Optional<CgroupPlan> planV2() {
        CgroupView.Hierarchy h = view.hierarchies().getFirst();
        Map<String, List<CgroupPlan.Setting>> wanted = settings(CgroupVersion.V2);
        int before = problems.size();
        if (!h.writable()) {
            if (required) problem(cause(), delegationHint(h.ownDir()));
            return Optional.empty();
        }
        for (String c : wanted.keySet()) {
            if (!h.has(c)) {
                problem(fieldOf(c), "the " + c + " controller is not available to children of " + h.ownDir()
                        + " (its cgroup.controllers: " + (h.controllers().isEmpty() ? "none" : String.join(" ", h.controllers()))
                        + "); on a hybrid host the controller may be bound to cgroup v1 (try CORRAL_CGROUP=v1)");
            }
        }
        if (problems.size() > before) return Optional.empty();
        List<String> notes = new ArrayList<>();
        Set<String> enable = new LinkedHashSet<>();
        for (String c : wanted.keySet()) if (!h.enabled().contains(c)) enable.add(c);
        Set<String> accounting = new LinkedHashSet<>();
        for (String c : V2_ACCOUNTING) {
            if (!h.has(c)) notes.add("the " + c + " controller is not available here: no " + c + " accounting");
            else if (!h.enabled().contains(c) && !wanted.containsKey(c)) accounting.add(c);
        }
        String moveSelf = null;
        if (!h.root() && (!enable.isEmpty() || !accounting.isEmpty())) {
            // cgroup v2 lets no process sit in a cgroup whose children have controllers.
            if (h.otherProcesses() > 0) {
                if (!enable.isEmpty()) {
                    problem(cause(), h.ownDir() + " holds " + h.otherProcesses() + " other process(es), so corral cannot"
                            + " enable " + String.join(" ", enable) + " for its children (cgroup v2 allows no processes in a"
                            + " cgroup whose children have controllers). Start corral in a cgroup of its own, e.g."
                            + " systemd-run --user --scope -p Delegate=yes corral ...");
                    return Optional.empty();
                }
                notes.add(h.ownDir() + " holds other processes: no memory or pids accounting");
                accounting.clear();
            } else {
                moveSelf = h.ownDir() + "/corral-supervisor";
            }
        }
        enable.addAll(accounting);
        CgroupPlan.Kill kill = h.canKill() ? CgroupPlan.Kill.KILL : CgroupPlan.Kill.SIGNAL;
        List<CgroupPlan.Setting> s = new ArrayList<>();
        wanted.values().forEach(s::addAll);
        Set<String> controllers = new LinkedHashSet<>(h.enabled());
        controllers.retainAll(h.controllers());
        controllers.addAll(enable);
        CgroupPlan.Dir dir = new CgroupPlan.Dir(pathIn(h), controllers, s, kill);
        return Optional.of(new CgroupPlan(CgroupVersion.V2, List.of(dir), moveSelf, List.copyOf(enable),
                h.ownDir(), notes));
    }

    private String fieldOf(String controller) {
        ResourceLimits l = spec.limits();
        return switch (controller) {
            case "memory" -> l.memory() != null ? "limits.memory" : "limits.memorySwap";
            case "pids" -> "limits.pids";
            case "cpu" -> l.cpu() != null ? "limits.cpu" : "limits.cpuWeight";
            case "io", "blkio" -> "limits.ioWeight";
            case "cpuset" -> "limits.cpuset";
            default -> "limits";
        };
    }
}
