package dev.corral.seccomp;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a filter decides, before it is compiled to BPF. In the order the filter checks them:
 * <ol>
 * <li>a call from another architecture than x86_64 (i386 through {@code int 0x80}) kills the
 *     process;</li>
 * <li>an x32 call (number with {@link Bpf#X32_SYSCALL_BIT}) gets {@code x32Action};</li>
 * <li>a number above {@code enosysAbove} (when not negative) gets ERRNO(ENOSYS), so programs
 *     fall back from syscalls newer than the policy knows;</li>
 * <li>the rules for the syscall, first match wins;</li>
 * <li>otherwise {@code defaultAction}.</li>
 * </ol>
 */
final class Policy {
    private final int defaultAction;
    private final int x32Action;
    private final long enosysAbove;
    private final Map<Integer, List<Rule>> rules = new LinkedHashMap<>();

    /**
     * @param enosysAbove the highest syscall number that does not get ENOSYS, or -1 for no such
     *                    cut-off
     */
    Policy(int defaultAction, int x32Action, long enosysAbove) {
        this.defaultAction = defaultAction;
        this.x32Action = x32Action;
        this.enosysAbove = enosysAbove;
    }

    /** Adds a rule for syscall {@code nr} after the ones it already has. */
    Policy add(int nr, Rule rule) {
        rules.computeIfAbsent(nr, k -> new ArrayList<>()).add(rule);
        return this;
    }

    int defaultAction() {
        return defaultAction;
    }

    int x32Action() {
        return x32Action;
    }

    long enosysAbove() {
        return enosysAbove;
    }

    /** Syscall number to its rules, in the order they were added. */
    Map<Integer, List<Rule>> rules() {
        return rules;
    }
}
