package dev.corral.doctor;

import dev.corral.sys.KernelFiles;

import dev.corral.doctor.HostCheck.Status;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** File system features jails will build on: idmapped mounts and overlayfs in a user namespace. */
final class MountChecks {
    private MountChecks() {}

    /**
     * Idmapped mounts (Linux 5.12, mount_setattr with MOUNT_ATTR_IDMAP) let a jail see host files
     * with shifted owners, without chown. The kernel allows them only to a caller with
     * CAP_SYS_ADMIN over the file system's own user namespace: for host file systems, real root.
     */
    static HostCheck idmapped(Caller caller) {
        KernelFiles.Kernel kernel = KernelFiles.kernel();
        MountSetattrProbe.Outcome probe = MountSetattrProbe.probe();
        Map<String, Object> facts = new LinkedHashMap<>();
        facts.put("kernel", kernel.release());
        facts.put("kernel_at_least_5_12", kernel.atLeast(5, 12));
        facts.put("mount_setattr", probe.answer().name().toLowerCase(java.util.Locale.ROOT));
        facts.put("errno", probe.errno());
        facts.put("privileged", caller.privileged());
        String finding = "kernel " + kernel + (kernel.atLeast(5, 12) ? " (>= 5.12)" : " (< 5.12)") + "; probe: " + probe.detail();
        String title = "Idmapped mounts";
        return switch (probe.answer()) {
            case ABSENT -> HostCheck.of("idmapped-mounts", title, Status.MISSING, finding,
                    "a kernel of 5.12 or later (mount_setattr with MOUNT_ATTR_IDMAP); until then: corral rootfs shift", facts);
            case BLOCKED -> HostCheck.of("idmapped-mounts", title, Status.WARN, finding,
                    "allow mount_setattr in the seccomp profile of the container or service corral runs in", facts);
            case NOT_PROBED -> HostCheck.of("idmapped-mounts", title, kernel.atLeast(5, 12) ? Status.WARN : Status.MISSING,
                    finding, kernel.atLeast(5, 12) ? "run corral with --enable-native-access=ALL-UNNAMED so it can probe"
                            : "a kernel of 5.12 or later", facts);
            case PRESENT -> caller.privileged()
                    ? HostCheck.of("idmapped-mounts", title, Status.OK, finding + "; supported for " + caller.name(), "", facts)
                    : HostCheck.of("idmapped-mounts", title, Status.WARN, finding + "; but " + caller.name()
                            + " may idmap only file systems mounted in its own user namespace (host file systems need"
                            + " CAP_SYS_ADMIN in the initial user namespace)",
                            "run corral as root (or through a root daemon) for --rootfs-idmap; or make a shifted copy"
                                    + " as root once: corral rootfs shift SRC DST --uid-base N", facts);
        };
    }

    /**
     * Overlayfs mounted by an unprivileged user namespace's root: upstream since Linux 5.11
     * (Ubuntu patched it in earlier). Not tried here; what was checked is said in the finding.
     */
    static HostCheck overlay() {
        KernelFiles.Kernel kernel = KernelFiles.kernel();
        boolean registered = HostFiles.read("/proc/filesystems").orElse("").lines()
                .anyMatch(l -> l.strip().endsWith("\toverlay") || l.strip().equals("overlay")); // "nodev\toverlay"
        Optional<Path> module = module(kernel.release());
        Map<String, Object> facts = new LinkedHashMap<>();
        facts.put("in_proc_filesystems", registered);
        facts.put("module", module.map(Path::toString).orElse(null));
        facts.put("kernel", kernel.release());
        facts.put("kernel_at_least_5_11", kernel.atLeast(5, 11));
        facts.put("kernel_at_least_6_13", kernel.atLeast(6, 13));
        String seen = (registered ? "\"overlay\" in /proc/filesystems" : "no \"overlay\" in /proc/filesystems")
                + (registered ? "" : module.map(m -> ", module " + m).orElse(", no overlay module under /lib/modules/" + kernel.release()))
                + "; kernel " + kernel + (kernel.atLeast(5, 11) ? " (>= 5.11)" : " (< 5.11)");
        if (!registered && module.isEmpty()) {
            return HostCheck.of("overlayfs", "Overlayfs in a user namespace", Status.MISSING, seen,
                    "a kernel with CONFIG_OVERLAY_FS (or its overlay module installed)", facts);
        }
        if (!kernel.atLeast(5, 11)) {
            return HostCheck.of("overlayfs", "Overlayfs in a user namespace", Status.WARN,
                    seen + ": unprivileged overlay mounts came upstream in 5.11, so likely root only", "a kernel of 5.11 or later", facts);
        }
        if (!registered) {
            return HostCheck.of("overlayfs", "Overlayfs in a user namespace", Status.WARN,
                    seen + ": likely supported once the module is loaded", "as root: modprobe overlay (or list it in /etc/modules)", facts);
        }
        if (!kernel.atLeast(6, 13)) {
            // --rootfs-overlay hands overlayfs its layers as descriptors (fsconfig FSCONFIG_SET_FD).
            return HostCheck.of("overlayfs", "Overlayfs in a user namespace", Status.WARN,
                    seen + ": likely supported, but corral's --rootfs-overlay gives overlayfs its layers by descriptor,"
                            + " which it takes since Linux 6.13", "a kernel of 6.13 or later for --rootfs-overlay", facts);
        }
        return HostCheck.of("overlayfs", "Overlayfs in a user namespace", Status.OK, seen
                + ": likely supported, layers by descriptor too (not tried)", "", facts);
    }

    private static Optional<Path> module(String release) {
        Path dir = Path.of("/lib/modules", release, "kernel/fs/overlayfs");
        for (String name : List.of("overlay.ko", "overlay.ko.xz", "overlay.ko.zst", "overlay.ko.gz")) {
            if (Files.exists(dir.resolve(name))) return Optional.of(dir.resolve(name));
        }
        return Optional.empty();
    }
}
