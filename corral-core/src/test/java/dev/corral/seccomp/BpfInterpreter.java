package dev.corral.seccomp;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Runs a seccomp filter the way the kernel would, for the opcodes corral emits, after the checks
 * the kernel makes before accepting one (length, known opcodes, aligned in-bounds loads, jumps
 * inside the program, a return at the end).
 */
final class BpfInterpreter {
    static final int AUDIT_ARCH_X86_64 = 0xC000003E;
    static final int AUDIT_ARCH_I386 = 0x40000003;
    private static final int SECCOMP_DATA_SIZE = 64;

    private BpfInterpreter() {}

    /** Throws AssertionError unless the kernel would accept {@code filter}. */
    static void verify(byte[] filter) {
        if (filter.length == 0 || filter.length % 8 != 0) throw new AssertionError("length " + filter.length);
        int n = filter.length / 8;
        if (n > Bpf.MAX_INSNS) throw new AssertionError(n + " instructions");
        ByteBuffer b = ByteBuffer.wrap(filter).order(ByteOrder.LITTLE_ENDIAN);
        for (int pc = 0; pc < n; pc++) {
            int code = Short.toUnsignedInt(b.getShort(pc * 8));
            int jt = Byte.toUnsignedInt(b.get(pc * 8 + 2)), jf = Byte.toUnsignedInt(b.get(pc * 8 + 3));
            int k = b.getInt(pc * 8 + 4);
            switch (code) {
                case Bpf.LD_W_ABS -> {
                    if (k < 0 || k >= SECCOMP_DATA_SIZE || (k & 3) != 0) throw new AssertionError("load at " + k);
                }
                case Bpf.ALU_AND_K, Bpf.RET_K -> { }
                case Bpf.JMP_JA -> {
                    if (Integer.toUnsignedLong(k) >= n - pc - 1) throw new AssertionError("ja out of program at " + pc);
                }
                case Bpf.JMP_JEQ_K, Bpf.JMP_JGT_K, Bpf.JMP_JGE_K, Bpf.JMP_JSET_K -> {
                    if (pc + 1 + Math.max(jt, jf) >= n) throw new AssertionError("jump out of program at " + pc);
                }
                default -> throw new AssertionError("opcode 0x" + Integer.toHexString(code) + " at " + pc);
            }
        }
        if (Short.toUnsignedInt(b.getShort((n - 1) * 8)) != Bpf.RET_K) throw new AssertionError("no return at the end");
    }

    /** The filter's verdict for a native x86_64 call. */
    static int run(byte[] filter, int nr, long... args) {
        return runArch(filter, AUDIT_ARCH_X86_64, nr, args);
    }

    /** The filter's verdict for {@code struct seccomp_data {nr, arch, ip = 0, args}}. */
    static int runArch(byte[] filter, int arch, int nr, long... args) {
        verify(filter);
        ByteBuffer data = ByteBuffer.allocate(SECCOMP_DATA_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        data.putInt(0, nr).putInt(4, arch).putLong(8, 0x401000L);
        for (int i = 0; i < args.length; i++) data.putLong(16 + 8 * i, args[i]);

        ByteBuffer prog = ByteBuffer.wrap(filter).order(ByteOrder.LITTLE_ENDIAN);
        int a = 0;
        int pc = 0;
        while (true) {
            int code = Short.toUnsignedInt(prog.getShort(pc * 8));
            int jt = Byte.toUnsignedInt(prog.get(pc * 8 + 2)), jf = Byte.toUnsignedInt(prog.get(pc * 8 + 3));
            int k = prog.getInt(pc * 8 + 4);
            pc++;
            switch (code) {
                case Bpf.LD_W_ABS -> a = data.getInt(k);
                case Bpf.ALU_AND_K -> a &= k;
                case Bpf.JMP_JA -> pc += k;
                case Bpf.JMP_JEQ_K -> pc += a == k ? jt : jf;
                case Bpf.JMP_JGT_K -> pc += Integer.compareUnsigned(a, k) > 0 ? jt : jf;
                case Bpf.JMP_JGE_K -> pc += Integer.compareUnsigned(a, k) >= 0 ? jt : jf;
                case Bpf.JMP_JSET_K -> pc += (a & k) != 0 ? jt : jf;
                case Bpf.RET_K -> {
                    return k;
                }
                default -> throw new AssertionError("opcode 0x" + Integer.toHexString(code));
            }
        }
    }
}
