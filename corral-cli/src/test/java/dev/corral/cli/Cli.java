package dev.corral.cli;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs the packaged {@code corral.jar} as a separate process, optionally as another user. */
final class Cli {
    static final String JAR = System.getProperty("corral.jar", "target/corral.jar");
    static final String JAVA = ProcessHandle.current().info().command().orElse("java");

    record Result(int status, String out, String err) {}

    static List<String> command(List<String> asUser, String... args) {
        List<String> cmd = new ArrayList<>(asUser);
        cmd.addAll(List.of(JAVA, "-XX:+UseSerialGC", "-XX:-UsePerfData", "-XX:TieredStopAtLevel=1", "--enable-native-access=ALL-UNNAMED",
                "-jar", new File(JAR).getAbsolutePath()));
        cmd.addAll(List.of(args));
        return cmd;
    }

    /** setpriv as the unprivileged user nobody, with no supplementary groups. */
    static final List<String> NOBODY = List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups");

    static Result run(String... args) throws IOException, InterruptedException {
        return runAs(List.of(), args);
    }

    static Result runAs(List<String> asUser, String... args) throws IOException, InterruptedException {
        Path out = java.nio.file.Files.createTempFile("corral-cli-out", ".txt");
        Path err = java.nio.file.Files.createTempFile("corral-cli-err", ".txt");
        try {
            // nobody must be able to write its output files
            out.toFile().setWritable(true, false);
            err.toFile().setWritable(true, false);
            Process p = new ProcessBuilder(command(asUser, args))
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectOutput(out.toFile()).redirectError(err.toFile())
                    .directory(new File("/")).start();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("corral " + String.join(" ", args) + " did not finish in 60 s");
            }
            return new Result(p.exitValue(), java.nio.file.Files.readString(out, StandardCharsets.UTF_8),
                    java.nio.file.Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            java.nio.file.Files.deleteIfExists(out);
            java.nio.file.Files.deleteIfExists(err);
        }
    }

    private Cli() {}
}
