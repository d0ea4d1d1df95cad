package dev.corral.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code corral run} as a user types it, as root. */
class RunCliIT {
    @Test
    void exitStatusIsTheProgramsOwn() throws Exception {
        assertThat(Cli.run("run", "--", "sh", "-c", "exit 7").status()).isEqualTo(7);
        assertThat(Cli.run("run", "--", "sh", "-c", "kill -TERM $$").status()).isEqualTo(128 + 15);
        assertThat(Cli.run("run", "--as-pid-1", "--", "sh", "-c", "exit 9").status()).isEqualTo(9);
    }

    @Test
    void stdioPassesThroughAndDefaultJailIsReal() throws Exception {
        Cli.Result r = Cli.run("run", "--hostname", "cli-jail", "--env", "GREETING=hi", "--",
                "sh", "-c", "echo $GREETING; hostname; echo $$; id -u; echo oops >&2");
        assertThat(r.status()).isZero();
        assertThat(r.out()).isEqualTo("hi\ncli-jail\n2\n0\n");
        assertThat(r.err()).isEqualTo("oops\n");
    }

    @Test
    void dryRunPrintsEveryStepAndRunsNothing(@TempDir Path dir) throws Exception {
        Path marker = dir.resolve("marker");
        Cli.Result r = Cli.run("run", "--dry-run", "--bind", dir + ":/data", "--", "touch", "/data/marker");
        assertThat(r.status()).isZero();
        assertThat(r.out()).containsPattern("\\d\\. clone a process into new namespaces: user, mount, pid, net, uts, ipc")
                .contains("enter a new cgroup namespace")
                .contains("write its uid_map: 0 0 1")
                .contains("mount " + dir + " on /data")
                .contains("pivot_root into the new root")
                .contains("exec touch /data/marker");
        assertThat(marker).doesNotExist();
        assertThat(Cli.run("plan", "--", "true").out()).contains("exec true");
    }

