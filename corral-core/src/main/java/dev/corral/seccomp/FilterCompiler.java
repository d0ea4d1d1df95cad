package dev.corral.seccomp;

import dev.corral.seccomp.Bpf.Label;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Compiles a {@link Policy} to classic BPF. The program, top to bottom:
 * <pre>
 *   ld arch; jeq AUDIT_ARCH_X86_64 ? next : kill        ret KILL_PROCESS
 *   ld nr;   jset X32 bit, and nr != -1 ? x32 action
 *            jgt enosysAbove ? ERRNO(ENOSYS)
 *   per syscall with argument rules:  jeq nr ? its block : next syscall
 *       block: each rule's checks, falling through to "ret action" or jumping to the next rule;
 *              then "ret default"
 *   per action: the numbers (runs of consecutive ones as jge lo / jgt hi) jumping to one shared
 *              "ret action", in chunks so the jumps stay short
 *   ret default
 * </pre>
 * Syscalls are tested one after the other rather than by binary search; the kernel caches the
 * result of every syscall whose outcome does not depend on its arguments, so the linear walk only
 * runs for the few that do.
 */
final class FilterCompiler {
    /** Checks sharing one return instruction; at most 2 instructions each keeps jumps short. */
    private static final int CHUNK = 100;

    private FilterCompiler() {}

    /** The filter as a {@code struct sock_filter[]}; may exceed {@link Bpf#MAX_INSNS}. */
    static byte[] compile(Policy policy) {
        Bpf b = new Bpf();
        int deflt = policy.defaultAction();

        // Architecture: anything but native x86_64 (i386 via int 0x80) is killed.
        Label archOk = new Label();
        b.load(Bpf.OFF_ARCH);
        b.jump(Bpf.JMP_JEQ_K, Bpf.AUDIT_ARCH_X86_64, archOk, null);
        b.ret(Bpf.RET_KILL_PROCESS);
        b.bind(archOk);

        // x32 numbers; -1 is no x32 call but "no syscall" (what a tracer sets to skip one).
        Label notX32 = new Label();
        b.load(Bpf.OFF_NR);
        b.jump(Bpf.JMP_JSET_K, Bpf.X32_SYSCALL_BIT, null, notX32);
        b.jump(Bpf.JMP_JEQ_K, -1, notX32, null);
        b.ret(policy.x32Action());
        b.bind(notX32);

        // Numbers newer than the policy knows about.
        if (policy.enosysAbove() >= 0) {
            Label known = new Label();
            b.jump(Bpf.JMP_JGT_K, (int) policy.enosysAbove(), null, known);
            b.ret(Bpf.errno(Bpf.ENOSYS));
            b.bind(known);
        }

        // Split the rules into syscalls with one outcome and syscalls whose outcome depends on arguments.
        Map<Integer, Integer> simple = new TreeMap<>();
        Map<Integer, List<Rule>> conditional = new TreeMap<>();
        policy.rules().forEach((nr, rules) -> {
            List<Rule> useful = reduce(rules, deflt);
            if (useful.isEmpty()) return;
            if (useful.size() == 1 && useful.getFirst().unconditional()) simple.put(nr, useful.getFirst().action());
            else conditional.put(nr, useful);
        });

        // Syscalls with argument rules: A holds nr on entry to each test; every block ends in a return.
        conditional.forEach((nr, rules) -> {
            Label nextSyscall = new Label();
            b.jump(Bpf.JMP_JEQ_K, nr, null, nextSyscall);
            for (Rule rule : rules) {
                Label nextRule = new Label();
                for (ArgCheck check : rule.checks()) emitCheck(b, check, nextRule);
                b.ret(rule.action());
                if (!rule.unconditional()) b.bind(nextRule);
            }
            if (!rules.getLast().unconditional()) b.ret(deflt);
            b.bind(nextSyscall);
        });

        // Syscalls with one outcome, grouped by outcome.
        Map<Integer, List<int[]>> byAction = new LinkedHashMap<>();
        simple.forEach((nr, action) -> {
            List<int[]> runs = byAction.computeIfAbsent(action, a -> new ArrayList<>());
            int[] last = runs.isEmpty() ? null : runs.getLast();
            if (last != null && last[1] == nr - 1) last[1] = nr;
            else runs.add(new int[] {nr, nr});
        });
        byAction.forEach((action, runs) -> {
            for (int from = 0; from < runs.size(); from += CHUNK) {
                List<int[]> chunk = runs.subList(from, Math.min(runs.size(), from + CHUNK));
                Label hit = new Label(), after = new Label();
                for (int i = 0; i < chunk.size(); i++) {
                    int lo = chunk.get(i)[0], hi = chunk.get(i)[1];
                    Label next = i == chunk.size() - 1 ? after : new Label();
                    if (lo == hi) {
                        b.jump(Bpf.JMP_JEQ_K, lo, hit, next);
                    } else {
                        b.jump(Bpf.JMP_JGE_K, lo, null, next);
                        b.jump(Bpf.JMP_JGT_K, hi, next, hit);
                    }
                    if (next != after) b.bind(next);
                }
                b.bind(hit);
                b.ret(action);
                b.bind(after);
            }
        });

        b.ret(deflt);
        return b.encode();
    }

