package dev.corral.cgroup;

import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * What the planner knows of the host's cgroups: the interface in use, the hierarchies corral's
 * own process sits in, and how large the machine is. Plain data, so a test can make one up.
 *
 * @param version     null when corral cannot use cgroups here ({@code whyNone} says why)
 * @param whyNone     the reason, when version is null
 * @param hierarchies v1: one per mounted hierarchy with a controller corral uses; v2: exactly one
 * @param capacity    the machine's size, for "more than the host has"
 */
public record CgroupView(CgroupVersion version, String whyNone, List<Hierarchy> hierarchies, Capacity capacity) {
    public CgroupView {
        hierarchies = List.copyOf(hierarchies);
    }

    public static CgroupView none(String why, Capacity capacity) {
        return new CgroupView(null, why, List.of(), capacity);
    }

    /**
     * One hierarchy as seen from corral's own cgroup in it.
     *
     * @param controllers    v1: the controllers mounted there; v2: those in the own cgroup's
     *                       {@code cgroup.controllers}, i.e. what its children may be given
     * @param mount          where the hierarchy is mounted
     * @param ownDir         corral's own cgroup, as a directory
     * @param writable       whether this user may create cgroups in {@code ownDir} and move
     *                       processes into them
     * @param enabled        v2: the own cgroup's {@code cgroup.subtree_control}
     * @param root           whether {@code ownDir} is the hierarchy's root (exempt from v2's
     *                       "no internal processes" rule)
     * @param otherProcesses v2: processes in {@code ownDir} besides this one
     * @param canKill        v2: {@code cgroup.kill} exists (Linux 5.14+)
     */
    public record Hierarchy(Set<String> controllers, String mount, String ownDir, boolean writable,
                            Set<String> enabled, boolean root, int otherProcesses, boolean canKill) {
        public Hierarchy {
            controllers = Set.copyOf(controllers);
            enabled = Set.copyOf(enabled);
        }

        public boolean has(String controller) {
            return controllers.contains(controller);
        }
    }

    /**
     * @param memoryBytes MemTotal
     * @param cpus        CPUs online
     * @param cpuList     the online CPUs in list syntax ("0-3")
     * @param pidMax      kernel.pid_max
     * @param swapBytes   SwapTotal
     */
    public record Capacity(long memoryBytes, int cpus, String cpuList, long pidMax, long swapBytes) {}

    /** The v1 hierarchy holding {@code controller}, or the v2 one if it offers it. */
    public Optional<Hierarchy> holding(String controller) {
        return hierarchies.stream().filter(h -> h.has(controller)).findFirst();
    }
}
