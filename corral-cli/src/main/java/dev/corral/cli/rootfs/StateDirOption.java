package dev.corral.cli.rootfs;

import dev.corral.rootfs.LayerStore;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** Where the bases are: {@code STATE/bases/NAME}. */
final class StateDirOption {
    @Option(names = "--state-dir", paramLabel = "DIR",
            description = "corral's state directory (default /var/lib/corral for root, else $XDG_STATE_HOME/corral).")
    Path stateDir;

    LayerStore store() {
        return stateDir == null ? LayerStore.forCaller() : new LayerStore(stateDir);
    }

    /** The base called {@code name} in the store; null after saying why it cannot be a base's name. */
    Path base(String name) {
        String why = LayerStore.nameProblem(name);
        if (why != null) {
            System.err.println("corral: NAME " + why);
            return null;
        }
        return store().base(name);
    }
}
