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
}
