package dev.corral.daemon.supervise;

import dev.corral.JailBuilder;
import dev.corral.JailedProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** An application's log: whole writes, rotation by size, and a jail's output through the event loop. */
class LogFileTest {

    @Test
    void rotatesBySizeKeepingTheNewestFiles(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("app.log");
        LogFile log = new LogFile(file, 100, 2);
        for (int i = 0; i < 7; i++) {
            byte[] chunk = ("chunk " + i + " " + "x".repeat(40) + "\n").getBytes(StandardCharsets.UTF_8); // 49 bytes
            log.write(chunk, 0, chunk.length);
        }
        log.close();
        // Two chunks fit in 100 bytes: 0-1 and 2-3 rotated away (0-1 dropped, KEEP = 2), 4-5 in .1, 6 current.
        assertThat(Files.readString(file)).startsWith("chunk 6 ").hasSize(49);
        assertThat(Files.readString(Path.of(file + ".1"))).startsWith("chunk 4 ").contains("chunk 5 ").hasSize(98);
        assertThat(Files.readString(Path.of(file + ".2"))).startsWith("chunk 2 ").contains("chunk 3 ");
        assertThat(Path.of(file + ".3")).doesNotExist();
        byte[] late = "late\n".getBytes(StandardCharsets.UTF_8);
        assertThatThrownBy(() -> log.write(late, 0, late.length)).hasMessageContaining("closed");
        assertThat(Files.readString(file)).doesNotContain("late");
    }

    @Test
    void aJailsStdoutAndStderrArriveInOrder(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("app.log");
        LogFile log = new LogFile(file, 1 << 20, 3);
        JailedProcess p = new JailBuilder().output(log.sink())
                .command("sh", "-c", "for i in 1 2 3; do echo out $i; echo err $i >&2; done").start();
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        String expected = "out 1\nerr 1\nout 2\nerr 2\nout 3\nerr 3\n";
        for (int i = 0; i < 200 && !Files.readString(file).equals(expected); i++) Thread.sleep(10);
        assertThat(Files.readString(file)).isEqualTo(expected);
        log.close();
    }
}
