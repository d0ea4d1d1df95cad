package dev.corral.seccomp;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * Classic BPF as seccomp runs it: the opcodes corral emits, the layout of {@code struct
 * seccomp_data}, the filter return values, and a small assembler.
 *
 * <p>The assembler takes forward jumps to {@link Label}s and lays them out when the program is
 * {@linkplain #encode() encoded}. A conditional jump can only skip 255 instructions ({@code jt} and
 * {@code jf} are bytes); when a target is farther, the assembler puts an unconditional {@code ja}
 * (32-bit offset) right after the jump and sends that branch through it. So the code that builds
 * a program never has to count instructions.
 */
final class Bpf {
    // Opcodes (linux/bpf_common.h): the only ones a corral filter contains.
    /** {@code BPF_LD|BPF_W|BPF_ABS}: A = the 32-bit word at offset k of seccomp_data. */
    static final int LD_W_ABS = 0x20;
    /** {@code BPF_ALU|BPF_AND|BPF_K}: A &= k. */
    static final int ALU_AND_K = 0x54;
    /** {@code BPF_JMP|BPF_JA}: skip k instructions. */
    static final int JMP_JA = 0x05;
    /** {@code BPF_JMP|BPF_JEQ|BPF_K}: A == k. */
    static final int JMP_JEQ_K = 0x15;
    /** {@code BPF_JMP|BPF_JGT|BPF_K}: A > k, unsigned. */
    static final int JMP_JGT_K = 0x25;
    /** {@code BPF_JMP|BPF_JGE|BPF_K}: A >= k, unsigned. */
    static final int JMP_JGE_K = 0x35;
    /** {@code BPF_JMP|BPF_JSET|BPF_K}: (A & k) != 0. */
    static final int JMP_JSET_K = 0x45;
    /** {@code BPF_RET|BPF_K}: return k. */
    static final int RET_K = 0x06;

    /** BPF_MAXINSNS: the kernel refuses longer filters. */
    static final int MAX_INSNS = 4096;

    // struct seccomp_data { int nr; __u32 arch; __u64 instruction_pointer; __u64 args[6]; }
    static final int OFF_NR = 0;
    static final int OFF_ARCH = 4;

    /** Offset of the low 32 bits of args[i] (x86_64 is little-endian). */
    static int argLow(int i) {
        return 16 + 8 * i;
    }

    /** Offset of the high 32 bits of args[i]. */
    static int argHigh(int i) {
        return 20 + 8 * i;
    }

    /** AUDIT_ARCH_X86_64 = EM_X86_64 | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE. */
    static final int AUDIT_ARCH_X86_64 = 0xC000003E;
    /** x32 syscalls are x86_64 syscalls with this bit set in the number. */
    static final int X32_SYSCALL_BIT = 0x40000000;

    // Filter return values (linux/seccomp.h).
    static final int RET_KILL_PROCESS = 0x80000000;
    static final int RET_KILL_THREAD = 0x00000000;
    static final int RET_TRAP = 0x00030000;
    static final int RET_ERRNO = 0x00050000;
    static final int RET_LOG = 0x7ffc0000;
    static final int RET_ALLOW = 0x7fff0000;

    static final int EPERM = 1;
    static final int ENOSYS = 38;
    /** The kernel clamps SECCOMP_RET_ERRNO data to MAX_ERRNO. */
    static final int MAX_ERRNO = 4095;

    static int errno(int errno) {
        return RET_ERRNO | errno;
    }

    /** A place in the program. Jumps may refer to it before it is bound; all jumps go forward. */
    static final class Label {
        private Insn target;
    }

    private static final class Insn {
        final int code;
        final int k;
        Label jt;   // conditional jumps: true branch; ja: the target
        Label jf;   // conditional jumps: false branch
        int pos;    // index, recomputed during layout

        Insn(int code, int k, Label jt, Label jf) {
            this.code = code;
            this.k = k;
            this.jt = jt;
            this.jf = jf;
        }

