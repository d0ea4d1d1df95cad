package dev.corral.spec;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * What a jail withholds from its program, beyond the namespaces. The defaults are safe
 * without any flag: a small capability set, no_new_privs, corral's seccomp filter, a new
 * session, and the kernel's sensitive /proc and /sys files masked or read-only.
 *
 * @param capabilities the program's capabilities (bounding, effective, permitted, inheritable,
 *                     and ambient when it does not run as uid 0)
 * @param noNewPrivs   set no_new_privs (NGINX Unit's {@code new_privs: false})
 * @param seccomp      the seccomp filter
 * @param allowUserns  let the program create nested user namespaces
 * @param rlimits      resource limits, applied in order
 * @param newSession   start the program in a new session (setsid), away from the caller's
 *                     terminal; not for interactive runs, which the filter's TIOCSTI block covers
 * @param procHidepid  {@code hidepid=} for the jail's /proc mounts, or null
 */
public record Hardening(Set<Capability> capabilities, boolean noNewPrivs, Seccomp seccomp, boolean allowUserns,
                        List<Rlimit> rlimits, boolean newSession, String procHidepid) {
    public static final Hardening DEFAULT = new Hardening(Capability.DEFAULT, true, Seccomp.DEFAULT, false,
            List.of(), true, null);

    public Hardening {
        capabilities = capabilities.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(capabilities));
        rlimits = List.copyOf(rlimits);
    }

    /**
     * OCI's default {@code maskedPaths}: files get /dev/null, directories an empty read-only tmpfs.
     */
    public static final List<String> MASKED_PATHS = List.of("/proc/acpi", "/proc/asound", "/proc/interrupts",
            "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
            "/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap");

    /** OCI's default {@code readonlyPaths}. */
    public static final List<String> READONLY_PATHS = List.of("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
            "/proc/sysrq-trigger");
}
