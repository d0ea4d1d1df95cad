package dev.corral.plan;

import dev.corral.ids.SubIdRange;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What the planner may know of the host. The real one reads the machine; tests pass a fixed one,
 * which keeps the planner free of syscalls and its output reproducible.
 */
public interface HostView {
    enum PathKind { MISSING, DIRECTORY, FILE, SYMLINK, OTHER }

    /** One entry of a host directory; symlinks are not followed. */
    record Entry(String name, PathKind kind, String linkTarget) {}

    int euid();

    int egid();

    /** The caller's environment, the base of the jail's unless cleared. */
    Map<String, String> environment();

    /** Ranges /etc/subuid delegates to the caller. */
    List<SubIdRange> subuids();

    List<SubIdRange> subgids();

    /** Whether newuidmap/newgidmap are installed. */
    boolean idMapHelpers();

    /** Kind of a host path, following symlinks. */
    PathKind kind(String path);

    /**
     * Why a path {@link #kind} calls MISSING is not there for this caller, as the end of a
     * sentence: "does not exist", or that a directory on the way refuses it.
     */
    default String whyMissing(String path) {
        return "does not exist";
    }

    /** The entries of a host directory, sorted by name (empty if unreadable). */
    List<Entry> list(String dir);

    /** The canonical form of an existing host path. */
    Optional<String> realPath(String path);

    /** The caller's current limit for {@code resource}: {soft, hard}, -1 meaning unlimited. */
    long[] rlimit(dev.corral.spec.Rlimit.Resource resource);

    /** Whether the caller may raise hard limits (CAP_SYS_RESOURCE in the initial user namespace). */
    boolean canRaiseHardLimits();

    /** The host's cgroups as seen from this process. */
    dev.corral.cgroup.CgroupView cgroups();

    /** A small text file of the host (for /etc/passwd of a rootfs), if readable. */
    Optional<String> readFile(String path);

    /** What the kernel says of a path to join: a namespace of some type, or why it is none. */
    NamespaceFile namespaceFile(String path);

    /** The filesystem a path is on (a type as /proc/mounts names it, and its device number). */
    record Filesystem(String type, long device) {}

    /** The filesystem holding {@code path}, or its nearest existing parent; empty if unknown. */
    default Optional<Filesystem> filesystem(String path) {
        return Optional.empty();
    }
}
