package dev.corral.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Builds src/test/native/probe.c, a static program that tries one way out of a jail and
 * prints the errno it got, into target/escape-probe/ (readable by the test user nobody).
 */
final class EscapeProbe {
    static final Path DIR = Path.of("target/escape-probe").toAbsolutePath();
    static final Path BINARY = DIR.resolve("probe");
    private static final Path SOURCE = Path.of("src/test/native/probe.c").toAbsolutePath();

    static synchronized Path build() throws IOException, InterruptedException {
        if (Files.exists(BINARY) && Files.getLastModifiedTime(BINARY).compareTo(Files.getLastModifiedTime(SOURCE)) > 0) {
            return BINARY;
        }
        Files.createDirectories(DIR);
        List<String> cc = onPath("musl-gcc") ? List.of("musl-gcc", "-static") : List.of("gcc", "-static");
        List<String> cmd = new java.util.ArrayList<>(cc);
        cmd.addAll(List.of("-O2", "-Wall", "-Werror", "-o", BINARY.toString(), SOURCE.toString()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) throw new IllegalStateException("cannot build the escape probe:\n" + out);
        return BINARY;
    }

    private static boolean onPath(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) {
            if (Files.isExecutable(Path.of(dir, tool))) return true;
        }
        return false;
    }

    private EscapeProbe() {}
}
