package dev.corral.launch;

import dev.corral.sys.Libc;
import dev.corral.sys.NativeException;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * The C executor, shipped in this jar and run from a sealed memfd: nothing to install, and
 * nothing a jail can write to through /proc/PID/exe (the runc CVE-2019-5736 lesson).
 */
final class Executor {
    private static final String RESOURCE = "corral-exec";
    private final int fd;

    private Executor(int fd) {
        this.fd = fd;
    }

    /**
     * The executor in a sealed memfd whose descriptor is {@code floor} or above. It is spawned as
     * /proc/self/fd/N, a path the child resolves after its dup2s: N must not be one of their
     * targets (0-4 and the ranges for handed-over descriptors), or the child executes a pipe
     * instead (EACCES; seen once the memfd was made late enough for fd 4 to be free).
     */
    static Executor load(int floor) {
        try (InputStream in = Executor.class.getResourceAsStream(RESOURCE)) {
            if (in == null) throw new IllegalStateException("the executor is missing from the jar (" + RESOURCE + ")");
            byte[] image = in.readAllBytes();
            int fd = Libc.memfdCreate("corral-exec", Libc.MFD_CLOEXEC | Libc.MFD_ALLOW_SEALING);
            try (FileOutputStream out = new FileOutputStream("/proc/self/fd/" + fd)) {
                out.write(image);
            }
            int seals = Libc.F_SEAL_WRITE | Libc.F_SEAL_SHRINK | Libc.F_SEAL_GROW | Libc.F_SEAL_SEAL;
            if (Libc.fcntl(fd, Libc.F_ADD_SEALS, seals) < 0) throw new NativeException("seal the executor", Libc.errno());
            int high = Libc.fcntl(fd, Libc.F_DUPFD_CLOEXEC, floor);
            if (high < 0) throw new NativeException("move the executor's descriptor up", Libc.errno());
            Libc.close(fd);
            return new Executor(high);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare the executor", e);
        }
    }

    /** Its descriptor. */
    int fd() {
        return fd;
    }

    /** A path that executes the sealed copy. */
    String path() {
        return "/proc/self/fd/" + fd;
    }
}
