package dev.corral.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

@Command(name = "corral",
        mixinStandardHelpOptions = true,
        versionProvider = Version.class,
        description = "Runs applications in Linux namespace jails.")
final class CorralCommand implements Runnable {
    /**
     * A subcommand: how to make what picocli is given for it (an annotated command, or the spec of
     * one declared in code), and its description, read only for help.
     */
    record Subcommand(Supplier<Object> make, Supplier<String[]> description) {
        /** A command declared with picocli's annotations: its description is its {@code @Command}'s. */
        static Subcommand annotated(Class<?> type, Supplier<Object> make) {
            return new Subcommand(make, () -> type.getAnnotation(Command.class).description());
        }

        /**
         * A command declared in code (see {@link Flags}). Its description is asked for only when
         * needed: reading a static field of its class would initialise that class (exec's loaded
         * Jackson, ~420 classes, into every `corral run`).
         */
        static Subcommand declared(Supplier<Object> make, Supplier<String[]> description) {
            return new Subcommand(make, description);
        }
    }

    /**
     * The subcommands, in the order help lists them. {@link Main} builds only the one a command
     * line names (a command's model costs picocli time, by reflection for the annotated ones, and
     * `corral run` should not pay for the daemon's), or this command with all of them for errors.
     */
    static final Map<String, Subcommand> SUBCOMMANDS = subcommands();

    private static Map<String, Subcommand> subcommands() {
        Map<String, Subcommand> all = new LinkedHashMap<>();
        all.put("run", Subcommand.declared(() -> new RunCommand().spec(), () -> RunCommand.DESCRIPTION));
        all.put("plan", Subcommand.declared(() -> new PlanCommand().spec(), () -> PlanCommand.DESCRIPTION));
        all.put("doctor", Subcommand.annotated(DoctorCommand.class, DoctorCommand::new));
        all.put("exec", Subcommand.declared(() -> new ExecCommand().spec(), () -> ExecCommand.DESCRIPTION));
        all.put("daemon", Subcommand.annotated(DaemonCommand.class, DaemonCommand::new));
        all.put("ctl", Subcommand.annotated(CtlCommand.class, CtlCommand::new));
        all.put("logs", Subcommand.annotated(LogsCommand.class, LogsCommand::new));
        all.put("rootfs", Subcommand.annotated(dev.corral.cli.rootfs.RootfsCommand.class, dev.corral.cli.rootfs.RootfsCommand::new));
        return Collections.unmodifiableMap(all);
    }

    /** This command with every subcommand's whole model: for a command line that names none that exists. */
    static CommandLine withSubcommands() {
        CommandLine root = new CommandLine(new CorralCommand());
        SUBCOMMANDS.forEach((name, sub) -> root.addSubcommand(name, sub.make().get()));
        return root;
    }

    /**
     * This command with each subcommand reduced to its name and description, enough for
     * {@code corral --help} and {@code corral --version}: the whole tree's models took ~400 ms
     * on a cold JVM, this one about a quarter of that. Never for parsing a subcommand's options.
     */
    static CommandLine summary() {
        CommandLine root = new CommandLine(new CorralCommand());
        SUBCOMMANDS.forEach((name, sub) -> {
            CommandSpec spec = CommandSpec.create().name(name);
            spec.usageMessage().description(sub.description().get());
            root.addSubcommand(name, new CommandLine(spec));
        });
        return root;
    }

    @Override
    public void run() {
        System.err.println("corral: a command is needed: " + String.join(", ", SUBCOMMANDS.keySet()) + ". Try 'corral --help'.");
        System.exit(ExitCodes.USAGE);
    }
}
