package dev.corral.cli;

/** Exit statuses of corral itself; otherwise corral exits with the jailed program's status. */
public final class ExitCodes {
    /** Bad flags, bad config, a spec that cannot be run on this host. */
    public static final int USAGE = 2;
    /** The jail could not be set up (podman and crun use 125 too). */
    public static final int SETUP_FAILED = 125;

    private ExitCodes() {}
}
