package dev.corral.seccomp;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;

/**
 * The x86_64 syscall table: names to numbers, read from {@code syscalls-x86_64.txt} (generated
 * from the kernel headers, plus the syscalls newer than them), and the names other architectures
 * have but x86_64 lacks ({@code syscalls-other-arches.txt}), which OCI profiles may list.
 */
final class Syscalls {
    private static final Map<String, Integer> NUMBERS;
    private static final Set<String> OTHER_ARCHES;
    private static final int HIGHEST;

    static {
        Map<String, Integer> numbers = new LinkedHashMap<>();
        for (String line : lines("syscalls-x86_64.txt")) {
            String[] f = line.split(" ");
            if (f.length != 2) throw new IllegalStateException("syscalls-x86_64.txt: bad line: " + line);
            if (numbers.put(f[0], Integer.parseInt(f[1])) != null) {
                throw new IllegalStateException("syscalls-x86_64.txt: " + f[0] + " twice");
            }
        }
        NUMBERS = Collections.unmodifiableMap(numbers);
        HIGHEST = numbers.values().stream().mapToInt(Integer::intValue).max().orElseThrow();
        OTHER_ARCHES = Set.copyOf(lines("syscalls-other-arches.txt"));
    }

    private Syscalls() {}

    /** The x86_64 number of {@code name}, if x86_64 has that syscall. */
    static OptionalInt number(String name) {
        Integer nr = NUMBERS.get(name);
        return nr == null ? OptionalInt.empty() : OptionalInt.of(nr);
    }

    /** The number of a syscall x86_64 certainly has (for corral's own policy: a typo is a bug). */
    static int require(String name) {
        Integer nr = NUMBERS.get(name);
        if (nr == null) throw new IllegalArgumentException("no x86_64 syscall " + name);
        return nr;
    }

    /** The highest syscall number known; higher ones are newer than this table (or invalid). */
    static int highest() {
        return HIGHEST;
    }

    /** True when {@code name} is a syscall of some other architecture that x86_64 does not have. */
    static boolean otherArchitecture(String name) {
        return OTHER_ARCHES.contains(name);
    }

    /** Every x86_64 syscall, name to number, in table order. */
    static Map<String, Integer> all() {
        return NUMBERS;
    }

    /** The resource's lines without blank lines and {@code #} comments. */
    private static List<String> lines(String resource) {
        try (InputStream in = Syscalls.class.getResourceAsStream(resource)) {
            if (in == null) throw new IllegalStateException("missing resource dev/corral/seccomp/" + resource);
            var reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            return reader.lines().map(String::strip).filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
