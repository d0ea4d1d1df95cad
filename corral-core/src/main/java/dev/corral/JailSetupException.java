package dev.corral;

/**
 * The jail could not be set up (or its program could not be started); nothing was left running.
 * The message names the step, the paths and the system's reason, e.g.
 * {@code mount /srv/data on /data: No such file or directory}.
 */
public final class JailSetupException extends Exception {
    private final int exitStatus;
    private final int errno;

    public JailSetupException(String message, int errno, int exitStatus) {
        super(message);
        this.errno = errno;
        this.exitStatus = exitStatus;
    }

    /** 125 when the jail could not be set up, 126/127 when the program could not be executed. */
    public int exitStatus() {
        return exitStatus;
    }

    /** The errno of the failing call, or 0 when none applies. */
    public int errno() {
        return errno;
    }
}
