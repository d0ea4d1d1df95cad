package dev.corral.launch;

import dev.corral.JailBuilder.StdioMode;
import dev.corral.JailSetupException;
import dev.corral.JailedProcess;
import dev.corral.ids.SubIdRange;
import dev.corral.plan.HostView;
import dev.corral.plan.IdMapPlan;
import dev.corral.plan.LaunchPlan;
import dev.corral.plan.Op;
import dev.corral.plan.Step;
import dev.corral.rootfs.LayerStore;
import dev.corral.spec.IdMapping;
import dev.corral.spec.JailSpec;
import dev.corral.spec.Namespace;
import dev.corral.spec.RootfsOverlay;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The writable layer of an overlay jail: where it goes (a directory the caller named, or one in
 * corral's store, kept by name or for one run), its directories made before the jail starts and
 * owned by the jail's root (the host id its uid 0 maps to), so the jail can write its changes
 * there; and a run's layer removed when its jail ends.
 *
 * <p>A normal user cannot give a directory to an id of its subordinate range, nor remove what a
 * jail on that range wrote: for that corral runs a helper in a user namespace of its own (the
 * range at 0, the caller's id beside it; podman's "unshare") that only makes or removes them.
 */
final class OverlayLayers {
    private static final LinkOption NOFOLLOW = LinkOption.NOFOLLOW_LINKS;
    private static final int S_IFMT = 0170000, S_IFDIR = 0040000;

    private OverlayLayers() {}

    /**
     * The spec with its overlay's directories decided, and the store layer they are in (null
     * when the caller named them, or there is no overlay).
     */
    record Placement(JailSpec spec, LayerStore.Layer layer) {}

    static Placement place(JailSpec spec, boolean preview) {
        RootfsOverlay o = spec.overlay();
        if (o == null || o.placed() || spec.rootfs() == null) return new Placement(spec, null);
        if (o.upper() != null) {
            String work = o.work() != null ? o.work() : o.upper().replaceAll("/+$", "") + ".work";
            return new Placement(spec.withOverlay(o.at(o.upper(), work)), null);
        }
        if (o.work() != null) return new Placement(spec, null); // the planner names the problem
        LayerStore store = o.storeOrDefault();
        LayerStore.Layer layer = o.name() != null ? store.named(o.name()) : store.temporary(preview);
        RootfsOverlay placed = o.at(layer.upper().toString(), layer.work().toString());
        return new Placement(spec.withOverlay(layer.temporary() ? placed.asScratch() : placed), layer);
    }

    /** One directory to make: where, its mode, which field names it in messages. */
    private record Dir(Path path, String mode, String where) {}

    /**
     * Makes the layer's directories (those missing), owned by the jail's root, and checks those
     * that exist are directories of that owner.
     */
    static void prepare(Placement placement, LaunchPlan plan, HostView host, Launcher launcher)
            throws JailSetupException, IOException {
        JailSpec spec = placement.spec();
        RootfsOverlay o = spec.overlay();
        if (o == null || plan.steps().stream().noneMatch(s -> s.op() == Op.OVERLAY)) return;
        long[] owner = jailRoot(plan, host);
        List<Dir> dirs = new ArrayList<>();
        LayerStore.Layer layer = placement.layer();
        String upperLabel = spec.labels().of("rootfsUpper"), workLabel = spec.labels().of("rootfsWork");
        if (layer != null) {
            upperLabel = workLabel = spec.labels().of("rootfsOverlay");
            Path layers = layer.dir().getParent();
            try {
                Files.createDirectories(layers);
                // Others pass through to their own layer (its directory is 0700), and see no names.
                Files.setAttribute(layers, "unix:mode", 0711, NOFOLLOW);
            } catch (IOException e) {
                throw new JailSetupException(upperLabel + ": cannot make " + layers + ": " + reason(e), 0, 125);
            }
            dirs.add(new Dir(layer.dir(), "0700", upperLabel));
        }
        dirs.add(new Dir(Path.of(o.upper()), "0755", upperLabel));
        dirs.add(new Dir(Path.of(o.work()), "0700", workLabel));
        List<Dir> missing = new ArrayList<>();
        for (Dir d : dirs) {
            Map<String, Object> a;
            try {
                a = Files.readAttributes(d.path(), "unix:mode,uid,gid", NOFOLLOW);
            } catch (NoSuchFileException e) {
                missing.add(d);
                continue;
            }
            if (((int) a.get("mode") & S_IFMT) != S_IFDIR) {
                throw new JailSetupException(d.where() + ": " + d.path() + " is not a directory", 20 /* ENOTDIR */, 125);
            }
            long uid = ((Number) a.get("uid")).longValue(), gid = ((Number) a.get("gid")).longValue();
            if (uid != owner[0] || gid != owner[1]) {
                throw new JailSetupException(d.where() + ": " + d.path() + " belongs to " + uid + ":" + gid
                        + ", but the jail's root is host " + owner[0] + ":" + owner[1]
                        + " and must own its layer (chown it, or choose another directory)", 1 /* EPERM */, 125);
            }
        }
        if (missing.isEmpty()) return;
        if (host.euid() == 0 || (owner[0] == host.euid() && owner[1] == host.egid())) {
            for (Dir d : missing) makeHere(d, owner);
        } else {
            List<Step> steps = new ArrayList<>();
            for (Dir d : missing) {
                steps.add(Step.of(Op.LAYER_DIR, "make " + d.path() + " for the jail's root", d.path().toString(),
                        d.mode().substring(1), "0", "0"));
            }
            runHelper(owner, steps, host, launcher, "make the overlay layer " + missing.getFirst().path());
        }
    }

    private static void makeHere(Dir d, long[] owner) throws JailSetupException {
        try {
            // Never through a symlink put in its place meanwhile: each change is on the entry itself.
            Files.createDirectory(d.path());
            Files.setAttribute(d.path(), "unix:mode", Integer.parseInt(d.mode(), 8), NOFOLLOW);
            Files.setAttribute(d.path(), "unix:gid", (int) owner[1], NOFOLLOW);
            Files.setAttribute(d.path(), "unix:uid", (int) owner[0], NOFOLLOW);
        } catch (FileAlreadyExistsException e) {
            throw new JailSetupException(d.where() + ": " + d.path() + " appeared while it was being made", 17, 125);
        } catch (NoSuchFileException e) {
            throw new JailSetupException(d.where() + ": cannot make " + d.path() + ": its parent directory does not exist",
                    2, 125);
        } catch (IOException e) {
            throw new JailSetupException(d.where() + ": cannot make " + d.path() + ": " + reason(e), 0, 125);
        }
    }

    /** The host ids of the mounter, whom the layer must belong to: the jail's root, or the caller. */
    static long[] jailRoot(LaunchPlan plan, HostView host) {
        IdMapPlan maps = plan.idMaps();
        if (maps != null) {
            var uid = maps.uid().stream().filter(m -> m.coversInside(0)).findFirst();
            var gid = maps.gid().stream().filter(m -> m.coversInside(0)).findFirst();
            if (uid.isPresent() && gid.isPresent()) {
                return new long[] {uid.get().outside() - uid.get().inside(), gid.get().outside() - gid.get().inside()};
            }
        }
        return new long[] {host.euid(), host.egid()};
    }

    /**
     * Removes a layer directory and everything in it: as root here, else through the helper
     * (what the jail wrote belongs to its ids). Nothing there is fine.
     */
    static void remove(Path dir, HostView host, Launcher launcher) throws JailSetupException, IOException {
        if (!Files.exists(dir, NOFOLLOW)) return;
        if (host.euid() == 0) {
            dev.corral.rootfs.FileTrees.remove(dir);
            return;
        }
        long uid = ((Number) Files.getAttribute(dir, "unix:uid", NOFOLLOW)).longValue();
        long gid = ((Number) Files.getAttribute(dir, "unix:gid", NOFOLLOW)).longValue();
        runHelper(new long[] {uid, gid}, List.of(Step.of(Op.REMOVE_TREE, "remove " + dir, dir.toString())),
                host, launcher, "remove the overlay layer " + dir);
    }

    /**
     * Layers of runs whose process is gone without removing them (it was killed outright):
     * {@code run-PID-...} where no process PID lives. Removed on the side, best effort.
     */
    static List<Path> staleRunLayers(Path layers) {
        List<Path> stale = new ArrayList<>();
        if (!Files.isDirectory(layers, NOFOLLOW)) return stale;
        long self = ProcessHandle.current().pid();
        try (var entries = Files.newDirectoryStream(layers, "run-*-*")) {
            for (Path p : entries) {
                String[] f = p.getFileName().toString().split("-");
                try {
                    long pid = Long.parseLong(f[1]);
                    if (pid != self && ProcessHandle.of(pid).isEmpty()) stale.add(p);
                } catch (NumberFormatException ignored) {
                    // not one of ours
                }
            }
        } catch (IOException ignored) {
            // nothing to prune that can be seen
        }
        return stale;
    }

    /**
     * Runs {@code work} as root of a user namespace whose 0 is {@code owner} (with as much of the
     * caller's subordinate range as follows it), and the caller's own ids beside: it may then make
     * and remove what the jail's ids own, in the caller's directories.
     */
    private static void runHelper(long[] owner, List<Step> work, HostView host, Launcher launcher, String what)
            throws JailSetupException, IOException {
        IdMapPlan maps = helperMaps(owner, host, what);
        List<Step> steps = new ArrayList<>();
        steps.add(Step.of(Op.WAIT_GO, "wait until the id maps are written"));
        steps.add(Step.of(Op.SETGID, "become gid 0 of the helper's user namespace", "0"));
        steps.add(Step.of(Op.SETUID, "become uid 0 of the helper's user namespace", "0"));
        steps.addAll(work);
        steps.add(Step.of(Op.EXIT, "done"));
        LaunchPlan plan = new LaunchPlan(Namespace.USER.cloneFlag(), List.of("user"), maps, null, steps, List.of(), List.of());
        JailedProcess p = launcher.start(plan, StdioMode.PIPE);
        p.getOutputStream().close();
        int status;
        try {
            status = p.waitFor();
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new JailSetupException(what + ": interrupted", 4, 125);
        }
        if (status != 0) throw new JailSetupException(what + ": the helper exited with status " + status, 0, 125);
    }

    private static IdMapPlan helperMaps(long[] owner, HostView host, String what) throws JailSetupException {
        if (owner[0] == host.euid() && owner[1] == host.egid()) {
            return new IdMapPlan(List.of(new IdMapping(0, owner[0], 1)), List.of(new IdMapping(0, owner[1], 1)), true, false);
        }
        return new IdMapPlan(helperMap(owner[0], host.euid(), host.subuids(), "/etc/subuid", what),
                helperMap(owner[1], host.egid(), host.subgids(), "/etc/subgid", what), false, true);
    }

    private static List<IdMapping> helperMap(long owner, long self, List<SubIdRange> ranges, String file, String what)
            throws JailSetupException {
        if (owner == self) return List.of(new IdMapping(0, self, 1));
        for (SubIdRange r : ranges) {
            if (r.contains(owner, 1)) {
                long n = Math.min(65536, r.start() + r.count() - owner);
                return List.of(new IdMapping(0, owner, n), new IdMapping(n, self, 1));
            }
        }
        throw new JailSetupException(what + ": host id " + owner + " is neither this user's nor in its " + file, 1, 125);
    }

    private static String reason(IOException e) {
        return e.getMessage() == null ? e.toString() : e.getMessage();
    }
}
