package dev.corral.seccomp;

import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.corral.seccomp.BpfInterpreter.run;
import static org.assertj.core.api.Assertions.assertThat;

class SeccompDefaultFilterTest {
    private static final java.util.List<String> DENIED_NAMES = DefaultPolicy.DENIED.stream().map(DefaultPolicy.Call::name).toList();

    static final int ALLOW = 0x7fff0000;
    static final int EPERM = 0x00050000 | 1;
    static final int ENOSYS = 0x00050000 | 38;
    static final int KILL_PROCESS = 0x80000000;

    static final int CLONE_NEWNS = 0x00020000;
    static final int CLONE_NEWUSER = 0x10000000;
    static final int CLONE_NEWCGROUP = 0x02000000;
    static final int CLONE_NEWPID = 0x20000000;
    static final int SIGCHLD = 17;
    /** What glibc's pthread_create passes to clone. */
    static final long THREAD_FLAGS = 0x3d0f00;
    static final long TCGETS = 0x5401, TIOCSTI = 0x5412, TIOCLINUX = 0x541C;

    private static final byte[] DEFAULT = SeccompFilters.defaultFilter(false);
    private static final byte[] USERNS = SeccompFilters.defaultFilter(true);

    private static int nr(String name) {
        return Syscalls.require(name);
    }

    @Test
    void isAValidProgram() {
        BpfInterpreter.verify(DEFAULT);
        BpfInterpreter.verify(USERNS);
        assertThat(DEFAULT.length / 8).isLessThan(100);
        assertThat(SeccompFilters.defaultFilter(false)).isEqualTo(DEFAULT).isNotSameAs(DEFAULT);
    }

    @Test
    void allowsOrdinarySyscalls() {
        for (String name : new String[] {"read", "write", "execve", "openat", "mmap", "exit_group", "rt_sigreturn",
                "adjtimex", "clock_adjtime", "kcmp", "mount", "setns", "restart_syscall", "listns"}) {
            assertThat(run(DEFAULT, nr(name))).as(name).isEqualTo(ALLOW);
        }
        assertThat(run(DEFAULT, nr("read"), 0, 0x7fff0000_1000L, 4096)).isEqualTo(ALLOW);
    }

    @Test
    void deniesKernelWideSyscallsWithEperm() {
        assertThat(DENIED_NAMES).contains("kexec_load", "bpf", "keyctl", "open_by_handle_at", "iopl");
        for (String name : DENIED_NAMES) {
            assertThat(run(DEFAULT, nr(name))).as(name).isEqualTo(EPERM);
            assertThat(run(USERNS, nr(name))).as(name).isEqualTo(EPERM);
        }
    }

    @Test
    void thePolicysOwnNumbersAreTheTablesNumbers() {
        for (DefaultPolicy.Call c : DefaultPolicy.DENIED) assertThat(c.number()).as(c.name()).isEqualTo(Syscalls.require(c.name()));
        assertThat(DefaultPolicy.NEWEST).as("the table's newest syscall").isEqualTo(Syscalls.highest());
    }

    @Test
    void unknownNumbersGetEnosys() {
        assertThat(run(DEFAULT, Syscalls.highest())).isEqualTo(ALLOW);
        assertThat(run(DEFAULT, Syscalls.highest() + 1)).isEqualTo(ENOSYS);
        assertThat(run(DEFAULT, 1000)).isEqualTo(ENOSYS);
        assertThat(run(DEFAULT, 0x3fffffff)).isEqualTo(ENOSYS);
        assertThat(run(DEFAULT, -1)).as("nr -1 is no x32 call").isEqualTo(ENOSYS);
        assertThat(run(DEFAULT, 0x80000000)).isEqualTo(ENOSYS);
    }

    @Test
    void otherArchitecturesAreKilled() {
        assertThat(BpfInterpreter.runArch(DEFAULT, BpfInterpreter.AUDIT_ARCH_I386, 3)).isEqualTo(KILL_PROCESS);
        assertThat(BpfInterpreter.runArch(DEFAULT, BpfInterpreter.AUDIT_ARCH_I386, 0)).isEqualTo(KILL_PROCESS);
        assertThat(BpfInterpreter.runArch(DEFAULT, 0xC00000B7, 63)).as("aarch64").isEqualTo(KILL_PROCESS);
        assertThat(BpfInterpreter.runArch(USERNS, BpfInterpreter.AUDIT_ARCH_I386, 1)).isEqualTo(KILL_PROCESS);
    }

    @Test
    void x32CallsGetEperm() {
        int x32 = 0x40000000;
        assertThat(run(DEFAULT, x32 | nr("read"))).isEqualTo(EPERM);
        assertThat(run(DEFAULT, x32 | 512)).isEqualTo(EPERM);
        assertThat(run(DEFAULT, x32 | 0x3fffffff)).isEqualTo(EPERM);
        assertThat(run(USERNS, x32 | nr("write"))).isEqualTo(EPERM);
    }

