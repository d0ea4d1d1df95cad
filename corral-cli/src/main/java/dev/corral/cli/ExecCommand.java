package dev.corral.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.corral.JailBuilder;
import dev.corral.JailSetupException;
import dev.corral.JailedProcess;
import dev.corral.JoinBuilder;
import dev.corral.config.AppConfig;
import dev.corral.daemon.Daemon;
import dev.corral.daemon.client.ControlClient;
import dev.corral.join.SetnsSocket;
import dev.corral.spec.Problem;
import dev.corral.spec.SpecException;
import dev.corral.sys.Libc;
import dev.corral.sys.Terminal;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "exec", mixinStandardHelpOptions = true,
        description = {"Run COMMAND inside a running jail and exit with its status, as docker exec does: in every"
                + " namespace of the jail's program (the user namespace first), its cgroups, root and working directory,"
                + " as its uid and gid, with no more capabilities than it has, its no_new_privs and its seccomp filter.",
                "The jail is a daemon's application (APP), any process of a jail (--pid), or a setns socket (--socket)."},
        footer = {"", "Examples:", "  corral exec web -- ps -e", "  corral exec -t web -- sh",
                "  corral exec --pid 4242 -- cat /etc/hostname", "  corral exec --socket /run/corral/setns/web.sock -- ip addr"})
