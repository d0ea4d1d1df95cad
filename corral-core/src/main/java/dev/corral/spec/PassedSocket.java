package dev.corral.spec;

/**
 * A listening socket the caller has open, handed to the program under systemd's socket
 * activation protocol: the i-th one is the program's fd {@code 3 + i}, named in
 * {@code LISTEN_FDNAMES}. The caller keeps its own descriptor; corral never closes it.
 *
 * @param fd   the descriptor in the calling process, or -1 when the socket was already closed
 * @param name what {@code LISTEN_FDNAMES} calls it (see {@link #nameProblem})
 */
public record PassedSocket(int fd, String name) {
    /** systemd's limit on one name. */
    public static final int MAX_NAME_LENGTH = 255;

    /**
     * What is wrong with {@code name} as systemd reads {@code LISTEN_FDNAMES} (printable ASCII
     * without ':', the separator, at most 255 characters), or null when it is fine.
     */
    public static String nameProblem(String name) {
        if (name == null) return "a socket needs a name";
        if (name.length() > MAX_NAME_LENGTH) return "name is longer than " + MAX_NAME_LENGTH + " characters";
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c == ':') return "name \"" + name + "\" holds ':', which separates names in LISTEN_FDNAMES";
            if (c < ' ' || c > '~') return "name \"" + name + "\" holds a character that is not printable ASCII";
        }
        return null;
    }
}