        boolean conditional() {
            return (code & 0x07) == 0x05 && code != JMP_JA;
        }
    }

    private final List<Insn> program = new ArrayList<>();
    /** Labels to bind to the next instruction emitted. */
    private final List<Label> pending = new ArrayList<>();

    /** Binds {@code label} to the next instruction emitted. */
    void bind(Label label) {
        if (label.target != null || pending.contains(label)) throw new IllegalStateException("label bound twice");
        pending.add(label);
    }

    /** A = the 32-bit word at {@code offset} in seccomp_data. */
    void load(int offset) {
        emit(new Insn(LD_W_ABS, offset, null, null));
    }

    /** A &= mask. */
    void and(int mask) {
        emit(new Insn(ALU_AND_K, mask, null, null));
    }

    /**
     * A conditional jump ({@link #JMP_JEQ_K}, {@link #JMP_JGT_K}, {@link #JMP_JGE_K},
     * {@link #JMP_JSET_K}) comparing A with {@code k}; a null target means the next instruction.
     */
    void jump(int code, int k, Label ifTrue, Label ifFalse) {
        Label next = ifTrue == null || ifFalse == null ? new Label() : null;
        emit(new Insn(code, k, ifTrue == null ? next : ifTrue, ifFalse == null ? next : ifFalse));
        if (next != null) bind(next);
    }

    /** An unconditional jump. */
    void jumpAlways(Label target) {
        emit(new Insn(JMP_JA, 0, target, null));
    }

    /** Ends the filter with this seccomp return value. */
    void ret(int value) {
        emit(new Insn(RET_K, value, null, null));
    }

    private void emit(Insn insn) {
        for (Label l : pending) l.target = insn;
        pending.clear();
        program.add(insn);
    }

    /**
     * Lays the program out and returns it as a {@code struct sock_filter[]}: 8 bytes per
     * instruction, little-endian {@code u16 code, u8 jt, u8 jf, u32 k}. The result may be longer
     * than {@link #MAX_INSNS}; the caller decides what to do about that.
     */
    byte[] encode() {
        if (!pending.isEmpty()) throw new IllegalStateException("a label is bound past the last instruction");
        if (program.isEmpty() || program.getLast().code != RET_K) {
            throw new IllegalStateException("a filter must end with a return");
        }
        // Give every too-far branch a trampoline; each insertion moves later code, so start over.
        boolean again = true;
        while (again) {
            again = false;
            for (int i = 0; i < program.size(); i++) program.get(i).pos = i;
            for (int i = 0; i < program.size() && !again; i++) {
                Insn insn = program.get(i);
                if (!insn.conditional()) continue;
                if (offset(insn, insn.jt) > 255) {
                    insn.jt = trampoline(i, insn.jt);
                    again = true;
                } else if (offset(insn, insn.jf) > 255) {
                    insn.jf = trampoline(i, insn.jf);
                    again = true;
                }
            }
        }
        ByteBuffer out = ByteBuffer.allocate(program.size() * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (Insn insn : program) {
            int jt = 0, jf = 0, k = insn.k;
            if (insn.code == JMP_JA) {
                k = offset(insn, insn.jt);
            } else if (insn.conditional()) {
                jt = offset(insn, insn.jt);
                jf = offset(insn, insn.jf);
            }
            out.putShort((short) insn.code).put((byte) jt).put((byte) jf).putInt(k);
        }
        return out.array();
    }

    /** Instructions skipped by a jump from {@code from} to {@code to}. */
    private static int offset(Insn from, Label to) {
        if (to.target == null) throw new IllegalStateException("jump to a label that was never bound");
        int skip = to.target.pos - from.pos - 1;
        if (skip < 0) throw new IllegalStateException("backward jump");
        return skip;
    }

    /** Inserts {@code ja far} right after instruction {@code at}; returns a label on it. */
    private Label trampoline(int at, Label far) {
        Insn ja = new Insn(JMP_JA, 0, far, null);
        program.add(at + 1, ja);
        Label here = new Label();
        here.target = ja;
        return here;
    }
}
