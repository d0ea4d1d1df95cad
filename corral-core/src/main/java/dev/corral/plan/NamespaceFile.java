package dev.corral.plan;

import dev.corral.spec.Namespace;

import java.util.List;

/**
 * A host path to join, as the kernel describes it, or why it cannot be joined.
 *
 * @param type    the namespace's type, or null when {@code problem} says why there is none
 * @param id      its identity, as /proc shows it: {@code net:[4026532281]}
 * @param owners  the user namespaces that own it, nearest first, as far up as the caller sees
 *                (a user namespace's owner is its parent)
 * @param callers whether it is the caller's own namespace of that type
 * @param problem why the path is not a namespace to join ("no such file", "not a namespace
 *                file", ...), or null
 */
public record NamespaceFile(Namespace type, String id, List<String> owners, boolean callers, String problem) {
    public NamespaceFile {
        owners = List.copyOf(owners);
    }

    public static NamespaceFile of(Namespace type, String id, List<String> owners, boolean callers) {
        return new NamespaceFile(type, id, owners, callers, null);
    }

    public static NamespaceFile not(String problem) {
        return new NamespaceFile(null, null, List.of(), false, problem);
    }

    /** What a path to join must be, for messages. */
    public static String expected(Namespace ns) {
        return "expected /proc/PID/ns/" + ns.procName() + (ns == Namespace.NET ? " or /run/netns/NAME" : "")
                + ", or a bind mount of one";
    }

    /** The message for a path that is a namespace of another type than the one to join. */
    public static String mismatch(String path, Namespace wanted, Namespace actual) {
        return path + " is not a " + wanted.displayName() + " namespace (it is a " + actual.displayName() + " namespace)";
    }
}
