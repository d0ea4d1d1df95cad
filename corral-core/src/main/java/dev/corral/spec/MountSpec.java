package dev.corral.spec;

/**
 * A filesystem to place in the jail, in the order given. Targets are absolute paths inside the
 * jail; {@code origin} names the flag or JSON path it came from, for error messages.
 */
public sealed interface MountSpec {
    String target();

    String origin();

    /**
     * A host file or directory bound into the jail (recursively), read-only or not; with
     * {@code idmap}, through an idmapped mount carrying the jail's own id mapping (files owned
     * by 0..65535 on disk are the jail's 0..65535, and what it writes is stored as such).
     */
    record Bind(String source, String target, boolean readOnly, boolean idmap, String origin) implements MountSpec {
        public Bind(String source, String target, boolean readOnly, String origin) {
            this(source, target, readOnly, false, origin);
        }
    }

    /** A fresh tmpfs. */
    record Tmpfs(String target, String origin) implements MountSpec {}

    /** A fresh procfs for the jail's pid namespace. */
    record Proc(String target, String origin) implements MountSpec {}

    /** A minimal /dev: null zero full random urandom tty, pts, shm and the usual symlinks. */
    record Dev(String target, String origin) implements MountSpec {}

    /** An empty directory (created if missing). */
    record Dir(String target, String origin) implements MountSpec {}

    /** A symbolic link at {@code target} pointing at {@code linkTarget}. */
    record Symlink(String linkTarget, String target, String origin) implements MountSpec {}
}
