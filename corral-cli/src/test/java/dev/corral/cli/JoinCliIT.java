package dev.corral.cli;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

/** {@code corral run --join-net PATH} and friends, as root, on a namespace made by {@code ip netns add}. */
class JoinCliIT {
    private static final String NETNS = "corral-test-" + ProcessHandle.current().pid();
    private static final String PATH = "/run/netns/" + NETNS;

    @BeforeAll
    static void asRoot() {
        assumeThat(new com.sun.security.auth.module.UnixSystem().getUid()).as("joining needs root here").isZero();
    }

    @AfterEach
    void deleteNetns() throws Exception {
        if (netns != null) netns.close();
    }

    private dev.corral.testing.TestNetns netns;

    @Test
    void joinNetRunsTheProgramInThatNetworkNamespace() throws Exception {
        netns = dev.corral.testing.TestNetns.add(NETNS);
        long inode = (Long) Files.getAttribute(Path.of(PATH), "unix:ino");
        Cli.Result r = Cli.run("run", "--join-net", PATH, "--", "sh", "-c", "readlink /proc/self/ns/net; echo $$");
        assertThat(r.err()).isEmpty();
        assertThat(r.status()).isZero();
        // Still PID 2 under the tiny init, which took the place of the process that made the pid namespace.
        assertThat(r.out()).isEqualTo("net:[" + inode + "]\n2\n");

        Cli.Result plan = Cli.run("run", "--dry-run", "--join-net", PATH, "--", "true");
        assertThat(plan.out()).containsPattern("\\d\\. clone a process in the caller's namespaces: it joins net first,"
                        + " then creates user, mount, pid, uts, ipc")
                .contains("join the network namespace " + PATH)
                .contains("create the new namespaces user, mount, pid, uts, ipc")
                .contains("fork into the pid");
    }

    @Test
    void joinPidSeesTheProcessesOfAnotherJail() throws Exception {
        dev.corral.JailedProcess other = new dev.corral.JailBuilder().command("sleep", "1000").start();
        try {
            String ns = "/proc/" + other.jailPid() + "/ns/";
            // Sharing the host's user namespace (as root) or joining the jail's own: either owns its pid namespace.
            for (String user : new String[] {"--share-user", "--join-user=" + ns + "user"}) {
                Cli.Result r = Cli.run("run", user, "--join-pid", ns + "pid", "--",
                        "sh", "-c", "echo $$; cat /proc/[0-9]*/comm | sort -u");
                assertThat(r.err()).isEmpty();
                assertThat(r.status()).isZero();
                var lines = r.out().lines().toList();
                assertThat(Integer.parseInt(lines.getFirst())).as(user).isGreaterThan(2);
                assertThat(lines).as(user).contains("corral-init", "sleep", "sh");
            }
        } finally {
            other.destroyForcibly();
            other.waitFor();
        }
    }

    @Test
    void aPathOfAnotherTypeOrNoNamespaceIsRefused() throws Exception {
        Cli.Result r = Cli.run("run", "--join-net", "/proc/self/ns/mnt", "--join-ipc", "/etc/hostname", "--", "true");
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err()).isEqualTo("""
                corral: --join-net: /proc/self/ns/mnt is not a network namespace (it is a mount namespace)
                corral: --join-ipc: /etc/hostname: not a namespace file (expected /proc/PID/ns/ipc, or a bind mount of one)
                """);
        Cli.Result both = Cli.run("run", "--join-net", "/proc/self/ns/net", "--unshare-net", "--", "true");
        assertThat(both.status()).isEqualTo(2);
        assertThat(both.err()).contains("--join-net /proc/self/ns/net: conflicts with --unshare-net");
    }
}
