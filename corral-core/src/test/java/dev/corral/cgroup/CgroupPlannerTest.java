package dev.corral.cgroup;

import dev.corral.spec.CgroupSpec;
import dev.corral.spec.Labels;
import dev.corral.spec.Problem;
import dev.corral.spec.Quantities;
import dev.corral.spec.ResourceLimits;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The cgroup decisions against made-up hosts: v1, v2, writable or not. */
class CgroupPlannerTest {
    static final CgroupView.Capacity HOST = new CgroupView.Capacity(8L << 30, 4, "0-3", 32768, 0);
    static final Labels FLAGS = Labels.of(Map.of("limits.memory", "--memory", "limits.pids", "--pids",
            "limits.cpu", "--cpu", "limits.cpuset", "--cpuset", "limits.cpuWeight", "--cpu-weight",
            "limits.ioWeight", "--io-weight", "limits.memorySwap", "--memory-swap", "cgroupPath", "--cgroup-path"));

    static CgroupView.Hierarchy v1(String controller, boolean writable) {
        return new CgroupView.Hierarchy(Set.of(controller), "/cg/" + controller, "/cg/" + controller + "/me", writable,
                Set.of(), false, 0, false);
    }

    static CgroupView v1Host(boolean writable, String... controllers) {
        List<CgroupView.Hierarchy> hs = new ArrayList<>();
        for (String c : controllers) hs.add(v1(c, writable));
        return new CgroupView(CgroupVersion.V1, null, hs, HOST);
    }

    static CgroupView v2Host(Set<String> available, Set<String> enabled, boolean root, int others, boolean writable) {
        var h = new CgroupView.Hierarchy(available, "/cg", root ? "/cg" : "/cg/user/me", writable, enabled, root, others, true);
        return new CgroupView(CgroupVersion.V2, null, List.of(h), HOST);
    }

    final List<Problem> problems = new ArrayList<>();

    Optional<CgroupPlan> plan(CgroupSpec spec, CgroupView view) {
        return CgroupPlanner.plan(spec, view, FLAGS, problems);
    }

    static CgroupSpec limits(ResourceLimits l) {
        return new CgroupSpec(CgroupSpec.Mode.AUTO, null, l);
    }

    List<String> messages() {
        return problems.stream().map(Problem::toString).toList();
    }

    @Test
    void v1WritesEachLimitInItsHierarchyAndKillsThroughTheFreezer() {
        ResourceLimits l = ResourceLimits.NONE.withMemory(64L << 20).withPids(32L).withCpu(0.2).withCpuWeight(50L);
        CgroupPlan p = plan(limits(l), v1Host(true, "memory", "pids", "cpu", "cpuacct", "freezer")).orElseThrow();
        assertThat(problems).isEmpty();
        assertThat(p.version()).isEqualTo(CgroupVersion.V1);
        assertThat(p.dirs()).extracting(CgroupPlan.Dir::path).containsExactly("/cg/memory/me/corral-*",
                "/cg/pids/me/corral-*", "/cg/cpu/me/corral-*", "/cg/cpuacct/me/corral-*", "/cg/freezer/me/corral-*");
        assertThat(p.dirs().get(0).settings()).containsExactly(
                new CgroupPlan.Setting("memory.limit_in_bytes", "67108864", false),
                // no swap unless asked for, where the host can say so
                new CgroupPlan.Setting("memory.memsw.limit_in_bytes", "67108864", true));
        assertThat(p.dirs().get(1).settings()).containsExactly(new CgroupPlan.Setting("pids.max", "32", false));
        assertThat(p.dirs().get(2).settings()).containsExactly(new CgroupPlan.Setting("cpu.cfs_period_us", "100000", false),
                new CgroupPlan.Setting("cpu.cfs_quota_us", "20000", false), new CgroupPlan.Setting("cpu.shares", "512", false));
        assertThat(p.dirs()).extracting(CgroupPlan.Dir::kill).containsExactly(CgroupPlan.Kill.NONE, CgroupPlan.Kill.NONE,
                CgroupPlan.Kill.NONE, CgroupPlan.Kill.NONE, CgroupPlan.Kill.FREEZE);
    }

