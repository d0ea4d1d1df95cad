package dev.corral.seccomp;

import dev.corral.spec.Capability;
import dev.corral.spec.Problem;
import dev.corral.spec.SpecException;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static dev.corral.seccomp.BpfInterpreter.run;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

class SeccompOciProfileTest {
    static final int ALLOW = 0x7fff0000;
    static final int ERRNO = 0x00050000;
    static final int EPERM = ERRNO | 1;
    static final int ENOSYS = ERRNO | 38;

    /** Written after Docker's default profile: the same shape and kinds of rules, much shorter. */
    static final String DOCKERISH = """
            {
              "defaultAction": "SCMP_ACT_ERRNO",
              "defaultErrnoRet": 1,
              "archMap": [
                {"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]},
                {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]},
                {"architecture": "SCMP_ARCH_RISCV64", "subArchitectures": null}
              ],
              "syscalls": [
                {
                  "names": ["read", "write", "openat", "close", "fstat", "mmap", "munmap", "brk", "execve",
                            "exit", "exit_group", "getpid", "futex", "rt_sigaction", "rt_sigreturn", "ioctl",
                            "chown32", "_llseek", "fcntl64", "waitpid", "futex_waitv", "fork", "vfork"],
                  "action": "SCMP_ACT_ALLOW"
                },
                {"names": ["ptrace"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "4.8"}},
                {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
                 "args": [{"index": 0, "value": 0, "op": "SCMP_CMP_EQ"}]},
                {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
                 "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]},
                {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
                 "args": [{"index": 0, "value": 4294967295, "op": "SCMP_CMP_EQ"}]},
                {"names": ["socket"], "action": "SCMP_ACT_ALLOW",
                 "args": [{"index": 0, "value": 40, "op": "SCMP_CMP_NE"}]},
                {"names": ["arm_fadvise64_64", "cacheflush", "set_tls"], "action": "SCMP_ACT_ALLOW",
                 "includes": {"arches": ["arm", "arm64"]}},
                {"names": ["arch_prctl"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["amd64", "x32"]}},
                {"names": ["mount", "umount2", "unshare", "clone", "clone3", "setns"], "action": "SCMP_ACT_ALLOW",
                 "includes": {"caps": ["CAP_SYS_ADMIN"]}},
                {"names": ["clone"], "action": "SCMP_ACT_ALLOW",
                 "args": [{"index": 0, "value": 2114060288, "op": "SCMP_CMP_MASKED_EQ"}],
                 "excludes": {"caps": ["CAP_SYS_ADMIN"], "arches": ["s390", "s390x"]}},
                {"names": ["clone"], "action": "SCMP_ACT_ALLOW",
                 "args": [{"index": 1, "value": 2114060288, "op": "SCMP_CMP_MASKED_EQ"}],
                 "comment": "s390 parameter ordering for clone is different",
                 "includes": {"arches": ["s390", "s390x"]}, "excludes": {"caps": ["CAP_SYS_ADMIN"]}},
                {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38,
                 "excludes": {"caps": ["CAP_SYS_ADMIN"]}},
                {"names": ["chroot"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_CHROOT"]}},
                {"names": ["kexec_load"], "action": "SCMP_ACT_KILL_PROCESS", "includes": {}, "excludes": {}}
              ]
            }
            """;

    private static byte[] compile(String json) throws SpecException {
        return SeccompFilters.fromOciProfile(json, "profile.json");
    }

    private static List<String> problems(String json) {
        SpecException e = catchThrowableOfType(SpecException.class, () -> compile(json));
        assertThat(e).as("expected the profile to be rejected").isNotNull();
        return e.problems().stream().map(Problem::toString).toList();
    }

    private static int nr(String name) {
        return Syscalls.require(name);
    }

