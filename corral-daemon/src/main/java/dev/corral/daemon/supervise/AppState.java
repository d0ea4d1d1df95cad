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

    /** The name /status shows, made once: a thousand applications ask for it on every request. */
    private final String word = name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');

    public String word() {
        return word;
    }
}
