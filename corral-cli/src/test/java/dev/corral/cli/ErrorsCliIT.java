package dev.corral.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Bad input: one clear line naming the flag or path, exit 2 (usage) or 125/127, nothing started. */
class ErrorsCliIT {
    private static void assertUsageError(Cli.Result r, String message) {
        assertThat(r.status()).as(r.err()).isEqualTo(2);
        assertThat(r.err()).contains(message);
        assertThat(r.err()).doesNotContain("Exception").doesNotContain("\tat ");
        assertThat(r.out()).isEmpty();
    }

    @Test
    void hardeningInput(@TempDir Path dir) throws Exception {
        assertUsageError(Cli.run("run", "--cap-add", "NET_ADMN", "--", "true"),
                "corral: --cap-add NET_ADMN: unknown capability; expected a name such as NET_ADMIN or CAP_NET_ADMIN, or ALL");
        assertUsageError(Cli.run("run", "--rlimit", "nofile=100:50", "--", "true"),
                "corral: --rlimit nofile=100:50: soft limit 100 is above the hard limit 50");
        assertUsageError(Cli.run("run", "--rlimit", "nofiles=1", "--", "true"), "corral: --rlimit nofiles=1: unknown resource");
        // Raising a hard limit needs CAP_SYS_RESOURCE, which root lacks on this kind of host.
        Cli.Result high = Cli.run("run", "--rlimit", "nofile=1024:unlimited", "--", "true");
        long capEff = Files.readAllLines(Path.of("/proc/self/status")).stream().filter(l -> l.startsWith("CapEff:"))
                .map(l -> Long.parseUnsignedLong(l.substring(7).trim(), 16)).findFirst().orElseThrow();
        if ((capEff & (1L << 24)) == 0) {
            assertUsageError(high, "corral: --rlimit nofile=1024:unlimited: hard limit unlimited is above yours (");
            assertThat(high.err()).contains("raising a hard limit needs CAP_SYS_RESOURCE on the host");
        } else {
            assertThat(high.status()).as(high.err()).isZero();
        }
        Path broken = Files.writeString(dir.resolve("seccomp.json"), "{\"defaultAction\": \n");
        assertUsageError(Cli.run("run", "--seccomp", broken.toString(), "--", "true"), broken + ":2:");
        Path unknown = Files.writeString(dir.resolve("unknown.json"), """
                {"defaultAction": "SCMP_ACT_ERRNO",
                 "syscalls": [{"names": ["read", "fooo"], "action": "SCMP_ACT_ALLOW"}]}""");
        assertUsageError(Cli.run("run", "--seccomp", unknown.toString(), "--", "true"), "/syscalls/0/names/1");
        assertUsageError(Cli.run("run", "--seccomp", unknown.toString(), "--", "true"), "fooo");
    }

    @Test
    void unknownFlag() throws Exception {
        Cli.Result r = Cli.run("run", "--unshare-nett", "--", "true");
        assertUsageError(r, "Unknown option: '--unshare-nett'");
        // the closest flag alone, not every one that shares the prefix
        assertThat(r.err()).contains("Did you mean '--unshare-net'?").doesNotContain("--unshare-user");
        assertThat(Cli.run("run", "--xyzzy", "--", "true").err()).doesNotContain("Did you mean");
    }

    /**
     * `corral run` spawns its executor while it parses its arguments. When a bad argument ends it
     * before any jail, it ends and reaps that executor itself: none is left for init to reap.
     */
    @Test
    void aUsageErrorLeavesNoExecutorBehind() throws Exception {
        java.util.Set<String> before = orphanedExecutors();
        assertUsageError(Cli.run("run", "--unshare-nett", "--", "true"), "Unknown option");
        assertThat(orphanedExecutors()).as("after a bad flag").isSubsetOf(before);
        assertUsageError(Cli.run("run", "--rootfs", "/nonexistent", "--", "true"), "--rootfs");
        assertThat(orphanedExecutors()).as("after a bad spec").isSubsetOf(before);
    }

