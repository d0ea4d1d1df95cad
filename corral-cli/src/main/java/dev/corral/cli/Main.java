package dev.corral.cli;

import picocli.CommandLine;

import java.util.Arrays;

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
        java.util.function.Supplier<Object> named = args.length == 0 ? null
                : args[0].equals("aot-training") ? AotTrainingCommand::new : CorralCommand.SUBCOMMANDS.get(args[0]);
        if (named != null && args[0].equals("run")) RunCommand.spawnAhead(args);
        if (named != null && args[0].equals("exec")) ExecCommand.prepareAhead();
        // picocli builds a command's model by reflection, tens of milliseconds on a cold JVM: a
        // command line that names a subcommand gets that one alone, under its full name, and
        // help, a version or an error the whole tree.
        CommandLine cli;
        if (named != null) {
            cli = new CommandLine(named.get()).setCommandName("corral " + args[0]);
            args = Arrays.copyOfRange(args, 1, args.length);
        } else {
            CommandLine root = new CommandLine(new CorralCommand());
            CorralCommand.SUBCOMMANDS.forEach((name, command) -> root.addSubcommand(name, command.get()));
            cli = root;
        }
        cli.setParameterExceptionHandler((e, argv) -> {
            System.err.println("corral: " + e.getMessage());
            System.err.println("Try '" + e.getCommandLine().getCommandSpec().qualifiedName() + " --help'.");
            return ExitCodes.USAGE;
        });
        cli.setExecutionExceptionHandler((e, c, parsed) -> {
            System.err.println("corral: internal error: " + e);
            e.printStackTrace();
            return ExitCodes.SETUP_FAILED;
        });
        int status = cli.execute(args);
        RunCommand.dropSpawnedAhead();
        return status;
    }
}
