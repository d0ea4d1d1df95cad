package dev.corral.sys;

import java.io.IOException;

/** A failed system call: the call, the errno, and the C library's words for it. */
public final class NativeException extends IOException {
    private final int errno;

    public NativeException(String call, int errno) {
        super(call + ": " + Libc.strerror(errno));
        this.errno = errno;
    }

    public int errno() {
        return errno;
    }
}