    @Test
    void dockerStyleProfileWithoutCapabilities() throws Exception {
        byte[] f = compile(DOCKERISH);
        BpfInterpreter.verify(f);

        for (String name : List.of("read", "write", "execve", "exit_group", "futex", "ioctl", "futex_waitv", "arch_prctl")) {
            assertThat(run(f, nr(name))).as(name).isEqualTo(ALLOW);
        }
        assertThat(run(f, nr("ptrace"))).as("minKernel 4.8 on a newer kernel").isEqualTo(ALLOW);
        assertThat(run(f, nr("getppid"))).as("not listed").isEqualTo(EPERM);
        assertThat(run(f, nr("kexec_load"))).isEqualTo(0x80000000);

        int personality = nr("personality");
        assertThat(run(f, personality, 0)).isEqualTo(ALLOW);
        assertThat(run(f, personality, 8)).isEqualTo(ALLOW);
        assertThat(run(f, personality, 0xffffffffL)).isEqualTo(ALLOW);
        assertThat(run(f, personality, 4)).isEqualTo(EPERM);
        assertThat(run(f, personality, 0x1_00000000L)).as("all 64 bits compared").isEqualTo(EPERM);
        assertThat(run(f, personality, 0xffffffff_ffffffffL)).isEqualTo(EPERM);

        assertThat(run(f, nr("socket"), 2, 1, 0)).as("AF_INET").isEqualTo(ALLOW);
        assertThat(run(f, nr("socket"), 40, 1, 0)).as("AF_VSOCK").isEqualTo(EPERM);
        assertThat(run(f, nr("socket"), 0x1_00000028L)).isEqualTo(ALLOW);

        int clone = nr("clone");
        assertThat(run(f, clone, 17)).as("fork").isEqualTo(ALLOW);
        assertThat(run(f, clone, 0x3d0f00)).as("thread").isEqualTo(ALLOW);
        assertThat(run(f, clone, 0x00020000 | 17)).as("CLONE_NEWNS").isEqualTo(EPERM);
        assertThat(run(f, clone, 0x10000000 | 17)).as("CLONE_NEWUSER").isEqualTo(EPERM);
        assertThat(run(f, clone, 17, 0x00020000)).as("s390 rule does not apply").isEqualTo(ALLOW);
        assertThat(run(f, nr("clone3"))).isEqualTo(ENOSYS);
        assertThat(run(f, nr("mount"))).isEqualTo(EPERM);
        assertThat(run(f, nr("unshare"))).isEqualTo(EPERM);
        assertThat(run(f, nr("chroot"))).isEqualTo(EPERM);

        // Above the highest syscall the profile names (futex_waitv, 449): ENOSYS, as runc does.
        assertThat(run(f, nr("futex_waitv") + 1)).isEqualTo(ENOSYS);
        assertThat(run(f, nr("mseal"))).isEqualTo(ENOSYS);
        assertThat(run(f, 0x40000000 | nr("read"))).as("x32").isEqualTo(EPERM);
        assertThat(BpfInterpreter.runArch(f, BpfInterpreter.AUDIT_ARCH_I386, 3)).isEqualTo(0x80000000);
    }

    @Test
    void dockerStyleProfileWithCapabilities() throws Exception {
        byte[] f = SeccompFilters.fromOciProfile(DOCKERISH, "profile.json",
                Set.of(Capability.SYS_ADMIN, Capability.SYS_CHROOT));
        assertThat(run(f, nr("mount"))).isEqualTo(ALLOW);
        assertThat(run(f, nr("clone"), 0x10000000 | 17)).isEqualTo(ALLOW);
        assertThat(run(f, nr("clone3"))).isEqualTo(ALLOW);
        assertThat(run(f, nr("chroot"))).isEqualTo(ALLOW);
        assertThat(run(f, nr("getppid"))).isEqualTo(EPERM);
    }

    @Test
    void minKernelComparesWithTheGivenKernel() throws Exception {
        String json = """
                {"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
                  {"names": ["ptrace"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "6.20"}},
                  {"names": ["read"], "action": "SCMP_ACT_ALLOW", "excludes": {"minKernel": "6.20"}},
                  {"names": ["write"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "6.18"}},
                  {"names": ["listns"], "action": "SCMP_ACT_ALLOW"}]}
                """;
        byte[] old = OciProfile.compile(json, "p", Set.of(), OciProfile.kernelVersion("6.18.44-fc-v595"));
        assertThat(run(old, nr("ptrace"))).isEqualTo(EPERM);
        assertThat(run(old, nr("read"))).isEqualTo(ALLOW);
        assertThat(run(old, nr("write"))).isEqualTo(ALLOW);
        byte[] later = OciProfile.compile(json, "p", Set.of(), OciProfile.kernelVersion("7.0.1"));
        assertThat(run(later, nr("ptrace"))).isEqualTo(ALLOW);
        assertThat(run(later, nr("read"))).isEqualTo(EPERM);
    }

