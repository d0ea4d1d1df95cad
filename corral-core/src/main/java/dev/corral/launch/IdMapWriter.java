package dev.corral.launch;

import dev.corral.JailSetupException;
import dev.corral.plan.IdMapPlan;
import dev.corral.spec.IdMapping;

import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Writes a cloned jail's uid/gid maps: directly, or through newuidmap/newgidmap. */
final class IdMapWriter {
    private IdMapWriter() {}

    static void write(IdMapPlan maps, long pid) throws JailSetupException {
        if (maps.useHelpers()) {
            helper("newgidmap", pid, maps.gid());
            helper("newuidmap", pid, maps.uid());
            return;
        }
        if (maps.denySetgroups()) writeFile(pid, "setgroups", "deny");
        writeFile(pid, "gid_map", lines(maps.gid()));
        writeFile(pid, "uid_map", lines(maps.uid()));
    }

    private static String lines(List<IdMapping> map) {
        StringBuilder sb = new StringBuilder();
        for (IdMapping m : map) sb.append(m.mapLine()).append('\n');
        return sb.toString();
    }

    /** The kernel takes a map in a single write(2). */
    private static void writeFile(long pid, String name, String content) throws JailSetupException {
        String path = "/proc/" + pid + "/" + name;
        try (FileOutputStream out = new FileOutputStream(path)) {
            out.write(content.getBytes(StandardCharsets.US_ASCII));
        } catch (IOException e) {
            throw new JailSetupException("write " + path + ": " + reason(e), 0, 125);
        }
    }

    private static String reason(IOException e) {
        String m = e.getMessage();
        int paren = m == null ? -1 : m.lastIndexOf('(');
        return paren >= 0 ? m.substring(paren + 1, m.length() - 1) : String.valueOf(m);
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
