package dev.corral.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** A minimal root filesystem: a static busybox, its applets as symlinks, /etc/passwd and group. */
public final class BusyboxRootfs {
    private static final Path BUSYBOX = Path.of("/bin/busybox");

    private BusyboxRootfs() {}

    public static Path create(Path dir) throws IOException {
        if (!Files.isExecutable(BUSYBOX)) {
            throw new IllegalStateException("tests need a static busybox at /bin/busybox (apt-get install busybox-static)");
        }
        Path bin = Files.createDirectories(dir.resolve("bin"));
        Files.copy(BUSYBOX, bin.resolve("busybox"), StandardCopyOption.COPY_ATTRIBUTES);
        for (String applet : new String[] {"sh", "ls", "cat", "echo", "id", "touch", "mkdir", "hostname", "sleep",
                "ps", "ip", "mount", "umount", "readlink", "stat", "kill", "true", "false", "test", "wc", "grep"}) {
            Files.createSymbolicLink(bin.resolve(applet), Path.of("busybox"));
        }
        Path etc = Files.createDirectories(dir.resolve("etc"));
        Files.writeString(etc.resolve("passwd"), "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n");
        Files.writeString(etc.resolve("group"), "root:x:0:\napp:x:1000:\nstaff:x:50:\n");
        Files.createDirectories(dir.resolve("proc"));
        Files.createDirectories(dir.resolve("dev"));
        Files.createDirectories(dir.resolve("tmp"));
        return dir;
    }
}
