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
        Process p = new ProcessBuilder(Cli.command(List.of(), "run", "--pids", "50", "--share-pid", "--",
                "sh", "-c", "(sleep 4242.17 &); echo up; cat /proc/self/cgroup; exec sleep 4242.18"))
                .redirectErrorStream(true).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream()));
        assertThat(out.readLine()).isEqualTo("up");
        // The jail's pids cgroup, as the host sees it.
        String jailPid = ProcessHandle.allProcesses()
                .filter(h -> h.info().arguments().map(a -> a.length == 1 && a[0].equals("4242.18")).orElse(false))
                .map(h -> Long.toString(h.pid())).findFirst().orElseThrow();
        String pidsLine = Files.readAllLines(Path.of("/proc/" + jailPid + "/cgroup")).stream()
                .filter(l -> l.matches("\\d+:pids:.*") || l.startsWith("0::")).findFirst().orElseThrow();
        p.toHandle().destroyForcibly(); // SIGKILL: the JVM gets no say
        p.waitFor(10, TimeUnit.SECONDS);
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (System.nanoTime() < deadline && !sleepers().isEmpty()) Thread.sleep(20);
        assertThat(sleepers()).as("the jail and its orphan are gone").isEmpty();
        String cgroup = pidsLine.substring(pidsLine.lastIndexOf(':') + 1);
        assertThat(cgroup).contains("corral-");
        Path dir = Path.of(pidsLine.startsWith("0::") ? "/sys/fs/cgroup" : "/sys/fs/cgroup/pids", cgroup);
        while (System.nanoTime() < deadline && Files.exists(dir)) Thread.sleep(20);
        assertThat(dir).as("the jail's cgroup after corral was SIGKILLed").doesNotExist();
    }

    private static List<ProcessHandle> sleepers() {
        return ProcessHandle.allProcesses().filter(h -> h.info().commandLine()
                .map(c -> c.contains("sleep 4242.1")).orElse(false)).toList();
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
}
