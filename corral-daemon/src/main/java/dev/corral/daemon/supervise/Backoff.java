package dev.corral.daemon.supervise;

import java.time.Duration;

/**
 * Restart delays: none after a stable run, then 1 s doubling up to 60 s while the application
 * keeps exiting quickly. Not thread-safe; the owning application guards it.
 */
final class Backoff {
    static final Duration FIRST = Duration.ofSeconds(1);
    static final Duration CAP = Duration.ofSeconds(60);
    /** A run this long counts as stable: the next restart is immediate and the delay starts over. */
    static final Duration STABLE = Duration.ofSeconds(10);
    /** Quick exits in a row after which the application is shown as crash-looping. */
    static final int CRASH_LOOP_AFTER = 5;

    private Duration next = FIRST;
    private int quickExits;

    /** The delay before restarting an application that ran for {@code ran}. */
    Duration after(Duration ran) {
        if (ran.compareTo(STABLE) >= 0) {
            next = FIRST;
            quickExits = 0;
            return Duration.ZERO;
        }
        quickExits++;
        Duration d = next;
        next = next.multipliedBy(2).compareTo(CAP) > 0 ? CAP : next.multipliedBy(2);
        return d;
    }

    boolean crashLooping() {
        return quickExits >= CRASH_LOOP_AFTER;
    }

    void reset() {
        next = FIRST;
        quickExits = 0;
    }
}
