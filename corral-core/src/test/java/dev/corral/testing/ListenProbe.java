package dev.corral.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds src/test/native/listen-probe.c, a static socket-activated server (one answer per passed
 * socket), into target/listen-probe/, where the default jail sees it through the host's /.
 */
public final class ListenProbe {
    private static final Path DIR = Path.of("target/listen-probe").toAbsolutePath();
    private static final Path BINARY = DIR.resolve("listen-probe");
    private static final Path SOURCE = Path.of("src/test/native/listen-probe.c").toAbsolutePath();

    private ListenProbe() {}

    public static synchronized Path build() throws IOException, InterruptedException {
        if (Files.exists(BINARY) && Files.getLastModifiedTime(BINARY).compareTo(Files.getLastModifiedTime(SOURCE)) > 0) {
            return BINARY;
        }
        Files.createDirectories(DIR);
        List<String> cmd = new ArrayList<>(onPath("musl-gcc") ? List.of("musl-gcc", "-static") : List.of("gcc", "-static"));
        cmd.addAll(List.of("-O2", "-Wall", "-Werror", "-o", BINARY.toString(), SOURCE.toString()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) throw new IllegalStateException("cannot build the listen probe:\n" + out);
        return BINARY;
    }

    private static boolean onPath(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) {
            if (Files.isExecutable(Path.of(dir, tool))) return true;
        }
        return false;
    }
}
