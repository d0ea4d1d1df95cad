import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.corral.daemon.client.ControlClient;

import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * Drives a running {@code corral daemon} (started by bench/daemon.sh) through its control socket
 * with N applications, each {@code sh -c 'exec sleep 100000'} in a default jail, and measures
 * what issue 5 asks: daemon RSS, memory per application outside the jail, GET /status latency,
 * the time from one PUT to all N running, and crash-to-running respawn latency. Prints a table
 * (measured, target, met) on stdout and progress on stderr; leaves the daemon with no
 * applications. Arguments: control socket, daemon pid, N, respawn samples, and a file to write
 * the jails' processes to (monitor, init, app: "pid:starttime" lines), for the cleanup check.
 *
 * <p>"Outside the jail" is the daemon's RSS growth over its idle RSS plus every corral-monitor
 * (the executor's monitor, one per jail, a child of the daemon); the jail's init and the app are
 * inside. The monitors run from one sealed memfd and share its pages, so their PSS is shown too.
 */
public class DaemonBench {
    static final ObjectMapper JSON = new ObjectMapper();
    static final int STATUS_RUNS = 1000;
    static final int WARMUP_RUNS = 300;

    static ControlClient client;
    /** The measured GETs go over this: what the daemon takes, not what an HTTP client library adds. */
    static KeptConnection measured;
    static long daemon;
    /** Where the processes of the last snapshot go, as "pid:starttime" lines, for the cleanup check. */
    static Path seen;

    public static void main(String[] args) throws Exception {
        Path socket = Path.of(args[0]);
        daemon = Long.parseLong(args[1]);
        int n = Integer.parseInt(args[2]);
        int respawns = Math.min(n, args.length > 3 ? Integer.parseInt(args[3]) : 20);
        seen = args.length > 4 ? Path.of(args[4]) : null;
        client = new ControlClient(socket);
        measured = new KeptConnection(socket);
        List<String[]> rows = new ArrayList<>();
        Sampler sampler = new Sampler();
        sampler.start();
        try {
            run(n, respawns, rows, sampler);
        } finally {
            sampler.interrupt();
            measured.close();
            client.close();
        }
    }

    static void run(int n, int respawns, List<String[]> rows, Sampler sampler) throws Exception {
        Cpu cpu0 = Cpu.now();
        // --- idle daemon
        for (int i = 0; i < 50; i++) ok(client.get("/status"));
        Thread.sleep(2000);
        long idleRss = kb(daemon, "status", "VmRSS");
        long idleThreads = kb(daemon, "status", "Threads");
        long idleFds = fds(daemon);
        String nofile = limit(daemon, "Max open files");
        progress("idle daemon: RSS %d MB, %d threads, %d fds, open files limit %s", idleRss / 1024, idleThreads, idleFds, nofile);

        // --- one PUT with N applications, then until all are running
        ObjectNode doc = JSON.createObjectNode();
        ObjectNode apps = doc.putObject("applications");
        for (int i = 0; i < n; i++) {
            ObjectNode a = apps.putObject(name(i));
            a.put("executable", "/bin/sh");
            a.putArray("arguments").add("-c").add("exec sleep 100000");
            a.put("restart", "always");
        }
        progress("PUT /config with %d applications...", n);
        long t0 = System.nanoTime();
        ControlClient.Reply put = client.put("/config", JSON.writeValueAsString(doc));
        long putDone = System.nanoTime();
        if (put.status() != 200) throw new IllegalStateException("PUT /config: " + put.status() + " " + put.body());
        JsonNode st;
        int polls = 0;
        while (true) {
            st = status();
            polls++;
            if (running(st) == n) break;
            if (System.nanoTime() - t0 > 600_000_000_000L) {
                throw new IllegalStateException("only " + running(st) + " of " + n + " running after 600 s: " + states(st));
            }
            Thread.sleep(10);
        }
        long allRunning = System.nanoTime();
        progress("PUT answered after %.2f s; all %d running after %.2f s (%d polls)", sec(putDone - t0), n, sec(allRunning - t0), polls);

        // --- memory, threads and fds at N
        Thread.sleep(3000);
        Snapshot atN = snapshot(n);
        progress("at %d: daemon RSS %d MB, %d threads, %d fds; %d monitors", n, atN.daemonRss / 1024, atN.threads, atN.fds, atN.monitors);

        // --- GET /status, sequentially: first WARMUP_RUNS that are not counted (both JVMs compile
        // the code of a document N entries long while they serve it), then STATUS_RUNS measured
        long[] warm = statusLatencies(WARMUP_RUNS);
        progress("GET /status warm-up: the first three took %.1f, %.1f, %.1f ms", ms(warm[0]), ms(warm[1]), ms(warm[2]));
        Arrays.sort(warm);
        progress("GET /status x%d warm-up (not counted): p50 %.2f ms, p99 %.2f ms, max %.2f ms", WARMUP_RUNS,
                ms(pct(warm, 50)), ms(pct(warm, 99)), ms(max(warm)));
        long[] lat = statusLatencies(STATUS_RUNS);
        int bytes = measured.get("/status").remaining();
        int slowest = 0;
        for (int i = 1; i < STATUS_RUNS; i++) if (lat[i] > lat[slowest]) slowest = i;
        progress("GET /status: the slowest was number %d", slowest + 1);
        Arrays.sort(lat);
        progress("GET /status x%d: p50 %.2f ms, p99 %.2f ms, max %.2f ms, %d kB", STATUS_RUNS, ms(pct(lat, 50)), ms(pct(lat, 99)),
                ms(lat[lat.length - 1]), bytes / 1024);

        long[] oneLat = new long[STATUS_RUNS];
        for (int i = 0; i < STATUS_RUNS; i++) {
            long s = System.nanoTime();
            measured.get("/status/applications/" + name(i % n));
            oneLat[i] = System.nanoTime() - s;
        }
        Arrays.sort(oneLat);
        progress("GET /status/applications/NAME x%d: p50 %.2f ms, p99 %.2f ms", STATUS_RUNS, ms(pct(oneLat, 50)), ms(pct(oneLat, 99)));

        // --- crash -> running again, on apps that have run past Backoff.STABLE (10 s)
        while (true) {
            double youngest = Double.MAX_VALUE;
            for (JsonNode a : status().path("applications")) youngest = Math.min(youngest, a.path("uptime_s").asDouble(0));
            if (youngest >= 10.5) break;
            Thread.sleep(Math.max(100, (long) ((10.5 - youngest) * 1000)));
        }
        // First followed through /status/applications/NAME (about a millisecond a poll), then
        // through the whole /status, which is what the target names but costs what it costs at N.
        long[] one = respawns(n, respawns, 0, false);
        progress("respawn x%d seen by /status/applications/NAME: p50 %.1f ms, max %.1f ms", respawns, ms(pct(one, 50)), ms(max(one)));
        long[] whole = respawns(n, respawns, 1, true);
        progress("respawn x%d seen by /status: p50 %.1f ms, max %.1f ms", respawns, ms(pct(whole, 50)), ms(max(whole)));

        // --- nothing restarted but what was killed: a restart nobody asked for is a bug
        int restarts = 0;
        var exits = new java.util.TreeMap<Integer, Integer>();
        for (JsonNode a : status().path("applications")) {
            restarts += a.path("restarts").asInt();
            if (a.has("last_exit")) exits.merge(a.path("last_exit").asInt(), 1, Integer::sum);
        }
        int unasked = restarts - 2 * respawns;
        progress("restarts: %d in all, %d killed by the benchmark; last exit statuses %s", restarts, 2 * respawns, exits);

        // --- memory again after all that traffic
        Thread.sleep(2000);
        Snapshot after = snapshot(n);
        long hwm = kb(daemon, "status", "VmHWM");
        progress("after: daemon RSS %d MB (peak %d MB), %d threads", after.daemonRss / 1024, hwm / 1024, after.threads);

        // --- everything away in one PUT
        long d0 = System.nanoTime();
        ok(client.put("/config", "{\"applications\": {}}"));
        while (status().path("applications").size() > 0) Thread.sleep(10);
        long stopAll = System.nanoTime() - d0;
        Thread.sleep(1000);
        long emptyRss = kb(daemon, "status", "VmRSS");
        progress("PUT with no applications: all stopped after %.2f s; daemon RSS %d MB, %d monitors left", sec(stopAll),
                emptyRss / 1024, children(daemon, "corral-monitor").size());

        // --- the table
        long daemonRss = Math.max(atN.daemonRss, after.daemonRss);
        Snapshot worst = atN.perAppRss(idleRss, n) >= after.perAppRss(idleRss, n) ? atN : after;
        double perRss = worst.perAppRss(idleRss, n);
        double perPss = worst.perAppPss(idleRss, n);
        String at = n + " apps";
        rows.add(row("daemon RSS, idle (no apps)", mb(idleRss), "", ""));
        rows.add(row("daemon RSS at " + at + " (larger of two readings)", mb(daemonRss), n == 1000 ? "<= 150 MB" : "<= 150 MB at 1000",
                n == 1000 ? verdict(daemonRss <= 150 * 1024) : "-"));
        rows.add(row("daemon peak RSS (VmHWM)", mb(hwm), "", ""));
        // Both RSS targets are for 1000 apps: with fewer, the daemon's heap filling up (the same
        // at any N) is divided among few apps and says little about each.
        String perTarget = n == 1000 ? "<= 1 MB" : "<= 1 MB at 1000";
        rows.add(row("memory per app outside the jail, RSS", kbs(perRss), perTarget, n == 1000 ? verdict(perRss <= 1024) : "-"));
        rows.add(row("  same, monitors counted by PSS", kbs(perPss), perTarget, n == 1000 ? verdict(perPss <= 1024) : "-"));
        rows.add(row("  daemon growth per app", kbs((double) (worst.daemonRss - idleRss) / n), "", ""));
        rows.add(row("  corral-monitor per app, RSS / PSS", kbs((double) worst.monitorRss / worst.monitors) + " / "
                + kbs((double) worst.monitorPss / worst.monitors), "", ""));
        rows.add(row("inside the jail per app (init + app), RSS / PSS", kbs((double) worst.insideRss / n) + " / "
                + kbs((double) worst.insidePss / n), "not counted", ""));
        rows.add(row("daemon threads idle / at " + at + " / peak seen", idleThreads + " / " + atN.threads + " / " + sampler.maxThreads, "", ""));
        rows.add(row("daemon fds idle / at " + at + " (limit)", idleFds + " / " + atN.fds + " (" + nofile + ")", "", ""));
        rows.add(row("PUT " + n + " apps: answered", String.format(Locale.ROOT, "%.2f s", sec(putDone - t0)), "", ""));
        rows.add(row("PUT " + n + " apps: all running", String.format(Locale.ROOT, "%.2f s", sec(allRunning - t0)), "", ""));
        rows.add(row("GET /status p50 (" + STATUS_RUNS + " sequential after " + WARMUP_RUNS + " not counted, " + bytes / 1024 + " kB)",
                msf(pct(lat, 50)), "", ""));
        rows.add(row("GET /status p99", msf(pct(lat, 99)), "<= 10 ms", verdict(ms(pct(lat, 99)) <= 10)));
        rows.add(row("GET /status max", msf(lat[lat.length - 1]), "", ""));
        rows.add(row("GET /status p50 / p99 of the " + WARMUP_RUNS + " warm-up requests", msf(pct(warm, 50)) + " / " + msf(pct(warm, 99)),
                "", ""));
        rows.add(row("GET /status/applications/NAME p50 / p99", msf(pct(oneLat, 50)) + " / " + msf(pct(oneLat, 99)), "", ""));
        rows.add(row("respawn p50, seen by /status/applications/NAME (" + respawns + " kills)", msf(pct(one, 50)),
                "<= 50 ms", verdict(ms(pct(one, 50)) <= 50)));
        rows.add(row("respawn max, same", msf(max(one)), "<= 50 ms", verdict(ms(max(one)) <= 50)));
        rows.add(row("respawn p50, seen by the whole /status (" + respawns + " kills)", msf(pct(whole, 50)), "<= 50 ms",
                verdict(ms(pct(whole, 50)) <= 50)));
        rows.add(row("respawn max, same", msf(max(whole)), "<= 50 ms", verdict(ms(max(whole)) <= 50)));
        rows.add(row("restarts the benchmark did not cause (last exits " + exits + ")", Integer.toString(unasked), "0",
                verdict(unasked == 0)));
        rows.add(row("PUT with no apps: all " + n + " stopped", String.format(Locale.ROOT, "%.2f s", sec(stopAll)), "", ""));
        Cpu cpu1 = Cpu.now();
        print(n, rows);
        System.out.printf(Locale.ROOT, "cpu time over the %.0f s run (%d cpus): daemon %.1f s, this benchmark %.1f s, everything else %.1f s"
                        + " (kernel workers, other users of the machine); load average at the end %s%n",
                sec(cpu1.wall - cpu0.wall), Runtime.getRuntime().availableProcessors(), cpu1.daemon - cpu0.daemon,
                cpu1.self - cpu0.self, (cpu1.busy - cpu0.busy) - (cpu1.daemon - cpu0.daemon) - (cpu1.self - cpu0.self),
                Files.readString(Path.of("/proc/loadavg")).trim().split(" ", 4)[0]);
    }

    /** CPU seconds: the machine's busy time, the daemon's and this JVM's, to see how busy the machine was otherwise. */
    record Cpu(long wall, double busy, double daemon, double self) {
        static final double HZ = 100; // USER_HZ

        static Cpu now() throws IOException {
            String[] f = Files.readAllLines(Path.of("/proc/stat")).getFirst().trim().split("\\s+");
            double busy = 0;
            for (int i = 1; i < f.length && i <= 8; i++) if (i != 4 && i != 5) busy += Long.parseLong(f[i]); // not idle, iowait
            return new Cpu(System.nanoTime(), busy / HZ, procCpu(DaemonBench.daemon), procCpu(ProcessHandle.current().pid()));
        }

        static double procCpu(long pid) throws IOException {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / HZ; // utime, stime
        }
    }

    // ------------------------------------------------------------------ measuring

    /**
     * SIGKILLs the app (the only child of the jail's init) in {@code count} applications spread
     * over the N, one at a time, and polls until the status shows each running in a new jail.
     * {@code offset} picks a different set of applications for each series. Returns the times from
     * the kill to the end of the first status reply showing the new jail, sorted. (A status
     * request for an application that is being started waits for the start to finish, so the
     * replies before that one say little about when the restart began.)
     */
    static long[] respawns(int n, int count, int offset, boolean whole) throws Exception {
        long[] times = new long[count];
        for (int k = 0; k < count; k++) {
            String app = name((int) (((long) k * n / count + offset) % n));
            JsonNode before = appStatus(app, whole);
            // With few applications one may be killed twice: past 10 s no backoff applies.
            while (before.path("uptime_s").asDouble() < 10.5) {
                Thread.sleep((long) ((10.5 - before.path("uptime_s").asDouble()) * 1000) + 10);
                before = appStatus(app, whole);
            }
            long init = before.path("pid").asLong();
            int restarts = before.path("restarts").asInt();
            long child = onlyChild(init);
            long killAt = System.nanoTime();
            ProcessHandle.of(child).orElseThrow(() -> new IllegalStateException(app + ": app pid " + child + " gone")).destroyForcibly();
            while (true) {
                JsonNode a = appStatus(app, whole);
                long e = System.nanoTime();
                String state = a.path("state").asText();
                if (state.equals("running") && a.path("pid").asLong() != init) {
                    if (a.path("restarts").asInt() != restarts + 1 || a.path("last_exit").asInt() != 137) {
                        throw new IllegalStateException(app + ": unexpected status after the kill: " + a);
                    }
                    times[k] = e - killAt;
                    break;
                }
                if (!state.equals("running") && !state.equals("starting") && !state.equals("backoff")) {
                    throw new IllegalStateException(app + ": " + a);
                }
                if (e - killAt > 30_000_000_000L) throw new IllegalStateException(app + " not back after 30 s: " + a);
            }
            Thread.sleep(200);
        }
        Arrays.sort(times);
        return times;
    }

    /** The times of {@code count} sequential GET /status, in order. */
    static long[] statusLatencies(int count) throws IOException {
        long[] lat = new long[count];
        for (int i = 0; i < count; i++) {
            long s = System.nanoTime();
            measured.get("/status");
            lat[i] = System.nanoTime() - s;
        }
        return lat;
    }

    static JsonNode appStatus(String app, boolean whole) throws Exception {
        ByteBuffer body = measured.get(whole ? "/status" : "/status/applications/" + app);
        try (JsonParser p = JSON.getFactory().createParser(body.array(), body.position(), body.remaining())) {
            if (!whole) return JSON.readTree(p);
            // Only the one application's entry is read into a tree; the other N-1 are skipped.
            if (p.nextToken() != JsonToken.START_OBJECT) throw new IllegalStateException("/status is not an object");
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                boolean apps = p.currentName().equals("applications");
                p.nextToken();
                if (!apps) {
                    p.skipChildren();
                    continue;
                }
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    boolean wanted = p.currentName().equals(app);
                    p.nextToken();
                    if (wanted) return JSON.readTree(p);
                    p.skipChildren();
                }
            }
            return JSON.missingNode();
        }
    }

    /**
     * HTTP/1.1 GETs over one connection to the control socket, kept open, each answer read by its
     * Content-Length into one reused buffer (as curl or wrk would): the latency of the daemon
     * rather than of a client library's buffering and decoding.
     */
    static final class KeptConnection implements AutoCloseable {
        private final SocketChannel channel;
        private ByteBuffer buffer = ByteBuffer.allocate(1 << 20);

        KeptConnection(Path socket) throws IOException {
            channel = SocketChannel.open(UnixDomainSocketAddress.of(socket));
        }

        /** The body of a 200 answer to GET {@code path}; valid until the next call. */
        ByteBuffer get(String path) throws IOException {
            channel.write(ByteBuffer.wrap(("GET " + path + " HTTP/1.1\r\nHost: localhost\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII)));
            buffer.clear();
            int headerEnd = -1, length = -1;
            while (true) {
                if (!buffer.hasRemaining()) buffer = ByteBuffer.allocate(buffer.capacity() * 2).put(buffer.flip());
                if (channel.read(buffer) < 0) throw new IOException("the daemon closed the connection");
                if (headerEnd < 0) {
                    headerEnd = find(buffer.array(), buffer.position(), "\r\n\r\n");
                    if (headerEnd < 0) continue;
                    String head = new String(buffer.array(), 0, headerEnd, StandardCharsets.ISO_8859_1);
                    if (!head.startsWith("HTTP/1.1 200 ")) throw new IllegalStateException("GET " + path + ": " + head);
                    for (String line : head.split("\r\n")) {
                        if (line.regionMatches(true, 0, "Content-Length:", 0, 15)) length = Integer.parseInt(line.substring(15).trim());
                    }
                    if (length < 0) throw new IllegalStateException("GET " + path + ": no Content-Length in " + head);
                    headerEnd += 4;
                }
                if (buffer.position() >= headerEnd + length) return ByteBuffer.wrap(buffer.array(), headerEnd, length);
            }
        }

        private static int find(byte[] b, int end, String what) {
            outer:
            for (int i = 0; i + what.length() <= end; i++) {
                for (int j = 0; j < what.length(); j++) if (b[i + j] != what.charAt(j)) continue outer;
                return i;
            }
            return -1;
        }

        @Override
        public void close() throws IOException {
            channel.close();
        }
    }

    record Snapshot(long daemonRss, long threads, long fds, int monitors, long monitorRss, long monitorPss, long insideRss,
                    long insidePss) {
        double perAppRss(long idleRss, int n) {
            return (double) (daemonRss - idleRss + monitorRss) / n;
        }

        double perAppPss(long idleRss, int n) {
            return (double) (daemonRss - idleRss + monitorPss) / n;
        }
    }

    static Snapshot snapshot(int n) throws IOException {
        long rss = kb(daemon, "status", "VmRSS");
        long threads = kb(daemon, "status", "Threads");
        long fds = fds(daemon);
        List<Long> monitors = children(daemon, "corral-monitor");
        long mRss = 0, mPss = 0, iRss = 0, iPss = 0;
        List<String> pids = new ArrayList<>();
        for (long m : monitors) {
            mRss += kb(m, "status", "VmRSS");
            mPss += kb(m, "smaps_rollup", "Pss");
            pids.add(m + ":" + starttime(m));
            for (long init : children(m, null)) {
                iRss += kb(init, "status", "VmRSS");
                iPss += kb(init, "smaps_rollup", "Pss");
                pids.add(init + ":" + starttime(init));
                for (long app : children(init, null)) {
                    iRss += kb(app, "status", "VmRSS");
                    iPss += kb(app, "smaps_rollup", "Pss");
                    pids.add(app + ":" + starttime(app));
                }
            }
        }
        if (seen != null) Files.write(seen, pids);
        if (monitors.size() != n) progress("warning: %d corral-monitor children of the daemon, expected %d", monitors.size(), n);
        return new Snapshot(rss, threads, fds, monitors.size(), mRss, mPss, iRss, iPss);
    }

    /** A field of /proc/PID/status or smaps_rollup, as a number (kB for sizes); 0 if the process is gone. */
    static long kb(long pid, String file, String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/" + file))) {
                if (line.startsWith(field + ":")) return Long.parseLong(line.substring(field.length() + 1).trim().split("\\s+")[0]);
            }
        } catch (IOException e) {
            return 0;
        }
        throw new IllegalStateException("no " + field + " in /proc/" + pid + "/" + file);
    }

    static long fds(long pid) throws IOException {
        try (Stream<Path> s = Files.list(Path.of("/proc/" + pid + "/fd"))) {
            return s.count();
        }
    }

    static String limit(long pid, String name) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/limits"))) {
            if (line.startsWith(name)) {
                String[] f = line.substring(name.length()).trim().split("\\s+");
                return "soft " + f[0] + ", hard " + f[1];
            }
        }
        return "?";
    }

    /** Children of {@code pid} (of all its threads), optionally only those whose comm is {@code comm}. */
    static List<Long> children(long pid, String comm) {
        List<Long> out = new ArrayList<>();
        try (Stream<Path> tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
            for (Path t : tasks.toList()) {
                String list;
                try {
                    list = Files.readString(t.resolve("children")).trim();
                } catch (IOException e) {
                    continue; // the thread ended
                }
                if (list.isEmpty()) continue;
                for (String c : list.split("\\s+")) {
                    long child = Long.parseLong(c);
                    if (comm == null || comm.equals(comm(child))) out.add(child);
                }
            }
        } catch (IOException e) {
            return out;
        }
        return out;
    }

    /** Field 22 of /proc/PID/stat: with the pid, names one process even if the pid is reused. */
    static String starttime(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            return stat.substring(stat.lastIndexOf(')') + 2).split(" ")[19];
        } catch (IOException e) {
            return "gone";
        }
    }

    static String comm(long pid) {
        try {
            return Files.readString(Path.of("/proc/" + pid + "/comm")).trim();
        } catch (IOException e) {
            return "";
        }
    }

    /** The app: the one child of the jail's init. */
    static long onlyChild(long init) throws IOException {
        String list = Files.readString(Path.of("/proc/" + init + "/task/" + init + "/children")).trim();
        String[] f = list.split("\\s+");
        if (list.isEmpty() || f.length != 1) throw new IllegalStateException("init " + init + " has children [" + list + "]");
        long child = Long.parseLong(f[0]);
        if (!comm(child).equals("sleep")) throw new IllegalStateException("init's child " + child + " is " + comm(child));
        return child;
    }

    /** Follows the daemon's thread and fd counts in the background, for their peaks. */
    static final class Sampler extends Thread {
        volatile long maxThreads;

        Sampler() {
            setDaemon(true);
            setName("sampler");
        }

        @Override
        public void run() {
            while (!isInterrupted()) {
                maxThreads = Math.max(maxThreads, kb(daemon, "status", "Threads"));
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }

    // ------------------------------------------------------------------ the API

    static JsonNode status() throws Exception {
        ControlClient.Reply r = client.get("/status");
        ok(r);
        return JSON.readTree(r.body());
    }

    static void ok(ControlClient.Reply r) {
        if (r.status() != 200) throw new IllegalStateException("daemon answered " + r.status() + ": " + r.body());
    }

    static int running(JsonNode st) {
        int c = 0;
        for (JsonNode a : st.path("applications")) if (a.path("state").asText().equals("running")) c++;
        return c;
    }

    static String states(JsonNode st) {
        var counts = new java.util.TreeMap<String, Integer>();
        for (JsonNode a : st.path("applications")) counts.merge(a.path("state").asText(), 1, Integer::sum);
        return counts.toString();
    }

    static String name(int i) {
        return String.format(Locale.ROOT, "bench-%04d", i);
    }

    // ------------------------------------------------------------------ output

    static long pct(long[] sorted, int p) {
        int i = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
    }

    static long max(long[] sorted) {
        return sorted[sorted.length - 1];
    }

    static double ms(long ns) {
        return ns / 1e6;
    }

    static double sec(long ns) {
        return ns / 1e9;
    }

    static String msf(long ns) {
        return String.format(Locale.ROOT, "%.2f ms", ms(ns));
    }

    static String mb(long kb) {
        return String.format(Locale.ROOT, "%.1f MB", kb / 1024.0);
    }

    static String kbs(double kb) {
        return String.format(Locale.ROOT, "%.0f kB", kb);
    }

    static String verdict(boolean met) {
        return met ? "met" : "NOT met";
    }

    static String[] row(String... cells) {
        return cells;
    }

    static void print(int n, List<String[]> rows) throws IOException {
        String kernel = Files.readString(Path.of("/proc/sys/kernel/osrelease")).trim();
        System.out.printf(Locale.ROOT, "corral daemon, %d apps (sh -c 'exec sleep 100000', default jail); kernel %s, %d cpus; %s%n",
                n, kernel, Runtime.getRuntime().availableProcessors(), java.time.LocalDateTime.now().withNano(0));
        String opts = System.getenv("DAEMON_JVM_OPTS");
        if (opts != null && !opts.isBlank()) System.out.println("the daemon's JVM also had: " + opts);
        int[] w = new int[4];
        String[] head = {"metric", "measured", "target", "verdict"};
        for (int i = 0; i < 4; i++) w[i] = head[i].length();
        for (String[] r : rows) for (int i = 0; i < 4; i++) w[i] = Math.max(w[i], r[i].length());
        String fmt = "%-" + w[0] + "s  %" + w[1] + "s  %-" + w[2] + "s  %s%n";
        System.out.printf(fmt, (Object[]) head);
        for (String[] r : rows) System.out.printf(fmt, (Object[]) r);
        System.out.flush();
    }

    static void progress(String fmt, Object... args) {
        System.err.println("daemon-bench: " + String.format(Locale.ROOT, fmt, args));
    }
}
