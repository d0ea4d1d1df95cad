package dev.corral.doctor;

import com.sun.security.auth.module.UnixSystem;

/**
 * The user the checks are for: what the host allows depends on who asks (root writes id maps
 * directly and may create cgroups anywhere; a normal user needs subordinate ids and delegation).
 *
 * @param name       the login name, or the uid as text when /etc/passwd has no entry
 * @param uid        the real uid
 * @param gid        the real gid
 * @param privileged CAP_SYS_ADMIN in the initial user namespace: the kernel's sysctls that
 *                   restrict unprivileged user namespaces do not apply, and idmapped mounts of
 *                   host file systems are allowed. Root inside a container is not privileged.
 */
public record Caller(String name, long uid, long gid, boolean privileged) {
    private static final int CAP_SYS_ADMIN = 21;

    public static Caller current() {
        UnixSystem u = new UnixSystem();
        String name = u.getUsername() == null ? Long.toString(u.getUid()) : u.getUsername();
        return new Caller(name, u.getUid(), u.getGid(), initialUserNamespace() && effectiveCapability(CAP_SYS_ADMIN));
    }

    public boolean root() {
        return uid == 0;
    }

    @Override
    public String toString() {
        return name + " (uid " + uid + ")";
    }

    /** The initial user namespace maps all 2^32-1 ids onto themselves. */
    private static boolean initialUserNamespace() {
        String[] f = HostFiles.read("/proc/self/uid_map").orElse("").strip().split("\\s+");
        return f.length == 3 && f[0].equals("0") && f[1].equals("0") && f[2].equals("4294967295");
    }

    private static boolean effectiveCapability(int cap) {
        return HostFiles.read("/proc/self/status").orElse("").lines().filter(l -> l.startsWith("CapEff:")).findFirst()
                .map(l -> (Long.parseUnsignedLong(l.substring(7).strip(), 16) & (1L << cap)) != 0).orElse(false);
    }
}
