package dev.corral.spec;

import java.util.Locale;
import java.util.Optional;

/** The Linux namespaces a jail can unshare, with their clone flag and /proc/self/ns name. */
public enum Namespace {
    USER(0x10000000L, "user", "user"),
    MOUNT(0x00020000L, "mnt", "mount"),
    PID(0x20000000L, "pid", "pid"),
    NET(0x40000000L, "net", "network"),
    UTS(0x04000000L, "uts", "uts"),
    IPC(0x08000000L, "ipc", "ipc"),
    CGROUP(0x02000000L, "cgroup", "cgroup"),
    TIME(0x00000080L, "time", "time");

    private final long cloneFlag;
    private final String procName;
    private final String displayName;

    Namespace(long cloneFlag, String procName, String displayName) {
        this.cloneFlag = cloneFlag;
        this.procName = procName;
        this.displayName = displayName;
    }

    /** The type whose CLONE_NEW* flag is {@code flag} (what the kernel's NS_GET_NSTYPE answers). */
    public static Optional<Namespace> ofCloneFlag(long flag) {
        for (Namespace ns : values()) if (ns.cloneFlag == flag) return Optional.of(ns);
        return Optional.empty();
    }

    /** The name in messages: "a network namespace", "a mount namespace". */
    public String displayName() {
        return displayName;
    }

    public long cloneFlag() {
        return cloneFlag;
    }

    /** The entry under /proc/PID/ns. */
    public String procName() {
        return procName;
    }

    /** The name users write: {@code user, mount, pid, net, uts, ipc, cgroup, time}. */
    public String userName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Accepts corral's names and the spellings of NGINX Unit, its seed proposal and uWSGI. */
    public static Optional<Namespace> parse(String name) {
        return Optional.ofNullable(switch (name.toLowerCase(Locale.ROOT)) {
            case "user", "credential" -> USER;
            case "mount", "mnt", "fs" -> MOUNT;
            case "pid" -> PID;
            case "net", "network" -> NET;
            case "uts", "uname" -> UTS;
            case "ipc" -> IPC;
            case "cgroup" -> CGROUP;
            case "time" -> TIME;
            default -> null;
        });
    }
}
