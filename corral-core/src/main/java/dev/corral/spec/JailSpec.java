package dev.corral.spec;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What the user wants: the application and the jail around it. Immutable; built by
 * {@code dev.corral.JailBuilder}, the CLI or a JSON config, and checked by the planner against the
 * host it runs on.
 *
 * @param command        argv; the first element is the program, looked up on the jail's PATH
 * @param namespaces     namespaces to unshare; the rest are shared with the caller, or joined
 * @param joins          existing namespaces to join, by path (a /proc/PID/ns file or a bind mount
 *                       of one, such as /run/netns/NAME: OCI's namespaces[].path); a type is
 *                       joined or unshared, never both
 * @param uidMap         uid ranges; empty means "the caller's euid is root inside"
 * @param gidMap         gid ranges; empty means "the caller's egid is root inside"
 * @param rootfs         directory to use as the jail's root, or null for the default jail
 *                       (the host's / read-only)
 * @param automount      what corral mounts by itself (/proc, /tmp, /dev)
 * @param mounts         further mounts, applied in order after the automounts
 * @param hostname       hostname inside (needs the uts namespace), or null to keep the host's
 * @param workingDirectory cwd inside, or null for "/"
 * @param environment    variables to set (after the caller's, unless clearEnvironment)
 * @param uid            uid inside, or null (then {@code user}, or 0)
 * @param gid            gid inside, or null (then {@code group}, the user's group, or 0)
 * @param user           user name resolved in the jail's /etc/passwd, or null
 * @param group          group name resolved in the jail's /etc/group, or null
 * @param init           run a tiny init as PID 1 (else the application is PID 1)
 * @param takeTerminal   put the application in the terminal's foreground (interactive use)
 * @param hardening      capabilities, no_new_privs, seccomp, rlimits, session, /proc options
 * @param cgroup         the jail's cgroup and its limits
 * @param passedSockets  listening sockets handed to the program as fds 3, 4, ... (systemd's
 *                       socket activation: LISTEN_FDS, LISTEN_PID, LISTEN_FDNAMES)
 * @param labels         how errors name the fields of this spec
 * @param autoIds        map ids 0..65535 to a free range allocated at launch (instead of
 *                       {@code uidMap}/{@code gidMap}), or null
 * @param overlay        the rootfs is a shared base seen through an overlayfs with a writable
 *                       layer of the jail's own, or null to use the rootfs itself
 * @param rootfsIdmap    show the rootfs through an idmapped mount with the jail's own id mapping:
 *                       files owned by 0..65535 on disk are the jail's 0..65535 whatever host
 *                       range it runs as, and what it writes is stored as such
 */
public record JailSpec(
        List<String> command,
        Set<Namespace> namespaces,
        Map<Namespace, String> joins,
        List<IdMapping> uidMap,
        List<IdMapping> gidMap,
        String rootfs,
        Automount automount,
        List<MountSpec> mounts,
        String hostname,
        String workingDirectory,
        Map<String, String> environment,
        boolean clearEnvironment,
        Long uid,
        Long gid,
        String user,
        String group,
        boolean init,
        boolean takeTerminal,
        Hardening hardening,
        CgroupSpec cgroup,
        List<PassedSocket> passedSockets,
        Labels labels,
        AutoIdRange autoIds,
        RootfsOverlay overlay,
        boolean rootfsIdmap) {

    public JailSpec {
        command = List.copyOf(command);
        namespaces = Set.copyOf(namespaces);
        joins = Map.copyOf(joins);
        uidMap = List.copyOf(uidMap);
        gidMap = List.copyOf(gidMap);
        mounts = List.copyOf(mounts);
        passedSockets = List.copyOf(passedSockets);
        environment = Collections.unmodifiableMap(new LinkedHashMap<>(environment));
    }

    /** This spec with these id maps in place of an automatic range (once it is allocated). */
    public JailSpec withIdMaps(List<IdMapping> uids, List<IdMapping> gids) {
        return new JailSpec(command, namespaces, joins, uids, gids, rootfs, automount, mounts, hostname, workingDirectory,
                environment, clearEnvironment, uid, gid, user, group, init, takeTerminal, hardening, cgroup,
                passedSockets, labels, null, overlay, rootfsIdmap);
    }

    /** This spec with its overlay's directories decided (the launcher places them). */
    public JailSpec withOverlay(RootfsOverlay placed) {
        return new JailSpec(command, namespaces, joins, uidMap, gidMap, rootfs, automount, mounts, hostname,
                workingDirectory, environment, clearEnvironment, uid, gid, user, group, init, takeTerminal, hardening,
                cgroup, passedSockets, labels, autoIds, placed, rootfsIdmap);
    }

    public boolean unshares(Namespace ns) {
        return namespaces.contains(ns);
    }

    public boolean joins(Namespace ns) {
        return joins.containsKey(ns);
    }
}
