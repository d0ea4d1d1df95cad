package dev.corral.doctor;

import dev.corral.doctor.HostCheck.Status;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Programs on the host that jails lean on: user-mode networking, and a C compiler for the executor. */
final class ToolChecks {
    /** Where the build puts the executor inside the jar (see dev.corral.launch.Executor). */
    static final String EXECUTOR_RESOURCE = "/dev/corral/launch/corral-exec";

    private ToolChecks() {}

    /** pasta (passt) or slirp4netns give a jail with its own network namespace a way out without root. */
    static HostCheck networkHelpers() {
        Map<String, Object> facts = new LinkedHashMap<>();
        List<String> seen = new ArrayList<>();
        boolean any = false;
        for (String tool : List.of("pasta", "slirp4netns")) {
            Optional<Path> p = HostFiles.onPath(tool);
            facts.put(tool, p.map(Path::toString).orElse(null));
            seen.add(tool + ": " + p.map(Path::toString).orElse("not found"));
            any |= p.isPresent();
        }
        return HostCheck.of("network-helpers", "Rootless networking", any ? Status.OK : Status.MISSING,
                String.join(", ", seen) + " (looked up on PATH; corral does not use them yet)",
                "install one: apt-get install passt (pasta) or apt-get install slirp4netns", facts);
    }

    /**
     * The executor ships built inside the jar; a compiler matters only to build corral from
     * source. musl-gcc gives a ~90 KB static binary, gcc -static one of ~740 KB (which a cold start
     * reads out of the jar, copies into a memfd and executes: ~6 ms more).
     */
    static HostCheck executor() {
        Map<String, Object> facts = new LinkedHashMap<>();
        long bundled = bundledSize();
        facts.put("bundled_bytes", bundled < 0 ? null : bundled);
        Optional<Path> musl = HostFiles.onPath("musl-gcc");
        Optional<Path> gcc = HostFiles.onPath("gcc");
        facts.put("musl-gcc", musl.map(Path::toString).orElse(null));
        facts.put("gcc", gcc.map(Path::toString).orElse(null));
        String inJar = bundled < 0 ? "not in this build's jar" : "in the jar (" + bundled + " bytes)";
        String finding = "executor " + inJar + "; musl-gcc: " + musl.map(Path::toString).orElse("not found")
                + ", gcc: " + gcc.map(Path::toString).orElse("not found");
        if (musl.isPresent()) return HostCheck.of("executor", "Executor build", Status.OK, finding + "; the build uses musl-gcc", "", facts);
        if (gcc.isPresent()) {
            return HostCheck.of("executor", "Executor build", Status.WARN,
                    finding + "; the build falls back to gcc -static (needs a static libc, gives a larger binary)",
                    "apt-get install musl-tools for a small executor (a cold corral start ~6 ms faster)", facts);
        }
        return HostCheck.of("executor", "Executor build", bundled < 0 ? Status.MISSING : Status.WARN,
                finding + "; corral cannot be built from source here", "apt-get install musl-tools (or gcc and libc6-dev)", facts);
    }

    private static long bundledSize() {
        try (InputStream in = ToolChecks.class.getResourceAsStream(EXECUTOR_RESOURCE)) {
            return in == null ? -1 : in.transferTo(java.io.OutputStream.nullOutputStream());
        } catch (IOException e) {
            return -1;
        }
    }
}
