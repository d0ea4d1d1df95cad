package dev.corral.sys;

import dev.corral.JailBuilder;
import dev.corral.JailedProcess;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The event loop at System.exit: it must not keep the JVM in its 300 ms wait for threads in
 * native, yet a shutdown hook that waits for a jail must still see it end (the loop follows it).
 */
class EventLoopExitTest {

    /** Run in a JVM of its own: a jail, a shutdown hook that kills it and waits, then System.exit. */
    public static final class ExitWithARunningJail {
        public static void main(String[] args) throws Exception {
            JailedProcess p = new JailBuilder().command("sleep", "100").start();
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    Thread.sleep(100); // the loop's own hook has run by now
                    p.destroyForcibly();
                    System.out.println("hook: the jail ended with " + p.waitFor());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }));
            System.exit(0);
        }
    }

    @Test
    void aShutdownHookCanStillWaitForAJail() throws Exception {
        Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                ExitWithARunningJail.class.getName()).redirectErrorStream(true).start();
        // Not a timing assertion: a loop that stopped following the jail would hang this JVM for ever.
        boolean exited = child.waitFor(60, TimeUnit.SECONDS);
        if (!exited) child.destroyForcibly().waitFor();
        String out = new String(child.getInputStream().readAllBytes());
        assertThat(exited).as("the JVM exits; it printed: " + out).isTrue();
        assertThat(out).contains("hook: the jail ended with 137");
        assertThat(child.exitValue()).isZero();
    }
}
