package dev.corral.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.util.concurrent.Callable;

@Command(name = "plan", mixinStandardHelpOptions = true,
        description = "Print the launch plan for a jail, every step in order, without running it"
                + " (the same as 'corral run --dry-run').")
final class PlanCommand implements Callable<Integer> {
    @Mixin
    JailOptions jail;

    @Override
    public Integer call() {
        return RunCommand.printPlan(jail);
    }
}
