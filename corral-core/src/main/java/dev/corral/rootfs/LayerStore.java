package dev.corral.rootfs;

import dev.corral.ids.RangeAllocator;

import java.nio.file.Path;
import java.util.HexFormat;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Where corral keeps rootfs bases ({@code bases/NAME}, made by {@code corral rootfs import}) and
 * the writable layers of overlay jails ({@code layers/NAME/{upper,work}}), under one state
 * directory: {@code /var/lib/corral} for root, {@code $XDG_STATE_HOME/corral} (else
 * {@code ~/.local/state/corral}) for others — where {@code ids.json} is. The daemon has its own,
 * beside its state file.
 */
public final class LayerStore {
    /** A base or layer name: one path component, nothing hidden. */
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.@+-]{0,127}");

    private final Path dir;

    public LayerStore(Path stateDir) {
        this.dir = stateDir.toAbsolutePath().normalize();
    }

    public static LayerStore forCaller() {
        return new LayerStore(defaultStateDir());
    }

    /**
     * The directory of {@link RangeAllocator#defaultStateFile()}, worked out here again rather
     * than asked: RangeAllocator's class initialisation builds a Jackson mapper, ~500 classes a
     * cold {@code corral run --rootfs-overlay} need not load (LayerStoreTest keeps the two equal).
     */
    public static Path defaultStateDir() {
        if (new com.sun.security.auth.module.UnixSystem().getUid() == 0) return Path.of("/var/lib/corral");
        String state = System.getenv("XDG_STATE_HOME");
        if (state == null || state.isEmpty()) state = System.getProperty("user.home") + "/.local/state";
        return Path.of(state, "corral");
    }

    public Path stateDir() {
        return dir;
    }

    public Path bases() {
        return dir.resolve("bases");
    }

    public Path layers() {
        return dir.resolve("layers");
    }

    /** Why {@code name} cannot name a base or a layer, or null if it can. */
    public static String nameProblem(String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            return "must be 1 to 128 of A-Z a-z 0-9 _ . @ + - (not starting with . or -): " + name;
        }
        return null;
    }

    public Path base(String name) {
        check(name);
        return bases().resolve(name);
    }

    /** The layer kept under {@code name} (the daemon: an application's). */
    public Layer named(String name) {
        check(name);
        return Layer.in(layers().resolve(name), false);
    }

    /**
     * A layer of its own for one run: {@code layers/run-PID-RANDOM}. {@code preview} gives the
     * name's shape without drawing a random part (for a dry run).
     */
    public Layer temporary(boolean preview) {
        // Only to be unique: the layer's own directory is 0700, whoever guesses its name.
        String random = preview ? "XXXXXXXX" : HexFormat.of().toHexDigits(java.util.concurrent.ThreadLocalRandom.current().nextInt());
        return Layer.in(layers().resolve("run-" + ProcessHandle.current().pid() + "-" + random), true);
    }

    private static void check(String name) {
        String why = nameProblem(name);
        if (why != null) throw new IllegalArgumentException(why);
    }

    /**
     * A writable layer: {@code dir} (mode 0700, the jail's root's: nobody else reaches into it)
     * holding {@code upper} (the changes) and {@code work} (overlayfs's scratch).
     *
     * @param temporary removed when its jail ends
     */
    public record Layer(Path dir, Path upper, Path work, boolean temporary) {
        public Layer {
            Objects.requireNonNull(upper);
            Objects.requireNonNull(work);
        }

        static Layer in(Path dir, boolean temporary) {
            return new Layer(dir, dir.resolve("upper"), dir.resolve("work"), temporary);
        }
    }

    @Override
    public String toString() {
        return dir.toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LayerStore s && s.dir.equals(dir);
    }

    @Override
    public int hashCode() {
        return dir.hashCode();
    }
}
