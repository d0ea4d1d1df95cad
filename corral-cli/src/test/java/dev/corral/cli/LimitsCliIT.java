package dev.corral.cli;

import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

/** corral run with cgroup limits, as a user types it. */
class LimitsCliIT {
    static final boolean ROOT = new com.sun.security.auth.module.UnixSystem().getUid() == 0;

    @Test
    void aMemoryHogIsReportedAsOutOfMemory() throws Exception {
        assumeThat(ROOT).isTrue();
        Cli.Result r = Cli.run("run", "--memory", "64M", "--stats", "--",
                "sh", "-c", "x=$(head -c 512m /dev/zero | tr '\\0' a); echo survived");
        System.out.println("LimitsCliIT: " + r.err().lines().filter(l -> l.contains("driver")).findFirst().orElse("no driver line"));
        assertThat(r.status()).isEqualTo(137);
        assertThat(r.out()).doesNotContain("survived");
        assertThat(r.err()).contains("corral: the jail hit its memory limit: the kernel killed 1 process in it (out of memory)")
                .containsPattern("corral: cgroup driver +v[12]")
                .containsPattern("corral: memory peak +67108864 ")
                .containsPattern("corral: oom kills +1");
    }

    /** A limit below what the jail's own set-up needs: killed before the program, and said so. */
    @Test
    void aMemoryLimitTooSmallForTheSetUpIsNamed() throws Exception {
        assumeThat(ROOT).isTrue();
        // Whether the kernel kills the set-up or the program just after its exec is a race: either
        // way the message says it is the memory limit.
        Cli.Result r = Cli.run("run", "--memory", "1", "--", "true");
        if (r.status() == 125) {
            assertThat(r.err()).isEqualTo("corral: the executor ended before the program started (status 137); killed, most likely by"
                    + " the kernel for the jail's memory limit, which its own set-up already exceeds (--memory / limits.memory too small)\n");
        } else {
            assertThat(r.status()).as(r.err()).isEqualTo(137);
            assertThat(r.err()).startsWith("corral: the jail hit its memory limit: the kernel killed");
        }
    }

    @Test
    void dryRunShowsTheCgroupAndWhatIsWritten() throws Exception {
        assumeThat(ROOT).isTrue();
        Cli.Result r = Cli.run("run", "--dry-run", "--pids", "32", "--cpu", "50%", "--", "true");
        assertThat(r.status()).isZero();
        assertThat(r.out()).containsPattern("create cgroup /sys/fs/cgroup/\\S*corral-\\* \\(v[12]: [^)]*pids[^)]*\\) and write pids.max=32")
                .containsPattern("cpu.cfs_quota_us=50000|cpu.max=50000 100000")
                .contains("enter a new cgroup namespace: the jail's cgroup is its /");
    }

