package dev.corral.cli.rootfs;

import dev.corral.cli.ExitCodes;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

@Command(name = "list", mixinStandardHelpOptions = true, description = "List the bases: NAME and directory.")
final class RootfsListCommand implements Callable<Integer> {
    @Mixin
    StateDirOption state;

    @Option(names = "--path", paramLabel = "NAME", description = "Print only this base's directory (fails if there is none).")
    String path;

    @Override
    public Integer call() throws IOException {
        Path bases = state.store().bases();
        if (path != null) {
            Path p = bases.resolve(path).normalize();
            if (!p.getParent().equals(bases) || !Files.isDirectory(p)) {
                System.err.println("corral: no base named " + path + " in " + bases);
                return ExitCodes.USAGE;
            }
            System.out.println(p);
            return 0;
        }
        if (!Files.isDirectory(bases)) return 0;
        List<Path> all;
        try (Stream<Path> s = Files.list(bases)) {
            all = s.filter(p -> !p.getFileName().toString().startsWith(".") && Files.isDirectory(p)).sorted().toList();
        }
        for (Path p : all) System.out.println(p.getFileName() + "\t" + p);
        return 0;
    }
}
