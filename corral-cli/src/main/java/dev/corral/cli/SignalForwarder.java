package dev.corral.cli;

import dev.corral.JailedProcess;
import sun.misc.Signal;

import java.util.ArrayList;
import java.util.List;

/**
 * Passes the signals a user sends to corral on to the jailed program. Installed before the jail
 * starts, so a signal that arrives while it is being set up is held and delivered once the
 * program runs, instead of killing corral (and with it the jail) with the JVM's default action.
 */
final class SignalForwarder {
    /**
     * What a program may be sent and expect. QUIT the JVM keeps (its thread dump, even with
     * -Xrs); TRAP, ABRT, SEGV, BUS, FPE and ILL are its own business; the job-control
     * signals stop corral as a shell would expect; the real-time signals have no names here.
     */
    private static final String[] FORWARDED = {"TERM", "INT", "HUP", "QUIT", "USR1", "USR2", "WINCH", "CONT",
            "ALRM", "VTALRM", "PROF", "XCPU", "XFSZ", "IO", "PWR", "SYS"};

    private JailedProcess target;
    private final List<Integer> pending = new ArrayList<>();

    static SignalForwarder install() {
        SignalForwarder f = new SignalForwarder();
        for (String name : FORWARDED) {
            try {
                Signal.handle(new Signal(name), s -> f.deliver(s.getNumber()));
            } catch (IllegalArgumentException ignored) {
                // the JVM keeps this one for itself
            }
        }
        return f;
    }

    synchronized void attach(JailedProcess p) {
        target = p;
        pending.forEach(p::signal);
        pending.clear();
    }

    private synchronized void deliver(int signal) {
        if (target != null) target.signal(signal);
        else pending.add(signal);
    }
}
