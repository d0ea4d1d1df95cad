package dev.corral.spec;

import dev.corral.rootfs.LayerStore;

/**
 * The rootfs is a base shared by many jails and never written: each jail sees it through an
 * overlayfs whose upper layer receives its changes. Set on a spec whose {@code rootfs} is the
 * base. (Properties of the base itself, such as an idmapped lower layer, belong with the base.)
 *
 * @param upper the directory that receives the jail's changes, kept after it ends; null for a
 *              layer corral places in its {@code store}
 * @param work  overlayfs's work directory, on the filesystem of {@code upper}; null for
 *              {@code UPPER.work} beside a given upper, or the store's place
 * @param store where corral keeps the layers it places, or null for {@link LayerStore#forCaller()}
 * @param name  keep the placed layer under this name, the same at every start until removed
 *              (the daemon names it after the application); null for a layer for this run
 *              only, removed when the jail ends
 * @param scratch the placed layer goes with the run: overlayfs need not sync it (its
 *                {@code volatile} option), set by the launcher for a layer it removes at the end
 */
public record RootfsOverlay(String upper, String work, LayerStore store, String name, boolean scratch) {
    public RootfsOverlay(String upper, String work, LayerStore store, String name) {
        this(upper, work, store, name, false);
    }

    /** A layer for one run, in the caller's store. */
    public static RootfsOverlay temporary() {
        return new RootfsOverlay(null, null, null, null);
    }

    /** Whether the layer's directories are known (given, or placed by the launcher). */
    public boolean placed() {
        return upper != null && work != null;
    }

    public LayerStore storeOrDefault() {
        return store != null ? store : LayerStore.forCaller();
    }

    /** This overlay with its directories decided. */
    public RootfsOverlay at(String upperDir, String workDir) {
        return new RootfsOverlay(upperDir, workDir, store, name, scratch);
    }

    /** This overlay, its layer to be removed after the run. */
    public RootfsOverlay asScratch() {
        return new RootfsOverlay(upper, work, store, name, true);
    }
}
