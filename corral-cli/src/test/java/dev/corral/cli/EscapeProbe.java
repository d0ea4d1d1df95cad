package dev.corral.cli;

import dev.corral.testing.StaticBinary;

import java.io.IOException;
import java.nio.file.Path;

/**
 * src/test/native/probe.c, a static program that tries one way out of a jail and prints the
 * errno it got, built into target/escape-probe/ (readable by the test user nobody).
 */
final class EscapeProbe {
    static final Path DIR = Path.of("target/escape-probe").toAbsolutePath();
    static final Path BINARY = DIR.resolve("probe");

    static Path build() throws IOException, InterruptedException {
        return StaticBinary.build(Path.of("src/test/native/probe.c"), BINARY);
    }

    private EscapeProbe() {}
}
