package dev.corral.doctor;

import dev.corral.sys.KernelFiles;

import java.util.List;

/**
 * What this host allows for jails, for the user asking, and what to change: user namespaces,
 * cgroups, subordinate ids and the id-map helpers, idmapped mounts, overlayfs, the time namespace,
 * rootless networking, the executor's build. Every check reads the host as it is or tries the
 * thing in a child process; none changes anything. It reports; it does not judge.
 */
public final class Doctor {
    private final Caller caller;

    public Doctor(Caller caller) {
        this.caller = caller;
    }

    public static Doctor forCurrentUser() {
        return new Doctor(Caller.current());
    }

    public Caller caller() {
        return caller;
    }

    /** The checks, in the order they are printed. */
    public List<HostCheck> checks() {
        return List.of(
                NamespaceChecks.userNamespaces(caller),
                CgroupCheck.check(caller),
                CgroupMoveCheck.check(),
                IdChecks.subordinateIds(caller),
                IdChecks.helpers(caller),
                MountChecks.idmapped(caller),
                MountChecks.overlay(),
                NamespaceChecks.time(),
                ToolChecks.networkHelpers(),
                ToolChecks.executor());
    }

    public HostReport examine() {
        return new HostReport(caller.name(), caller.uid(), KernelFiles.kernel().release(), System.getProperty("os.arch", ""), checks());
    }
}
