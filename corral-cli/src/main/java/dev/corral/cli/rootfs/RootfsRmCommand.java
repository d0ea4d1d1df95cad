package dev.corral.cli.rootfs;

import dev.corral.cli.ExitCodes;
import dev.corral.rootfs.FileTrees;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "rm", mixinStandardHelpOptions = true,
        description = "Remove a base (stop the jails on it first: they would see its files go). Layers made over it are not touched.")
final class RootfsRmCommand implements Callable<Integer> {
    @Mixin
    StateDirOption state;

    @Parameters(paramLabel = "NAME", description = "The base's name.")
    String name;

    @Override
    public Integer call() {
        Path base = state.base(name);
        if (base == null) return ExitCodes.USAGE;
        if (!Files.isDirectory(base)) {
            System.err.println("corral: no base named " + name + " in " + base.getParent());
            return ExitCodes.USAGE;
        }
        try {
            // Renamed away first, so a half-removed base is never found under its name.
            Path doomed = base.resolveSibling(".rm-" + name + "-" + ProcessHandle.current().pid());
            Files.move(base, doomed);
            FileTrees.remove(doomed);
            return 0;
        } catch (IOException e) {
            System.err.println("corral: rootfs rm " + name + ": " + e);
            return ExitCodes.SETUP_FAILED;
        }
    }
}
