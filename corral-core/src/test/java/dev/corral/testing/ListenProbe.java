package dev.corral.testing;

import java.io.IOException;
import java.nio.file.Path;

/**
 * src/test/native/listen-probe.c, a static socket-activated server (one answer per passed
 * socket), built into target/listen-probe/.
 */
public final class ListenProbe {
    private ListenProbe() {}

    public static Path build() throws IOException, InterruptedException {
        return StaticBinary.build(Path.of("src/test/native/listen-probe.c"), Path.of("target/listen-probe/listen-probe"));
    }
}
