package dev.corral.cgroup;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Removes cgroups that earlier corral processes made and could not remove: the monitor removes a
 * jail's cgroup even when its JVM is SIGKILLed, but not when the monitor itself is killed too.
 * Only empty cgroups named {@code corral-PID-N} whose PID is no longer running are touched, once
 * per directory per JVM.
 */
final class StaleCgroups {
    private static final Pattern NAME = Pattern.compile("corral-(\\d+)-\\d+");
    private static final Set<Path> SWEPT = new HashSet<>();

    private StaleCgroups() {}

    static void sweepOnce(CgroupPlan plan) {
        for (CgroupPlan.Dir d : plan.dirs()) {
            if (!d.path().endsWith("/" + CgroupPlan.GENERATED)) continue;
            Path parent = Path.of(d.path()).getParent();
            synchronized (SWEPT) {
                if (!SWEPT.add(parent)) continue;
            }
            sweep(parent);
        }
    }

    static void sweep(Path parent) {
        List<Path> candidates;
        try (Stream<Path> s = Files.list(parent)) {
            candidates = s.filter(Files::isDirectory).filter(p -> {
                Matcher m = NAME.matcher(p.getFileName().toString());
                return m.matches() && !running(Long.parseLong(m.group(1)));
            }).toList();
        } catch (IOException | RuntimeException e) {
            return; // unreadable: nothing of ours to clean there
        }
        for (Path p : candidates) {
            if (!JailCgroup.read(p.resolve("cgroup.procs")).isBlank()) continue;
            try {
                Files.deleteIfExists(p);
            } catch (IOException ignored) {
                // busy or not ours to remove after all
            }
        }
    }

    private static boolean running(long pid) {
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }
}