    /**
     * The rules that can change the outcome: none after the first unconditional one (it always
     * matches), and none at the end that only repeat the default action.
     */
    private static List<Rule> reduce(List<Rule> rules, int defaultAction) {
        List<Rule> useful = new ArrayList<>();
        for (Rule r : rules) {
            useful.add(r);
            if (r.unconditional()) break;
        }
        while (!useful.isEmpty() && useful.getLast().action() == defaultAction) useful.removeLast();
        return useful;
    }

    /**
     * Falls through when {@code check} holds, jumps to {@code fail} when not. 64-bit comparisons
     * look at the high words first and decide on the low words only when the high words are equal.
     */
    private static void emitCheck(Bpf b, ArgCheck c, Label fail) {
        int lo = Bpf.argLow(c.index()), hi = Bpf.argHigh(c.index());
        int vLo = (int) c.value(), vHi = (int) (c.value() >>> 32);
        boolean wide = !c.lowWordOnly();
        Label pass = new Label();
        switch (c.op()) {
            case EQ -> {
                if (wide) {
                    b.load(hi);
                    b.jump(Bpf.JMP_JEQ_K, vHi, null, fail);
                }
                b.load(lo);
                b.jump(Bpf.JMP_JEQ_K, vLo, null, fail);
            }
            case NE -> {
                if (wide) {
                    b.load(hi);
                    b.jump(Bpf.JMP_JEQ_K, vHi, null, pass);
                }
                b.load(lo);
                b.jump(Bpf.JMP_JEQ_K, vLo, fail, null);
            }
            case GT, GE -> {
                if (wide) {
                    b.load(hi);
                    b.jump(Bpf.JMP_JGT_K, vHi, pass, null);
                    b.jump(Bpf.JMP_JEQ_K, vHi, null, fail);
                }
                b.load(lo);
                b.jump(c.op() == ArgCheck.Op.GT ? Bpf.JMP_JGT_K : Bpf.JMP_JGE_K, vLo, null, fail);
            }
            case LT, LE -> {
                if (wide) {
                    b.load(hi);
                    b.jump(Bpf.JMP_JGT_K, vHi, fail, null);
                    b.jump(Bpf.JMP_JEQ_K, vHi, null, pass);
                }
                b.load(lo);
                // a < v is !(a >= v); a <= v is !(a > v)
                b.jump(c.op() == ArgCheck.Op.LT ? Bpf.JMP_JGE_K : Bpf.JMP_JGT_K, vLo, fail, null);
            }
            case MASKED_EQ -> {
                int wLo = (int) c.valueTwo(), wHi = (int) (c.valueTwo() >>> 32);
                // With a zero mask and a zero expectation the high word always matches: skip it.
                if (wide && !(vHi == 0 && wHi == 0)) {
                    b.load(hi);
                    if (vHi != -1) b.and(vHi);
                    b.jump(Bpf.JMP_JEQ_K, wHi, null, fail);
                }
                b.load(lo);
                if (vLo != -1) b.and(vLo);
                b.jump(Bpf.JMP_JEQ_K, wLo, null, fail);
            }
        }
        b.bind(pass);
    }
}
