package dev.corral.daemon.supervise;

import dev.corral.ListeningSocket;
import dev.corral.daemon.config.AppDefinition;
import dev.corral.daemon.config.DaemonConfig;
import dev.corral.spec.ListenAddress;
import dev.corral.spec.Problem;
import dev.corral.spec.SpecException;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The sockets the daemon listens on for its applications. They belong to the daemon, not to any
 * jail: a reload hands the same socket to the new jail, so connections waiting in its queue are
 * served by whichever jail accepts them and none is refused.
 */
final class Listeners {
    private record Key(String app, ListenAddress address) {}

    private final Map<Key, ListeningSocket> open = new HashMap<>();

    /** Binds every address the configuration needs that is not bound yet; all or nothing. */
    synchronized void prepare(DaemonConfig config) throws SpecException {
        List<Key> opened = new ArrayList<>();
        List<Problem> problems = new ArrayList<>();
        for (AppDefinition def : config.applications().values()) {
            for (int i = 0; i < def.listen().size(); i++) {
                Key k = new Key(def.name(), def.listen().get(i));
                if (open.containsKey(k)) continue;
                try {
                    open.put(k, ListeningSocket.open(k.address(), def.name()));
                    opened.add(k);
                } catch (IOException | IllegalArgumentException e) {
                    problems.add(new Problem("/applications/" + def.name() + "/listen/" + i, e.getMessage()));
                }
            }
        }
        if (!problems.isEmpty()) {
            for (Key k : opened) close(open.remove(k));
            throw new SpecException(problems);
        }
    }

    /** The sockets of one application, in its order. */
    synchronized List<ListeningSocket> of(AppDefinition def) {
        List<ListeningSocket> out = new ArrayList<>();
        for (ListenAddress a : def.listen()) {
            ListeningSocket s = open.get(new Key(def.name(), a));
            if (s == null) throw new IllegalStateException("no socket for " + def.name() + " on " + a);
            out.add(s);
        }
        return out;
    }

    /** Closes the sockets no application of {@code config} listens on any more. */
    synchronized void retain(DaemonConfig config) {
        open.entrySet().removeIf(e -> {
            AppDefinition def = config.applications().get(e.getKey().app());
            boolean keep = def != null && def.listen().contains(e.getKey().address());
            if (!keep) close(e.getValue());
            return !keep;
        });
    }

    synchronized void closeAll() {
        open.values().forEach(Listeners::close);
        open.clear();
    }

    private static void close(ListeningSocket s) {
        s.close();
    }
}
