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
import picocli.CommandLine.Model.CommandSpec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code corral exec}: its options are declared in code, as run's are (see {@link Flags}). */
final class ExecCommand implements Callable<Integer> {
    static final String[] DESCRIPTION = {"Run COMMAND inside a running jail and exit with its status, as docker exec does: in every"
            + " namespace of the jail's program (the user namespace first), its cgroups, root and working directory,"
            + " as its uid and gid, with no more capabilities than it has, its no_new_privs and its seccomp filter.",
            "The jail is a daemon's application (APP), any process of a jail (--pid), or a setns socket (--socket)."};

    /** Jackson, for the daemon's answers: only `corral exec APP` loads it. */
    private static final class Json {
        static final ObjectMapper MAPPER = new ObjectMapper();
    }

    private final CommandSpec spec = CommandSpec.wrapWithoutInspection(this);
    private final Flags flags = new Flags();
    private final Flags.Value<Long> pid = flags.value("--pid", "PID", Long.class,
            "A process of the jail: its program, or corral's monitor or init around it.");
    private final Flags.Value<Path> setnsSocket = flags.value("--socket", "PATH", Path.class,
            "A setns socket serving the jail (\"isolation\": {\"setns_socket\": ...}).");
    private final Flags.Value<Path> control = flags.value("--control", "PATH", Path.class,
            "The daemon's control socket, to find APP (default: the daemon's).");
    private final Flags.Flag tty = flags.flag("-t, --tty", "Give COMMAND this terminal as its foreground job (stdin must be a terminal).");
    private final Flags.Values env = flags.repeatable("-e, --env", "KEY=VALUE", "Set a variable on top of the program's environment.");
    private final Flags.Value<String> workdir = flags.value("-w, --workdir", "DIR",
            "Working directory inside the jail (default: the program's).");
    private final Flags.Flag dryRun = flags.flag("--dry-run", "Print the plan, every step in order, and exit without running anything.");
    private final Flags.Values words = flags.positionals("[APP] -- COMMAND",
            "The application (without --pid or --socket), then the command after --.");

    ExecCommand() {
        flags.oneOf(pid, setnsSocket);
        spec.name("exec");
        spec.usageMessage().description(DESCRIPTION).footer("", "Examples:", "  corral exec web -- ps -e", "  corral exec -t web -- sh",
                "  corral exec --pid 4242 -- cat /etc/hostname", "  corral exec --socket /run/corral/setns/web.sock -- ip addr");
        Flags.standardHelp(spec);
        flags.addTo(spec);
    }

    /** What picocli is given: this command's spec, which calls back {@link #call()}. */
    CommandSpec spec() {
        return spec;
    }

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
        boolean byApp = !pid.given() && !setnsSocket.given();
        List<String> command = new ArrayList<>(words.get());
        // Before "--" only the application may stand, and only without --pid or --socket.
        List<String> original = spec.commandLine().getParseResult().originalArgs();
        int dashes = original.indexOf("--");
        if (dashes >= 0) {
            int before = command.size() - (original.size() - dashes - 1);
            if (before != (byApp ? 1 : 0)) {
                return usage(byApp ? "APP" : pid.given() ? "--pid" : "--socket", byApp
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
        JoinBuilder b = new JoinBuilder().command(command).stdio(JailBuilder.StdioMode.INHERIT).workingDirectory(workdir.get());
        for (String kv : env.get()) {
            int eq = kv.indexOf('=');
            if (eq <= 0) return usage("--env", "expected KEY=VALUE, not \"" + kv + "\"");
            b.env(kv.substring(0, eq), kv.substring(eq + 1));
        }
        if (tty.on()) {
            if (!Terminal.isForeground(0)) return usage("-t", "standard input is not a terminal in the foreground");
            b.takeTerminal(true);
        }
        SetnsSocket.Served served = null;
        try {
            if (pid.given()) {
                b.jail(pid.get());
            } else if (setnsSocket.given()) {
                served = SetnsSocket.receive(setnsSocket.get().toString());
                b.jail(served.jail()).spec(AppConfig.application(served.application(), served.config()));
            } else {
                Integer failed = fromDaemon(b, app);
                if (failed != null) return failed;
            }
            if (dryRun.on()) {
                b.plan().describe().forEach(System.out::println);
                return 0;
            }
            SignalForwarder signals = SignalForwarder.install();
            try {
                JailedProcess p = b.start();
                signals.attach(p);
                return p.waitFor();
            } finally {
                if (tty.on()) Libc.takeTerminalBack(0); // as corral run does: the command has ended
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
        Path sock = control.given() ? control.get() : Daemon.Paths.defaults().socket();
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
            JsonNode s = Json.MAPPER.readTree(status.body());
            if (!s.has("pid")) {
                System.err.println("corral: application \"" + app + "\" is not running (" + s.path("state").asText() + ")");
                return ExitCodes.SETUP_FAILED;
            }
            ControlClient.Reply config = c.get("/config/applications/" + app);
            if (config.status() != 200) {
                System.err.println("corral: the daemon at " + sock + " answered " + config.status() + ": " + config.body().strip());
                return ExitCodes.SETUP_FAILED;
            }
            b.jail(s.get("pid").asLong()).spec(AppConfig.application(app, Json.MAPPER.readTree(config.body())));
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
