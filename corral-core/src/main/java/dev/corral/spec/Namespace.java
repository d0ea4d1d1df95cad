package dev.corral.spec;

import java.util.Locale;
import java.util.Optional;

/** The Linux namespaces a jail can unshare, with their clone flag and /proc/self/ns name. */
public enum Namespace {
    USER(0x10000000L, "user"),
    MOUNT(0x00020000L, "mnt"),
    PID(0x20000000L, "pid"),
    NET(0x40000000L, "net"),
    UTS(0x04000000L, "uts"),
    IPC(0x08000000L, "ipc"),
    CGROUP(0x02000000L, "cgroup"),
    TIME(0x00000080L, "time");

    private final long cloneFlag;
    private final String procName;

    Namespace(long cloneFlag, String procName) {
        this.cloneFlag = cloneFlag;
        this.procName = procName;
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
