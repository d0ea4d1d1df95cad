package dev.corral.testing;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A network namespace made with {@code ip netns add} (the reference tool, never corral's
 * mechanism) and removed again. The first {@code ip netns add} on a host also turns /run/netns
 * into a bind mount of itself; if that mount was not there before, it is undone as well, so the
 * tests leave no mount behind.
 */
public final class TestNetns implements AutoCloseable {
    private static final Path RUN_NETNS = Path.of("/run/netns");
    private final String name;
    private final boolean mountWasThere;
    private final boolean dirWasThere;

    private TestNetns(String name, boolean mountWasThere, boolean dirWasThere) {
        this.name = name;
        this.mountWasThere = mountWasThere;
        this.dirWasThere = dirWasThere;
    }

    public static TestNetns add(String name) throws Exception {
        TestNetns n = new TestNetns(name, mounted(), Files.isDirectory(RUN_NETNS));
        run("ip", "netns", "add", name);
        return n;
    }

    public String path() {
        return RUN_NETNS.resolve(name).toString();
    }

    @Override
    public void close() throws Exception {
        if (Files.exists(RUN_NETNS.resolve(name))) run("ip", "netns", "del", name);
        boolean empty;
        try (var s = Files.list(RUN_NETNS)) {
            empty = s.findAny().isEmpty();
        }
        if (!mountWasThere && mounted() && empty) run("umount", RUN_NETNS.toString());
        if (!dirWasThere && empty) Files.deleteIfExists(RUN_NETNS);
    }

    private static boolean mounted() throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
            String[] f = line.split(" ");
            if (f.length > 4 && f[4].equals(RUN_NETNS.toString())) return true;
        }
        return false;
    }

    private static void run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(new ArrayList<>(List.of(cmd))).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) throw new IllegalStateException(String.join(" ", cmd) + ": " + out);
    }
}
