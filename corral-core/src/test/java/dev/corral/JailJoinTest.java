package dev.corral;

import dev.corral.launch.Launcher;
import dev.corral.launch.LocalHost;
import dev.corral.plan.HostView;
import dev.corral.plan.LaunchPlan;
import dev.corral.plan.NamespaceFile;
import dev.corral.spec.Namespace;
import dev.corral.spec.SpecException;
import dev.corral.testing.Run;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assumptions.assumeThat;

/**
 * Joining real namespaces, as root: one made by {@code ip netns add} (ip is only the test's
 * reference tool, corral never runs it), and those of another running jail.
 */
class JailJoinTest {
    private static final String NETNS = "corral-test-" + ProcessHandle.current().pid();
    private JailedProcess other;

    @BeforeAll
    static void asRoot() {
        assumeThat(new com.sun.security.auth.module.UnixSystem().getUid()).as("joining needs root here").isZero();
    }

    @AfterEach
    void cleanUp() throws Exception {
        if (other != null) {
            other.destroyForcibly();
            assertThat(other.waitFor(10, TimeUnit.SECONDS)).isTrue();
        }
        if (netns != null) netns.close();
    }

    private dev.corral.testing.TestNetns netns;

    /** Another jail, kept running: its namespaces are the ones to join. */
    private String startOther() throws Exception {
        other = new JailBuilder().hostname("alpha").command("sleep", "1000").start();
        return "/proc/" + other.jailPid() + "/ns/";
    }

    private static String id(String nsPath) throws Exception {
        return Files.readSymbolicLink(Path.of(nsPath)).toString();
    }

    @Test
    void joinsANetworkNamespaceMadeByIpNetnsAdd() throws Exception {
        netns = dev.corral.testing.TestNetns.add(NETNS);
        String path = netns.path();
        long inode = (Long) Files.getAttribute(Path.of(path), "unix:ino");
        // The default jail otherwise: a new user namespace, made after the join.
        Run r = Run.of(new JailBuilder().join(Namespace.NET, path).command("sh", "-c",
                "readlink /proc/self/ns/net; readlink /proc/self/ns/user; busybox ip link set lo up 2>&1; exit 7"));
        assertThat(r.status()).as(r.err()).isEqualTo(7);
        List<String> lines = r.out().lines().toList();
        assertThat(lines.get(0)).isEqualTo("net:[" + inode + "]");
        assertThat(lines.get(1)).isNotEqualTo(id("/proc/self/ns/user"));
        // The host's user namespace owns it: root of the jail's cannot reconfigure it.
        assertThat(lines.get(2)).contains("Operation not permitted");
    }

    @Test
    void joinsTheUtsIpcAndTimeNamespacesOfAnotherJail() throws Exception {
        String ns = startOther();
        JailBuilder b = new JailBuilder().join(Namespace.UTS, ns + "uts").join(Namespace.IPC, ns + "ipc")
                .command("sh", "-c", "hostname; readlink /proc/self/ns/ipc; readlink /proc/self/ns/time");
        boolean time = Launcher.kernelHasTimeNamespace();
        if (time) b.join(Namespace.TIME, ns + "time");
        Run r = Run.of(b);
        assertThat(r.status()).as(r.err()).isZero();
        List<String> lines = r.out().lines().toList();
        assertThat(lines.get(0)).isEqualTo("alpha");
        assertThat(lines.get(1)).isEqualTo(id(ns + "ipc"));
        if (time) assertThat(lines.get(2)).isEqualTo(id(ns + "time")).isNotEqualTo(id("/proc/self/ns/time"));
    }

    @Test
    void joinsThePidNamespaceOfAnotherJailAndSeesItsProcesses() throws Exception {
        String ns = startOther();
        // With the user namespace that owns it, the jail may mount that pid namespace's /proc.
        Run r = Run.of(new JailBuilder().join(Namespace.USER, ns + "user").join(Namespace.PID, ns + "pid")
                .command("sh", "-c", "echo $$; cat /proc/1/comm; cat /proc/[0-9]*/comm | sort -u"));
        assertThat(r.status()).as(r.err()).isZero();
        List<String> lines = r.out().lines().toList();
        assertThat(Integer.parseInt(lines.get(0))).isGreaterThan(2);
        assertThat(lines.get(1)).isEqualTo("corral-init");
        assertThat(lines.subList(2, lines.size())).contains("corral-init", "sleep", "sh");
    }

