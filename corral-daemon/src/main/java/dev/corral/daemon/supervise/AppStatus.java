package dev.corral.daemon.supervise;

import dev.corral.cgroup.CgroupStats;

import java.time.Duration;
import java.time.Instant;

/**
 * One application as GET /status reports it.
 *
 * @param pid      host pid of the jail's first process while it runs
 * @param lastExit the last exit status (n, or 128+N for signal N), null before any exit
 * @param uptime   how long the current jail has run
 * @param usage    the jail's cgroup accounting, when it has a cgroup
 */
public record AppStatus(String name, AppState state, Long pid, int restarts, Integer lastExit, Instant lastExitAt,
                        Duration uptime, String lastError, CgroupStats usage, String log) {}
