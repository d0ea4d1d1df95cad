package dev.corral.ids;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Reads the ranges /etc/subuid and /etc/subgid delegate to one user (by name or by number). */
public final class SubIds {
    private SubIds() {}

    public static List<SubIdRange> of(Path file, String userName, long id) {
        try {
            return parse(Files.readString(file), userName, id);
        } catch (NoSuchFileException e) {
            return List.of();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot read " + file, e);
        }
    }

    static List<SubIdRange> parse(String text, String userName, long id) {
        List<SubIdRange> out = new ArrayList<>();
        for (String line : text.split("\n")) {
            String[] f = line.trim().split(":");
            if (f.length != 3 || line.startsWith("#")) continue;
            if (!f[0].equals(userName) && !f[0].equals(Long.toString(id))) continue;
            try {
                out.add(new SubIdRange(Long.parseLong(f[1]), Long.parseLong(f[2])));
            } catch (NumberFormatException ignored) {
                // newuidmap would ignore the malformed line too
            }
        }
        return List.copyOf(out);
    }
}
