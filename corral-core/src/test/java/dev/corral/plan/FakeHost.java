package dev.corral.plan;

import dev.corral.ids.SubIdRange;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** A host that exists only in a test: fixed ids, a few paths, a few files. */
final class FakeHost implements HostView {
    int euid = 1000;
    int egid = 1000;
    List<SubIdRange> subuids = List.of(new SubIdRange(100000, 65536));
    List<SubIdRange> subgids = List.of(new SubIdRange(100000, 65536));
    boolean helpers = true;
    final Map<String, String> environment = new HashMap<>(Map.of("HOME", "/home/me"));
    final Map<String, PathKind> paths = new HashMap<>(Map.of(
            "/", PathKind.DIRECTORY, "/tmp", PathKind.DIRECTORY, "/srv/data", PathKind.DIRECTORY,
            "/dev/null", PathKind.OTHER, "/dev/zero", PathKind.OTHER, "/dev/full", PathKind.OTHER,
            "/dev/random", PathKind.OTHER, "/dev/urandom", PathKind.OTHER, "/dev/tty", PathKind.OTHER,
            "/srv/rootfs", PathKind.DIRECTORY));
    final Map<String, String> files = new HashMap<>(Map.of(
            "/srv/rootfs/etc/passwd", "root:x:0:0::/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\n",
            "/srv/rootfs/etc/group", "root:x:0:\napp:x:1001:\nwheel:x:10:app\n"));

    final Map<String, Filesystem> filesystems = new HashMap<>();
    @Override public Optional<Filesystem> filesystem(String path) { return Optional.ofNullable(filesystems.get(path)); }
    @Override public int euid() { return euid; }
    @Override public int egid() { return egid; }
    @Override public Map<String, String> environment() { return environment; }
    @Override public List<SubIdRange> subuids() { return subuids; }
    @Override public List<SubIdRange> subgids() { return subgids; }
    @Override public boolean idMapHelpers() { return helpers; }
    @Override public PathKind kind(String path) { return paths.getOrDefault(path, PathKind.MISSING); }
    final List<Entry> root = List.of(new Entry("bin", PathKind.SYMLINK, "usr/bin"), new Entry("dev", PathKind.DIRECTORY, null),
            new Entry("etc", PathKind.DIRECTORY, null), new Entry("proc", PathKind.DIRECTORY, null),
            new Entry("tmp", PathKind.DIRECTORY, null), new Entry("usr", PathKind.DIRECTORY, null));
    long[] nofile = {1024, 4096};
    boolean raiseHard = false;
    @Override public long[] rlimit(dev.corral.spec.Rlimit.Resource r) { return r == dev.corral.spec.Rlimit.Resource.NOFILE ? nofile : new long[] {-1, -1}; }
    @Override public boolean canRaiseHardLimits() { return raiseHard; }
    @Override public List<Entry> list(String dir) { return dir.equals("/") ? root : List.of(); }
    @Override public Optional<String> realPath(String path) { return Optional.of(path); }
    dev.corral.cgroup.CgroupView cgroups = dev.corral.cgroup.CgroupView.none("this test host has no cgroups",
            new dev.corral.cgroup.CgroupView.Capacity(8L << 30, 4, "0-3", 32768, 0));
    @Override public dev.corral.cgroup.CgroupView cgroups() { return cgroups; }
    @Override public Optional<String> readFile(String path) { return Optional.ofNullable(files.get(path)); }
    /** Namespace files by path; any other path is "no such file". */
    final Map<String, NamespaceFile> namespaceFiles = new HashMap<>();
    @Override public NamespaceFile namespaceFile(String path) {
        return namespaceFiles.getOrDefault(path, NamespaceFile.not("no such file"));
    }
}
