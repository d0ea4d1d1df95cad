package dev.corral.plan;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** /etc/passwd or /etc/group of a jail, parsed just enough to resolve names. */
final class Passwd {
    record Entry(String name, long uid, long gid, List<String> members) {}

    private final List<Entry> entries;

    private Passwd(List<Entry> entries) {
        this.entries = entries;
    }

    /** Parses either file: name:x:id[:gid or members]... */
    static Passwd parse(String text) {
        List<Entry> out = new ArrayList<>();
        for (String line : text.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) continue;
            String[] f = line.split(":", -1);
            if (f.length < 4) continue;
            try {
                long id = Long.parseLong(f[2]);
                long gid = f[3].matches("\\d+") ? Long.parseLong(f[3]) : id;
                List<String> members = f[3].matches("\\d+") ? List.of() : List.of(f[3].split(","));
                out.add(new Entry(f[0], id, gid, members));
            } catch (NumberFormatException ignored) {
                // a line the C library would skip too
            }
        }
        return new Passwd(out);
    }

    Optional<Entry> user(String name) {
        return entries.stream().filter(e -> e.name().equals(name)).findFirst();
    }

    Optional<Long> gid(String group) {
        return user(group).map(Entry::uid);
    }

    /** Ids of the groups (in an /etc/group) that list {@code user} as a member. */
    List<Long> groupsOf(String user) {
        return entries.stream().filter(e -> e.members().contains(user)).map(Entry::uid).toList();
    }
}
