package dev.corral.cli;

import picocli.CommandLine.Command;

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
     * The subcommands, in the order help lists them. {@link Main} builds only the one a command
     * line names (picocli builds each command's model by reflection, and `corral run` should not
     * pay for the daemon's), or this command with all of them for help and errors.
     */
    static final Map<String, Supplier<Object>> SUBCOMMANDS = subcommands();

    private static Map<String, Supplier<Object>> subcommands() {
        Map<String, Supplier<Object>> all = new LinkedHashMap<>();
        all.put("run", RunCommand::new);
        all.put("plan", PlanCommand::new);
        all.put("doctor", DoctorCommand::new);
        all.put("exec", ExecCommand::new);
        all.put("daemon", DaemonCommand::new);
        all.put("ctl", CtlCommand::new);
        all.put("logs", LogsCommand::new);
        all.put("rootfs", dev.corral.cli.rootfs.RootfsCommand::new);
        return Collections.unmodifiableMap(all);
    }

    @Override
    public void run() {
        System.err.println("corral: a command is needed: " + String.join(", ", SUBCOMMANDS.keySet()) + ". Try 'corral --help'.");
        System.exit(ExitCodes.USAGE);
    }
}
