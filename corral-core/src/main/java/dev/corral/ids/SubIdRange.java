package dev.corral.ids;

/** One line of /etc/subuid or /etc/subgid: ids {@code start .. start+count-1} delegated to a user. */
public record SubIdRange(long start, long count) {
    public boolean contains(long first, long n) {
        return first >= start && first + n <= start + count;
    }
}
