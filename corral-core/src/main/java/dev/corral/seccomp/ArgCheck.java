package dev.corral.seccomp;

/**
 * One comparison of a syscall argument with constants, as in an OCI profile's {@code args[]}
 * entry. Values are unsigned 64-bit; {@code lowWordOnly} compares only the low 32 bits, for
 * arguments the kernel reads as 32-bit ({@code ioctl}'s request, {@code clone}'s flags), so junk
 * in the upper half of the register cannot slip past.
 *
 * @param index    the argument, 0 to 5
 * @param op       the comparison
 * @param value    the operand; for {@link Op#MASKED_EQ} the mask
 * @param valueTwo for {@link Op#MASKED_EQ} the value the masked argument must equal; else unused
 */
record ArgCheck(int index, Op op, long value, long valueTwo, boolean lowWordOnly) {
    /** libseccomp's comparisons ({@code SCMP_CMP_*}), all unsigned. */
    enum Op { EQ, NE, LT, LE, GT, GE, MASKED_EQ }

    ArgCheck {
        if (index < 0 || index > 5) throw new IllegalArgumentException("argument index " + index);
    }

    static ArgCheck of(int index, Op op, long value, long valueTwo) {
        return new ArgCheck(index, op, value, valueTwo, false);
    }

    /** Only the low 32 bits of the argument equal {@code value}. */
    static ArgCheck low32Equals(int index, int value) {
        return new ArgCheck(index, Op.EQ, Integer.toUnsignedLong(value), 0, true);
    }

    /** Every bit of {@code bits} is set in the low 32 bits of the argument. */
    static ArgCheck low32HasAll(int index, int bits) {
        long b = Integer.toUnsignedLong(bits);
        return new ArgCheck(index, Op.MASKED_EQ, b, b, true);
    }
}
