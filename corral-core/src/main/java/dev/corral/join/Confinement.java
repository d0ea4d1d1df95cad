package dev.corral.join;

import dev.corral.JailSetupException;
import dev.corral.spec.Capability;
import dev.corral.spec.Hardening;
import dev.corral.spec.Rlimit;
import dev.corral.spec.Seccomp;
import dev.corral.spec.SpecException;
import dev.corral.seccomp.SeccompFilters;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What a process joining a running jail is held to: never less than the jail's program (the
 * docker/podman exec rule). Its identity is the program's, read from /proc and translated into the
 * jail's user namespace. The rest comes from the jail's {@link Hardening} when corral knows it (a
 * daemon's application, a jail started by this library), narrowed further by what the program
 * holds now; otherwise from /proc/PID/status alone: bounding, permitted and ambient capabilities,
 * no_new_privs, and the seccomp filters themselves, fetched from the kernel (root only), since a
 * filter that cannot be read cannot be reproduced, and no other filter is known to be no weaker.
 *
 * @param uid        inside the jail's user namespace
 * @param gid        inside the jail's user namespace
 * @param groups     supplementary groups inside it (those it maps)
 * @param bound      the capability bounding set to keep
 * @param caps       effective = permitted = inheritable
 * @param ambient    the ambient set
 * @param filters    seccomp filters to load, in order (oldest first), as sock_filter arrays
 * @param filterWords what the filters are, for the plan
 * @param rlimits    limits to set: {resource number, soft, hard}, -1 for unlimited
 */
public record Confinement(long uid, long gid, List<Long> groups, long bound, long caps, long ambient,
                          boolean noNewPrivs, List<byte[]> filters, String filterWords, List<long[]> rlimits) {
    public Confinement {
        groups = List.copyOf(groups);
        filters = List.copyOf(filters);
        rlimits = List.copyOf(rlimits);
    }

    /**
     * @param hardening the jail's hardening when known, or null to go by /proc alone
     * @param ownLimits this process's limits ({soft, hard} per resource)
     * @param fetchFilters how to read the program's seccomp filters when the hardening is unknown
     *                     (by pid); it fails when it cannot
     */
    public static Confinement of(ProcessFacts p, Hardening hardening, Map<Rlimit.Resource, long[]> ownLimits,
                                 FilterSource fetchFilters) throws JailSetupException {
        long uid = p.uidInside(), gid = p.gidInside();
        if (uid < 0 || gid < 0) {
            throw new JailSetupException("process " + p.pid() + " runs as uid " + p.uid() + ", gid " + p.gid()
                    + ", which its own user namespace does not map", 22, 125);
        }
        List<Long> groups = new ArrayList<>();
        for (long g : p.groups()) {
            long in = ProcessFacts.inside(g, p.gidMap());
            if (in >= 0 && in != gid) groups.add(in);
        }
        long bound = p.capBound();
        long caps = p.capPermitted();
        boolean nnp = p.noNewPrivs();
        List<byte[]> filters;
        String words;
        if (hardening != null) {
            long spec = Capability.mask(hardening.capabilities());
            bound &= spec;
            caps &= spec;
            nnp |= hardening.noNewPrivs();
            Seccomp sc = hardening.seccomp();
            switch (sc.kind()) {
                case DEFAULT -> {
                    filters = List.of(SeccompFilters.defaultFilter(hardening.allowUserns()));
                    words = "corral's default seccomp filter" + (hardening.allowUserns() ? " (nested user namespaces allowed)" : "");
                }
                case PROFILE -> {
                    try {
                        filters = List.of(SeccompFilters.fromOciProfile(Files.readString(Path.of(sc.profile())),
                                sc.profile(), hardening.capabilities()));
                    } catch (IOException | SpecException e) {
                        throw new JailSetupException("cannot load the jail's seccomp profile " + sc.profile() + ": "
                                + e.getMessage(), 5, 125);
                    }
                    words = "the jail's seccomp profile " + sc.profile();
                }
                default -> {
                    if (p.seccompMode() != ProcessFacts.SECCOMP_NONE) {
                        throw new JailSetupException("process " + p.pid() + " has a seccomp filter its jail did not set;"
                                + " it cannot be reproduced, so nothing joins it", 1, 125);
                    }
                    filters = List.of();
                    words = null;
                }
            }
        } else {
            switch (p.seccompMode()) {
                case ProcessFacts.SECCOMP_NONE -> {
                    filters = List.of();
                    words = null;
                }
                case ProcessFacts.SECCOMP_FILTER -> {
                    try {
                        filters = fetchFilters.filters(p.pid());
                    } catch (dev.corral.sys.NativeException e) {
                        String why = e.errno() == 1 || e.errno() == 13 ? "; reading another process's filters takes root" : "";
                        throw new JailSetupException("process " + p.pid() + " runs under a seccomp filter corral cannot read ("
                                + e.getMessage() + why + "), and no other filter is known to be no weaker: nothing joins it"
                                + " (with the jail's spec, as for a daemon's application, the filter is known)", e.errno(), 125);
                    }
                    words = "the " + filters.size() + " seccomp filter" + (filters.size() == 1 ? "" : "s")
                            + " of process " + p.pid() + ", as the kernel holds them";
                }
                default -> throw new JailSetupException("process " + p.pid() + " is in strict seccomp mode;"
                        + " nothing can join it", 1, 125);
            }
        }
        long ambient = p.capAmbient() & caps;
        return new Confinement(uid, gid, groups, bound, caps, ambient, nnp, filters, words, limits(p, ownLimits));
    }

    /** The program's seccomp filters, oldest first. */
    public interface FilterSource {
        List<byte[]> filters(long pid) throws dev.corral.sys.NativeException;
    }

    /** Per resource the lower of the program's and ours (raising a hard limit takes a privilege). */
    private static List<long[]> limits(ProcessFacts p, Map<Rlimit.Resource, long[]> own) {
        List<long[]> out = new ArrayList<>();
        for (var e : p.limits().entrySet()) {
            long[] mine = own.get(e.getKey());
            if (mine == null) continue;
            long soft = lower(e.getValue()[0], mine[0]), hard = lower(e.getValue()[1], mine[1]);
            if (soft == mine[0] && hard == mine[1]) continue;
            out.add(new long[] {e.getKey().number(), soft, hard});
        }
        out.sort(java.util.Comparator.comparingLong(l -> l[0]));
        return out;
    }

    /** The lower of two limits, -1 being unlimited. */
    private static long lower(long a, long b) {
        if (a < 0) return b;
        if (b < 0) return a;
        return Math.min(a, b);
    }

    static String capNames(long mask) {
        if (mask == 0) return "none";
        List<String> names = new ArrayList<>();
        for (Capability c : Capability.values()) if ((mask & (1L << c.ordinal())) != 0) names.add(c.capName());
        return String.join(",", names);
    }
}
