package dev.corral.seccomp;

import java.util.List;

/**
 * corral's default filter: allow everything except what reaches past the jail into the whole
 * kernel or machine, or into the caller's terminal.
 *
 * <ul>
 * <li>Other architectures (i386 through {@code int 0x80}) kill the process: a filter written for
 *     x86_64 numbers means nothing to them.</li>
 * <li>x32 calls get EPERM. (ENOSYS would also do; EPERM says "refused" rather than "missing",
 *     like the rest of the filter.)</li>
 * <li>Syscalls newer than the table get ENOSYS, so that libc falls back to older ones, as it does
 *     on an older kernel.</li>
 * <li>{@link #DENIED} gets EPERM: kernel modules, kexec, reboot, swap, process accounting, the
 *     kernel keyring, bpf, perf events, userfaultfd, open_by_handle_at (escapes bind mounts),
 *     setting the clock, x86 I/O ports, and the long-gone module and nfsservctl calls.</li>
 * <li>{@code ioctl(fd, TIOCSTI)} and {@code ioctl(fd, TIOCLINUX)} get EPERM: both push
 *     keystrokes into a terminal the jail may share with its caller. Only the low 32 bits of the
 *     request are compared, as the kernel reads only those.</li>
 * <li>Unless nested user namespaces are allowed: {@code unshare} and {@code clone} with
 *     CLONE_NEWUSER get EPERM, and {@code clone3} gets ENOSYS, because its flags live in memory
 *     BPF cannot read; glibc then falls back to {@code clone} (Docker does the same).</li>
 * </ul>
 *
 * <p>Deliberately allowed: {@code adjtimex} and {@code clock_adjtime}, which are mostly used to
 * read the clock's state ({@code ntp_gettime}, chrony and node_exporter's status queries) and
 * whose writes need CAP_SYS_TIME in the initial user namespace, which a jailed program never has;
 * {@code kcmp}, {@code fanotify_init}, {@code mount_setattr} and {@code quotactl}, which the
 * kernel already confines to the jail's namespaces.
 */
final class DefaultPolicy {
    static final List<String> DENIED = List.of(
            "init_module", "finit_module", "delete_module", "create_module", "get_kernel_syms", "query_module",
            "kexec_load", "kexec_file_load", "reboot",
            "swapon", "swapoff", "acct",
            "keyctl", "add_key", "request_key",
            "bpf", "perf_event_open", "userfaultfd", "open_by_handle_at",
            "settimeofday", "clock_settime",
            "iopl", "ioperm",
            "nfsservctl", "uselib", "lookup_dcookie");

    static final int TIOCSTI = 0x5412;
    static final int TIOCLINUX = 0x541C;
    static final int CLONE_NEWUSER = 0x10000000;

    private DefaultPolicy() {}

    static Policy build(boolean allowUserns) {
        int eperm = Bpf.errno(Bpf.EPERM);
        Policy p = new Policy(Bpf.RET_ALLOW, eperm, Syscalls.highest());

        int ioctl = Syscalls.require("ioctl");
        p.add(ioctl, new Rule(List.of(ArgCheck.low32Equals(1, TIOCSTI)), eperm));
        p.add(ioctl, new Rule(List.of(ArgCheck.low32Equals(1, TIOCLINUX)), eperm));

        if (!allowUserns) {
            // unshare(flags) and, on x86_64, clone(flags, stack, parent_tid, child_tid, tls).
            p.add(Syscalls.require("unshare"), new Rule(List.of(ArgCheck.low32HasAll(0, CLONE_NEWUSER)), eperm));
            p.add(Syscalls.require("clone"), new Rule(List.of(ArgCheck.low32HasAll(0, CLONE_NEWUSER)), eperm));
            p.add(Syscalls.require("clone3"), Rule.always(Bpf.errno(Bpf.ENOSYS)));
        }

        for (String name : DENIED) p.add(Syscalls.require(name), Rule.always(eperm));
        return p;
    }
}