    @Test
    void firstMatchingRuleWins() throws Exception {
        byte[] f = compile("""
                {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
                  {"names": ["read"], "action": "SCMP_ACT_ERRNO", "errnoRet": 5,
                   "args": [{"index": 0, "value": 3, "op": "SCMP_CMP_EQ"}]},
                  {"names": ["read", "write"], "action": "SCMP_ACT_ERRNO", "errnoRet": 6},
                  {"names": ["read"], "action": "SCMP_ACT_ERRNO", "errnoRet": 7},
                  {"name": "close", "action": "SCMP_ACT_TRAP"},
                  {"names": ["getpid"], "action": "SCMP_ACT_LOG"},
                  {"names": ["gettid"], "action": "SCMP_ACT_KILL"},
                  {"names": ["getppid"], "action": "SCMP_ACT_ERRNO"}]}
                """);
        assertThat(run(f, nr("read"), 3)).isEqualTo(ERRNO | 5);
        assertThat(run(f, nr("read"), 4)).isEqualTo(ERRNO | 6);
        assertThat(run(f, nr("write"), 3)).isEqualTo(ERRNO | 6);
        assertThat(run(f, nr("close"))).isEqualTo(0x00030000);
        assertThat(run(f, nr("getpid"))).isEqualTo(0x7ffc0000);
        assertThat(run(f, nr("gettid"))).isEqualTo(0);
        assertThat(run(f, nr("getppid"))).isEqualTo(EPERM);
        assertThat(run(f, nr("openat"))).isEqualTo(ALLOW);
        assertThat(run(f, 1000)).as("no ENOSYS cut-off when the default allows").isEqualTo(ALLOW);
    }

    @Test
    void conditionsOnDifferentArgumentsAllHoldButOnTheSameArgumentAnyDoes() throws Exception {
        byte[] f = compile("""
                {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
                  {"names": ["read"], "action": "SCMP_ACT_ERRNO", "errnoRet": 9, "args": [
                    {"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}, {"index": 2, "value": 100, "op": "SCMP_CMP_GT"}]},
                  {"names": ["write"], "action": "SCMP_ACT_ERRNO", "errnoRet": 9, "args": [
                    {"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}, {"index": 0, "value": 2, "op": "SCMP_CMP_EQ"}]}]}
                """);
        assertThat(run(f, nr("read"), 1, 0, 101)).isEqualTo(ERRNO | 9);
        assertThat(run(f, nr("read"), 1, 0, 100)).isEqualTo(ALLOW);
        assertThat(run(f, nr("read"), 2, 0, 101)).isEqualTo(ALLOW);
        assertThat(run(f, nr("write"), 1)).isEqualTo(ERRNO | 9);
        assertThat(run(f, nr("write"), 2)).isEqualTo(ERRNO | 9);
        assertThat(run(f, nr("write"), 3)).isEqualTo(ALLOW);
    }

