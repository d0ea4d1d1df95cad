package dev.corral.doctor;

import dev.corral.doctor.HostCheck.Status;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/** User namespaces (every jail has one unless root says otherwise) and time namespaces. */
final class NamespaceChecks {
    static final String MAX = "/proc/sys/user/max_user_namespaces";
    /** Debian's switch for unprivileged user namespaces (kernels before 6.x and some since). */
    static final String DEBIAN = "/proc/sys/kernel/unprivileged_userns_clone";
    /** Ubuntu 23.10+: unprivileged user namespaces get no capabilities unless AppArmor allows them. */
    static final String APPARMOR = "/proc/sys/kernel/apparmor_restrict_unprivileged_userns";
    /**
     * The probe: a user namespace with root mapped, and a mount namespace in it whose propagation
     * unshare(1) then changes, which needs capabilities in the new namespace (what AppArmor's
     * restriction takes away). Run in a child process: the JVM is multithreaded, so it cannot
     * unshare a user namespace itself, and it must never unshare anything on its own threads.
     */
    static final List<String> PROBE = List.of("--user", "--map-root-user", "--mount", "true");

    private NamespaceChecks() {}

    static HostCheck userNamespaces(Caller caller) {
        Map<String, Object> facts = new LinkedHashMap<>();
        List<String> seen = new ArrayList<>();
        Optional<Long> max = HostFiles.readLong(MAX);
        Optional<Long> debian = HostFiles.readLong(DEBIAN);
        Optional<Long> apparmor = HostFiles.readLong(APPARMOR);
        facts.put("max_user_namespaces", max.orElse(null));
        seen.add("user.max_user_namespaces = " + max.map(String::valueOf).orElse("(no such file)"));
        debian.ifPresent(v -> {
            facts.put("unprivileged_userns_clone", v);
            seen.add("kernel.unprivileged_userns_clone = " + v);
        });
        apparmor.ifPresent(v -> {
            facts.put("apparmor_restrict_unprivileged_userns", v);
            seen.add("kernel.apparmor_restrict_unprivileged_userns = " + v);
        });
        Probe probe = probe();
        facts.put("probe", probe.command());
        facts.put("probe_result", probe.result());
        facts.put("created", probe.created());
        String finding = String.join(", ", seen) + "; probe: " + probe.result();

        Status status = Status.OK;
        String fix = "";
        if (max.isEmpty()) {
            status = Status.MISSING;
            fix = "use a kernel built with CONFIG_USER_NS=y";
        } else if (max.get() == 0) {
            status = Status.MISSING;
            fix = "as root: sysctl -w user.max_user_namespaces=15000 (and persist it in /etc/sysctl.d/)";
        } else if (debian.orElse(1L) == 0 && !caller.privileged()) {
            status = Status.MISSING;
            fix = "as root: sysctl -w kernel.unprivileged_userns_clone=1 (and persist it in /etc/sysctl.d/)";
        } else if (apparmor.orElse(0L) != 0 && !caller.privileged()) {
            status = Status.WARN;
            fix = "AppArmor gives unprivileged user namespaces no capabilities, so a jail cannot mount: as root, sysctl -w"
                    + " kernel.apparmor_restrict_unprivileged_userns=0, or an AppArmor profile with 'userns,' for the java binary";
        }
        if (probe.created() == Boolean.FALSE && status != Status.MISSING) {
            status = Status.MISSING;
            fix = "the settings above allow it but the kernel refused: a seccomp filter or security module of the"
                    + " container or service corral runs in may forbid unshare(CLONE_NEWUSER); allow it there";
        } else if (probe.created() == Boolean.TRUE && status == Status.MISSING) {
            status = Status.WARN;
            fix = "the probe created one all the same; " + fix;
        }
        return HostCheck.of("user-namespaces", "User namespaces", status, finding, fix, facts);
    }

    /** What the unshare(1) probe did: created is null when it could not be run. */
    record Probe(String command, String result, Boolean created) {}

    static Probe probe() {
        Optional<Path> unshare = HostFiles.onPath("unshare");
        Optional<Path> yes = HostFiles.onPath("true");
        String shown = "unshare " + String.join(" ", PROBE);
        if (unshare.isEmpty() || yes.isEmpty()) {
            return new Probe(shown, "skipped: no " + (unshare.isEmpty() ? "unshare(1)" : "true(1)") + " on PATH", null);
        }
        List<String> command = new ArrayList<>();
        command.add(unshare.get().toString());
        command.addAll(PROBE.subList(0, PROBE.size() - 1));
        command.add(yes.get().toString());
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
            // An error message fits the pipe's buffer, so waiting before reading cannot block.
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return new Probe(shown, "skipped: `" + shown + "` did not finish in 10 s", null);
            }
            byte[] out = p.getInputStream().readNBytes(4096);
            if (p.exitValue() == 0) return new Probe(shown, "`" + shown + "` created one", true);
            String said = new String(out, StandardCharsets.UTF_8).strip().lines().findFirst().orElse("");
            return new Probe(shown, "`" + shown + "` failed with status " + p.exitValue() + (said.isEmpty() ? "" : ": " + said), false);
        } catch (IOException e) {
            return new Probe(shown, "skipped: cannot run unshare(1): " + e.getMessage(), null);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Probe(shown, "skipped: interrupted", null);
        }
    }

    static HostCheck time() {
        boolean present = Files.exists(Path.of("/proc/self/ns/time"));
        return HostCheck.of("time-namespace", "Time namespace", present ? Status.OK : Status.MISSING,
                present ? "/proc/self/ns/time exists: each jail gets its own time namespace"
                        : "no /proc/self/ns/time: the kernel has no time namespaces, so jails share the host's",
                "a kernel of 5.6 or later built with CONFIG_TIME_NS=y", Map.of("present", present));
    }
}
