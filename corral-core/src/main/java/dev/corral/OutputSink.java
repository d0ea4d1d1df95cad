package dev.corral;

/**
 * Where a jailed program's stdout and stderr go when nothing should block on them: both are one
 * pipe, read by the JVM's single event-loop thread ({@link dev.corral.sys.EventLoop}), so a
 * thousand jails cost no thread each. The supervisor's log files are the use it was made for.
 * Its methods run on that loop thread and must not block for long.
 */
public interface OutputSink {
    /** Bytes the program wrote, in order; {@code b} is reused after the call returns. */
    void write(byte[] b, int off, int len);

    /** The program (and everything it started) has closed its output. */
    default void closed() {}
}
