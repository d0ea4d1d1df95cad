package dev.corral.cli;

import picocli.CommandLine.Command;

@Command(name = "corral",
        mixinStandardHelpOptions = true,
        versionProvider = Version.class,
        description = "Runs applications in Linux namespace jails.",
        subcommands = {RunCommand.class, ExecCommand.class, PlanCommand.class, DoctorCommand.class, DaemonCommand.class, CtlCommand.class, LogsCommand.class})
final class CorralCommand implements Runnable {
    @Override
    public void run() {
        System.err.println("corral: a command is needed: run, plan, doctor, exec, daemon, ctl, logs. Try 'corral --help'.");
        System.exit(ExitCodes.USAGE);
    }
}
