package dev.corral.cli;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * On a terminal (script(1) gives one) a jail's program becomes the terminal's foreground group,
 * and when the jail ends corral takes the terminal back, as a shell does when its foreground job
 * ends: the next command of a script that runs corral finds the terminal its own.
 */
class TerminalCliIT {
    /** A program's process group and the terminal's foreground group, from /proc. */
    private static final String GROUPS = "cut -d' ' -f5,8 /proc/self/stat";

    @Test
    void eachRunOfAScriptOnATerminalGetsTheTerminal() throws Exception {
        String first = shell(Cli.command(List.of(), "run", "--", "true"));
        String second = shell(Cli.command(List.of(), "run", "--", "sh", "-c", GROUPS));
        // After a jail that took the terminal, the script itself reads it: its group is the foreground.
        String script = first + "; " + second + "; " + GROUPS.replace("/proc/self/", "/proc/$$/");
        List<String> lines = onATerminal(script);
        assertThat(lines).hasSize(2);
        assertThat(lines.getFirst()).as("the second jail's program: group 2, the foreground").isEqualTo("2 2");
        String[] outer = lines.get(1).split(" ");
        assertThat(outer[1]).as("the script's group is the foreground again").isEqualTo(outer[0]);
    }

    @Test
    void theTerminalAsDevTtyIsTheTerminalToo() throws Exception {
        // /dev/tty is not the terminal's own device, but it is the terminal: the jail takes it.
        String script = shell(Cli.command(List.of(), "run", "--", "sh", "-c", GROUPS)) + " </dev/tty";
        assertThat(onATerminal(script)).containsExactly("2 2");
    }

    @Test
    void aRunInTheBackgroundLeavesTheTerminalAlone() throws Exception {
        // With job control (set -m) a job started with & has a group of its own, not the foreground:
        // its jail must not take the terminal, so its program is in a session of its own, without one.
        // (Taking it would make the program's group the foreground: "2 2", as in the test above.)
        String script = "set -m; " + shell(Cli.command(List.of(), "run", "--", "sh", "-c", GROUPS)) + " & wait";
        List<String> lines = onATerminal("sh -c " + shell(List.of(script)));
        assertThat(lines).hasSize(1);
        assertThat(lines.getFirst()).as("the background jail's program: no terminal, so no foreground group").endsWith(" -1");
    }

    static List<String> onATerminal(String script) throws Exception {
        Process p = new ProcessBuilder("script", "-qec", script, "/dev/null").redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes()).replace("\r", "");
        assertThat(p.waitFor()).as(out).isZero();
        return out.lines().toList();
    }

    static String shell(List<String> command) {
        return command.stream().map(a -> "'" + a.replace("'", "'\\''") + "'").collect(Collectors.joining(" "));
    }
}
