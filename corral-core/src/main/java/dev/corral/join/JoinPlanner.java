package dev.corral.join;

import dev.corral.plan.LaunchPlan;
import dev.corral.plan.Op;
import dev.corral.plan.Step;
import dev.corral.spec.Namespace;

import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The plan of a process that joins a running jail ({@code corral exec}): pure, from what was read
 * of the jail's program and what the caller asked for. The executor's monitor clones a process in
 * the caller's namespaces; it moves into the program's cgroups, joins the user namespace before
 * the namespaces it owns (any owned by an outer one, such as a network namespace the jail joined,
 * come before it), enters the jail's root and cwd, forks into the pid namespace (the child takes
 * this process's place as the monitor's child), and takes on the program's confinement in the
 * same order as a jail's own program does, last of all its seccomp filters.
 *
 * @param target      the jail's program (its host pid), for the plan's words
 * @param namespaces  the namespaces to join, in the order of the descriptors given to the launcher; USER
 *                    twice when the first is the parent of the jail's (JailDescriptors.joinOrder)
 * @param cgroupDirs  the program's cgroups this process is not in
 * @param enterRoot   whether to enter the jail's root and cwd (descriptors given to the launcher)
 * @param callerRoot  the caller is root: it drops its own supplementary groups before joining
 * @param terminal    the program takes the caller's terminal (else a new session)
 * @param workingDirectory a directory inside the jail to change to, or null for the program's cwd
 */
