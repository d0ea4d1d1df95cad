package dev.corral.cgroup;

/**
 * What a jail used, read from its cgroup. A field the host cannot tell is -1.
 *
 * @param driver        "v1" or "v2": the interface the numbers came from
 * @param cpuUsec       CPU time of every process in the jail, user and system, in microseconds
 * @param memoryCurrent bytes charged to the jail now
 * @param memoryPeak    the most bytes ever charged to it
 * @param pidsCurrent   processes and threads in it now
 * @param oomKills      processes the kernel killed because the jail hit its memory limit
 */
public record CgroupStats(String driver, long cpuUsec, long memoryCurrent, long memoryPeak, long pidsCurrent,
                          long oomKills) {
    /** One line per figure, as {@code corral run --stats} prints them. */
    public String describe() {
        return "cgroup driver   " + driver + "\n"
                + "cpu time        " + (cpuUsec < 0 ? "unknown" : String.format("%.3f s", cpuUsec / 1e6)) + "\n"
                + "memory current  " + bytes(memoryCurrent) + "\n"
                + "memory peak     " + bytes(memoryPeak) + "\n"
                + "pids current    " + (pidsCurrent < 0 ? "unknown" : Long.toString(pidsCurrent)) + "\n"
                + "oom kills       " + (oomKills < 0 ? "unknown" : Long.toString(oomKills));
    }

    private static String bytes(long v) {
        if (v < 0) return "unknown";
        return String.format("%d (%.1f MiB)", v, v / 1048576.0);
    }
}