    /** Every comparison against Java's unsigned arithmetic, around the word boundaries. */
    @Test
    void comparisonsAreUnsigned64Bit() throws Exception {
        long[] operands = {0, 5, 0xffffffffL, 0x1_00000000L, 0x1_00000005L, 0x7fffffff_ffffffffL,
                0x80000000_00000000L, 0xffffffff_fffffffeL, -1L};
        long[] probes = {0, 1, 4, 5, 6, 0x7fffffffL, 0x80000000L, 0xfffffffeL, 0xffffffffL, 0x1_00000000L,
                0x1_00000004L, 0x1_00000005L, 0x1_00000006L, 0x2_00000000L, 0x7fffffff_ffffffffL,
                0x80000000_00000000L, 0xffffffff_00000005L, 0xffffffff_fffffffeL, -1L};
        for (String op : List.of("EQ", "NE", "LT", "LE", "GT", "GE", "MASKED_EQ")) {
            for (long v : operands) {
                long two = 0x1_00000004L;
                byte[] f = compile("""
                        {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO",
                          "errnoRet": 77, "args": [{"index": 3, "value": %s, "op": "SCMP_CMP_%s", "valueTwo": %s}]}]}
                        """.formatted(Long.toUnsignedString(v), op, Long.toUnsignedString(two)));
                for (long a : probes) {
                    int c = Long.compareUnsigned(a, v);
                    boolean holds = switch (op) {
                        case "EQ" -> c == 0;
                        case "NE" -> c != 0;
                        case "LT" -> c < 0;
                        case "LE" -> c <= 0;
                        case "GT" -> c > 0;
                        case "GE" -> c >= 0;
                        default -> (a & v) == two;
                    };
                    assertThat(run(f, nr("read"), 0, 0, 0, a))
                            .as("%s %s %s", Long.toHexString(a), op, Long.toHexString(v))
                            .isEqualTo(holds ? ERRNO | 77 : ALLOW);
                }
            }
        }
    }

    /** Rules far apart need jumps longer than 255 instructions; the assembler routes them through ja. */
    @Test
    void longProgramsJumpCorrectly() throws Exception {
        String rules = IntStream.range(0, 150).mapToObj(i -> """
                {"names": ["read", "pread64"], "action": "SCMP_ACT_ERRNO", "errnoRet": %d,
                 "args": [{"index": 0, "value": %d, "op": "SCMP_CMP_EQ"}, {"index": 1, "value": %d, "op": "SCMP_CMP_GE"}]}"""
                .formatted(i + 1, i, i * 1000L)).collect(Collectors.joining(",\n"));
        String allows = Syscalls.all().keySet().stream().filter(n -> n.hashCode() % 3 != 0 && !n.matches("read|pread64|write"))
                .map(n -> "\"" + n + "\"").collect(Collectors.joining(","));
        byte[] f = compile("""
                {"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 13, "syscalls": [%s,
                 {"names": [%s], "action": "SCMP_ACT_ALLOW"},
                 {"names": ["write"], "action": "SCMP_ACT_ERRNO", "errnoRet": 99}]}
                """.formatted(rules, allows));
        assertThat(f.length / 8).isGreaterThan(1500).isLessThanOrEqualTo(4096);
        assertThat(IntStream.range(0, f.length / 8).filter(i -> f[i * 8] == Bpf.JMP_JA && f[i * 8 + 1] == 0).count())
                .as("long jumps through ja").isPositive();
        for (int i = 0; i < 150; i += 7) {
            assertThat(run(f, nr("read"), i, i * 1000L)).isEqualTo(ERRNO | (i + 1));
            assertThat(run(f, nr("pread64"), i, i * 1000L + 5)).isEqualTo(ERRNO | (i + 1));
            assertThat(run(f, nr("read"), i, i * 1000L - 1)).isEqualTo(i == 0 ? ERRNO | 1 : ERRNO | 13);
        }
        assertThat(run(f, nr("write"))).isEqualTo(ERRNO | 99);
        for (var e : Syscalls.all().entrySet()) {
            if (e.getKey().matches("read|pread64|write")) continue;
            int expected = e.getKey().hashCode() % 3 != 0 ? ALLOW : ERRNO | 13;
            assertThat(run(f, e.getValue())).as(e.getKey()).isEqualTo(expected);
        }
    }

    @Test
    void oldDockerFormatAndOciSpecFieldsAreAccepted() throws Exception {
        byte[] f = compile("""
                {"defaultAction": "SCMP_ACT_ERRNO",
                 "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
                 "flags": [], "listenerPath": "", "syscalls": [
                   {"name": "read", "action": "SCMP_ACT_ALLOW", "args": []},
                   {"name": "write", "action": "SCMP_ACT_ALLOW", "args": null, "includes": {}, "excludes": {}},
                   {"names": ["close"], "action": "SCMP_ACT_ERRNO"}]}
                """);
        assertThat(run(f, nr("read"))).isEqualTo(ALLOW);
        assertThat(run(f, nr("write"))).isEqualTo(ALLOW);
        assertThat(run(f, nr("open"))).isEqualTo(EPERM);
        assertThat(run(f, nr("close"))).isEqualTo(EPERM);
        assertThat(run(f, nr("fstat"))).as("above the highest named").isEqualTo(ENOSYS);
    }

