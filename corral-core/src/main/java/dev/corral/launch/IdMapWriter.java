package dev.corral.launch;

import dev.corral.JailSetupException;
import dev.corral.plan.IdMapPlan;
import dev.corral.plan.Op;
import dev.corral.plan.Step;
import dev.corral.spec.IdMapping;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * How a cloned jail's uid/gid maps get written. Direct maps go into the plan for the monitor
 * (OP_ID_MAPS), which writes them the moment the jail's namespaces exist and lets it go on at
 * once; maps that need newuidmap/newgidmap (a normal user's subordinate ids) are written here,
 * by running the helpers, after which Java says "go".
 */
final class IdMapWriter {
    private IdMapWriter() {}

    /** The monitor's step for {@code maps} (null: no user namespace, nothing to write). */
    static Step monitorStep(IdMapPlan maps) {
        if (maps == null) return new Step(Op.ID_MAPS, List.of(), "no id maps to write: go on");
        if (maps.useHelpers()) throw new IllegalArgumentException("maps for newuidmap/newgidmap are Java's to write");
        List<String> files = new ArrayList<>();
        // setgroups first: the kernel takes an unprivileged gid_map only once it is denied.
        if (maps.denySetgroups()) files.addAll(List.of("setgroups", "deny"));
        files.addAll(List.of("gid_map", lines(maps.gid()), "uid_map", lines(maps.uid())));
        return new Step(Op.ID_MAPS, files, "write the jail's id maps");
    }

    /** Runs newgidmap and newuidmap for the jail {@code pid}. */
    static void writeWithHelpers(IdMapPlan maps, long pid) throws JailSetupException {
        helper("newgidmap", pid, maps.gid());
        helper("newuidmap", pid, maps.uid());
    }

    private static String lines(List<IdMapping> map) {
        StringBuilder sb = new StringBuilder();
        for (IdMapping m : map) sb.append(m.mapLine()).append('\n');
        return sb.toString();
    }

    private static void helper(String tool, long pid, List<IdMapping> map) throws JailSetupException {
        List<String> cmd = new ArrayList<>(List.of(tool, Long.toString(pid)));
        for (IdMapping m : map) {
            cmd.add(Long.toString(m.inside()));
            cmd.add(Long.toString(m.outside()));
            cmd.add(Long.toString(m.count()));
        }
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            int status = p.waitFor();
            if (status != 0) {
                throw new JailSetupException(tool + " failed (status " + status + ")" + (out.isEmpty() ? "" : ": " + out), 0, 125);
            }
        } catch (IOException e) {
            throw new JailSetupException("cannot run " + tool + ": " + e.getMessage(), 0, 125);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new JailSetupException("interrupted while running " + tool, 0, 125);
        }
    }
}