public record JoinPlanner(long target, List<Namespace> namespaces, List<String> cgroupDirs, boolean enterRoot,
                          boolean callerRoot, Confinement confinement, List<String> command,
                          Map<String, String> environment, boolean terminal, String workingDirectory) {
    static final String DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    static final List<String> SOCKET_ACTIVATION_ENV = List.of("LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES");

    public JoinPlanner {
        namespaces = List.copyOf(namespaces);
        cgroupDirs = List.copyOf(cgroupDirs);
        command = List.copyOf(command);
        environment = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(environment));
    }

    public LaunchPlan plan() {
        List<Step> steps = new ArrayList<>();
        String of = " of process " + target;
        steps.add(step(Op.WAIT_GO, "wait until the caller says go"));
        for (String dir : cgroupDirs) steps.add(step(Op.JOIN_CGROUP, "move into the cgroup " + dir + of, dir));
        if (callerRoot && namespaces.contains(Namespace.USER)) {
            steps.add(new Step(Op.SETGROUPS, List.of(), "drop the caller's supplementary groups before joining"
                    + " the user namespace (it may deny setgroups)"));
        }
        List<LaunchPlan.Join> joins = new ArrayList<>();
        int outer = namespaces.indexOf(Namespace.USER) != namespaces.lastIndexOf(Namespace.USER)
                ? namespaces.indexOf(Namespace.USER) : -1;
        for (int i = 0; i < namespaces.size(); i++) {
            Namespace ns = namespaces.get(i);
            String path = "/proc/" + target + "/ns/" + ns.procName() + (i == outer ? " (its parent)" : "");
            String words = i == outer ? "join the parent of the user namespace" + of
                    : "join the " + ns.displayName() + " namespace" + of;
            List<String> why = new ArrayList<>();
            if (i == outer) why.add("its mounts are locked: this one owns its pid namespace, and the caller's rights come from it");
            else if (ns == Namespace.USER && i + 1 < namespaces.size()) why.add("before the namespaces it owns");
            if (ns != Namespace.USER && namespaces.indexOf(Namespace.USER) > i) {
                why.add("an outer user namespace owns it: joined while the caller's capabilities hold");
            }
            if (i == 0) why.add("not dumpable from here on: nothing in the jail can ptrace the setup");
            if (!why.isEmpty()) words += " (" + String.join("; ", why) + ")";
            steps.add(step(Op.SETNS, words, String.valueOf(i), Long.toHexString(ns.cloneFlag())));
            joins.add(new LaunchPlan.Join(ns, path, (i == outer ? "parent of the user namespace" : "namespace " + ns.userName()) + of));
        }
        if (enterRoot) {
            steps.add(step(Op.ENTER_ROOT, "enter the root and working directory" + of
                    + " (opened before joining: nothing in the jail is resolved)"));
        }
        if (namespaces.contains(Namespace.PID) || namespaces.contains(Namespace.TIME)) {
            steps.add(step(Op.FORK_INTO, "fork into the pid namespace: the child carries on inside, in this"
                    + " process's place (its parent is corral's monitor)"));
        }
        if (workingDirectory != null) steps.add(step(Op.CHDIR, "change directory to " + workingDirectory, workingDirectory));
        if (terminal) steps.add(step(Op.TAKE_TERMINAL, "make the program the terminal's foreground process group"));
        else steps.add(step(Op.SETSID, "start a new session, away from the caller's terminal"));
        Confinement c = confinement;
        for (long[] l : c.rlimits()) {
            steps.add(step(Op.RLIMIT, "limit resource " + l[0] + " to " + show(l[1]) + " (hard " + show(l[2]) + "), as" + of,
                    String.valueOf(l[0]), l[1] < 0 ? "inf" : Long.toString(l[1]), l[2] < 0 ? "inf" : Long.toString(l[2])));
        }
        steps.add(step(Op.CAP_BOUND, "drop every capability outside " + Confinement.capNames(c.bound())
                + " from the bounding set", Long.toHexString(c.bound())));
        if (!c.noNewPrivs()) addFilters(steps, c); // needs CAP_SYS_ADMIN without no_new_privs: load it now
        if (!c.groups().isEmpty()) {
            steps.add(new Step(Op.SETGROUPS, c.groups().stream().map(String::valueOf).toList(),
                    "set supplementary groups " + c.groups()));
        }
        steps.add(step(Op.SETGID, "set gid " + c.gid(), String.valueOf(c.gid())));
        if (c.uid() != 0 && c.caps() != 0) {
            steps.add(step(Op.KEEP_CAPS, "keep the permitted capabilities across the change of uid"));
        }
        steps.add(step(Op.SETUID, "set uid " + c.uid(), String.valueOf(c.uid())));
        steps.add(step(Op.CAPS, "set the capabilities to " + Confinement.capNames(c.caps())
                        + (c.ambient() != 0 ? " (ambient " + Confinement.capNames(c.ambient()) + ")" : ""),
                Long.toHexString(c.caps()), Long.toHexString(c.ambient())));
        if (c.noNewPrivs()) {
            steps.add(step(Op.NO_NEW_PRIVS, "set no_new_privs: exec can never gain privileges"));
            addFilters(steps, c);
        }
        Map<String, String> env = new LinkedHashMap<>(environment);
        env.putIfAbsent("PATH", DEFAULT_PATH);
        List<String> args = new ArrayList<>();
        args.add(command.getFirst());
        args.add(String.valueOf(command.size()));
        args.addAll(command);
        env.forEach((k, v) -> args.add(k + "=" + v));
        steps.add(new Step(Op.EXEC, args, "exec " + String.join(" ", command)));
        return new LaunchPlan(0, List.of(), null, null, steps, List.of(), joins);
    }

    private static void addFilters(List<Step> steps, Confinement c) {
        for (int i = 0; i < c.filters().size(); i++) {
            String words = "load " + c.filterWords() + (c.filters().size() > 1 ? " (" + (i + 1) + " of " + c.filters().size() + ")" : "");
            steps.add(step(Op.SECCOMP, words, HexFormat.of().formatHex(c.filters().get(i))));
        }
    }

    private static String show(long limit) {
        return limit < 0 ? "unlimited" : Long.toString(limit);
    }

    private static Step step(Op op, String words, String... args) {
        return new Step(op, List.of(args), words);
    }
}