    // ---- errors ----

    @Test
    void malformedJsonNamesLineAndColumn() {
        assertThat(problems("{\"defaultAction\": \"SCMP_ACT_ALLOW\",\n  \"syscalls\": [}\n"))
                .singleElement().asString().startsWith("profile.json:2:16: malformed JSON: ");
        assertThat(problems("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"defaultAction\": \"SCMP_ACT_LOG\"}"))
                .singleElement().asString().startsWith("profile.json:1:").contains("malformed JSON: Duplicate field");
        assertThat(problems("")).containsExactly("profile.json: empty document");
    }

    @Test
    void unknownKeysAreNamedByPointer() {
        assertThat(problems("""
                {"defaultAction": "SCMP_ACT_ALLOW", "defaultActoin": 1, "syscalls": [
                  {"names": ["read"], "action": "SCMP_ACT_ERRNO", "errnoret": 1,
                   "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ", "vaule2": 3}],
                   "includes": {"capabilities": ["CAP_SYS_ADMIN"]}}]}
                """)).containsExactlyInAnyOrder(
                "/defaultActoin: unknown key; did you mean \"defaultAction\"?",
                "/syscalls/0/errnoret: unknown key; did you mean \"errnoRet\"?",
                "/syscalls/0/args/0/vaule2: unknown key; did you mean \"value\"?",
                "/syscalls/0/includes/capabilities: unknown key");
    }

    @Test
    void unknownSyscallNames() {
        assertThat(problems("""
                {"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
                  {"names": ["read"], "action": "SCMP_ACT_ALLOW"},
                  {"names": ["write"], "action": "SCMP_ACT_ALLOW"},
                  {"names": ["chown32", "sync_file_range2", "recv"], "action": "SCMP_ACT_ALLOW"},
                  {"names": ["close", "fooo"], "action": "SCMP_ACT_ALLOW"},
                  {"name": "opne", "action": "SCMP_ACT_ALLOW"},
                  {"names": ["s390_nonsense"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["s390x"]}},
                  {"names": ["typo_here"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}}]}
                """)).containsExactly(
                "/syscalls/3/names/1: unknown syscall \"fooo\"",
                "/syscalls/4/name: unknown syscall \"opne\"",
                "/syscalls/6/names/0: unknown syscall \"typo_here\"");
    }

    @Test
    void unsupportedActions() {
        assertThat(problems("""
                {"defaultAction": "SCMP_ACT_NOTIFY", "syscalls": [
                  {"names": ["read"], "action": "SCMP_ACT_TRACE"},
                  {"names": ["write"], "action": "SCMP_ACT_ALOW"},
                  {"names": ["close"], "action": "SCMP_ACT_ALLOW", "errnoRet": 1},
                  {"names": ["close"], "action": "SCMP_ACT_ERRNO", "errnoRet": 5000}]}
                """)).containsExactly(
                "/defaultAction: SCMP_ACT_NOTIFY is not supported: corral has no seccomp notification listener",
                "/syscalls/0/action: SCMP_ACT_TRACE is not supported: corral runs no tracer",
                "/syscalls/1/action: unknown action \"SCMP_ACT_ALOW\"",
                "/syscalls/2/errnoRet: applies only to SCMP_ACT_ERRNO, not SCMP_ACT_ALLOW",
                "/syscalls/3/errnoRet: expected an errno from 0 to 4095, found the number 5000");
    }

