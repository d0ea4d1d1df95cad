package dev.corral.cli;

import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code corral run ... -- sh -c 'SCRIPT; echo READY; exec sleep 1000'} in the background, as a
 * given user: what its program printed before READY, and the host pid of the jail's first process
 * (the CLI's child is the executor's monitor, whose child that is).
 */
final class RunningJail implements AutoCloseable {
    final Process cli;
    final String seen;
    final long pid;

    private RunningJail(Process cli, String seen, long pid) {
        this.cli = cli;
        this.seen = seen;
        this.pid = pid;
    }

    static RunningJail start(List<String> asUser, List<String> flags, String script) throws Exception {
        List<String> args = new ArrayList<>(List.of("run"));
        args.addAll(flags);
        args.addAll(List.of("--", "/bin/sh", "-c", script + "\necho READY; exec sleep 1000"));
        Process p = new ProcessBuilder(Cli.command(asUser, args.toArray(String[]::new)))
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectError(ProcessBuilder.Redirect.INHERIT).directory(new File("/")).start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream()));
            StringBuilder seen = new StringBuilder();
            String line;
            while ((line = out.readLine()) != null && !line.equals("READY")) seen.append(line).append('\n');
            if (line == null) throw new AssertionError("the jail ended before it was ready: " + seen);
            ProcessHandle monitor = p.toHandle().children().findFirst().orElseThrow();
            long first = monitor.children().findFirst().orElseThrow().pid();
            return new RunningJail(p, seen.toString(), first);
        } catch (Exception | AssertionError e) {
            p.destroyForcibly().waitFor();
            throw e;
        }
    }

    @Override
    public void close() throws Exception {
        cli.destroy(); // SIGTERM, forwarded to the program: the jail ends
        if (!cli.waitFor(20, TimeUnit.SECONDS)) cli.destroyForcibly().waitFor();
    }
}
