package dev.corral.plan;

import java.util.List;

/** One executor step: the operation, its arguments, and what it does in words. */
public record Step(Op op, List<String> args, String words) {
    public Step {
        args = List.copyOf(args);
    }

    public static Step of(Op op, String words, String... args) {
        return new Step(op, List.of(args), words);
    }
}
