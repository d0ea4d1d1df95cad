package dev.corral.spec;

/**
 * The filesystems corral puts in a jail without being asked (NGINX Unit's {@code automount}):
 * a fresh /proc, a private tmpfs on /tmp and a minimal /dev. All on by default.
 */
public record Automount(boolean procfs, boolean tmpfs, boolean devfs) {
    public static final Automount ALL = new Automount(true, true, true);
    public static final Automount NONE = new Automount(false, false, false);

    /** Every one of them (as {@link #ALL}; asked without a record's equals, which is slow on its first call). */
    public boolean all() {
        return procfs && tmpfs && devfs;
    }
}
