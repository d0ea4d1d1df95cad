package dev.corral.spec;

import java.util.List;
import java.util.stream.Collectors;

/** A specification that cannot be run, with every problem found (not just the first). */
public final class SpecException extends Exception {
    private final List<Problem> problems;

    public SpecException(List<Problem> problems) {
        super(problems.stream().map(Problem::toString).collect(Collectors.joining("\n")));
        this.problems = List.copyOf(problems);
    }

    public SpecException(String where, String message) {
        this(List.of(new Problem(where, message)));
    }

    public List<Problem> problems() {
        return problems;
    }
}
