package dev.corral.daemon.supervise;

/** Where one application is in its life, as GET /status shows it. */
public enum AppState {
    STARTING, RUNNING,
    /** Exited; restarts after the backoff delay. */
    BACKOFF,
    /** Exited quickly several times in a row; still restarted, at the longest delays. */
    CRASH_LOOP,
    STOPPING,
    /** Stopped on request, or exited under a policy that does not restart it. */
    STOPPED;

    public String word() {
        return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }
}