final class ExecCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @ArgGroup(exclusive = true, multiplicity = "0..1")
    Target target = new Target();

    static final class Target {
        @Option(names = "--pid", paramLabel = "PID", description = "A process of the jail: its program, or corral's monitor or init around it.")
        Long pid;
        @Option(names = "--socket", paramLabel = "PATH", description = "A setns socket serving the jail (\"isolation\": {\"setns_socket\": ...}).")
        Path setnsSocket;
    }

    @Option(names = "--control", paramLabel = "PATH", description = "The daemon's control socket, to find APP (default: the daemon's).")
    Path control;

    @Option(names = {"-t", "--tty"}, description = "Give COMMAND this terminal as its foreground job (stdin must be a terminal).")
    boolean tty;

    @Option(names = {"-e", "--env"}, paramLabel = "KEY=VALUE", description = "Set a variable on top of the program's environment.")
    List<String> env = new ArrayList<>();

    @Option(names = {"-w", "--workdir"}, paramLabel = "DIR", description = "Working directory inside the jail (default: the program's).")
    String workdir;

    @Option(names = "--dry-run", description = "Print the plan, every step in order, and exit without running anything.")
    boolean dryRun;

    @Parameters(paramLabel = "[APP] -- COMMAND", arity = "0..*", description = "The application (without --pid or --socket), then the command after --.")
    List<String> words = new ArrayList<>();

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    /**
     * Prepares a join into this JVM's own namespaces, thrown away, on a thread of its own while
     * the main thread parses the arguments: the join path's first run on a cold JVM (its classes,
     * the first native call, reading /proc) then overlaps the parsing. It opens and closes
     * descriptors and changes nothing.
     */
    static void prepareAhead() {
        Thread.ofPlatform().daemon().name("corral-prepare-ahead").start(() -> {
            try (JoinBuilder.Prepared ignored = new JoinBuilder().command("true").jail(ProcessHandle.current().pid()).prepare()) {
                // only the warming counts
            } catch (SpecException | JailSetupException | RuntimeException e) {
                // the real exec says what is wrong, if anything is
            }
        });
    }

    @Override
    public Integer call() {
        boolean byApp = target.pid == null && target.setnsSocket == null;
        List<String> command = new ArrayList<>(words);
        // Before "--" only the application may stand, and only without --pid or --socket.
        List<String> original = spec.commandLine().getParseResult().originalArgs();
        int dashes = original.indexOf("--");
        if (dashes >= 0) {
            int before = command.size() - (original.size() - dashes - 1);
            if (before != (byApp ? 1 : 0)) {
                return usage(byApp ? "APP" : target.pid != null ? "--pid" : "--socket", byApp
                        ? "give one application before --, not " + command.subList(0, Math.max(before, 0))
                        : "names the jail; no application goes before -- (found " + command.subList(0, Math.max(before, 0)) + ")");
            }
        }
        String app = null;
        if (byApp) {
            if (command.isEmpty()) return usage("APP", "which application? corral exec APP -- COMMAND");
            app = command.removeFirst();
        }
        if (command.isEmpty()) return usage("COMMAND", "no command to run (corral exec ... -- COMMAND)");
        JoinBuilder b = new JoinBuilder().command(command).stdio(JailBuilder.StdioMode.INHERIT).workingDirectory(workdir);
        for (String kv : env) {
            int eq = kv.indexOf('=');
            if (eq <= 0) return usage("--env", "expected KEY=VALUE, not \"" + kv + "\"");
            b.env(kv.substring(0, eq), kv.substring(eq + 1));
        }
        if (tty) {
            if (!Terminal.isForeground(0)) return usage("-t", "standard input is not a terminal in the foreground");
            b.takeTerminal(true);
        }
        SetnsSocket.Served served = null;
        try {
            if (target.pid != null) {
                b.jail(target.pid);
            } else if (target.setnsSocket != null) {
                served = SetnsSocket.receive(target.setnsSocket.toString());
                b.jail(served.jail()).spec(AppConfig.application(served.application(), served.config()));
            } else {
                Integer failed = fromDaemon(b, app);
                if (failed != null) return failed;
            }
            if (dryRun) {
                b.plan().describe().forEach(System.out::println);
                return 0;
            }
            SignalForwarder signals = SignalForwarder.install();
            try {
                JailedProcess p = b.start();
                signals.attach(p);
                return p.waitFor();
            } finally {
                if (tty) Libc.takeTerminalBack(0); // as corral run does: the command has ended
            }
        } catch (SpecException | JailSetupException | IOException | InterruptedException e) {
            return RunCommand.failed(e);
        } finally {
            if (served != null) served.close();
        }
    }

    /**
     * Asks the daemon for the application's jail (the pid in its status) and configuration (its
     * hardening); null when it was found, else the exit status.
     */
    private Integer fromDaemon(JoinBuilder b, String app) throws SpecException {
        Path sock = control != null ? control : Daemon.Paths.defaults().socket();
        if (!Files.exists(sock)) {
            System.err.println("corral: no daemon socket at " + sock + " (give --control, or --pid)");
            return ExitCodes.SETUP_FAILED;
        }
        try (ControlClient c = new ControlClient(sock)) {
            ControlClient.Reply status = c.get("/status/applications/" + app);
            if (status.status() < 0) {
                System.err.println("corral: cannot reach the daemon at " + sock + ": " + status.body());
                return ExitCodes.SETUP_FAILED;
            }
            if (status.status() == 404) return usage("APP", "the daemon has no application \"" + app + "\"");
            if (status.status() != 200) {
                System.err.println("corral: the daemon at " + sock + " answered " + status.status() + ": " + status.body().strip());
                return ExitCodes.SETUP_FAILED;
            }
            JsonNode s = JSON.readTree(status.body());
            if (!s.has("pid")) {
                System.err.println("corral: application \"" + app + "\" is not running (" + s.path("state").asText() + ")");
                return ExitCodes.SETUP_FAILED;
            }
            ControlClient.Reply config = c.get("/config/applications/" + app);
            if (config.status() != 200) {
                System.err.println("corral: the daemon at " + sock + " answered " + config.status() + ": " + config.body().strip());
                return ExitCodes.SETUP_FAILED;
            }
            b.jail(s.get("pid").asLong()).spec(AppConfig.application(app, JSON.readTree(config.body())));
            return null;
        } catch (SpecException e) {
            throw e;
        } catch (Exception e) {
            System.err.println("corral: cannot reach the daemon at " + sock + ": " + e.getMessage());
            return ExitCodes.SETUP_FAILED;
        }
    }

    private static int usage(String where, String message) {
        return RunCommand.report(new SpecException(List.of(new Problem(where, message))));
    }
}
