package dev.corral.spec;

import java.util.Locale;
import java.util.Optional;

/**
 * One resource limit for the jailed program: {@code soft} and {@code hard}, -1 meaning
 * unlimited. {@code origin} names the flag or JSON path it came from.
 */
public record Rlimit(Resource resource, long soft, long hard, String origin) {
    public static final long UNLIMITED = -1;

    /** The RLIMIT_* resources, numbered as on Linux (x86_64 and most others). */
    public enum Resource {
        CPU, FSIZE, DATA, STACK, CORE, RSS, NPROC, NOFILE, MEMLOCK, AS, LOCKS, SIGPENDING, MSGQUEUE,
        NICE, RTPRIO, RTTIME;

        public int number() {
            return ordinal();
        }

        /** {@code nofile}, {@code NOFILE} or {@code RLIMIT_NOFILE}. */
        public static Optional<Resource> parse(String name) {
            String n = name.strip().toUpperCase(Locale.ROOT);
            if (n.startsWith("RLIMIT_")) n = n.substring(7);
            try {
                return Optional.of(valueOf(n));
            } catch (IllegalArgumentException e) {
                return Optional.empty();
            }
        }
    }

    /** Parses {@code unlimited}/{@code infinity} or a whole number with an optional K, M or G (×1024). */
    public static Optional<Long> parseValue(String text) {
        String t = text.strip().toLowerCase(Locale.ROOT);
        if (t.equals("unlimited") || t.equals("infinity")) return Optional.of(UNLIMITED);
        long unit = 1;
        if (!t.isEmpty()) {
            switch (t.charAt(t.length() - 1)) {
                case 'k' -> unit = 1L << 10;
                case 'm' -> unit = 1L << 20;
                case 'g' -> unit = 1L << 30;
                default -> { }
            }
        }
        if (unit != 1) t = t.substring(0, t.length() - 1);
        try {
            long v = Long.parseLong(t);
            if (v < 0 || v > Long.MAX_VALUE / unit) return Optional.empty();
            return Optional.of(v * unit);
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** 0 ≤ soft ≤ hard, with unlimited above every number. */
    public static boolean atMost(long a, long b) {
        if (b == UNLIMITED) return true;
        return a != UNLIMITED && a <= b;
    }

    public static String show(long v) {
        return v == UNLIMITED ? "unlimited" : Long.toString(v);
    }
}
