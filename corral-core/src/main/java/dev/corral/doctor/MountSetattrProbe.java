package dev.corral.doctor;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.Optional;
import java.util.Set;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Asks the kernel whether mount_setattr(2), the call behind idmapped mounts, exists, with
 * arguments it rejects before looking at any mount: size 0 is below the smallest struct
 * mount_attr, so a kernel that has the call answers EINVAL and one that lacks it ENOSYS. Nothing
 * is changed either way. Its own FFM handle, so the doctor does not touch the launcher's libc
 * bindings.
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
            Linker linker = Linker.nativeLinker();
            Optional<MemorySegment> syscall = linker.defaultLookup().find("syscall");
            if (syscall.isEmpty()) return new Outcome(Answer.NOT_PROBED, 0, "not probed: no syscall() in the C library");
            MemoryLayout state = Linker.Option.captureStateLayout();
            VarHandle errnoHandle = state.varHandle(MemoryLayout.PathElement.groupElement("errno"));
            // long syscall(long number, ...): every argument passed as a full register (a long or
            // a pointer), as the C library reads them back.
            MethodHandle h = linker.downcallHandle(syscall.get(),
                    FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG),
                    Linker.Option.firstVariadicArg(1), Linker.Option.captureCallState("errno"));
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment captured = arena.allocate(state);
                MemorySegment empty = arena.allocateFrom("");
                // mount_setattr(dfd -1, path "", flags 0, attr NULL, size 0)
                long r = (long) h.invokeExact(captured, SYS_MOUNT_SETATTR, -1L, empty, 0L, MemorySegment.NULL, 0L);
                int errno = r == -1 ? (int) errnoHandle.get(captured, 0L) : 0;
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
