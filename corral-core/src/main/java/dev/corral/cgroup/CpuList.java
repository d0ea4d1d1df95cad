package dev.corral.cgroup;

import java.util.BitSet;
import java.util.Optional;

/** The kernel's CPU list syntax: "0-3,5,7-8". */
public final class CpuList {
    private static final int MAX_CPU = 1 << 16;

    private CpuList() {}

    /** The CPUs of a list, or empty when the text is not a list. */
    public static Optional<BitSet> parse(String text) {
        BitSet out = new BitSet();
        String t = text.strip();
        if (t.isEmpty()) return Optional.empty();
        for (String part : t.split(",", -1)) {
            String[] range = part.split("-", -1);
            if (range.length > 2) return Optional.empty();
            try {
                int lo = Integer.parseInt(range[0]);
                int hi = range.length == 2 ? Integer.parseInt(range[1]) : lo;
                if (lo < 0 || hi < lo || hi >= MAX_CPU) return Optional.empty();
                out.set(lo, hi + 1);
            } catch (NumberFormatException e) {
                return Optional.empty();
            }
        }
        return Optional.of(out);
    }
}
