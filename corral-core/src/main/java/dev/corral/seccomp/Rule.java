package dev.corral.seccomp;

import java.util.List;

/**
 * For one syscall: when every check holds (all of them; none means always), the filter returns
 * {@code action}, a seccomp return value such as {@link Bpf#RET_ALLOW}.
 */
record Rule(List<ArgCheck> checks, int action) {
    Rule {
        checks = List.copyOf(checks);
    }

    static Rule always(int action) {
        return new Rule(List.of(), action);
    }

    boolean unconditional() {
        return checks.isEmpty();
    }
}
