package dev.corral.cgroup;

/** Which cgroup interface corral drives on this host. */
public enum CgroupVersion {
    /** The legacy interface: one hierarchy per controller (also "hybrid" hosts). */
    V1,
    /** The unified hierarchy. */
    V2;

    public String label() {
        return this == V1 ? "v1" : "v2";
    }
}