    @Test
    void invalidValuesAreRejectedWithTheFlagAndTheReason() throws Exception {
        Cli.Result r = Cli.run("run", "--memory", "12XB", "--pids", "0", "--cpu", "-1", "--memory-swap", "-5M",
                "--cpu-weight", "lots", "--", "true");
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err().lines().toList()).containsExactlyInAnyOrder(
                "corral: --memory 12XB: \"12XB\" is not a size; expected a whole number of bytes, optionally with K, M, G or T (powers of 1024), such as 256M",
                "corral: --cpu -1: must be positive, not -1",
                "corral: --memory-swap -5M: must be positive, not -5M",
                "corral: --cpu-weight lots: expected a whole number");
        Cli.Result host = Cli.run("run", "--pids", "0", "--memory", "64T", "--cpu", "4096", "--cpuset", "0-4095", "--", "true");
        assertThat(host.status()).isEqualTo(2);
        assertThat(host.err()).contains("corral: --pids: must be at least 1")
                .containsPattern("corral: --memory: 64T is more than this host has \\(\\S+\\)")
                .containsPattern("corral: --cpu: 4096.0 cores is more than this host has \\(\\d+\\)")
                .containsPattern("corral: --cpuset: CPUs \\{.*\\} are not online here");
    }

    @Test
    void theCgroupIsGoneAfterCorralIsSigkilled() throws Exception {
        assumeThat(ROOT).isTrue();
        String tag = "4242." + ProcessHandle.current().pid(); // sleep times nobody else uses
        Process p = new ProcessBuilder(Cli.command(List.of(), "run", "--pids", "50", "--share-pid", "--",
                "sh", "-c", "(sleep " + tag + "1 &); echo up; exec sleep " + tag + "2"))
                .redirectErrorStream(true).start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream()));
            assertThat(out.readLine()).isEqualTo("up");
            // The jail's pids cgroup, as the host sees it ("up" comes just before the exec).
            java.util.Optional<ProcessHandle> jail = java.util.Optional.empty();
            for (int i = 0; i < 500 && jail.isEmpty(); i++) {
                if (i > 0) Thread.sleep(10);
                jail = sleepers(tag + "2").stream().findFirst();
            }
            String pidsLine = Files.readAllLines(Path.of("/proc/" + jail.orElseThrow().pid() + "/cgroup")).stream()
                    .filter(l -> l.matches("\\d+:pids:.*") || l.startsWith("0::")).findFirst().orElseThrow();
            p.toHandle().destroyForcibly(); // SIGKILL: the JVM gets no say
            p.waitFor(10, TimeUnit.SECONDS);
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (System.nanoTime() < deadline && !sleepers(tag).isEmpty()) Thread.sleep(20);
            assertThat(sleepers(tag)).as("the jail and its orphan are gone").isEmpty();
            String cgroup = pidsLine.substring(pidsLine.lastIndexOf(':') + 1);
            assertThat(cgroup).contains("corral-");
            Path dir = Path.of(pidsLine.startsWith("0::") ? "/sys/fs/cgroup" : "/sys/fs/cgroup/pids", cgroup);
            while (System.nanoTime() < deadline && Files.exists(dir)) Thread.sleep(20);
            assertThat(dir).as("the jail's cgroup after corral was SIGKILLed").doesNotExist();
        } finally {
            p.toHandle().destroyForcibly();
            sleepers(tag).forEach(ProcessHandle::destroyForcibly);
        }
    }

    private static List<ProcessHandle> sleepers(String tag) {
        return ProcessHandle.allProcesses().filter(h -> h.info().arguments()
                .map(a -> a.length == 1 && a[0].startsWith(tag)).orElse(false)).toList();
    }

    @Test
    void aNormalUserWithoutADelegatedCgroupIsToldHowToGetOne() throws Exception {
        assumeThat(ROOT).as("switches to nobody with setpriv").isTrue();
        Cli.Result r = Cli.runAs(Cli.NOBODY, "run", "--memory", "64M", "--", "true");
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err()).startsWith("corral: --memory: corral cannot create cgroups in ")
                .contains("chown").contains("Delegate=yes");
        // Without a limit the same user runs, in the caller's cgroup.
        Cli.Result plain = Cli.runAs(Cli.NOBODY, "run", "--", "true");
        assertThat(plain.err()).isEmpty();
        assertThat(plain.status()).isZero();
        Cli.Result stats = Cli.runAs(Cli.NOBODY, "run", "--stats", "--", "true");
        assertThat(stats.status()).isEqualTo(2);
        assertThat(stats.err()).startsWith("corral: --stats: corral cannot create cgroups in ");
    }

    @Test
    void aNormalUserUsesACgroupDelegatedToIt() throws Exception {
        assumeThat(ROOT).as("sets up the delegation as root").isTrue();
        Path pids = Path.of("/sys/fs/cgroup/pids");
        assumeThat(pids.resolve("pids.max").toFile().exists() || Files.exists(pids.resolve("cgroup.procs")))
                .as("a v1 pids hierarchy").isTrue();
        Cli.Result r = inDelegatedCgroup(pids, List.of(), "run", "--pids", "10", "--stats", "--", "cat", "/proc/self/cgroup");
        assertThat(r.err()).contains("corral: pids current").containsPattern("cgroup driver +v1");
        assertThat(r.status()).isZero();
        assertThat(r.out()).containsPattern("(?m)^\\d+:pids:/$");
    }

    /**
     * On cgroup v2 the jail is created in its cgroup by clone3 (CLONE_INTO_CGROUP) rather than
     * moved in after: the plan says so, the jail's processes are there from the start (its cgroup
     * namespace's root is its cgroup, its accounting counts them), and the cgroup is gone after.
     */
    @Test
    void onCgroupV2TheJailIsCreatedInItsCgroup() throws Exception {
        assumeThat(ROOT).isTrue();
        Path unified = Files.exists(Path.of("/sys/fs/cgroup/unified/cgroup.procs")) ? Path.of("/sys/fs/cgroup/unified")
                : Path.of("/sys/fs/cgroup");
        assumeThat(Files.exists(unified.resolve("cgroup.subtree_control"))).as("a cgroup2 mount").isTrue();
        List<String> v2 = List.of("env", "CORRAL_CGROUP=v2");
        Cli.Result plan = Cli.runAs(v2, "run", "--dry-run", "--", "true");
        assertThat(plan.status()).isZero();
        assertThat(plan.out()).contains("create cgroup " + unified + "/corral-")
                .contains("create the jail in its cgroup (clone3 with CLONE_INTO_CGROUP").doesNotContain("move it into its cgroup");
        Cli.Result r = Cli.runAs(v2, "run", "--stats", "--", "cat", "/proc/self/cgroup");
        assertThat(r.err()).containsPattern("cgroup driver +v2").containsPattern("cpu time");
        assertThat(r.status()).isZero();
        assertThat(r.out()).contains("0::/\n");
        // With the host's pid namespace an orphan outlives the jail's first process: only the
        // cgroup's kill at the end takes it, and then the cgroup can go. A path of its own, as
        // other tests may have jails on the same hierarchy right now.
        String path = "corral-test-born-in-" + ProcessHandle.current().pid();
        String marker = "1000." + ProcessHandle.current().pid();
        try {
            Cli.Result orphan = Cli.runAs(v2, "run", "--share-pid", "--cgroup-path", path, "--", "sh", "-c",
                    "(sleep " + marker + " &)");
            assertThat(orphan.status()).as(orphan.err()).isZero();
            assertThat(withArgument(marker).map(ProcessHandle::pid)).as("the orphan").isEmpty();
            assertThat(unified.resolve(path)).doesNotExist();
        } finally {
            // A failure must not leave the orphan and its cgroup on the machine.
            withArgument(marker).forEach(ProcessHandle::destroyForcibly);
            for (int i = 0; i < 50 && withArgument(marker).findAny().isPresent(); i++) Thread.sleep(20);
            Files.deleteIfExists(unified.resolve(path));
        }
    }

    @Test
    void aNormalUserGetsAccountingFromADelegatedV2Cgroup() throws Exception {
        assumeThat(ROOT).as("sets up the delegation as root").isTrue();
        Path unified = Files.exists(Path.of("/sys/fs/cgroup/unified/cgroup.procs")) ? Path.of("/sys/fs/cgroup/unified")
                : Path.of("/sys/fs/cgroup");
        assumeThat(Files.exists(unified.resolve("cgroup.subtree_control"))).as("a cgroup2 mount").isTrue();
        Cli.Result r = inDelegatedCgroup(unified, List.of("env", "CORRAL_CGROUP=v2"),
                "run", "--stats", "--", "sh", "-c", "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; cat /proc/self/cgroup");
        assertThat(r.err()).containsPattern("cgroup driver +v2").containsPattern("cpu time +0\\.\\d+ s");
        assertThat(r.status()).isZero();
        assertThat(r.out()).contains("0::/\n");
    }

    private static java.util.stream.Stream<ProcessHandle> withArgument(String argument) {
        return ProcessHandle.allProcesses().filter(h -> h.info().arguments().map(a -> List.of(a).contains(argument)).orElse(false));
    }

    /**
     * Runs corral as nobody from a cgroup root made and chowned to nobody, as an administrator
     * (or systemd's Delegate=yes) would, then removes it.
     */
    private static Cli.Result inDelegatedCgroup(Path hierarchy, List<String> prefix, String... args) throws Exception {
        Path delegated = hierarchy.resolve("corral-test-nobody-" + ProcessHandle.current().pid());
        Files.createDirectory(delegated);
        try {
            for (String f : List.of("", "cgroup.procs", "tasks", "cgroup.subtree_control", "cgroup.threads")) {
                Path p = f.isEmpty() ? delegated : delegated.resolve(f);
                if (Files.exists(p)) Files.setAttribute(p, "unix:uid", 65534);
            }
            List<String> cmd = new java.util.ArrayList<>(List.of("sh", "-c", "echo $$ > \"$0\"/cgroup.procs && exec \"$@\"",
                    delegated.toString()));
            cmd.addAll(prefix);
            cmd.addAll(Cli.command(Cli.NOBODY, args));
            Path out = Files.createTempFile("corral-cli-out", ".txt"), err = Files.createTempFile("corral-cli-err", ".txt");
            try {
                out.toFile().setWritable(true, false);
                err.toFile().setWritable(true, false);
                Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile())
                        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
                assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
                return new Cli.Result(p.exitValue(), Files.readString(out), Files.readString(err));
            } finally {
                Files.deleteIfExists(out);
                Files.deleteIfExists(err);
            }
        } finally {
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (true) {
                try {
                    Files.deleteIfExists(delegated);
                    break;
                } catch (java.nio.file.FileSystemException e) {
                    if (System.nanoTime() > deadline) throw e;
                    Thread.sleep(10);
                }
            }
        }
    }
}
