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
            return new RunningJail(p, seen.toString(), firstProcess(monitor));
        } catch (Exception | AssertionError e) {
            p.destroyForcibly().waitFor();
            throw e;
        }
    }

    /**
     * The monitor's one live child. A jail that forks into its pid namespace (it joins a namespace
     * first) has a first process that hands over to that child and exits: the monitor reaps it
     * soon, but until then a zombie of it (named as the monitor is) may still be listed.
     */
    private static long firstProcess(ProcessHandle monitor) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            List<ProcessHandle> live = monitor.children().filter(c -> !zombie(c.pid())).toList();
            if (live.size() == 1) return live.getFirst().pid();
            if (System.nanoTime() > deadline) throw new AssertionError("the monitor has these live children: " + live);
            Thread.sleep(5);
        }
    }

    /** Exited and not yet reaped (or gone): the state after the command name in /proc/PID/stat is Z. */
    private static boolean zombie(long pid) {
        try {
            String stat = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/" + pid + "/stat"));
            return stat.charAt(stat.lastIndexOf(')') + 2) == 'Z';
        } catch (java.io.IOException e) {
            return true;
        }
    }

    @Override
    public void close() throws Exception {
        cli.destroy(); // SIGTERM, forwarded to the program: the jail ends
        if (!cli.waitFor(20, TimeUnit.SECONDS)) cli.destroyForcibly().waitFor();
    }
}
