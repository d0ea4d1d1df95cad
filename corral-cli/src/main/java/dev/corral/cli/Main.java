package dev.corral.cli;

import picocli.CommandLine;

/** Entry point of the {@code corral} command. Exit 2 for usage errors, as the issue and podman agree. */
public final class Main {
    private Main() {}

    public static void main(String[] args) {
        System.exit(run(args));
    }

    static int run(String[] args) {
        // Jetty (daemon, ctl) logs through SLF4J: only what needs a human's attention.
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        System.setProperty("org.slf4j.simpleLogger.logFile", "System.err");
        CommandLine cli = new CommandLine(new CorralCommand());
        var named = args.length > 0 ? CorralCommand.SUBCOMMANDS.get(args[0]) : null;
        if (named != null) {
            cli.addSubcommand(args[0], named.get());
        } else {
            CorralCommand.SUBCOMMANDS.forEach((name, command) -> cli.addSubcommand(name, command.get()));
        }
        cli.setParameterExceptionHandler((e, argv) -> {
            System.err.println("corral: " + e.getMessage());
            System.err.println("Try 'corral " + (e.getCommandLine().getCommandName().equals("corral") ? ""
                    : e.getCommandLine().getCommandName() + " ") + "--help'.");
            return ExitCodes.USAGE;
        });
        cli.setExecutionExceptionHandler((e, c, parsed) -> {
            System.err.println("corral: internal error: " + e);
            e.printStackTrace();
            return ExitCodes.SETUP_FAILED;
        });
        return cli.execute(args);
    }
}
