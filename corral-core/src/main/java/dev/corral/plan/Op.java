package dev.corral.plan;

/** Executor operations; the numbers match {@code enum op} in native/src/exec.h. */
public enum Op {
    WAIT_GO(1), MAKE_PRIVATE(2), OPEN_TREE(3), ATTACH_ROOT(4), MOUNT_FS(5), ATTACH(6), MKDIR(7),
    SYMLINK(8), PIVOT_ROOT(9), SETHOSTNAME(10), LO_UP(11), FORK_INIT(12), TAKE_TERMINAL(13),
    CHDIR(14), SETGROUPS(15), SETGID(16), SETUID(17), EXEC(18), NEW_FS(19), SET_ATTRS(20),
    SETSID(21), RLIMIT(22), CAP_BOUND(23), KEEP_CAPS(24), CAPS(25), NO_NEW_PRIVS(26), SECCOMP(27), MASK(28),
    READONLY(29), UNSHARE(30), CGROUP(31), PASS_FDS(32), SETNS(33), FORK_INTO(34),
    ENTER_ROOT(35), JOIN_CGROUP(36), ID_MAPS(37),
    OVERLAY(40), LAYER_DIR(41), REMOVE_TREE(42), EXIT(43), OPEN_DIR(44),
    /** 45-49: idmapped mounts. */
    IDMAP_TREE(45), IDMAP(46),
    /** A nested user and mount namespace, so that the jail's mounts are locked (native/src/lock.c). */
    LOCK_MOUNTS(50);

    private final int code;

    Op(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }
}
