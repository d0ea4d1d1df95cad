package dev.corral.join;

import dev.corral.JailSetupException;
import dev.corral.launch.Launcher;
import dev.corral.spec.Namespace;
import dev.corral.sys.Libc;
import dev.corral.sys.NamespaceFiles;
import dev.corral.sys.NativeException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A running jail held open by descriptors: its namespaces (each checked with the kernel to be of
 * its type), its root and, optionally, its program's cwd. Opened from /proc/PID before anything
 * is joined, or received over a setns socket, whose server opened them while the jail was young
 * (uWSGI's setns-preopen). The owner closes them.
 */
public final class JailDescriptors implements AutoCloseable {
    private final long pid;
    private final Map<Namespace, Integer> namespaces;
    private final int root;
    private final int cwd;
    /** The parent of the jail's user namespace, when the join goes through it (see joinOrder), else -1. */
    private int outerUser = -1;

    public JailDescriptors(long pid, Map<Namespace, Integer> namespaces, int root, int cwd) {
        this.pid = pid;
        this.namespaces = new EnumMap<>(Namespace.class);
        this.namespaces.putAll(namespaces);
        this.root = root;
        this.cwd = cwd;
    }

    /**
     * Opens the namespaces of process {@code pid} that differ from this process's own (joining
     * one's own user namespace is refused by the kernel, and joining any other of one's own is
     * pointless), except those in {@code skip}, and its root and cwd.
     */
    public static JailDescriptors open(long pid, Set<Namespace> skip) throws JailSetupException {
        Map<Namespace, Integer> fds = new EnumMap<>(Namespace.class);
        int root = -1, cwd = -1;
        try {
            for (Namespace ns : Namespace.values()) {
                if (skip.contains(ns)) continue;
                if (ns == Namespace.TIME && !Launcher.kernelHasTimeNamespace()) continue;
                Path theirs = Path.of("/proc", Long.toString(pid), "ns", ns.procName());
                String id;
                try {
                    id = Files.readSymbolicLink(theirs).toString();
                } catch (IOException e) {
                    throw new JailSetupException("cannot read " + theirs + ": " + reason(e), 13, 125);
                }
                if (id.equals(NamespaceFiles.callers(ns.procName()))) continue;
                int fd = NamespaceFiles.openProcEntry(pid, ns.procName());
                fds.put(ns, fd);
                if (NamespaceFiles.type(fd) != ns.cloneFlag()) {
                    throw new JailSetupException(theirs + " is not a " + ns.displayName() + " namespace", 22, 125);
                }
            }
            root = NamespaceFiles.openDirectory("/proc/" + pid + "/root");
            try {
                cwd = NamespaceFiles.openDirectory("/proc/" + pid + "/cwd");
            } catch (NativeException e) {
                cwd = -1; // its cwd is gone: the root will do
            }
            return new JailDescriptors(pid, fds, root, cwd);
        } catch (NativeException e) {
            fds.values().forEach(Libc::close);
            if (root >= 0) Libc.close(root);
            throw new JailSetupException("cannot open " + e.getMessage().replaceFirst("^open ", "") + " (process " + pid + ")",
                    e.errno(), 125);
        } catch (IOException e) {
            fds.values().forEach(Libc::close);
            throw new JailSetupException("cannot read this process's own namespaces: " + e.getMessage(), 5, 125);
        } catch (JailSetupException e) {
            fds.values().forEach(Libc::close);
            throw e;
        }
    }

    /** Opens a namespace file and makes sure, with the kernel, that it is one of type {@code ns}. */
    static int checked(String path, Namespace ns) throws NativeException, JailSetupException {
        int fd = NamespaceFiles.open(path);
        long type = NamespaceFiles.type(fd);
        if (type != ns.cloneFlag()) {
            Libc.close(fd);
            throw new JailSetupException(path + " is not a " + ns.displayName() + " namespace", 22, 125);
        }
        return fd;
    }

    private static String reason(IOException e) {
        return e instanceof java.nio.file.NoSuchFileException ? "no such process" : e.getMessage();
    }

    public long pid() {
        return pid;
    }

    /** The namespaces to join, the user namespace first (it owns the others). */
    public List<Namespace> namespaces() {
        return new ArrayList<>(namespaces.keySet()); // EnumMap: declaration order, USER first
    }

    public int root() {
        return root;
    }

    /**
     * Makes sure the user namespace of process {@code pid} is held when it is not this process's
     * own: a process that joins the rest without it keeps the caller's capabilities over the host
     * (uWSGI's default skip list leaves it out; corral exec never does).
     */
    public void requireUserNamespace() throws JailSetupException {
        if (namespaces.containsKey(Namespace.USER)) return;
        String theirs = "/proc/" + pid + "/ns/user";
        try {
            if (Files.readSymbolicLink(Path.of(theirs)).toString().equals(NamespaceFiles.callers("user"))) return;
            namespaces.put(Namespace.USER, checked(theirs, Namespace.USER));
        } catch (IOException e) {
            throw new JailSetupException("process " + pid + " has a user namespace of its own, which this process cannot"
                    + " open (" + e.getMessage() + "); joining the rest without it would keep this process's capabilities"
                    + " over the host, so nothing joins", e instanceof NativeException n ? n.errno() : 13, 125);
        }
    }

    /**
     * {@code which} in the order the kernel lets them be joined: the user namespace before the
     * namespaces it owns (from inside it, only those can be joined), and before it those that an
     * outer user namespace owns (a network namespace of {@code ip netns add} that the jail joined,
     * say), while the caller still has its own capabilities.
     * <p>
     * A jail whose mounts are locked (Planner.locksMounts) runs in a user namespace nested in the
     * one that owns its pid, time and cgroup namespaces. setns into those wants CAP_SYS_ADMIN in
     * the caller's own user namespace too, which a normal user has only inside that outer one: so
     * the outer one is joined first (all the caller's rights over the jail come from it), then
     * what it owns, then the jail's own. Then USER appears twice in the list: the first is the
     * outer one, and {@link #opened} hands over its descriptor there.
     */
    public List<Namespace> joinOrder(List<Namespace> which) {
        return order(which, true);
    }

    /**
     * {@code which} in the order a client joining from the host with its own capabilities takes
     * them, descriptor after descriptor, as uWSGI's setns socket client does: those owned by
     * an outer user namespace (a locked jail's pid namespace, say) first, then the user
     * namespace, then what it owns. Root can follow it; a normal user needs {@link #joinOrder}.
     */
    public List<Namespace> hostJoinOrder(List<Namespace> which) {
        return order(which, false);
    }

    private List<Namespace> order(List<Namespace> which, boolean throughOuter) {
        if (!which.contains(Namespace.USER)) return List.copyOf(which);
        String user, outer = null, own;
        try {
            user = NamespaceFiles.identity(namespaces.get(Namespace.USER));
            own = NamespaceFiles.callers("user");
        } catch (IOException e) {
            return List.copyOf(which);
        }
        int parent = throughOuter ? NamespaceFiles.parent(namespaces.get(Namespace.USER)) : -1;
        if (parent >= 0) {
            try {
                outer = NamespaceFiles.identity(parent);
            } catch (NativeException e) {
                outer = null;
            }
            // The caller's own user namespace (the jail's parent as usual) is not joined.
            if (outer != null && outer.equals(own)) outer = null;
            if (outer != null && outerUser < 0) outerUser = parent; // kept until close()
            else Libc.close(parent);
        }
        List<Namespace> before = new ArrayList<>(), middle = new ArrayList<>(), after = new ArrayList<>();
        for (Namespace ns : which) {
            if (ns == Namespace.USER) continue;
            String owner = NamespaceFiles.owner(namespaces.get(ns));
            (owner == null || owner.equals(user) ? after : owner.equals(outer) ? middle : before).add(ns);
        }
        List<Namespace> out = new ArrayList<>(before);
        if (!middle.isEmpty()) {
            out.add(Namespace.USER);
            out.addAll(middle);
        }
        out.add(Namespace.USER);
        out.addAll(after);
        return out;
    }

    /** Whether the namespace held for {@code ns} is this process's own (nothing to join). */
    public boolean isOwn(Namespace ns) {
        Integer fd = namespaces.get(ns);
        if (fd == null) return false;
        try {
            return NamespaceFiles.identity(fd).equals(NamespaceFiles.callers(ns.procName()));
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * What the launcher takes for a plan joining {@code which} (in that order); of two USER
     * entries (see {@link #joinOrder}) the first is the jail's outer user namespace.
     */
    public Launcher.Opened opened(List<Namespace> which) {
        List<Integer> fds = new ArrayList<>();
        boolean outerFirst = which.indexOf(Namespace.USER) != which.lastIndexOf(Namespace.USER);
        for (Namespace ns : which) {
            if (ns == Namespace.USER && outerFirst) {
                if (outerUser < 0) throw new IllegalStateException("no outer user namespace was opened");
                fds.add(outerUser);
                outerFirst = false;
            } else fds.add(namespaces.get(ns));
        }
        return new Launcher.Opened(fds, root, cwd);
    }

    @Override
    public void close() {
        namespaces.values().forEach(Libc::close);
        namespaces.clear();
        if (outerUser >= 0) Libc.close(outerUser);
        outerUser = -1;
        if (root >= 0) Libc.close(root);
        if (cwd >= 0) Libc.close(cwd);
    }
}
