package dev.corral.cli;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What a cold {@code corral run} and {@code corral exec --pid} load, for what they must not: each
 * of these once slipped onto the path and cost tens of milliseconds of every start. Jackson and
 * Jetty (~420 classes for the daemon's client and JSON; exec's ObjectMapper came in when help
 * read its description), and annotation proxies (picocli reading annotations: ~100 ms for run's
 * options; run, plan and exec declare theirs in code, see Flags).
 */
class ColdPathCliIT {
    @Test
    void runLoadsNeitherJacksonNorJettyNorAnnotationProxies() throws Exception {
        assertThat(loaded("run", "--", "true")).noneMatch(ColdPathCliIT::unwanted);
    }

    @Test
    void execByPidLoadsNeitherJacksonNorJettyNorAnnotationProxies() throws Exception {
        try (RunningJail jail = RunningJail.start(List.of(), List.of("--no-cgroup"), "true")) {
            assertThat(loaded("exec", "--pid", String.valueOf(jail.pid), "--", "true")).noneMatch(ColdPathCliIT::unwanted);
        }
    }

    private static boolean unwanted(String className) {
        return className.startsWith("com.fasterxml.jackson.") || className.startsWith("org.eclipse.jetty.")
                || className.matches("(com\\.sun\\.proxy\\.)?jdk\\.proxy\\d+\\.\\$Proxy\\d+");
    }

    /** The classes a CLI command loads (-Xlog:class+load), after checking that it succeeded. */
    private static List<String> loaded(String... args) throws Exception {
        List<String> command = new ArrayList<>(Cli.command(List.of(), args));
        command.add(1, "-Xlog:class+load=info:stdout:none");
        Process p = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        List<String> lines = new String(p.getInputStream().readAllBytes()).lines().toList();
        assertThat(p.waitFor()).as(String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()))).isZero();
        List<String> classes = lines.stream().filter(l -> l.contains(" source: ")).map(l -> l.substring(0, l.indexOf(' '))).toList();
        assertThat(classes).as("class loading was logged").contains("dev.corral.cli.Main");
        return classes;
    }
}
