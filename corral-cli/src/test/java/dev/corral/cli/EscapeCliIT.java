package dev.corral.cli;

import dev.corral.testing.BusyboxRootfs;
import dev.corral.testing.DefaultStateDir;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tries the known ways out of a jail from the inside, with the default hardening, in the default
 * jail and in a rootfs jail, as root and as the unprivileged user nobody. Each attempt must fail
 * with the specific error the kernel gives when the jail holds.
 */
class EscapeCliIT {
    private static Path work;
    private static Path rootfs;
    private static Path secret;
    private static Process listener;
    private static final String ABSTRACT = "corral-escape-" + ProcessHandle.current().pid();

    /**
     * @param overlay the rootfs is a base under a layer for the run (--rootfs-overlay)
     * @param idmap   the rootfs is idmapped (--rootfs-idmap) and the jail on a range of its own
     *                (--userns auto at 0x920000, used by no other test): its root is not host root
     */
    record Context(String name, List<String> asUser, boolean useRootfs, boolean overlay, boolean idmap) {
        Context(String name, List<String> asUser, boolean useRootfs) {
            this(name, asUser, useRootfs, false, false);
        }

        Context(String name, List<String> asUser, boolean useRootfs, boolean overlay) {
            this(name, asUser, useRootfs, overlay, false);
        }

        @Override public String toString() { return name; }
    }

    /** nobody, with a state directory of its own for its overlay layers. */
    static List<String> nobodyWithState() {
        List<String> as = new ArrayList<>(Cli.NOBODY);
        as.addAll(List.of("env", "XDG_STATE_HOME=" + Path.of("target/escape-work/nobody-state").toAbsolutePath()));
        return as;
    }

    static Stream<Context> contexts() {
        return Stream.of(new Context("root, default jail", List.of(), false),
                new Context("root, rootfs jail", List.of(), true),
                new Context("nobody, default jail", Cli.NOBODY, false),
                new Context("nobody, rootfs jail", Cli.NOBODY, true),
                new Context("root, overlay rootfs jail", List.of(), true, true),
                new Context("nobody, overlay rootfs jail", nobodyWithState(), true, true),
                new Context("root, idmapped rootfs jail on a range", List.of(), true, false, true),
                new Context("root, idmapped overlay rootfs jail on a range", List.of(), true, true, true));
    }

