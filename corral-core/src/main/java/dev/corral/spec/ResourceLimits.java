package dev.corral.spec;

/**
 * cgroup limits for a whole jail (every process in it together). A null field is "no limit".
 * Values are checked against the host by the planner, not here.
 *
 * @param memory     bytes of memory (v2 memory.max, v1 memory.limit_in_bytes)
 * @param memorySwap bytes of swap on top of {@code memory}; when {@code memory} is set and this is
 *                   not, the jail gets no swap, so a memory limit means memory
 * @param pids       processes and threads (pids.max)
 * @param cpu        cores of CPU time per period, 0.5 meaning half of one core
 * @param cpuWeight  relative CPU share, 1..10000, 100 being the default (v2 cpu.weight)
 * @param ioWeight   relative block I/O share, 1..10000, 100 being the default (v2 io.weight)
 * @param cpuset     CPUs the jail may run on, in the kernel's list syntax ("0-2,4")
 */
public record ResourceLimits(Long memory, Long memorySwap, Long pids, Double cpu, Long cpuWeight, Long ioWeight,
                             String cpuset) {
    public static final ResourceLimits NONE = new ResourceLimits(null, null, null, null, null, null, null);

    public boolean any() {
        // Not !equals(NONE): a record's equals is bootstrapped (method handles) on its first call,
        // ~5 ms of a cold `corral run`.
        return memory != null || memorySwap != null || pids != null || cpu != null || cpuWeight != null
                || ioWeight != null || cpuset != null;
    }

    public ResourceLimits withMemory(Long v) { return new ResourceLimits(v, memorySwap, pids, cpu, cpuWeight, ioWeight, cpuset); }

    public ResourceLimits withMemorySwap(Long v) { return new ResourceLimits(memory, v, pids, cpu, cpuWeight, ioWeight, cpuset); }

    public ResourceLimits withPids(Long v) { return new ResourceLimits(memory, memorySwap, v, cpu, cpuWeight, ioWeight, cpuset); }

    public ResourceLimits withCpu(Double v) { return new ResourceLimits(memory, memorySwap, pids, v, cpuWeight, ioWeight, cpuset); }

    public ResourceLimits withCpuWeight(Long v) { return new ResourceLimits(memory, memorySwap, pids, cpu, v, ioWeight, cpuset); }

    public ResourceLimits withIoWeight(Long v) { return new ResourceLimits(memory, memorySwap, pids, cpu, cpuWeight, v, cpuset); }

    public ResourceLimits withCpuset(String v) { return new ResourceLimits(memory, memorySwap, pids, cpu, cpuWeight, ioWeight, v); }
}
