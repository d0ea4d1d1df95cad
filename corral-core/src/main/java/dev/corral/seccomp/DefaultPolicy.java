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
 *     CLONE_NEWUSER get EPERM.</li>
 * <li>{@code unshare} and {@code clone} with CLONE_NEWCGROUP get EPERM, allowed user namespaces
 *     or not. A cgroup namespace of the program's own (in a nested user namespace, or with
 *     CAP_SYS_ADMIN in a jail whose mounts are locked) lets it mount the cgroup file systems
 *     afresh, writable, where its host uid owns the files: as root's jail (uid 0 mapped to 0)
 *     that lifts its own limits and rewrites the host's cgroups.</li>
 * <li>{@code clone3} gets ENOSYS, because its flags live in memory BPF cannot read; glibc then
 *     falls back to {@code clone} (Docker does the same).</li>
 * </ul>
 *
 * <p>Deliberately allowed: {@code adjtimex} and {@code clock_adjtime}, which are mostly used to
 * read the clock's state ({@code ntp_gettime}, chrony and node_exporter's status queries) and
 * whose writes need CAP_SYS_TIME in the initial user namespace, which a jailed program never has;
 * {@code kcmp}, {@code fanotify_init}, {@code mount_setattr} and {@code quotactl}, which the
 * kernel already confines to the jail's namespaces.
 */
final class DefaultPolicy {
    /**
     * A syscall by its x86_64 number. The numbers are the kernel's ABI, fixed for good, so the
     * default filter is built without reading the syscall table (that took ~8 ms of a cold
     * {@code corral run}); SeccompDefaultFilterTest runs the filter on every syscall of the table.
     */
    record Call(String name, int number) {}

    static final List<Call> DENIED = List.of(
            new Call("init_module", 175), new Call("finit_module", 313), new Call("delete_module", 176),
            new Call("create_module", 174), new Call("get_kernel_syms", 177), new Call("query_module", 178),
            new Call("kexec_load", 246), new Call("kexec_file_load", 320), new Call("reboot", 169),
            new Call("swapon", 167), new Call("swapoff", 168), new Call("acct", 163),
            new Call("keyctl", 250), new Call("add_key", 248), new Call("request_key", 249),
            new Call("bpf", 321), new Call("perf_event_open", 298), new Call("userfaultfd", 323),
            new Call("open_by_handle_at", 304),
            new Call("settimeofday", 164), new Call("clock_settime", 227),
            new Call("iopl", 172), new Call("ioperm", 173),
            new Call("nfsservctl", 180), new Call("uselib", 134), new Call("lookup_dcookie", 212));

    private static final Call IOCTL = new Call("ioctl", 16), UNSHARE = new Call("unshare", 272),
            CLONE = new Call("clone", 56), CLONE3 = new Call("clone3", 435);

    /** The newest syscall of the table ({@code listns}): those after it get ENOSYS. */
    static final int NEWEST = 470;

    static final int TIOCSTI = 0x5412;
    static final int TIOCLINUX = 0x541C;
    static final int CLONE_NEWUSER = 0x10000000;
    static final int CLONE_NEWCGROUP = 0x02000000;

    private DefaultPolicy() {}

    static Policy build(boolean allowUserns) {
        int eperm = Bpf.errno(Bpf.EPERM);
        Policy p = new Policy(Bpf.RET_ALLOW, eperm, NEWEST);

        p.add(IOCTL.number(), new Rule(List.of(ArgCheck.low32Equals(1, TIOCSTI)), eperm));
        p.add(IOCTL.number(), new Rule(List.of(ArgCheck.low32Equals(1, TIOCLINUX)), eperm));

        // unshare(flags) and, on x86_64, clone(flags, stack, parent_tid, child_tid, tls).
        if (!allowUserns) {
            p.add(UNSHARE.number(), new Rule(List.of(ArgCheck.low32HasAll(0, CLONE_NEWUSER)), eperm));
            p.add(CLONE.number(), new Rule(List.of(ArgCheck.low32HasAll(0, CLONE_NEWUSER)), eperm));
        }
        p.add(UNSHARE.number(), new Rule(List.of(ArgCheck.low32HasAll(0, CLONE_NEWCGROUP)), eperm));
        p.add(CLONE.number(), new Rule(List.of(ArgCheck.low32HasAll(0, CLONE_NEWCGROUP)), eperm));
        p.add(CLONE3.number(), Rule.always(Bpf.errno(Bpf.ENOSYS)));

        for (Call c : DENIED) p.add(c.number(), Rule.always(eperm));
        return p;
    }
}