    @BeforeAll
    static void setUp() throws Exception {
        EscapeProbe.build();
        // Under target/, not /tmp: nobody must be able to reach the rootfs, and nothing is left behind.
        work = Files.createDirectories(Path.of("target/escape-work").toAbsolutePath());
        Files.setPosixFilePermissions(work, PosixFilePermissions.fromString("rwxr-xr-x"));
        rootfs = work.resolve("rootfs");
        if (!Files.exists(rootfs)) BusyboxRootfs.create(rootfs);
        Path nobodyState = Files.createDirectories(work.resolve("nobody-state"));
        Files.setAttribute(nobodyState, "unix:uid", 65534);
        Files.setAttribute(nobodyState, "unix:gid", 65534);
        secret = Files.createTempFile("corral-escape-secret", ".txt");
        Files.writeString(secret, "host secret");
        Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("rw-r--r--"));
        // A host process listening on an abstract Unix socket: a private net namespace must not reach it.
        listener = new ProcessBuilder(EscapeProbe.BINARY.toString(), "abstract-listen", ABSTRACT).start();
        String ready = new BufferedReader(new InputStreamReader(listener.getInputStream())).readLine();
        assertThat(ready).isEqualTo("listening");
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (listener != null) listener.destroyForcibly().waitFor();
        if (secret != null) Files.deleteIfExists(secret);
        DefaultStateDir.removeIfEmpty();
    }

    /** Runs every probe in one jail and returns "name -> answer". */
    private static Map<String, String> probe(Context c, String... extraFlags) throws Exception {
        List<String> args = new ArrayList<>(List.of("run"));
        args.addAll(jailFlags(c));
        args.addAll(List.of(extraFlags));
        args.addAll(List.of("--", "/bin/sh", "-c", script()));
        Cli.Result r = Cli.runAs(c.asUser(), args.toArray(String[]::new));
        assertThat(r.status()).as("jail status; stderr: " + r.err()).isZero();
        return answers(r.out());
    }

    private static List<String> jailFlags(Context c) {
        List<String> flags = new ArrayList<>(List.of("--ro-bind", EscapeProbe.DIR + ":/probe"));
        if (c.useRootfs()) flags.addAll(List.of("--rootfs", rootfs.toString()));
        if (c.overlay()) flags.add("--rootfs-overlay");
        if (c.idmap()) {
            flags.addAll(List.of("--rootfs-idmap", "--userns", "auto", "--id-pool", 0x920000 + ":65536",
                    "--id-state", work.resolve("escape-ids.json").toString()));
        }
        return flags;
    }

    /** A shell script that runs every probe and prints "name: answer" lines. */
    private static String script() {
        String p = "/probe/probe";
        String[][] probes = {
                {"host file outside the root", "read " + secret},
                {"write /proc/sys/kernel/hostname", "write /proc/sys/kernel/hostname"},
                {"write core_pattern", "write /proc/sys/kernel/core_pattern"},
                {"write /proc/sysrq-trigger", "write /proc/sysrq-trigger"},
                {"read /proc/kcore", "read /proc/kcore"},
                {"read /proc/keys", "read /proc/keys"},
                {"mknod a block device", "mknod-block /tmp/sda"},
                {"unmount a masked path", "umount /proc/keys"},
                {"remount /proc/sys read-write", "remount-rw /proc/sys"},
                {"kill a host process", "kill " + ProcessHandle.current().pid()},
                {"ptrace the jail's init", "ptrace 1"},
                {"load a module", "init-module"},
                {"open_by_handle_at", "open-by-handle"},
                {"keyctl", "keyctl"},
                {"host abstract socket", "abstract " + ABSTRACT},
                {"setns through an fd", "setns-fds"},
                {"write the executor via /proc/1/exe", "write /proc/1/exe"},
                {"TIOCSTI", "tiocsti"},
                {"rewrite uid_map", "uid-map"},
                {"nested user namespace", "userns"},
                {"new cgroup namespace", "cgroupns"},
                {"inherited fds", "fds"},
        };
        StringBuilder script = new StringBuilder();
        for (String[] pr : probes) script.append("echo \"").append(pr[0]).append(": $(").append(p).append(' ').append(pr[1]).append(")\"\n");
        script.append("echo \"cwd: $(readlink /proc/self/cwd)\"\n");
        script.append("echo \"visible pids: $(ls /proc | grep -c '^[0-9]')\"\n");
        return script.toString();
    }

    private static Map<String, String> answers(String out) {
        Map<String, String> answers = new LinkedHashMap<>();
        for (String line : out.lines().toList()) {
            int colon = line.indexOf(": ");
            if (colon > 0) answers.put(line.substring(0, colon), line.substring(colon + 2));
        }
        return answers;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("contexts")
    void everyWayOutIsClosed(Context c) throws Exception {
        assertClosed(c, probe(c), 5);
    }

    /**
     * The same ways out, tried by a process that corral exec put into a running jail (root joins
     * it by pid, its seccomp filter read from the kernel; nobody's jail is joined by root and by
     * nobody itself, which needs a jail without a filter it cannot read: see
     * {@link ExecCliIT}). The program (sleep) is one more visible pid.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("contexts")
    void everyWayOutIsClosedThroughExec(Context c) throws Exception {
        try (RunningJail jail = RunningJail.start(c.asUser(), jailFlags(c), "true")) {
            Cli.Result r = Cli.run("exec", "--pid", String.valueOf(jail.pid), "--", "/bin/sh", "-c", script());
            assertThat(r.status()).as("exec status; stderr: " + r.err()).isZero();
            assertClosed(c, answers(r.out()), 6);
        }
    }

    private static void assertClosed(Context c, Map<String, String> a, int maxPids) {
        // /proc/sys is read-only; for nobody the kernel refuses even earlier, on permissions (the
        // files belong to the host's root, who is not mapped in nobody's jail).
        // The same on a range: the jail's root is not the host's.
        String procSys = c.asUser().isEmpty() && !c.idmap() ? "EROFS" : "EACCES";
        // Some kernels (this CI's VM among them) are built without /proc/kcore or sysrq.
        boolean kcore = Files.exists(Path.of("/proc/kcore")), sysrq = Files.exists(Path.of("/proc/sysrq-trigger"));
        SoftAssertions soft = new SoftAssertions();
        soft.assertThat(a.get("host file outside the root")).as("host file outside the root").isEqualTo("ENOENT");
        soft.assertThat(a.get("write /proc/sys/kernel/hostname")).as("/proc/sys").isEqualTo(procSys);
        soft.assertThat(a.get("write core_pattern")).as("core_pattern").isEqualTo(procSys);
        soft.assertThat(a.get("write /proc/sysrq-trigger")).as("sysrq-trigger").isEqualTo(sysrq ? procSys : "ENOENT");
        soft.assertThat(a.get("read /proc/kcore")).as("kcore masked").isEqualTo(kcore ? "empty" : "ENOENT");
        soft.assertThat(a.get("read /proc/keys")).as("keys masked").isEqualTo("empty");
        soft.assertThat(a.get("mknod a block device")).as("mknod").isEqualTo("EPERM");
        soft.assertThat(a.get("unmount a masked path")).as("umount").isEqualTo("EPERM");
        soft.assertThat(a.get("remount /proc/sys read-write")).as("remount").isEqualTo("EPERM");
        soft.assertThat(a.get("kill a host process")).as("kill host pid").isEqualTo("ESRCH");
        soft.assertThat(a.get("ptrace the jail's init")).as("ptrace").isEqualTo("EPERM");
        soft.assertThat(a.get("load a module")).as("init_module").isEqualTo("EPERM");
        soft.assertThat(a.get("open_by_handle_at")).as("open_by_handle_at").isEqualTo("EPERM");
        soft.assertThat(a.get("keyctl")).as("keyctl").isEqualTo("EPERM");
        soft.assertThat(a.get("host abstract socket")).as("abstract socket").isEqualTo("ECONNREFUSED");
        soft.assertThat(a.get("setns through an fd")).as("setns").isEqualTo("none");
        soft.assertThat(a.get("write the executor via /proc/1/exe")).as("/proc/1/exe").isEqualTo("EACCES");
        soft.assertThat(a.get("TIOCSTI")).as("TIOCSTI").isEqualTo("EPERM");
        soft.assertThat(a.get("rewrite uid_map")).as("uid_map").isEqualTo("EPERM");
        soft.assertThat(a.get("nested user namespace")).as("userns").isEqualTo("EPERM");
        soft.assertThat(a.get("new cgroup namespace")).as("cgroupns").isEqualTo("EPERM");
        soft.assertThat(a.get("inherited fds")).as("fds").isEqualTo("none");
        soft.assertThat(a.get("cwd")).as("cwd").isEqualTo("/");
        // init, sh, the command substitution's subshell and ls: nothing of the host.
        soft.assertThat(Integer.parseInt(a.getOrDefault("visible pids", "99"))).as("visible pids").isBetween(2, maxPids);
        soft.assertAll();
    }

    @Test
    void aTerminalIsSharedOnlyWithKeystrokeInjectionBlocked() throws Exception {
        // script(1) gives corral a pty: the program joins the terminal's foreground (job control)
        // instead of a new session, and the seccomp filter refuses TIOCSTI.
        String inside = "/probe/probe tiocsti; cut -d' ' -f6,8 /proc/self/stat";
        String corral = Cli.command(List.of(), "run", "--ro-bind", EscapeProbe.DIR + ":/probe", "--", "sh", "-c", inside)
                .stream().map(EscapeCliIT::quote).collect(java.util.stream.Collectors.joining(" "));
        Process p = new ProcessBuilder("script", "-qec", corral, "/dev/null").redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes()).replace("\r", "");
        assertThat(p.waitFor()).as(out).isZero();
        // session 0: the caller's, outside the pid namespace; foreground group 2: the program itself
        assertThat(out).isEqualTo("EPERM\n0 2\n");

        // Without a terminal the program gets a session of its own (setsid).
        Cli.Result r = Cli.run("run", "--", "sh", "-c", "cut -d' ' -f6 /proc/self/stat");
        assertThat(r.out()).isEqualTo("2\n");
    }

    private static String quote(String arg) {
        return "'" + arg.replace("'", "'\\''") + "'";
    }

    /**
     * A cgroup namespace of its own would let the program mount the cgroup file systems afresh,
     * writable where its host uid owns the files (as root's jail: its own limits and the host's
     * cgroups). With CAP_SYS_ADMIN nothing but the seccomp filter stands in the way.
     */
    @Test
    void aCgroupNamespaceOfItsOwnIsRefusedEvenWithSysAdmin() throws Exception {
        for (Context c : List.of(contexts().findFirst().orElseThrow(), new Context("nobody, rootfs jail", Cli.NOBODY, true))) {
            assertThat(probe(c, "--cap-add", "SYS_ADMIN").get("new cgroup namespace")).as(c.toString()).isEqualTo("EPERM");
            assertThat(probe(c, "--cap-add", "SYS_ADMIN", "--allow-userns").get("new cgroup namespace")).as(c.toString())
                    .isEqualTo("EPERM");
            // The probe is real: without the filter the kernel lets it.
            assertThat(probe(c, "--cap-add", "SYS_ADMIN", "--seccomp", "unconfined").get("new cgroup namespace"))
                    .as(c.toString()).isEqualTo("ok");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("contexts")
    void theHostSideOfEachProbeWorks(Context c) throws Exception {
        // The same abstract socket is reachable when the net namespace is shared: the probe is real.
        Map<String, String> a = probe(c, "--share-net", "--allow-userns");
        assertThat(a.get("host abstract socket")).isEqualTo("ok");
        assertThat(a.get("nested user namespace")).isEqualTo("ok");
    }
}