    @Test
    void v1WithoutAFreezerKillsBySignalsAndSaysSo() {
        CgroupPlan p = plan(limits(ResourceLimits.NONE.withPids(8L)), v1Host(true, "pids", "memory")).orElseThrow();
        assertThat(p.dirs().getFirst().kill()).isEqualTo(CgroupPlan.Kill.SIGNAL);
        assertThat(p.notes()).anyMatch(n -> n.contains("freezer"));
    }

    @Test
    void v2EnablesWhatItNeedsAndWritesTheUnifiedFiles() {
        ResourceLimits l = ResourceLimits.NONE.withMemory(1L << 30).withMemorySwap(0L).withPids(100L).withCpu(1.5)
                .withIoWeight(300L).withCpuset("1-2");
        CgroupPlan p = plan(limits(l), v2Host(Set.of("memory", "pids", "cpu", "io", "cpuset"), Set.of("cpu"), true, 5, true))
                .orElseThrow();
        assertThat(problems).isEmpty();
        assertThat(p.moveSelfTo()).as("the root cgroup may hold processes").isNull();
        assertThat(p.enable()).containsExactly("memory", "pids", "io", "cpuset");
        CgroupPlan.Dir d = p.dirs().getFirst();
        assertThat(d.path()).isEqualTo("/cg/corral-*");
        assertThat(d.kill()).isEqualTo(CgroupPlan.Kill.KILL);
        assertThat(d.settings()).extracting(s -> s.file() + "=" + s.value()).containsExactly("memory.max=1073741824",
                "memory.swap.max=0", "pids.max=100", "cpu.max=150000 100000", "io.weight=default 300", "cpuset.cpus=1-2");
    }

    @Test
    void v2MovesCorralIntoALeafBeforeGivingItsChildrenControllers() {
        CgroupPlan p = plan(limits(ResourceLimits.NONE.withPids(10L)), v2Host(Set.of("pids", "memory"), Set.of(), false, 0, true))
                .orElseThrow();
        assertThat(p.moveSelfTo()).isEqualTo("/cg/user/me/corral-supervisor");
        assertThat(p.enable()).containsExactly("pids", "memory");
        assertThat(p.parent()).isEqualTo("/cg/user/me");
    }

    @Test
    void v2RefusesALimitWhenOtherProcessesShareCorralsCgroup() {
        assertThat(plan(limits(ResourceLimits.NONE.withPids(10L)), v2Host(Set.of("pids"), Set.of(), false, 2, true))).isEmpty();
        assertThat(messages()).singleElement().asString().startsWith("--pids: /cg/user/me holds 2 other process(es)")
                .contains("systemd-run --user --scope -p Delegate=yes");
    }

    @Test
    void v2WithoutTheControllerFailsClosed() {
        assertThat(plan(limits(ResourceLimits.NONE.withMemory(1L << 20)), v2Host(Set.of("hugetlb"), Set.of(), true, 0, true)))
                .isEmpty();
        assertThat(messages()).singleElement().asString()
                .startsWith("--memory: the memory controller is not available to children of /cg (its cgroup.controllers: hugetlb)");
    }

    @Test
    void aLimitWithoutAWritableCgroupFailsClosedWithHowToDelegate() {
        assertThat(plan(limits(ResourceLimits.NONE.withMemory(1L << 20)), v1Host(false, "memory", "pids"))).isEmpty();
        assertThat(messages()).singleElement().asString().startsWith("--memory: corral cannot create cgroups in /cg/memory/me.")
                .contains("chown");
        problems.clear();
        assertThat(plan(limits(ResourceLimits.NONE.withPids(5L)), CgroupView.none("no cgroup file system is mounted", HOST))).isEmpty();
        assertThat(messages()).containsExactly("--pids: needs a cgroup, but no cgroup file system is mounted");
    }

