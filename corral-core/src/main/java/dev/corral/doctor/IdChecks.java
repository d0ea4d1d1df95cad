package dev.corral.doctor;

import dev.corral.doctor.HostCheck.Status;
import dev.corral.ids.SubIdRange;
import dev.corral.ids.SubIds;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Id mapping: root writes any uid_map/gid_map itself; a normal user maps only its own ids, and
 * more only through the setuid helpers newuidmap/newgidmap within the ranges /etc/subuid and
 * /etc/subgid delegate to it.
 */
final class IdChecks {
    static final Path SUBUID = Path.of("/etc/subuid");
    static final Path SUBGID = Path.of("/etc/subgid");
    /** Where corral's launcher looks for the helpers. */
    static final List<Path> HELPERS = List.of(Path.of("/usr/bin/newuidmap"), Path.of("/usr/bin/newgidmap"));
    private static final int SETUID = 04000;

    private IdChecks() {}

    static HostCheck subordinateIds(Caller caller) {
        Map<String, Object> facts = new LinkedHashMap<>();
        facts.put("user", caller.name());
        facts.put("uid", caller.uid());
        List<SubIdRange> uids, gids;
        try {
            uids = SubIds.of(SUBUID, caller.name(), caller.uid());
            gids = SubIds.of(SUBGID, caller.name(), caller.uid());
        } catch (UncheckedIOException e) {
            return HostCheck.of("subordinate-ids", "Subordinate ids", Status.WARN,
                    e.getMessage() + ": " + e.getCause().getMessage(), "make /etc/subuid and /etc/subgid readable by all (mode 644)", facts);
        }
        facts.put("subuid", ranges(uids));
        facts.put("subgid", ranges(gids));
        String seen = SUBUID + ": " + describe(uids) + "; " + SUBGID + ": " + describe(gids) + " (for " + caller.name()
                + " or uid " + caller.uid() + ")";
        String fix = "as root: usermod --add-subuids 100000-165535 --add-subgids 100000-165535 " + caller.name()
                + " (a range no other user has)";
        if (caller.root()) {
            return HostCheck.of("subordinate-ids", "Subordinate ids", Status.OK,
                    seen + "; root writes any id map directly and needs none", "", facts);
        }
        if (uids.isEmpty() && gids.isEmpty()) {
            return HostCheck.of("subordinate-ids", "Subordinate ids", Status.MISSING,
                    seen + "; only " + caller.name() + "'s own uid and gid can be mapped into a jail", fix, facts);
        }
        if (uids.isEmpty() || gids.isEmpty()) {
            return HostCheck.of("subordinate-ids", "Subordinate ids", Status.WARN,
                    seen + "; without both, only the own uid and gid can be mapped", fix, facts);
        }
        return HostCheck.of("subordinate-ids", "Subordinate ids", Status.OK,
                seen + "; usable with --uid-map/--gid-map through newuidmap/newgidmap", "", facts);
    }

    private static List<Map<String, Object>> ranges(List<SubIdRange> ranges) {
        return ranges.stream().map(r -> Map.<String, Object>of("start", r.start(), "count", r.count())).toList();
    }

    private static String describe(List<SubIdRange> ranges) {
        if (ranges.isEmpty()) return "no range";
        List<String> out = new ArrayList<>();
        for (SubIdRange r : ranges) out.add(r.count() + " ids from " + r.start());
        return String.join(", ", out);
    }

    static HostCheck helpers(Caller caller) {
        Map<String, Object> facts = new LinkedHashMap<>();
        List<String> seen = new ArrayList<>();
        List<Path> absent = new ArrayList<>(), notSetuid = new ArrayList<>();
        for (Path p : HELPERS) {
            Map<String, Object> one = new LinkedHashMap<>();
            one.put("path", p.toString());
            boolean present = Files.isRegularFile(p) && Files.isExecutable(p);
            one.put("present", present);
            if (!present) {
                absent.add(p);
                seen.add(p + " absent");
            } else {
                boolean setuidRoot = setuidRoot(p);
                one.put("setuid_root", setuidRoot);
                if (!setuidRoot) notSetuid.add(p);
                seen.add(p + (setuidRoot ? " setuid root" : " not setuid (may have file capabilities)"));
            }
            facts.put(p.getFileName().toString(), one);
        }
        String finding = String.join(", ", seen);
        if (!absent.isEmpty()) {
            // Root writes maps directly; the helpers matter to everyone else on the host.
            return HostCheck.of("idmap-helpers", "newuidmap/newgidmap", caller.root() ? Status.WARN : Status.MISSING,
                    finding + (caller.root() ? " (root does not need them; normal users do)" : ""),
                    "install them: apt-get install uidmap (Debian, Ubuntu) or dnf install shadow-utils", facts);
        }
        if (!notSetuid.isEmpty()) {
            return HostCheck.of("idmap-helpers", "newuidmap/newgidmap", Status.WARN, finding,
                    "check with getcap " + notSetuid.getFirst() + " (it needs cap_setuid or cap_setgid); without them,"
                            + " as root: chmod u+s " + String.join(" ", notSetuid.stream().map(Path::toString).toList()), facts);
        }
        return HostCheck.of("idmap-helpers", "newuidmap/newgidmap", Status.OK, finding, "", facts);
    }

    private static boolean setuidRoot(Path p) {
        try {
            int mode = (Integer) Files.getAttribute(p, "unix:mode");
            int owner = (Integer) Files.getAttribute(p, "unix:uid");
            return (mode & SETUID) != 0 && owner == 0;
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }
}