    @Test
    void terminalInjectionIoctlsAreDenied() {
        int ioctl = nr("ioctl");
        assertThat(run(DEFAULT, ioctl, 0, TIOCSTI)).isEqualTo(EPERM);
        assertThat(run(DEFAULT, ioctl, 0, TIOCLINUX)).isEqualTo(EPERM);
        assertThat(run(DEFAULT, ioctl, 0, TCGETS)).isEqualTo(ALLOW);
        assertThat(run(DEFAULT, ioctl, 0, 0x80045430L)).as("TIOCGPTN").isEqualTo(ALLOW);
        // the kernel reads only the low 32 bits of the request
        assertThat(run(DEFAULT, ioctl, 0, 0xdeadbeef_00000000L | TIOCSTI)).isEqualTo(EPERM);
        assertThat(run(DEFAULT, ioctl, 0, 0xffffffff_00000000L | TIOCLINUX)).isEqualTo(EPERM);
        assertThat(run(DEFAULT, ioctl, 0, 0xdeadbeef_00000000L | TCGETS)).isEqualTo(ALLOW);
        // the fd does not matter, the request in args[1] does
        assertThat(run(DEFAULT, ioctl, TIOCSTI, TCGETS)).isEqualTo(ALLOW);
        assertThat(run(USERNS, ioctl, 0, TIOCSTI)).isEqualTo(EPERM);
    }

    @Test
    void newUserNamespacesAreDenied() {
        assertThat(run(DEFAULT, nr("unshare"), CLONE_NEWUSER)).isEqualTo(EPERM);
        assertThat(run(DEFAULT, nr("unshare"), CLONE_NEWUSER | CLONE_NEWNS)).isEqualTo(EPERM);
        assertThat(run(DEFAULT, nr("unshare"), CLONE_NEWNS)).isEqualTo(ALLOW);
        assertThat(run(DEFAULT, nr("unshare"), CLONE_NEWPID)).isEqualTo(ALLOW);
        assertThat(run(DEFAULT, nr("unshare"), 0xffffffff_00000000L | CLONE_NEWUSER)).isEqualTo(EPERM);

        assertThat(run(DEFAULT, nr("clone"), CLONE_NEWUSER | SIGCHLD)).isEqualTo(EPERM);
        assertThat(run(DEFAULT, nr("clone"), SIGCHLD)).as("fork").isEqualTo(ALLOW);
        assertThat(run(DEFAULT, nr("clone"), THREAD_FLAGS, 0x7f00_0000_0000L)).as("pthread_create").isEqualTo(ALLOW);
        assertThat(run(DEFAULT, nr("clone"), CLONE_NEWNS | CLONE_NEWPID | SIGCHLD)).isEqualTo(ALLOW);

        assertThat(run(DEFAULT, nr("clone3"))).isEqualTo(ENOSYS);
        assertThat(run(DEFAULT, nr("fork"))).isEqualTo(ALLOW);
        assertThat(run(DEFAULT, nr("vfork"))).isEqualTo(ALLOW);
    }

    @Test
    void allowUsernsLetsThemThrough() {
        assertThat(run(USERNS, nr("unshare"), CLONE_NEWUSER)).isEqualTo(ALLOW);
        assertThat(run(USERNS, nr("unshare"), CLONE_NEWUSER | CLONE_NEWNS)).isEqualTo(ALLOW);
        assertThat(run(USERNS, nr("clone"), CLONE_NEWUSER | SIGCHLD)).isEqualTo(ALLOW);
        // clone3's flags cannot be read: it is ENOSYS, and glibc takes clone instead.
        assertThat(run(USERNS, nr("clone3"), 0x7ffc_0000_1000L, 88)).isEqualTo(ENOSYS);
        assertThat(run(USERNS, Syscalls.highest() + 1)).isEqualTo(ENOSYS);
    }

    /**
     * A cgroup namespace of the program's own would let it mount the cgroup file systems afresh,
     * writable where its host uid owns the files: never, nested user namespaces allowed or not.
     */
    @Test
    void newCgroupNamespacesAreDenied() {
        for (byte[] filter : List.of(DEFAULT, USERNS)) {
            assertThat(run(filter, nr("unshare"), CLONE_NEWCGROUP)).isEqualTo(EPERM);
            assertThat(run(filter, nr("unshare"), CLONE_NEWUSER | CLONE_NEWCGROUP | CLONE_NEWNS)).isEqualTo(EPERM);
            assertThat(run(filter, nr("unshare"), 0xffffffff_00000000L | CLONE_NEWCGROUP)).isEqualTo(EPERM);
            assertThat(run(filter, nr("clone"), CLONE_NEWCGROUP | SIGCHLD)).isEqualTo(EPERM);
            assertThat(run(filter, nr("clone"), SIGCHLD)).as("fork").isEqualTo(ALLOW);
        }
    }

    @Test
    void everyKnownSyscallHasTheExpectedVerdict() {
        for (var e : Syscalls.all().entrySet()) {
            String name = e.getKey();
            int expected = DENIED_NAMES.contains(name) ? EPERM : name.equals("clone3") ? ENOSYS : ALLOW;
            assertThat(run(DEFAULT, e.getValue())).as(name).isEqualTo(expected);
        }
    }
}