    @Test
    void badArguments() {
        assertThat(problems("""
                {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
                  {"names": ["read"], "action": "SCMP_ACT_ERRNO", "args": [
                    {"index": 7, "value": 1, "op": "SCMP_CMP_EQ"},
                    {"index": 0, "value": -1, "op": "SCMP_CMP_EQ"},
                    {"index": 0, "value": 18446744073709551616, "op": "SCMP_CMP_EQ"},
                    {"index": 1, "value": 1, "op": "SCMP_CMP_EQUAL"},
                    {"index": "1", "op": "SCMP_CMP_EQ"}]}]}
                """)).containsExactly(
                "/syscalls/0/args/0/index: expected an argument index from 0 to 5, found the number 7",
                "/syscalls/0/args/1/value: expected a whole number from 0 to 18446744073709551615, found the number -1",
                "/syscalls/0/args/2/value: expected a whole number from 0 to 18446744073709551615, found the number 18446744073709551616",
                "/syscalls/0/args/3/op: unknown comparison \"SCMP_CMP_EQUAL\"; expected one of SCMP_CMP_EQ, SCMP_CMP_GE, "
                        + "SCMP_CMP_GT, SCMP_CMP_LE, SCMP_CMP_LT, SCMP_CMP_MASKED_EQ, SCMP_CMP_NE",
                "/syscalls/0/args/4/index: expected an argument index from 0 to 5, found the string \"1\"",
                "/syscalls/0/args/4: missing \"value\"");
    }

    @Test
    void architectures() {
        assertThat(problems("""
                {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_AARCH64", "SCMP_ARCH_Z80"]}
                """)).containsExactly(
                "/architectures/1: SCMP_ARCH_AARCH64 is not supported: corral makes filters for x86_64 only",
                "/architectures/2: unknown architecture \"SCMP_ARCH_Z80\"");
        assertThat(problems("""
                {"defaultAction": "SCMP_ACT_ALLOW", "archMap": [
                  {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]}]}
                """)).containsExactly("/archMap: no entry for SCMP_ARCH_X86_64: this profile is for other machines");
        assertThat(problems("""
                {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"], "archMap": [
                  {"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_ARM"]}]}
                """)).containsExactly(
                "/archMap: use either \"architectures\" or \"archMap\", not both",
                "/archMap/0/subArchitectures/0: SCMP_ARCH_ARM is not supported: corral makes filters for x86_64 only");
    }

    @Test
    void structuralProblemsAreAllReported() {
        assertThat(problems("""
                {"syscalls": [{"action": "SCMP_ACT_ALLOW"}, {"names": "read", "action": 1}, 3,
                  {"names": ["read"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_FLY"], "minKernel": "new"}}],
                 "flags": ["SECCOMP_FILTER_FLAG_LOG"], "listenerPath": "/run/l.sock"}
                """)).containsExactlyInAnyOrder(
                "/: missing \"defaultAction\"",
                "/flags: not supported: corral loads the filter without flags",
                "/listenerPath: not supported: corral has no seccomp notification listener",
                "/syscalls/0: missing \"names\"",
                "/syscalls/1/names: expected an array, found the string \"read\"",
                "/syscalls/1/action: expected a string, found the number 1",
                "/syscalls/2: expected an object, found the number 3",
                "/syscalls/3/includes/caps/0: unknown capability \"CAP_FLY\"",
                "/syscalls/3/includes/minKernel: expected a kernel version such as \"4.8\", found \"new\"");
        assertThat(problems("[]")).containsExactly("/: expected an object, found an array");
    }

    @Test
    void tooLongForTheKernel() {
        String rules = IntStream.range(0, 1000).mapToObj(i -> """
                {"names": ["read"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": %d, "op": "SCMP_CMP_EQ"}]}"""
                .formatted(i)).collect(Collectors.joining(","));
        assertThat(problems("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [" + rules + "]}"))
                .singleElement().asString().matches("/syscalls: the filter needs \\d+ BPF instructions; the kernel takes at most 4096");
    }

    @Test
    void kernelVersions() {
        assertThat(OciProfile.kernelVersion("6.18.44-fc-v595")).containsExactly(6, 18, 44);
        assertThat(OciProfile.kernelVersion("5.4")).containsExactly(5, 4, 0);
        assertThat(OciProfile.kernelVersion("weird")).containsExactly(0, 0, 0);
    }
}
