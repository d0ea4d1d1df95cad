package dev.corral.cli;

import picocli.CommandLine.Model.ArgGroupSpec;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

import java.util.ArrayList;
import java.util.List;

/**
 * A command's options declared to picocli in code, each kept as a handle its value is read from
 * after parsing.
 *
 * <p>Why not picocli's annotations here: it reads them by reflection, and on a cold JVM that was
 * most of a {@code corral run}'s own work. Every annotation type read makes the JDK generate a
 * proxy class (none of which an AOT cache can hold), and every annotated field a method-handle
 * accessor: for run's ~70 options, ~100 ms of a ~150 ms start. Declared in code, the same options
 * cost picocli a few milliseconds. Commands that start seldom or have few options keep the
 * annotations.
 *
 * <p>Declare handles as fields, in order, after the {@code Flags} they belong to; then
 * {@link #addTo} puts them in a command's spec. An option with several names gives them as help
 * shows them: {@code "-t, --tty"}.
 */
final class Flags {
    private final List<ArgSpec> args = new ArrayList<>();
    /** Options of which at most one may be given, each set in {@link #addTo} as a picocli exclusive group. */
    private final List<List<ArgSpec>> exclusive = new ArrayList<>();

    /** A flag without a value: {@code --name}. */
    Flag flag(String names, String description) {
        return new Flag(add(OptionSpec.builder(names(names)).type(boolean.class).initialValue(false).description(description).build()));
    }

    /** An option with one value, given at most once (in a {@link #oneOf} group: one of the group, once). */
    Value<String> value(String names, String label, String description) {
        return value(names, label, String.class, description);
    }

    /** An option with one value of {@code type}, converted by picocli (its message names the option). */
    <T> Value<T> value(String names, String label, Class<T> type, String description) {
        return new Value<>(add(OptionSpec.builder(names(names)).type(type).paramLabel(label).description(description).build()));
    }

    /** An option that may be given again and again, its values kept in order. */
    Values repeatable(String names, String label, String description) {
        return new Values(add(multiValued(OptionSpec.builder(names(names))).paramLabel(label).description(description).build()));
    }

    /** As {@link #repeatable(String, String, String)}, each value also split where {@code splitRegex} matches. */
    Values repeatable(String names, String label, String splitRegex, String description) {
        return new Values(add(multiValued(OptionSpec.builder(names(names))).splitRegex(splitRegex)
                .paramLabel(label).description(description).build()));
    }

    /** The positional parameters: every argument that is not an option (or that follows {@code --}). */
    Values positionals(String label, String description) {
        return new Values(add(PositionalParamSpec.builder().type(List.class).auxiliaryTypes(String.class).arity("0..*")
                .paramLabel(label).description(description).build()));
    }

    /** At most one of {@code options} may be given; picocli names both when two are. */
    void oneOf(Value<?>... options) {
        List<ArgSpec> group = new ArrayList<>();
        for (Value<?> o : options) group.add(o.spec);
        exclusive.add(group);
    }

    private static String[] names(String names) {
        return names.split(", ");
    }

    private static OptionSpec.Builder multiValued(OptionSpec.Builder b) {
        return b.type(List.class).auxiliaryTypes(String.class);
    }

    private <A extends ArgSpec> A add(A arg) {
        args.add(arg);
        return arg;
    }

    /** Puts every option and parameter declared so far into {@code spec}. */
    void addTo(CommandSpec spec) {
        java.util.Set<ArgSpec> grouped = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        for (List<ArgSpec> members : exclusive) {
            ArgGroupSpec.Builder group = ArgGroupSpec.builder().exclusive(true).multiplicity("0..1");
            for (ArgSpec m : members) group.addArg(m);
            spec.addArgGroup(group.build());
            grouped.addAll(members);
        }
        for (ArgSpec a : args) {
            if (grouped.contains(a)) continue;
            if (a instanceof OptionSpec o) spec.addOption(o);
            else spec.addPositional((PositionalParamSpec) a);
        }
    }

    /** {@code -h, --help} and {@code -V, --version}, worded as picocli's mixinStandardHelpOptions words them. */
    static void standardHelp(CommandSpec spec) {
        spec.addOption(OptionSpec.builder("-h", "--help").type(boolean.class).initialValue(false).usageHelp(true)
                .description("Show this help message and exit.").build());
        spec.addOption(OptionSpec.builder("-V", "--version").type(boolean.class).initialValue(false).versionHelp(true)
                .description("Print version information and exit.").build());
        spec.versionProvider(new Version());
    }

    /** A flag's handle: whether it was given. */
    static final class Flag {
        private final OptionSpec spec;

        private Flag(OptionSpec spec) {
            this.spec = spec;
        }

        boolean on() {
            return Boolean.TRUE.equals(spec.getValue());
        }
    }

    /** A single-valued option's handle: its value, or null when not given. */
    static final class Value<T> {
        private final OptionSpec spec;

        private Value(OptionSpec spec) {
            this.spec = spec;
        }

        T get() {
            return spec.getValue();
        }

        /** Its name, as a message about its value says it. */
        String name() {
            return spec.longestName();
        }

        boolean given() {
            return get() != null;
        }
    }

    /** A repeatable option's (or the positionals') handle: its values in the order given. */
    static final class Values {
        private final ArgSpec spec;

        private Values(ArgSpec spec) {
            this.spec = spec;
        }

        List<String> get() {
            List<String> v = spec.getValue();
            return v == null ? List.of() : v;
        }

        /** Whether {@code arg} (from picocli's parse result) is this option. */
        boolean is(ArgSpec arg) {
            return arg == spec;
        }
    }
}