    /**
     * corral's executors (alive or zombies) whose parent is gone (init has them now), in this
     * JVM's process group, which the CLI it runs and its executor inherit: another corral on the
     * host, in another group, is not counted (its monitor is init's for a moment after its JVM
     * exits).
     */
    private static java.util.Set<String> orphanedExecutors() throws java.io.IOException {
        String group = statFields(Files.readString(Path.of("/proc/self/stat")))[2];
        try (var procs = Files.list(Path.of("/proc"))) {
            return procs.filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit)).map(p -> {
                try {
                    String stat = Files.readString(p.resolve("stat"));
                    String comm = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
                    String[] fields = statFields(stat);
                    boolean orphan = fields[1].equals("1") && fields[2].equals(group);
                    return comm.startsWith("corral-") && orphan ? p.getFileName() + " " + comm : null;
                } catch (java.io.IOException | RuntimeException gone) {
                    return null;
                }
            }).filter(java.util.Objects::nonNull).collect(java.util.stream.Collectors.toSet());
        }
    }

    /** The fields of a /proc/PID/stat after the command's name: state, ppid, pgrp, session, ... */
    private static String[] statFields(String stat) {
        return stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    }

    @Test
    void noCommand() throws Exception {
        assertUsageError(Cli.run("run"), "corral: COMMAND: no program given");
    }

    @Test
    void malformedMaps() throws Exception {
        assertUsageError(Cli.run("run", "--uid-map", "0:1000", "--", "true"), "corral: --uid-map 0:1000: expected INSIDE:OUTSIDE:COUNT");
        assertUsageError(Cli.run("run", "--uid-map", "0:100000:10", "--uid-map", "5:200000:10", "--", "true"),
                "corral: --uid-map 5:200000:10: inside ids overlap --uid-map 0:100000:10");
        assertUsageError(Cli.run("run", "--uid-map", "0:100000:0", "--", "true"), "range size must be at least 1");
        assertUsageError(Cli.run("run", "--uid-map", "0:4294967290:100", "--", "true"), "range runs past the largest id");
        assertUsageError(Cli.run("run", "--uid-map", "0:0:+1", "--", "true"), "corral: --uid-map 0:0:+1: expected three whole numbers");
        assertUsageError(Cli.run("run", "--gid-map", "0:0:\uff11", "--", "true"), "expected three whole numbers");
        assertUsageError(Cli.run("run", "--user", "", "--", "true"), "corral: --user: empty user name");
        // No --uid asked for: the map is what leaves the program's uid 0 out
        assertUsageError(Cli.run("run", "--uid-map", "1:0:1", "--", "true"), "corral: --uid-map: uid 0 is not mapped");
        // 340 ranges (the kernel's most) of 10-digit ids: over the page the kernel takes a map in
        java.util.List<String> many = new java.util.ArrayList<>(List.of("run"));
        for (int i = 0; i < 340; i++) many.addAll(List.of("--uid-map", i + ":" + (1_000_000_000 + i) + ":1"));
        many.addAll(List.of("--", "true"));
        assertUsageError(Cli.run(many.toArray(String[]::new)), "corral: --uid-map: the ranges take 5670 bytes as a map; the kernel takes under 4096");
    }

    @Test
    void rootfsProblems(@TempDir Path dir) throws Exception {
        assertUsageError(Cli.run("run", "--rootfs", "/no/such/dir", "--", "true"), "corral: --rootfs: no such directory: /no/such/dir");
        Path file = Files.writeString(dir.resolve("f"), "x");
        assertUsageError(Cli.run("run", "--rootfs", file.toString(), "--", "true"), "corral: --rootfs: not a directory");
        assertUsageError(Cli.run("run", "--rootfs", "/", "--", "true"), "the host's / cannot be the rootfs");
        assertUsageError(Cli.run("run", "--rootfs", dir.toString(), "--share-mount", "--", "true"), "a rootfs needs the mount namespace");
    }

    @Test
    void mountProblems() throws Exception {
        assertUsageError(Cli.run("run", "--bind", "/no/such/source:/data", "--", "true"), "source does not exist: /no/such/source");
        assertUsageError(Cli.run("run", "--tmpfs", "/data/../etc", "--", "true"), "has a '..' component");
        assertUsageError(Cli.run("run", "--tmpfs", "relative", "--", "true"), "target must be an absolute path");
        // A directory on a file, a file on a directory: found inside the jail, said in words
        Cli.Result onFile = Cli.run("run", "--tmpfs", "/etc/passwd", "--", "true");
        assertThat(onFile.status()).isEqualTo(125);
        assertThat(onFile.err()).isEqualTo("corral: mount tmpfs on /etc/passwd: /etc/passwd is not a directory,"
                + " and this mount needs one: Not a directory\n");
        Cli.Result onDir = Cli.run("run", "--ro-bind", "/etc/passwd:/etc", "--", "true");
        assertThat(onDir.status()).isEqualTo(125);
        assertThat(onDir.err()).contains("/etc is a directory, and this mount needs a file: Is a directory");
    }

    @Test
    void hostnameTooLong() throws Exception {
        assertUsageError(Cli.run("run", "--hostname", "h".repeat(65), "--", "true"), "corral: --hostname: must be 1 to 64 bytes, not 65");
        assertUsageError(Cli.run("run", "--share-uts", "--hostname", "x", "--", "true"), "needs the uts namespace");
    }

    @Test
    void userNotMapped() throws Exception {
        assertUsageError(Cli.run("run", "--uid", "1000", "--", "true"), "corral: --uid: uid 1000 is not mapped");
        assertUsageError(Cli.run("run", "--user", "no-such-user", "--", "true"), "no user \"no-such-user\"");
    }

    @Test
    void missingProgram() throws Exception {
        Cli.Result r = Cli.run("run", "--", "/no/such/program");
        assertThat(r.status()).isEqualTo(127);
        assertThat(r.err()).isEqualTo("corral: exec /no/such/program: No such file or directory\n");
    }

    @Test
    void badConfig(@TempDir Path dir) throws Exception {
        Path config = Files.writeString(dir.resolve("bad.json"), "{\"executable\": \"/bin/true\",\n \"isolation\": {\"namespces\": {}}}");
        assertUsageError(Cli.run("run", "--config", config.toString()), "did you mean \"namespaces\"");
        Path broken = Files.writeString(dir.resolve("broken.json"), "{\"executable\": \n");
        Cli.Result r = Cli.run("run", "--config", broken.toString());
        assertUsageError(r, broken + ":");
    }

    /** JSON can carry what argv cannot: a NUL in a path, bytes that are not UTF-8, no end at all. */
    @Test
    void configPathsWithNulBytesAndFilesThatAreNotJson(@TempDir Path dir) throws Exception {
        String app = "{\"type\": \"external\", \"executable\": \"/bin/true\", ";
        Map<String, String> cases = Map.of(
                "\"isolation\": {\"rootfs\": \"/tmp/a\\u0000b\"}}", "corral: /isolation/rootfs: path holds a NUL byte: /tmp/a?b",
                "\"isolation\": {\"mounts\": [{\"type\": \"bind\", \"source\": \"/tmp\\u0000x\", \"target\": \"/x\"}]}}",
                "corral: /isolation/mounts/0: path holds a NUL byte: /tmp?x",
                "\"working_directory\": \"/tm\\u0000p\"}", "corral: /working_directory: path holds a NUL byte: /tm?p");
        for (var c : cases.entrySet()) {
            Path config = Files.writeString(dir.resolve("nul.json"), app + c.getKey());
            assertUsageError(Cli.run("run", "--config", config.toString()), c.getValue());
        }
        assertUsageError(Cli.run("run", "--config", "/dev/zero"), "corral: /dev/zero: larger than 16 MiB: not an application's JSON");
        Path latin1 = Files.write(dir.resolve("latin1.json"), (app + "\"arguments\": [\"caf\u00e9\"]}").getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        assertUsageError(Cli.run("run", "--config", latin1.toString()), "corral: " + latin1 + ": not UTF-8 text (JSON is UTF-8)");
    }

    /**
     * Under LANG=C (cron, a bare container) the JVM names files in ASCII: a path with any other
     * character is one clear usage error, not an InvalidPathException stack trace.
     */
    @Test
    void aPathTheLocaleCannotNameIsAUsageError(@TempDir Path dir) throws Exception {
        Path cafe = Files.createDirectory(dir.resolve("caf\u00e9"));
        ProcessBuilder pb = new ProcessBuilder(Cli.command(List.of(), "run", "--ro-bind", cafe + ":/x", "--", "true"))
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        pb.environment().remove("LANG");
        pb.environment().remove("LC_CTYPE");
        pb.environment().put("LC_ALL", "C");
        Process p = pb.start();
        String err = new String(p.getErrorStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(err).isEqualTo(2);
        assertThat(err).contains("the path cannot be named in this locale's character set")
                .contains("run corral under a UTF-8 locale (e.g. LANG=C.UTF-8)").doesNotContain("\tat ");
    }

    /** An exec refused for its size (E2BIG) names the command in part, not its 4 MB whole. */
    @Test
    void aHugeCommandLineIsShortenedInItsError(@TempDir Path dir) throws Exception {
        String arg = "\"" + "x".repeat(100_000) + "\"";
        String args = String.join(", ", java.util.Collections.nCopies(40, arg));
        Path config = Files.writeString(dir.resolve("big.json"), "{\"type\": \"external\", \"executable\": \"/bin/echo\", \"arguments\": [" + args + "]}");
        Cli.Result r = Cli.run("run", "--config", config.toString());
        assertThat(r.status()).isEqualTo(126);
        assertThat(r.err()).startsWith("corral: exec /bin/echo xxx").endsWith("... (4000049 characters): Argument list too long\n");
        assertThat(r.err().length()).isLessThan(400);
    }
}
