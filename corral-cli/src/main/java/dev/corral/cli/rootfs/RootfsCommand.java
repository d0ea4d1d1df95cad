package dev.corral.cli.rootfs;

import dev.corral.cli.ExitCodes;
import picocli.CommandLine.Command;

/** {@code corral rootfs}: bases for {@code --rootfs}, shared by jails through overlays. */
@Command(name = "rootfs", mixinStandardHelpOptions = true,
        description = "Manage root filesystems (bases) that jails share, each with its own overlay.",
        subcommands = {RootfsImportCommand.class, RootfsListCommand.class, RootfsRmCommand.class,
                RootfsShiftCommand.class})
public final class RootfsCommand implements Runnable {
    @Override
    public void run() {
        System.err.println("corral rootfs: a command is needed: import, list, rm, shift. Try 'corral rootfs --help'.");
        System.exit(ExitCodes.USAGE);
    }
}
