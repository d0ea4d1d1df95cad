package dev.corral.cli.rootfs;

import dev.corral.cli.ExitCodes;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "import", mixinStandardHelpOptions = true,
        description = {"Make a base named NAME from SOURCE: a tar archive (plain, gzip, bzip2 or xz) or a directory.",
                "Owners are kept when run as root; modes, symlinks, hard links, times and user.* xattrs always."
                        + " Devices are left out (a jail has its own /dev). An entry that would land outside the base"
                        + " (absolute, '..', or through a symlink) stops the import, naming it; nothing is left behind."},
        footer = {"", "Examples:", "  corral rootfs import alpine-minirootfs.tar.gz alpine",
                "  corral run --rootfs $(corral rootfs list --path alpine) --rootfs-overlay -- sh"})
final class RootfsImportCommand implements Callable<Integer> {
    @Mixin
    StateDirOption state;

    @Parameters(index = "0", paramLabel = "SOURCE", description = "A tar archive or a directory.")
    Path source;

    @Parameters(index = "1", paramLabel = "NAME", description = "The base's name.")
    String name;

    @Override
    public Integer call() {
        Path target = state.base(name);
        if (target == null) return ExitCodes.USAGE;
        try {
            RootfsImporter.Result r = RootfsImporter.importBase(source.toAbsolutePath(), target);
            System.out.println(r.base());
            System.err.println("corral: imported " + r.entries() + " entries into " + r.base()
                    + (r.skipped() > 0 ? " (" + r.skipped() + " devices, fifos or foreign xattrs left out)" : ""));
            return 0;
        } catch (ImportException e) {
            System.err.println("corral: rootfs import " + source + ": " + e.getMessage());
            return ExitCodes.USAGE;
        } catch (IOException e) {
            System.err.println("corral: rootfs import " + source + ": " + e);
            return ExitCodes.SETUP_FAILED;
        }
    }
}