    @Test
    void aProgramInAJoinedPidNamespaceDiesWithItsInit() throws Exception {
        String ns = startOther();
        JailedProcess p = new JailBuilder().share(Namespace.USER).join(Namespace.PID, ns + "pid")
                .command("sleep", "1000").start();
        try {
            assertThat(p.isAlive()).isTrue();
            other.destroyForcibly();
            assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).isEqualTo(128 + 9);
        } finally {
            p.destroyForcibly();
        }
    }

    @Test
    void aPathOfAnotherTypeIsRefusedBeforeAnythingStarts(@TempDir Path dir) throws Exception {
        Path fifo = dir.resolve("fifo");
        Process mk = new ProcessBuilder("mkfifo", fifo.toString()).start();
        assertThat(mk.waitFor()).isZero();
        SpecException e = catchThrowableOfType(SpecException.class, () -> new JailBuilder()
                .join(Namespace.NET, "/proc/self/ns/mnt").join(Namespace.IPC, "/dev/null").join(Namespace.UTS, fifo.toString())
                .command("true").start());
        assertThat(e).isNotNull();
        // A FIFO or device is never opened for real (O_PATH first): this returns at once.
        assertThat(e.problems()).extracting(Object::toString).containsExactly(
                "join.net: /proc/self/ns/mnt is not a network namespace (it is a mount namespace)",
                "join.uts: " + fifo + ": not a namespace file (expected /proc/PID/ns/uts, or a bind mount of one)",
                "join.ipc: /dev/null: not a namespace file (expected /proc/PID/ns/ipc, or a bind mount of one)");
    }

    /** This host, but every path to join is what {@code says} (what the planner was told). */
    private static HostView hostSaying(NamespaceFile says) {
        HostView local = new LocalHost();
        return (HostView) Proxy.newProxyInstance(HostView.class.getClassLoader(), new Class<?>[] {HostView.class},
                (proxy, m, args) -> {
                    if (m.getName().equals("namespaceFile")) return says;
                    try {
                        return m.invoke(local, args);
                    } catch (InvocationTargetException x) {
                        throw x.getCause();
                    }
                });
    }

    @Test
    void theKernelsRefusalNamesTheStep() throws Exception {
        // Planned as if it were another user namespace: the kernel refuses to enter one's own.
        Launcher launcher = new Launcher(hostSaying(NamespaceFile.of(Namespace.USER, "user:[1]", List.of(), false)));
        LaunchPlan plan = launcher.plan(new JailBuilder().join(Namespace.USER, "/proc/self/ns/user").command("true").build());
        JailSetupException e = catchThrowableOfType(JailSetupException.class,
                () -> launcher.start(plan, JailBuilder.StdioMode.PIPE));
        assertThat(e).isNotNull();
        assertThat(e.getMessage()).startsWith("join the user namespace /proc/self/ns/user (first, as it owns the others;")
                .endsWith(": setns: Invalid argument");
        assertThat(e.exitStatus()).isEqualTo(125);
    }

    @Test
    void theLauncherChecksThePathAgain() throws Exception {
        // The host view says what the path was at planning time; the file has changed since.
        Launcher launcher = new Launcher(hostSaying(NamespaceFile.of(Namespace.NET, "net:[1]", List.of(), false)));
        LaunchPlan plan = launcher.plan(new JailBuilder().join(Namespace.NET, "/proc/self/ns/mnt").command("true").build());
        JailSetupException e = catchThrowableOfType(JailSetupException.class,
                () -> launcher.start(plan, JailBuilder.StdioMode.PIPE));
        assertThat(e).isNotNull();
        assertThat(e.getMessage()).isEqualTo("join.net: /proc/self/ns/mnt is not a network namespace (it is a mount namespace)");
    }
}
