package dev.corral.cli;

import picocli.CommandLine.Model.CommandSpec;

import java.util.concurrent.Callable;

/** {@code corral plan}: run's jail flags, declared in code as run's are (see {@link Flags}). */
final class PlanCommand implements Callable<Integer> {
    static final String[] DESCRIPTION = {"Print the launch plan for a jail, every step in order, without running it"
            + " (the same as 'corral run --dry-run')."};

    private final CommandSpec spec = CommandSpec.wrapWithoutInspection(this);
    private final JailOptions jail = new JailOptions();

    PlanCommand() {
        spec.name("plan");
        spec.usageMessage().description(DESCRIPTION);
        Flags.standardHelp(spec);
        jail.addTo(spec);
    }

    /** What picocli is given: this command's spec, which calls back {@link #call()}. */
    CommandSpec spec() {
        return spec;
    }

    @Override
    public Integer call() {
        return RunCommand.printPlan(jail, spec);
    }
}
