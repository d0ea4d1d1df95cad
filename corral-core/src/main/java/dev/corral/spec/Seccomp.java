package dev.corral.spec;

/**
 * Which seccomp filter the jailed program gets: corral's default, none, or an OCI/Docker
 * profile read from {@code profile} (a host path).
 */
public record Seccomp(Kind kind, String profile, String origin) {
    public enum Kind { DEFAULT, UNCONFINED, PROFILE }

    public static final Seccomp DEFAULT = new Seccomp(Kind.DEFAULT, null, "seccomp");
    public static final Seccomp UNCONFINED = new Seccomp(Kind.UNCONFINED, null, "seccomp");

    public static Seccomp profile(String path, String origin) {
        return new Seccomp(Kind.PROFILE, path, origin);
    }
}
