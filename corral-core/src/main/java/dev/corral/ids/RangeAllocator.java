package dev.corral.ids;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Hands out 65,536-wide id ranges from a {@link IdPool}, one per jail or application, so that
 * each jail's ids 0..65535 are host ids no other jail has: the kernel then accounts what it
 * counts per user (key quotas, pipe buffers, in-flight descriptors...) per jail, and one jail's
 * files are foreign to another.
 *
 * <p>Two kinds of allocation:
 * <ul>
 *   <li><b>named</b> ({@link #allocate(String)}): stable, the same range for the same name every
 *       time, until {@link #release(String)} — what the supervisor gives each application;</li>
 *   <li><b>leases</b> ({@link #lease()}): for one unnamed jail, given back by
 *       {@link Lease#close()}; a lease whose owner process died (its pid is gone, or now belongs
 *       to a process started at another time) is free again.</li>
 * </ul>
 *
 * <p>The allocations live in a JSON file (see {@link #stateFile()}), rewritten atomically (a
 * temporary file, fsync, rename, fsync of the directory), so they survive a restart. Every
 * operation re-reads the file under an exclusive lock on {@code FILE.lock} beside it, so any
 * number of corral processes sharing the file never hand out one range twice. An allocation is
 * never moved: a range stays its holder's even if the pool is later changed to exclude it.
 *
 * <pre>{@code
 * {
 *   "version": 1,
 *   "size": 65536,
 *   "allocations": [
 *     {"name": "web", "uid": 131072, "gid": 131072},
 *     {"uid": 196608, "gid": 196608, "pid": 4242, "start_time": 1234567}
 *   ]
 * }
 * }</pre>
 */
public final class RangeAllocator {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int VERSION = 1;
    /** One lock per file within this JVM: a FileLock is held per process, not per thread. */
    private static final ConcurrentHashMap<Path, ReentrantLock> LOCKS = new ConcurrentHashMap<>();

    private final Path file;
    private final IdPool pool;

    /**
     * @param stateFile where the allocations are kept
     * @param pool      where ranges come from, or null for the caller's subordinate ids (read
     *                  when a range is first needed)
     */
    public RangeAllocator(Path stateFile, IdPool pool) {
        this.file = stateFile.toAbsolutePath().normalize();
        this.pool = pool;
    }

    /** The default file and the caller's subordinate ids. */
    public static RangeAllocator forCaller() {
        return new RangeAllocator(defaultStateFile(), null);
    }

    /**
     * As a command line gives it (--id-state, --id-pool): {@code stateFile} null for the default
     * file, {@code pool} empty for the caller's subordinate ids.
     */
    public static RangeAllocator of(Path stateFile, List<SubIdRange> pool) {
        return new RangeAllocator(stateFile != null ? stateFile : defaultStateFile(), pool.isEmpty() ? null : IdPool.of(pool));
    }

    /**
     * Where allocations are kept by default: {@code /var/lib/corral/ids.json} for root,
     * {@code $XDG_STATE_HOME/corral/ids.json} (else {@code ~/.local/state/corral/ids.json}) for
     * others — beside the daemon's state file, so the daemon and {@code corral run} share it.
     */
    public static Path defaultStateFile() {
        if (new com.sun.security.auth.module.UnixSystem().getUid() == 0) return Path.of("/var/lib/corral/ids.json");
        String state = System.getenv("XDG_STATE_HOME");
        if (state == null || state.isEmpty()) state = System.getProperty("user.home") + "/.local/state";
        return Path.of(state, "corral", "ids.json");
    }

    public Path stateFile() {
        return file;
    }

    /** The pool ranges come from; the caller's subordinate ids unless one was given. */
    public IdPool pool() throws IdAllocationException {
        return pool != null ? pool : IdPool.ofCaller();
    }

    /** One allocation: named, or a lease of a live process {@code pid} (0 for named ones). */
    public record Allocation(String name, IdRange range, long pid) {
        public boolean named() {
            return name != null;
        }

        /** "\"web\"" or "a jail of pid 4242" */
        public String holder() {
            return named() ? "\"" + name + "\"" : "a jail started by pid " + pid;
        }
    }

    /** A range held for one unnamed jail; {@link #close()} gives it back. */
    public final class Lease implements AutoCloseable {
        private final IdRange range;
        private final AtomicBoolean closed = new AtomicBoolean();

        private Lease(IdRange range) {
            this.range = range;
        }

        public IdRange range() {
            return range;
        }

        /**
         * Gives the range back; later calls do nothing. If the file cannot be written the range
         * stays recorded under this process, and is free again once it has exited.
         */
        @Override
        public void close() {
            if (!closed.compareAndSet(false, true)) return;
            try {
                transact(true, entries -> entries.removeIf(e -> !e.named() && e.range.equals(range) && e.pid == SELF_PID));
            } catch (IdAllocationException ignored) {
                // reclaimed once this process is gone
            }
        }
    }

    /** The range recorded for {@code name}, or a free one recorded for it now. */
    public IdRange allocate(String name) throws IdAllocationException {
        return allocate(name, List.of(), List.of());
    }

    /**
     * As {@link #allocate(String)}, a new range also keeping clear of these host ids (explicit
     * maps of other jails, which this file does not record).
     */
    public IdRange allocate(String name, List<SubIdRange> avoidUids, List<SubIdRange> avoidGids) throws IdAllocationException {
        checkName(name);
        IdPool p = pool();
        return transact(true, entries -> {
            for (Entry e : entries) if (name.equals(e.name)) return e.range;
            IdRange r = free(p, entries, avoidUids, avoidGids);
            entries.add(new Entry(name, r, 0, 0));
            return r;
        });
    }

    /** A free range held by this process until the lease is closed (or this process exits). */
    public Lease lease() throws IdAllocationException {
        IdPool p = pool();
        IdRange r = transact(true, entries -> {
            IdRange free = free(p, entries, List.of(), List.of());
            entries.add(new Entry(null, free, SELF_PID, SELF_START));
            return free;
        });
        return new Lease(r);
    }

    /**
     * What {@link #allocate(String)} would give {@code name} now (or, for a null name, what
     * {@link #lease()} would), without recording anything: for dry runs and checks.
     */
    public IdRange peek(String name) throws IdAllocationException {
        if (name != null) checkName(name);
        IdPool p = pool();
        return transact(false, entries -> {
            for (Entry e : entries) if (name != null && name.equals(e.name)) return e.range;
            return free(p, entries, List.of(), List.of());
        });
    }

    /** The range recorded for {@code name}, if any. */
    public Optional<IdRange> find(String name) throws IdAllocationException {
        return transact(false, entries -> entries.stream().filter(e -> name.equals(e.name)).map(e -> e.range).findFirst());
    }

    /** Gives {@code name}'s range back; false when it had none. */
    public boolean release(String name) throws IdAllocationException {
        return transact(true, entries -> entries.removeIf(e -> name.equals(e.name)));
    }

    /** Every allocation in force: named ones, and the leases of live processes. */
    public List<Allocation> allocations() throws IdAllocationException {
        return transact(false, entries -> entries.stream().map(e -> new Allocation(e.name, e.range, e.pid)).toList());
    }

    /** The allocation holding any of these host uids (or gids, with {@code gids}), if one does. */
    public Optional<Allocation> holderOf(long start, long count, boolean gids) throws IdAllocationException {
        return allocations().stream()
                .filter(a -> gids ? a.range().overlapsGids(start, count) : a.range().overlapsUids(start, count))
                .findFirst();
    }

    // ---- the pick ---------------------------------------------------------------------------------

    /** The lowest slot of the pool that overlaps no allocation and none of the ids to avoid. */
    private IdRange free(IdPool p, List<Entry> entries, List<SubIdRange> avoidUids, List<SubIdRange> avoidGids)
            throws IdAllocationException {
        int slots = p.slots();
        for (int i = 0; i < slots; i++) {
            IdRange r = p.slot(i);
            if (entries.stream().anyMatch(e -> e.range.overlaps(r))) continue;
            if (avoidUids.stream().anyMatch(a -> r.overlapsUids(a.start(), a.count()))) continue;
            if (avoidGids.stream().anyMatch(a -> r.overlapsGids(a.start(), a.count()))) continue;
            return r;
        }
        List<String> holders = entries.stream().map(e -> new Allocation(e.name, e.range, e.pid).holder()).toList();
        String held = holders.isEmpty() ? "" : "; held by " + String.join(", ", holders.subList(0, Math.min(8, holders.size())))
                + (holders.size() > 8 ? ", ..." : "");
        String others = avoidUids.isEmpty() && avoidGids.isEmpty() ? "" : " or mapped explicitly by another jail";
        throw new IdAllocationException("the id pool is exhausted: no free range of " + IdRange.SIZE + " ids left in "
                + p.describe() + held + others + " (recorded in " + file + "); release one or give a larger pool");
    }

    private static void checkName(String name) {
        Objects.requireNonNull(name, "name");
        if (name.isEmpty() || name.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
            throw new IllegalArgumentException("an allocation name must be non-empty printable text");
        }
    }

    // ---- the file ---------------------------------------------------------------------------------

    /** One recorded allocation: named (pid 0), or a lease of process {@code pid} started at {@code startTime}. */
    private record Entry(String name, IdRange range, long pid, long startTime) {
        boolean named() {
            return name != null;
        }
    }

    @FunctionalInterface
    private interface Change<T> {
        T apply(List<Entry> entries) throws IdAllocationException;
    }

    /**
     * Runs {@code change} on the live allocations under both locks; writes them back when
     * {@code write} (and something changed, dead owners' leases included).
     */
    private <T> T transact(boolean write, Change<T> change) throws IdAllocationException {
        ReentrantLock jvm = LOCKS.computeIfAbsent(file, f -> new ReentrantLock());
        jvm.lock();
        try {
            Files.createDirectories(file.getParent());
            Path lockFile = file.resolveSibling(file.getFileName() + ".lock");
            try (FileChannel ch = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                 FileLock ignored = ch.lock()) {
                List<Entry> recorded = read();
                List<Entry> live = new ArrayList<>(recorded.stream().filter(RangeAllocator::alive).toList());
                List<Entry> before = List.copyOf(live);
                T result = change.apply(live);
                if (write && (!live.equals(before) || live.size() != recorded.size())) save(live);
                return result;
            }
        } catch (IOException e) {
            throw new IdAllocationException("cannot use the id allocation file " + file + ": " + reason(e), e);
        } finally {
            jvm.unlock();
        }
    }

    private static String reason(IOException e) {
        return e instanceof NoSuchFileException ? "no such file or directory: " + e.getMessage()
                : e instanceof java.nio.file.AccessDeniedException ? "permission denied: " + e.getMessage()
                : String.valueOf(e.getMessage());
    }

    private List<Entry> read() throws IOException, IdAllocationException {
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            return new ArrayList<>();
        }
        try {
            JsonNode root = JSON.readTree(text);
            if (root == null || !root.isObject()) throw new IllegalArgumentException("not a JSON object");
            if (root.path("version").asInt(-1) != VERSION) throw new IllegalArgumentException("unknown version " + root.get("version"));
            if (root.path("size").asLong(-1) != IdRange.SIZE) throw new IllegalArgumentException("ranges of " + root.get("size") + " ids");
            List<Entry> out = new ArrayList<>();
            for (JsonNode a : root.path("allocations")) {
                IdRange r = new IdRange(number(a, "uid"), number(a, "gid"));
                if (a.hasNonNull("name")) out.add(new Entry(a.get("name").asText(), r, 0, 0));
                else out.add(new Entry(null, r, number(a, "pid"), number(a, "start_time")));
            }
            return out;
        } catch (IOException | IllegalArgumentException e) {
            throw new IdAllocationException("the id allocation file " + file + " is damaged (" + e.getMessage()
                    + "); it records which id ranges are in use: repair it, or remove it once no jail uses those ranges", e);
        }
    }

    private static long number(JsonNode a, String key) {
        JsonNode v = a.get(key);
        if (v == null || !v.canConvertToExactIntegral() || v.longValue() < 0) throw new IllegalArgumentException("bad \"" + key + "\" in " + a);
        return v.longValue();
    }

    private void save(List<Entry> entries) throws IOException {
        ObjectNode root = JSON.createObjectNode();
        root.put("version", VERSION);
        root.put("size", IdRange.SIZE);
        ArrayNode all = root.putArray("allocations");
        for (Entry e : entries) {
            ObjectNode a = all.addObject();
            if (e.named()) a.put("name", e.name);
            a.put("uid", e.range.uid());
            a.put("gid", e.range.gid());
            if (!e.named()) {
                a.put("pid", e.pid);
                a.put("start_time", e.startTime);
            }
        }
        Path dir = file.getParent();
        Path tmp = dir.resolve("." + file.getFileName() + ".tmp");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.wrap((JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root) + "\n")
                    .getBytes(StandardCharsets.UTF_8));
            while (b.hasRemaining()) ch.write(b);
            ch.force(true);
        }
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-r--r--"));
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        }
    }

    // ---- owners -----------------------------------------------------------------------------------

    private static final long SELF_PID = ProcessHandle.current().pid();
    private static final long SELF_START = startTime(SELF_PID).orElse(0);

    /** A named allocation always; a lease while its owner runs (the same pid, started at the same time). */
    private static boolean alive(Entry e) {
        if (e.named()) return true;
        OptionalLong start = startTime(e.pid);
        return start.isPresent() && start.getAsLong() == e.startTime;
    }

    /** Field 22 of /proc/PID/stat: when the process started, in clock ticks after boot. */
    static OptionalLong startTime(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return OptionalLong.of(Long.parseLong(f[19]));
        } catch (IOException | RuntimeException e) {
            return OptionalLong.empty();
        }
    }

    @Override
    public String toString() {
        return "RangeAllocator[" + file + (pool != null ? ", " + pool.describe() : ", the caller's subordinate ids") + "]";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RangeAllocator r && r.file.equals(file) && Objects.equals(r.pool, pool);
    }

    @Override
    public int hashCode() {
        return Objects.hash(file, pool);
    }
}
