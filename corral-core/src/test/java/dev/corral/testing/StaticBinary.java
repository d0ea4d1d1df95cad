package dev.corral.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds a test program from one C file as a static binary (musl-gcc, else gcc -static) under
 * target/, where the default jail sees it through the host's /. Rebuilt when the source is newer.
 */
public final class StaticBinary {
    private StaticBinary() {}

    /**
     * Where a jail finds {@code binary}: its directory is bound read-only at /corral-test/DIR. The
     * default jail's /tmp is its own, so a checkout under /tmp (as CI may clone it) is not visible
     * through the host's / there.
     */
    public static String bindInto(dev.corral.JailBuilder jail, Path binary) {
        Path dir = binary.toAbsolutePath().getParent();
        String inside = "/corral-test/" + dir.getFileName();
        jail.readOnlyBind(dir.toString(), inside);
        return inside + "/" + binary.getFileName();
    }

    public static synchronized Path build(Path source, Path binary) throws IOException, InterruptedException {
        source = source.toAbsolutePath();
        binary = binary.toAbsolutePath();
        if (Files.exists(binary) && Files.getLastModifiedTime(binary).compareTo(Files.getLastModifiedTime(source)) > 0) {
            return binary;
        }
        Files.createDirectories(binary.getParent());
        List<String> cmd = new ArrayList<>(onPath("musl-gcc") ? List.of("musl-gcc", "-static") : List.of("gcc", "-static"));
        cmd.addAll(List.of("-O2", "-Wall", "-Werror", "-o", binary.toString(), source.toString()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) throw new IllegalStateException("cannot build " + source + ":\n" + out);
        return binary;
    }

    private static boolean onPath(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) {
            if (Files.isExecutable(Path.of(dir, tool))) return true;
        }
        return false;
    }
}
