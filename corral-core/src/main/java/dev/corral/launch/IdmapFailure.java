package dev.corral.launch;

/**
 * What the kernel's refusal of an idmapped mount (mount_setattr with MOUNT_ATTR_IDMAP) means,
 * and the way around it: a copy whose owners are shifted on disk ({@code corral rootfs shift}).
 */
final class IdmapFailure {
    static final int EPERM = 1, EINVAL = 22, EBUSY = 16;
    static final String SHIFT = "; without idmapping, make a shifted copy: corral rootfs shift SRC DST --uid-base N";

    private IdmapFailure() {}

    static String why(int errno) {
        return switch (errno) {
            case EPERM -> " (the kernel wants CAP_SYS_ADMIN over the user namespace owning the filesystem, the host's"
                    + " for a disk: only root on the host has it)" + SHIFT;
            case EINVAL -> " (this filesystem does not support idmapped mounts, or a mount under it does not;"
                    + " ext4, xfs, btrfs, tmpfs and overlayfs do)" + SHIFT;
            case EBUSY -> " (the mount is idmapped already)" + SHIFT;
            default -> SHIFT;
        };
    }
}
