package dev.corral.cli;

import dev.corral.daemon.Daemon;
import dev.corral.spec.Problem;
import dev.corral.spec.SpecException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import sun.misc.Signal;

import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "daemon", mixinStandardHelpOptions = true,
        description = {"Keep applications running, each in its own jail, and answer the control API on a Unix socket.",
                "The configuration is changed through the API (corral ctl apply FILE) and kept in the state file."})
final class DaemonCommand implements Callable<Integer> {
    @Option(names = "--socket", paramLabel = "PATH", description = "Control socket (default /run/corral/control.sock as root, $XDG_RUNTIME_DIR/corral/control.sock otherwise).")
    Path socket;
    @Option(names = "--state", paramLabel = "FILE", description = "The saved configuration (default /var/lib/corral/state.json as root).")
    Path state;
    @Option(names = "--logs", paramLabel = "DIR", description = "Where each application's log goes (default /var/log/corral as root).")
    Path logs;

    @Option(names = "--apps-dir", paramLabel = "DIR",
            description = "Also run one application per DIR/NAME.json, watched: a new file starts, a changed one reloads, a removed one stops.")
    Path appsDir;

    @Override
    public Integer call() throws Exception {
        Daemon.Paths d = Daemon.Paths.defaults();
        Daemon.Paths paths = new Daemon.Paths(socket != null ? socket : d.socket(), state != null ? state : d.state(),
                logs != null ? logs : d.logs(), appsDir);
        // SIGTERM and SIGINT: stop every application in parallel, remove the socket, exit 0.
        // Installed first, so a signal during start-up is held until the daemon can stop cleanly.
        var started = new java.util.concurrent.CompletableFuture<Daemon>();
        Runnable stop = () -> {
            try {
                started.join().close();
            } catch (Exception e) {
                System.err.println("corral daemon: while stopping: " + e);
            }
        };
        Signal.handle(new Signal("TERM"), s -> Thread.ofPlatform().start(stop));
        Signal.handle(new Signal("INT"), s -> Thread.ofPlatform().start(stop));
        Daemon daemon;
        try {
            daemon = Daemon.start(paths);
        } catch (SpecException e) {
            System.err.println("corral daemon: the saved configuration " + paths.state() + " is not valid here:");
            for (Problem p : e.problems()) System.err.println("corral: " + p);
            return ExitCodes.USAGE;
        } catch (java.io.IOException e) {
            // A socket, state or log path that cannot be made: say which, without a stack trace.
            String what = e instanceof java.nio.file.FileSystemException f
                    ? f.getFile() + ": " + (f.getReason() != null ? f.getReason()
                            : e instanceof java.nio.file.NoSuchFileException ? "no such file or directory"
                            : e instanceof java.nio.file.AccessDeniedException ? "permission denied" : e.getClass().getSimpleName())
                    : e.getMessage();
            System.err.println("corral daemon: cannot start: " + what);
            return ExitCodes.SETUP_FAILED;
        }
        started.complete(daemon);
        System.err.println("corral daemon: listening on " + daemon.socket());
        daemon.awaitClose();
        return 0;
    }
}
