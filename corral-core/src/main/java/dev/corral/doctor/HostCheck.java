package dev.corral.doctor;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One finding of {@link Doctor}: what was looked at, what it says for the user who asked, and
 * for anything short of ok, what to change. Plain data, so the CLI prints it and the daemon can
 * serve it.
 *
 * @param name    a stable key for scripts ("user-namespaces", "cgroups", ...)
 * @param title   the section's name for people
 * @param status  ok, warn or missing, for the user running the check
 * @param finding one line: what was checked and what it showed
 * @param fix     one line: what to change; empty when the status is ok
 * @param details further lines for people (one per cgroup hierarchy, say); the same is in facts
 * @param facts   the raw values behind the finding (numbers, paths, lists), in a stable order
 */
public record HostCheck(String name, String title, Status status, String finding, String fix,
                        List<String> details, Map<String, Object> facts) {
    public HostCheck {
        fix = fix == null ? "" : fix;
        details = List.copyOf(details);
        facts = Collections.unmodifiableMap(new LinkedHashMap<>(facts));
    }

    /** How the host stands for this user; the doctor reports, it does not fail. */
    public enum Status {
        /** Available to this user as corral needs it. */
        OK,
        /** Available with a limit, or could not be checked fully. */
        WARN,
        /** Not available to this user. */
        MISSING;

        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    static HostCheck of(String name, String title, Status status, String finding, String fix, Map<String, Object> facts) {
        return new HostCheck(name, title, status, finding, status == Status.OK ? "" : fix, List.of(), facts);
    }
}
