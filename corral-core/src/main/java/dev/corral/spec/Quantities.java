package dev.corral.spec;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parses the human spellings of limits: sizes ("256M") and CPU amounts ("50%", "0.5"). */
public final class Quantities {
    private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*([kmgt]?)(i?b)?");
    private static final Pattern CPU = Pattern.compile("(\\d+(?:\\.\\d+)?|\\.\\d+)\\s*(%?)");

    private Quantities() {}

    /**
     * Bytes from {@code 1048576}, {@code 512K}, {@code 256M}, {@code 256MiB}, {@code 1G} or
     * {@code 2T}; every suffix is a power of 1024, as in ulimit and docker.
     *
     * @throws IllegalArgumentException with a message fit for the user
     */
    public static long bytes(String text) {
        String t = text.strip().toLowerCase(Locale.ROOT);
        if (t.startsWith("-")) throw new IllegalArgumentException("must be positive, not " + text);
        Matcher m = SIZE.matcher(t);
        if (!m.matches()) {
            throw new IllegalArgumentException("\"" + text + "\" is not a size; expected a whole number of bytes,"
                    + " optionally with K, M, G or T (powers of 1024), such as 256M");
        }
        int shift = switch (m.group(2)) {
            case "k" -> 10;
            case "m" -> 20;
            case "g" -> 30;
            case "t" -> 40;
            default -> 0;
        };
        try {
            long v = Long.parseLong(m.group(1));
            if (v > (Long.MAX_VALUE >> shift)) throw new NumberFormatException();
            return v << shift;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("\"" + text + "\" is too large");
        }
    }

    /**
     * Cores from {@code 0.5}, {@code 2} or {@code 50%} (of one core).
     *
     * @throws IllegalArgumentException with a message fit for the user
     */
    public static double cores(String text) {
        String t = text.strip();
        if (t.startsWith("-")) throw new IllegalArgumentException("must be positive, not " + text);
        Matcher m = CPU.matcher(t);
        if (!m.matches()) {
            throw new IllegalArgumentException("\"" + text + "\" is not a CPU amount; expected cores such as 0.5 or 2,"
                    + " or a percentage of one core such as 50%");
        }
        double v = Double.parseDouble(m.group(1));
        return m.group(2).isEmpty() ? v : v / 100;
    }

    /** "256M" when exact, else the byte count: how sizes are shown back to the user. */
    public static String showBytes(long v) {
        String[] units = {"T", "G", "M", "K"};
        int[] shifts = {40, 30, 20, 10};
        for (int i = 0; i < units.length; i++) {
            if (v != 0 && v % (1L << shifts[i]) == 0) return (v >> shifts[i]) + units[i];
        }
        return Long.toString(v);
    }
}