    @Test
    void bindsWork(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("in.txt"), "from host");
        Cli.Result r = Cli.run("run", "--bind", dir + ":/data", "--ro-bind", dir + ":/ro", "--",
                "sh", "-c", "cat /data/in.txt; echo written > /data/out.txt; echo x > /ro/y");
        assertThat(r.out()).isEqualTo("from host");
        assertThat(r.err()).contains("Read-only file system");
        assertThat(Files.readString(dir.resolve("out.txt"))).isEqualTo("written\n");
    }

    /**
     * Mounts made in the jail's user namespace are not locked by the kernel: CAP_SYS_ADMIN there
     * could unmount them or remount them writable. So with SYS_ADMIN (or ALL) corral locks them
     * in a nested user namespace: the remount of a read-only bind, the unmount of /proc/sys's
     * read-only bind and of a /proc mask fail, as root and as nobody, while the capability still
     * mounts a tmpfs and sets the hostname. Without a user namespace of its own it cannot lock
     * them, and warns.
     */
    @Test
    void sysAdminCannotUndoTheJailsMountsWhichAreLocked(@TempDir Path dir) throws Exception {
        Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        String undo = "mount -o remount,rw,bind /ro && echo x > /ro/y; umount /proc/sys && echo unmounted;"
                + " umount /proc/kcore && echo unmasked; mount -o remount,rw,bind /proc/sys && echo remounted;"
                + " mount -t tmpfs t /mnt && echo tmpfs; hostname h2 && hostname; grep -c . /proc/self/uid_map";
        Cli.Result refused = Cli.run("run", "--ro-bind", dir + ":/ro", "--", "sh", "-c", undo);
        assertThat(refused.out()).isEqualTo("1\n"); // without the capability nothing of it works
        for (List<String> as : List.of(List.<String>of(), Cli.NOBODY)) {
            for (String grant : List.of("SYS_ADMIN", "ALL")) {
                Cli.Result granted = Cli.runAs(as, "run", "--cap-add", grant, "--ro-bind", dir + ":/ro", "--uid-map", "0:"
                        + (as.isEmpty() ? "0" : "65534") + ":1", "--", "sh", "-c", undo);
                assertThat(granted.status()).as(granted.err()).isZero();
                assertThat(granted.out()).as(as + " " + grant).isEqualTo("tmpfs\nh2\n1\n");
                assertThat(granted.err()).doesNotContain("warning").contains("/ro: permission denied");
                assertThat(dir.resolve("y")).as("written through the remounted bind").doesNotExist();
            }
        }
        Cli.Result multi = Cli.run("run", "--cap-add", "SYS_ADMIN", "--uid-map", "0:100000:65536", "--gid-map", "0:100000:65536",
                "--ro-bind", dir + ":/ro", "--", "sh", "-c", undo + "; cat /proc/self/uid_map; stat -c %u /tmp");
        assertThat(multi.status()).as(multi.err()).isZero();
        // The nested namespace maps the outer one's ids to themselves: files keep their owners.
        assertThat(multi.out().replaceAll(" +", " ")).isEqualTo("tmpfs\nh2\n1\n 0 0 65536\n0\n");
        Cli.Result hostUser = Cli.run("run", "--share-user", "--cap-add", "SYS_ADMIN", "--", "true");
        assertThat(hostUser.err()).startsWith("corral: warning: CAP_SYS_ADMIN in a user namespace the jail does not create"
                + " (the host's): corral locks the mounts only in one it creates");
        // The helper that writes the nested maps is a process too.
        Cli.Result one = Cli.run("run", "--as-pid-1", "--pids", "1", "--cap-add", "SYS_ADMIN", "--", "true");
        assertThat(one.status()).isEqualTo(2);
        assertThat(one.err()).isEqualTo("corral: --pids: 1 leaves no room for the helper that locks the mounts (with"
                + " CAP_SYS_ADMIN): it runs beside the jail's first process, so at least 2\n");
        Cli.Result two = Cli.run("run", "--as-pid-1", "--pids", "2", "--cap-add", "SYS_ADMIN", "--", "sh", "-c", "echo $$");
        assertThat(two.status()).as(two.err()).isZero();
        assertThat(two.out()).isEqualTo("1\n");
        // The warning comes from the spec, ahead of the refusal to join one's own user namespace.
        Cli.Result joined = Cli.run("run", "--join-user", "/proc/self/ns/user", "--cap-add", "SYS_ADMIN", "--", "true");
        assertThat(joined.err()).startsWith("corral: warning: CAP_SYS_ADMIN in a user namespace the jail does not create"
                + " (a joined one)");
    }

    /**
     * A --symlink lands in the rootfs and stays there, so the next run finds it: the same link is
     * fine, anything else at its path is an error (it was ignored: --symlink /bogus:/etc ran).
     */
    @Test
    void aSymlinkWhereSomethingElseIsFails(@TempDir Path dir) throws Exception {
        Path root = dev.corral.testing.BusyboxRootfs.create(dir.resolve("root"));
        Cli.Result over = Cli.run("run", "--rootfs", root.toString(), "--symlink", "/bogus:/etc", "--", "/bin/sh", "-c", "echo ran");
        assertThat(over.status()).isEqualTo(125);
        assertThat(over.err()).isEqualTo("corral: symlink /etc -> /bogus: File exists\n");
        assertThat(over.out()).isEmpty();
        for (int run = 0; run < 2; run++) {
            Cli.Result same = Cli.run("run", "--rootfs", root.toString(), "--symlink", "x:/s", "--", "/bin/sh", "-c", "readlink /s");
            assertThat(same.status()).as(same.err()).isZero();
            assertThat(same.out()).isEqualTo("x\n");
        }
        Cli.Result other = Cli.run("run", "--rootfs", root.toString(), "--symlink", "y:/s", "--", "/bin/sh", "-c", "echo ran");
        assertThat(other.err()).isEqualTo("corral: symlink /s -> y: File exists\n");
        assertThat(Files.readSymbolicLink(root.resolve("s"))).isEqualTo(Path.of("x"));
    }

    @Test
    void mountFlagsRepeatAndMountInTheirOrderAcrossFlags(@TempDir Path dir) throws Exception {
        Path a = Files.createDirectory(dir.resolve("a")), b = Files.createDirectory(dir.resolve("b"));
        Files.writeString(a.resolve("f"), "A");
        Files.writeString(b.resolve("f"), "B");
        // The tmpfs must come before the binds under it, and the second bind of /m/x over the first.
        Cli.Result r = Cli.run("run", "--tmpfs", "/m", "--bind", a + ":/m/x", "--dir", "/m/d", "--ro-bind", b + ":/m/x",
                "--bind", a + ":/m/y", "--", "sh", "-c", "cat /m/x/f /m/y/f; ls /m; echo w > /m/x/g");
        assertThat(r.out()).isEqualTo("BAd\nx\ny\n");
        assertThat(r.err()).contains("Read-only file system");
        assertThat(r.status()).isNotZero();
        Cli.Result twice = Cli.run("run", "--hostname", "a", "--hostname", "b", "--", "true");
        assertThat(twice.status()).isEqualTo(2);
        assertThat(twice.err()).contains("'--hostname' (NAME) should be specified only once");
    }

    @Test
    void unitConfigRuns(@TempDir Path dir) throws Exception {
        Path config = dir.resolve("app.json");
        Files.writeString(config, """
                {"applications": {"hello": {
                  "type": "external",
                  "executable": "/bin/sh",
                  "arguments": ["-c", "hostname; echo $MODE"],
                  "environment": {"MODE": "prod"},
                  "isolation": {
                    "namespaces": {"credential": true, "mount": true, "pid": true, "uname": true},
                    "uidmap": [{"container": 0, "host": 0, "size": 1}],
                    "gidmap": [{"containerID": 0, "hostID": 0, "size": 1}],
                    "hostname": "unit-app"
                  }}}}""");
        Cli.Result r = Cli.run("run", "--config", config.toString());
        assertThat(r.err()).isEmpty();
        assertThat(r.out()).isEqualTo("unit-app\nprod\n");
        assertThat(r.status()).isZero();
    }

    @Test
    void aSignalToCorralReachesTheProgram() throws Exception {
        Process p = new ProcessBuilder(Cli.command(java.util.List.of(), "run", "--",
                "sh", "-c", "trap 'echo got-term; exit 42' TERM; echo ready; while :; do sleep 0.1; done"))
                .redirectErrorStream(true).start();
        var out = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream()));
        assertThat(out.readLine()).isEqualTo("ready");
        p.toHandle().destroy(); // SIGTERM to the corral JVM
        assertThat(p.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        assertThat(out.readLine()).isEqualTo("got-term");
        assertThat(p.exitValue()).isEqualTo(42);
    }

    /** Signals whose default would end corral (and the jail) instead reach the program. */
    @Test
    void lessCommonSignalsReachTheProgramToo() throws Exception {
        for (String sig : java.util.List.of("ALRM", "XCPU", "PWR")) {
            Process p = new ProcessBuilder(Cli.command(java.util.List.of(), "run", "--",
                    "sh", "-c", "trap 'echo got-" + sig + "; exit 9' " + sig + "; echo ready; while :; do sleep 0.1; done"))
                    .redirectErrorStream(true).start();
            var out = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream()));
            assertThat(out.readLine()).isEqualTo("ready");
            assertThat(new ProcessBuilder("kill", "-" + sig, Long.toString(p.pid())).start().waitFor()).isZero();
            assertThat(p.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            assertThat(out.readLine()).isEqualTo("got-" + sig);
            assertThat(p.exitValue()).as(sig).isEqualTo(9);
        }
    }

    @Test
    void theJailDiesWhenCorralIsKilled() throws Exception {
        String tag = "3" + ProcessHandle.current().pid() + ".25"; // a sleep time nobody else uses
        Process p = new ProcessBuilder(Cli.command(java.util.List.of(), "run", "--", "sh", "-c", "echo up; exec sleep " + tag))
                .redirectErrorStream(true).start();
        var out = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream()));
        assertThat(out.readLine()).isEqualTo("up");
        for (int i = 0; i < 500 && sleepers(tag).isEmpty(); i++) Thread.sleep(10); // "up" comes just before the exec
        assertThat(sleepers(tag)).isNotEmpty();
        p.toHandle().destroyForcibly(); // SIGKILL: no shutdown hook runs
        p.waitFor();
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!sleepers(tag).isEmpty() && System.nanoTime() < deadline) Thread.sleep(50);
        assertThat(sleepers(tag)).as("jailed processes left after corral was SIGKILLed").isEmpty();
    }

    /**
     * Without a pid namespace of its own there is no init whose end ends the jail: the monitor,
     * their subreaper, kills what the program left behind (a background child, a daemon in a
     * session of its own), without a cgroup too, as root and as nobody, when the program ends and
     * when corral is killed.
     */
    @Test
    void aJailSharingThePidNamespaceLeavesNothingBehind() throws Exception {
        String tag = "4" + ProcessHandle.current().pid() + ".25";
        String leave = "sleep " + tag + " & setsid sh -c 'sleep " + tag + " &'; echo up";
        for (java.util.List<String> as : java.util.List.of(java.util.List.<String>of(), Cli.NOBODY)) {
            Cli.Result r = Cli.runAs(as, "run", "--share-pid", "--no-cgroup", "--", "sh", "-c", leave);
            assertThat(r.status()).as(r.err()).isZero();
            assertThat(r.out()).isEqualTo("up\n");
            assertThat(sleepers(tag)).as("left by a program that ended, as " + (as.isEmpty() ? "root" : "nobody")).isEmpty();
        }
        Process p = new ProcessBuilder(Cli.command(java.util.List.of(), "run", "--share-pid", "--no-cgroup", "--",
                "sh", "-c", leave + "; exec sleep " + tag)).redirectErrorStream(true).start();
        var out = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream()));
        assertThat(out.readLine()).isEqualTo("up");
        for (int i = 0; i < 500 && sleepers(tag).size() < 3; i++) Thread.sleep(10);
        assertThat(sleepers(tag)).hasSize(3);
        p.toHandle().destroyForcibly();
        p.waitFor();
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!sleepers(tag).isEmpty() && System.nanoTime() < deadline) Thread.sleep(50);
        assertThat(sleepers(tag)).as("left after corral was SIGKILLed").isEmpty();
    }

    private static java.util.List<ProcessHandle> sleepers(String tag) {
        return ProcessHandle.allProcesses()
                .filter(h -> h.info().arguments().map(a -> a.length > 0 && a[a.length - 1].equals(tag)).orElse(false))
                .toList();
    }
}
