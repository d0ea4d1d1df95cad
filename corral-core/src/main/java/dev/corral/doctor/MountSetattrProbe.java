package dev.corral.doctor;

import dev.corral.sys.NativeFunction;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Set;

/**
 * Asks the kernel whether mount_setattr(2), the call behind idmapped mounts, exists, with
 * arguments it rejects before looking at any mount: size 0 is below the smallest struct
 * mount_attr, so a kernel that has the call answers EINVAL and one that lacks it ENOSYS. Nothing
 * is changed either way.
 */
final class MountSetattrProbe {
    /**
     * mount_setattr's number: 442 on every architecture with the unified numbering of new
     * syscalls (Linux 5.1+ added them at the same number everywhere but alpha).
     */
    static final long SYS_MOUNT_SETATTR = 442;
    private static final Set<String> UNIFIED_NUMBERING = Set.of("amd64", "x86_64", "aarch64", "riscv64", "ppc64le", "s390x");
    static final int EPERM = 1, EBADF = 9, EFAULT = 14, EINVAL = 22, ENOSYS = 38, E2BIG = 7;

    private MountSetattrProbe() {}

    enum Answer { PRESENT, ABSENT, BLOCKED, NOT_PROBED }

    /** @param errno what the call set; detail says in words what that means */
    record Outcome(Answer answer, int errno, String detail) {}

    static Outcome probe() {
        String arch = System.getProperty("os.arch", "");
        if (!UNIFIED_NUMBERING.contains(arch)) {
            return new Outcome(Answer.NOT_PROBED, 0, "not probed: the syscall number is not known for " + arch);
        }
        try {
            // long syscall(long number, ...): every argument a full register (a long or a pointer).
            NativeFunction syscall = NativeFunction.libc("syscall");
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment captured = NativeFunction.errnoSegment(arena);
                long empty = NativeFunction.pointer(arena.allocateFrom(""));
                // mount_setattr(dfd -1, path "", flags 0, attr NULL, size 0)
                long r = syscall.call(captured, SYS_MOUNT_SETATTR, -1L, empty, 0L, 0L, 0L);
                int errno = r == -1 ? NativeFunction.errno(captured) : 0;
                return switch (errno) {
                    case ENOSYS -> new Outcome(Answer.ABSENT, errno, "ENOSYS: the kernel has no mount_setattr");
                    case EPERM -> new Outcome(Answer.BLOCKED, errno, "EPERM: refused, likely by a seccomp filter around this process");
                    case EINVAL, EBADF, E2BIG, EFAULT -> new Outcome(Answer.PRESENT, errno, "mount_setattr exists (answered "
                            + name(errno) + " to an empty request)");
                    default -> new Outcome(r == 0 ? Answer.PRESENT : Answer.NOT_PROBED, errno,
                            r == 0 ? "mount_setattr exists" : "mount_setattr answered errno " + errno + ", which says nothing for sure");
                };
            }
        } catch (Throwable t) {
            // Native access not enabled for this JVM, or a platform without a linker.
            return new Outcome(Answer.NOT_PROBED, 0, "not probed: " + t);
        }
    }

    private static String name(int errno) {
        return switch (errno) {
            case EINVAL -> "EINVAL";
            case EBADF -> "EBADF";
            case E2BIG -> "E2BIG";
            case EFAULT -> "EFAULT";
            default -> Integer.toString(errno);
        };
    }
}
