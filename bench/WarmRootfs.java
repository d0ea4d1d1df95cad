import dev.corral.JailBuilder;
import dev.corral.JailedProcess;
import dev.corral.ids.IdPool;
import dev.corral.ids.RangeAllocator;
import dev.corral.rootfs.LayerStore;
import dev.corral.spec.RootfsOverlay;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A jail on a rootfs, warm (a JVM that is already running starts {@code true}, again and again),
 * three ways over one busybox base, interleaved so that drift hits all alike:
 *   plain         --rootfs BASE
 *   overlay-run   --rootfs BASE --rootfs-overlay: a layer made for the run and removed after it
 *                 (what `corral run --rootfs-overlay` does every time)
 *   overlay-kept  the same with a layer kept by name (what the daemon does at each restart)
 * and, on a 65,536-id range of its own (what --userns auto gives; issue 7's UID shifting):
 *   plain-range          --rootfs BASE --userns auto
 *   idmap-range          --rootfs BASE --rootfs-idmap --userns auto
 *   overlay-idmap-run    --rootfs BASE --rootfs-overlay --rootfs-idmap --userns auto
 *   overlay-idmap-kept   the same with a layer kept by name
 * Two times per jail: until {@code start()} returns (the program is exec'd in the finished jail:
 * "starts within") and until {@code waitFor()} returns too (with the teardown: the overlay's
 * unmount, its sync for a kept layer, the removal of a run's layer).
 * Prints one line per way: name, then median, p25, p75 of the start, then median, p25, p75 of
 * the whole, in milliseconds. Run by bench/rootfs.sh with the
 * shaded jar on the class path. Arguments: warm-up runs, measured runs, and optionally the ways
 * to run, comma-separated (default the first three; bench/idmap.sh names the others).
 */
public class WarmRootfs {
    public static void main(String[] args) throws Exception {
        int warmup = Integer.parseInt(args.length > 0 ? args[0] : "100");
        int runs = Integer.parseInt(args.length > 1 ? args[1] : "200");
        Path dir = Files.createTempDirectory("corral-bench-rootfs");
        // A jail on a range is host uid 0xA00000 when it attaches a plain rootfs by its path.
        Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        try {
            Path base = busyboxBase(dir.resolve("base"));
            LayerStore store = new LayerStore(dir.resolve("state"));
            Map<String, JailBuilder> ways = new LinkedHashMap<>();
            ways.put("plain", jail(base));
            ways.put("overlay-run", jail(base).rootfsOverlay(new RootfsOverlay(null, null, store, null)));
            ways.put("overlay-kept", jail(base).rootfsOverlay(new RootfsOverlay(null, null, store, "bench")));
            RangeAllocator ids = new RangeAllocator(dir.resolve("ids.json"), IdPool.of(0xA00000, 65536));
            ways.put("plain-range", jail(base).autoIdRange(ids, "bench"));
            ways.put("idmap-range", jail(base).autoIdRange(ids, "bench").rootfsIdmap(true));
            ways.put("overlay-idmap-run", jail(base).autoIdRange(ids, "bench").rootfsIdmap(true)
                    .rootfsOverlay(new RootfsOverlay(null, null, store, null)));
            ways.put("overlay-idmap-kept", jail(base).autoIdRange(ids, "bench").rootfsIdmap(true)
                    .rootfsOverlay(new RootfsOverlay(null, null, store, "bench-idmap")));
            ways.keySet().retainAll(java.util.List.of((args.length > 2 ? args[2] : "plain,overlay-run,overlay-kept").split(",")));
            Map<String, double[]> started = new LinkedHashMap<>(), whole = new LinkedHashMap<>();
            ways.keySet().forEach(k -> {
                started.put(k, new double[runs]);
                whole.put(k, new double[runs]);
            });
            for (int i = 0; i < warmup; i++) for (JailBuilder j : ways.values()) spawn(j, new double[1], new double[1], 0);
            for (int i = 0; i < runs; i++) {
                for (var e : ways.entrySet()) spawn(e.getValue(), started.get(e.getKey()), whole.get(e.getKey()), i);
            }
            for (String name : ways.keySet()) {
                double[] s = started.get(name), w = whole.get(name);
                Arrays.sort(s);
                Arrays.sort(w);
                System.out.printf("%s %.3f %.3f %.3f %.3f %.3f %.3f%n", name, s[runs / 2], s[runs / 4], s[3 * runs / 4],
                        w[runs / 2], w[runs / 4], w[3 * runs / 4]);
            }
        } finally {
            try (Stream<Path> all = Files.walk(dir)) {
                for (Path p : all.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
            }
        }
    }

    private static JailBuilder jail(Path base) {
        return new JailBuilder().rootfs(base.toString()).command("/bin/true").stdio(JailBuilder.StdioMode.INHERIT);
    }

    private static Path busyboxBase(Path dir) throws Exception {
        Path bin = Files.createDirectories(dir.resolve("bin"));
        Files.copy(Path.of("/bin/busybox"), bin.resolve("busybox"), StandardCopyOption.COPY_ATTRIBUTES);
        Files.createSymbolicLink(bin.resolve("true"), Path.of("busybox"));
        Files.createSymbolicLink(bin.resolve("sh"), Path.of("busybox"));
        for (String d : new String[] {"etc", "proc", "dev", "tmp"}) Files.createDirectories(dir.resolve(d));
        Files.writeString(dir.resolve("etc/passwd"), "root:x:0:0:root:/:/bin/sh\n");
        return dir;
    }

    private static void spawn(JailBuilder jail, double[] started, double[] whole, int i) throws Exception {
        long t0 = System.nanoTime();
        JailedProcess p = jail.start();
        started[i] = (System.nanoTime() - t0) / 1e6;
        int status = p.waitFor();
        whole[i] = (System.nanoTime() - t0) / 1e6;
        if (status != 0) throw new IllegalStateException("jail exited with " + status);
    }
}
