package dev.corral.spec;

/** One thing wrong with a jail specification: where (a flag or JSON path) and why. */
public record Problem(String where, String message) {
    @Override
    public String toString() {
        return where + ": " + message;
    }
}
