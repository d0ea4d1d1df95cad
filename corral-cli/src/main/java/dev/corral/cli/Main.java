package dev.corral.cli;

import dev.corral.config.Suggestions;
import picocli.CommandLine;

import java.util.Arrays;

/** Entry point of the {@code corral} command. Exit 2 for usage errors, as the issue and podman agree. */
public final class Main {
    private Main() {}

    /** The options a command line of corral alone may hold (see {@link CorralCommand#summary()}). */
    private static final java.util.Set<String> ABOUT_CORRAL = java.util.Set.of("-h", "--help", "-V", "--version");

    public static void main(String[] args) {
        settings();
        System.exit(args.length > 0 && args[0].equals("aot-training") ? train(args) : run(args));
    }

    /** {@code corral aot-training KIND}, for the launcher: best effort, its output unread. */
    private static int train(String[] args) {
        try {
            return AotTraining.train(Arrays.copyOfRange(args, 1, args.length));
        } catch (Exception e) {
            System.err.println("corral: aot-training: " + e);
            return ExitCodes.SETUP_FAILED;
        }
    }

    /** System properties the libraries read when they start, for every command (and training). */
    private static void settings() {
        // Jetty (daemon, ctl) logs through SLF4J: only what needs a human's attention.
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        System.setProperty("org.slf4j.simpleLogger.logFile", "System.err");
        // Jetty pads its queues by the JVM's references per cache line and, unless told, asks the
        // platform MBean server whether oops are compressed: starting JMX took ~180 ms of a cold
        // `corral ctl`. They are (the CLI's and the daemon's heaps are far below 32 GB): 64 / 4.
        if (System.getProperty("org.eclipse.jetty.util.referencesPerCacheLine") == null) {
            System.setProperty("org.eclipse.jetty.util.referencesPerCacheLine", "16");
        }
    }

    static int run(String[] args) {
        CorralCommand.Subcommand sub = args.length == 0 ? null : CorralCommand.SUBCOMMANDS.get(args[0]);
        java.util.function.Supplier<Object> named = sub == null ? null : sub.make();
        if (named != null && args[0].equals("run")) RunCommand.spawnAhead(args);
        if (named != null && args[0].equals("exec")) ExecCommand.prepareAhead();
        // Building a command's model costs picocli milliseconds (tens by reflection, for the
        // commands still declared with annotations): a command line that names a subcommand gets
        // that one alone, under its full name; help or a version of corral itself, the
        // subcommands' names and descriptions; an error, the whole tree.
        CommandLine cli;
        if (named != null) {
            cli = new CommandLine(named.get()).setCommandName("corral " + args[0]);
            args = Arrays.copyOfRange(args, 1, args.length);
        } else if (args.length == 0 || args.length == 1 && ABOUT_CORRAL.contains(args[0])) {
            cli = CorralCommand.summary();
        } else {
            cli = CorralCommand.withSubcommands();
        }
        cli.setParameterExceptionHandler((e, argv) -> {
            System.err.println("corral: " + e.getMessage());
            // picocli offers every name sharing a prefix; one close name says more.
            if (e instanceof CommandLine.UnmatchedArgumentException u && !u.getUnmatched().isEmpty()) {
                Suggestions.closest(u.getUnmatched().getFirst(), u.getSuggestions())
                        .ifPresent(s -> System.err.println("Did you mean '" + s + "'?"));
            }
            System.err.println("Try '" + e.getCommandLine().getCommandSpec().qualifiedName() + " --help'.");
            return ExitCodes.USAGE;
        });
        cli.setExecutionExceptionHandler((e, c, parsed) -> {
            if (e instanceof java.nio.file.InvalidPathException p) {
                // The JVM names files in the locale's character set: under LANG=C (cron, a bare
                // container) it is ASCII, and a path with any other character cannot be named.
                System.err.println("corral: " + p.getInput() + ": the path cannot be named in this locale's character set ("
                        + System.getProperty("sun.jnu.encoding") + "); run corral under a UTF-8 locale (e.g. LANG=C.UTF-8)");
                return ExitCodes.USAGE;
            }
            System.err.println("corral: internal error: " + e);
            e.printStackTrace();
            return ExitCodes.SETUP_FAILED;
        });
        int status = cli.execute(args);
        RunCommand.dropSpawnedAhead();
        return status;
    }
}