    @Test
    void withoutLimitsAnUnwritableHostMeansNoCgroupAndNoError() {
        assertThat(plan(CgroupSpec.DEFAULT, v1Host(false, "memory", "pids"))).isEmpty();
        assertThat(plan(CgroupSpec.DEFAULT, v2Host(Set.of(), Set.of(), false, 0, false))).isEmpty();
        assertThat(problems).isEmpty();
        // ...unless the caller requires one (corral run --stats).
        assertThat(plan(new CgroupSpec(CgroupSpec.Mode.REQUIRED, null, ResourceLimits.NONE), v1Host(false, "pids"))).isEmpty();
        assertThat(problems).hasSize(1);
    }

    @Test
    void valuesAreCheckedAgainstTheHost() {
        ResourceLimits l = new ResourceLimits(0L, 1L << 20, -1L, 64.0, 0L, 20000L, "0-7");
        assertThat(plan(limits(l), v1Host(true, "memory", "pids", "cpu", "blkio", "cpuset"))).isEmpty();
        assertThat(messages()).containsExactly(
                "--memory: must be more than 0",
                "--memory-swap: 1M is more swap than this host has (0)",
                "--pids: must be at least 1",
                "--cpu: 64.0 cores is more than this host has (4)",
                "--cpu-weight: must be between 1 and 10000 (100 is the default), not 0",
                "--io-weight: must be between 1 and 10000 (100 is the default), not 20000",
                "--cpuset: CPUs {4, 5, 6, 7} are not online here (online: 0-3)");
        problems.clear();
        plan(limits(ResourceLimits.NONE.withMemory(16L << 30).withPids(1L << 40).withCpu(0.001).withCpuset("2-1")),
                v1Host(true, "memory", "pids", "cpu", "cpuset"));
        assertThat(messages()).containsExactly(
                "--memory: 16G is more than this host has (8G)",
                "--pids: 1099511627776 is more than kernel.pid_max (32768)",
                "--cpu: must be at least 0.01 (1% of a core): the kernel's smallest quota is 1 ms",
                "--cpuset: \"2-1\" is not a CPU list such as 0-3 or 0,2");
    }

    @Test
    void unitsCgroupPathIsRelativeToCorralsOwnOrAbsolute() {
        CgroupView host = v1Host(true, "pids", "freezer");
        CgroupPlan rel = plan(new CgroupSpec(CgroupSpec.Mode.AUTO, "apps/web/", ResourceLimits.NONE), host).orElseThrow();
        assertThat(rel.dirs()).extracting(CgroupPlan.Dir::path).containsExactly("/cg/pids/me/apps/web", "/cg/freezer/me/apps/web");
        CgroupPlan abs = plan(new CgroupSpec(CgroupSpec.Mode.AUTO, "/srv/web", ResourceLimits.NONE), host).orElseThrow();
        assertThat(abs.dirs()).extracting(CgroupPlan.Dir::path).containsExactly("/cg/pids/srv/web", "/cg/freezer/srv/web");
        assertThat(plan(new CgroupSpec(CgroupSpec.Mode.AUTO, "../escape", ResourceLimits.NONE), host)).isEmpty();
        assertThat(messages()).containsExactly("--cgroup-path: must not contain \".\" or \"..\": ../escape");
    }

    @Test
    void sizesAndCpuAmountsParse() {
        assertThat(Quantities.bytes("256M")).isEqualTo(256L << 20);
        assertThat(Quantities.bytes("1g")).isEqualTo(1L << 30);
        assertThat(Quantities.bytes("64MiB")).isEqualTo(64L << 20);
        assertThat(Quantities.bytes("4096")).isEqualTo(4096);
        assertThat(Quantities.cores("50%")).isEqualTo(0.5);
        assertThat(Quantities.cores("0.25")).isEqualTo(0.25);
        assertThat(Quantities.cores("2")).isEqualTo(2.0);
        assertThatThrownBy(() -> Quantities.bytes("12XB")).hasMessageStartingWith("\"12XB\" is not a size");
        assertThatThrownBy(() -> Quantities.bytes("-5M")).hasMessage("must be positive, not -5M");
        assertThatThrownBy(() -> Quantities.bytes("99999999999T")).hasMessage("\"99999999999T\" is too large");
        assertThatThrownBy(() -> Quantities.cores("half")).hasMessageStartingWith("\"half\" is not a CPU amount");
    }
}
