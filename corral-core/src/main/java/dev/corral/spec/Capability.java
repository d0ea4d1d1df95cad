package dev.corral.spec;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/** Linux capabilities, numbered as in linux/capability.h. */
public enum Capability {
    CHOWN, DAC_OVERRIDE, DAC_READ_SEARCH, FOWNER, FSETID, KILL, SETGID, SETUID, SETPCAP,
    LINUX_IMMUTABLE, NET_BIND_SERVICE, NET_BROADCAST, NET_ADMIN, NET_RAW, IPC_LOCK, IPC_OWNER,
    SYS_MODULE, SYS_RAWIO, SYS_CHROOT, SYS_PTRACE, SYS_PACCT, SYS_ADMIN, SYS_BOOT, SYS_NICE,
    SYS_RESOURCE, SYS_TIME, SYS_TTY_CONFIG, MKNOD, LEASE, AUDIT_WRITE, AUDIT_CONTROL, SETFCAP,
    MAC_OVERRIDE, MAC_ADMIN, SYSLOG, WAKE_ALARM, BLOCK_SUSPEND, AUDIT_READ, PERFMON, BPF,
    CHECKPOINT_RESTORE;

    /**
     * What a jailed program keeps by default: enough for a service that starts as root to
     * chown its files, bind a low port and drop to its own user. Narrower than crun's default
     * (no NET_RAW, MKNOD, AUDIT_WRITE or SETFCAP). These are capabilities over the jail's own
     * user namespace, not the host.
     */
    public static final Set<Capability> DEFAULT = EnumSet.of(CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL,
            SETGID, SETUID, SETPCAP, NET_BIND_SERVICE, SYS_CHROOT);

    public int number() {
        return ordinal();
    }

    /** {@code CAP_NET_ADMIN}, {@code net_admin} or {@code NET_ADMIN}. */
    public static Optional<Capability> parse(String name) {
        String n = name.strip().toUpperCase(Locale.ROOT);
        if (n.startsWith("CAP_")) n = n.substring(4);
        try {
            return Optional.of(valueOf(n));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    public String capName() {
        return "CAP_" + name();
    }

    public static long mask(Set<Capability> caps) {
        long m = 0;
        for (Capability c : caps) m |= 1L << c.number();
        return m;
    }
}
