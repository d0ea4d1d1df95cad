package dev.corral.config;

import com.fasterxml.jackson.databind.JsonNode;
import dev.corral.JailBuilder;
import dev.corral.spec.Automount;
import dev.corral.spec.Capability;
import dev.corral.spec.Rlimit;
import dev.corral.spec.Seccomp;
import dev.corral.spec.RootfsOverlay;
import dev.corral.spec.IdMapping;
import dev.corral.spec.Labels;
import dev.corral.spec.MountSpec;
import dev.corral.spec.Namespace;
import dev.corral.spec.Problem;
import dev.corral.spec.Quantities;
import dev.corral.spec.SpecException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Reads one application in NGINX Unit's JSON shape into a {@link JailBuilder}.
 *
 * <p>Accepts a bare application object or {@code {"applications": {NAME: {...}}}} holding exactly
 * one. Unit's {@code isolation} object works unchanged, in both the spellings of shipped Unit
 * ({@code credential}, {@code uname}, {@code container}/{@code host}) and of the original proposal
 * ({@code user}, {@code uts}, {@code containerID}/{@code hostID}). Unknown keys, wrong types and
 * keys corral does not implement yet are errors, each named by its JSON pointer, all reported at
 * once; nothing is silently ignored.
 */
public final class AppConfig {

    private AppConfig() {}

    /** More than any application's JSON; a file past it (say /dev/zero) is not read to the end. */
    static final int MAX_BYTES = 16 << 20;

    public static JailBuilder load(Path file) throws SpecException {
        byte[] bytes;
        try (java.io.InputStream in = Files.newInputStream(file)) {
            bytes = in.readNBytes(MAX_BYTES + 1);
        } catch (NoSuchFileException e) {
            throw new SpecException(file.toString(), "no such file");
        } catch (IOException e) {
            throw new SpecException(file.toString(), "cannot read: " + e.getMessage());
        }
        if (bytes.length > MAX_BYTES) throw new SpecException(file.toString(), "larger than " + (MAX_BYTES >> 20) + " MiB: not an application's JSON");
        String text;
        try {
            text = java.nio.charset.StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(bytes)).toString();
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new SpecException(file.toString(), "not UTF-8 text (JSON is UTF-8)");
        }
        return parse(text, file.toString());
    }

    /** Parses {@code json}; {@code source} names it in syntax errors (a file name, "request body"). */
    public static JailBuilder parse(String json, String source) throws SpecException {
        JsonNode root = JsonObject.read(json, source);
        List<Problem> problems = new ArrayList<>();
        JailBuilder builder = fromTree(root, problems);
        if (!problems.isEmpty()) throw new SpecException(problems);
        return builder;
    }

    /** Reads a parsed document, adding to {@code problems}; the builder is only valid if none were. */
    public static JailBuilder fromTree(JsonNode root, List<Problem> problems) {
        JailBuilder builder = new JailBuilder();
        JsonObject.of(root, "", problems).ifPresent(doc -> {
            if (doc.has("applications")) {
                doc.object("applications").ifPresent(apps -> {
                    var entries = apps.entries();
                    if (entries.size() != 1) {
                        apps.problemHere("holds " + entries.size() + " applications; corral run takes exactly one");
                        return;
                    }
                    var e = entries.getFirst();
                    JsonObject.of(e.getValue(), apps.pathOf(e.getKey()), problems)
                            .ifPresent(app -> new Reader(app, builder).read());
                });
                doc.finish();
            } else {
                new Reader(doc, builder).read();
            }
        });
        return builder;
    }

    /** How the supervisor restarts an application that exited. */
    public enum RestartPolicy {
        ALWAYS, ON_FAILURE, NEVER;

        public static Optional<RestartPolicy> parse(String s) {
            return switch (s) {
                case "always" -> Optional.of(ALWAYS);
                case "on-failure" -> Optional.of(ON_FAILURE);
                case "never" -> Optional.of(NEVER);
                default -> Optional.empty();
            };
        }

        public String word() {
            return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
        }
    }

    /**
     * One application of the supervisor's document: its jail, and how it is supervised.
     *
     * @param restart   "restart": always (the default), on-failure or never
     * @param stopFirst "reload": "stop-first" stops the old jail before starting the new one
     *                  (for an application that cannot run twice); the default, "start-first",
     *                  starts the new one first
     */
    public record Application(String name, JailBuilder jail, RestartPolicy restart, boolean stopFirst,
                              List<dev.corral.spec.ListenAddress> listen, SetnsSocketConfig setnsSocket) {
        public Application {
            listen = List.copyOf(listen);
        }
    }

    /**
     * {@code "isolation": {"setns_socket": true | "/path", "setns_skip": ["user"]}}: serve the jail's
     * namespaces on a Unix socket (uWSGI's setns-socket and setns-socket-skip).
     *
     * @param path the socket's path, or "" for the daemon's default (under its run directory)
     * @param skip namespaces not served; the user namespace by default, as uWSGI does
     */
    public record SetnsSocketConfig(String path, Set<Namespace> skip) {
        public SetnsSocketConfig {
            skip = Set.copyOf(skip);
        }
    }

    /**
     * The jail of one application of a supervisor's document, on its own: what a process joining
     * that application's running jail (corral exec) takes its hardening from.
     */
    public static dev.corral.spec.JailSpec application(String name, JsonNode app) throws SpecException {
        List<Problem> problems = new ArrayList<>();
        var doc = new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode();
        doc.putObject("applications").set(name, app);
        Map<String, Application> apps = applications(doc, problems);
        if (!problems.isEmpty() || !apps.containsKey(name)) throw new SpecException(problems);
        return apps.get(name).jail().build();
    }

    /**
     * Reads the supervisor's whole document, {@code {"applications": {NAME: {...}}}}, adding every
     * problem (named by its JSON pointer) to {@code problems}; the result is only valid if none were.
     */
    public static Map<String, Application> applications(JsonNode root, List<Problem> problems) {
        Map<String, Application> out = new java.util.LinkedHashMap<>();
        JsonObject.of(root, "", problems).ifPresent(doc -> {
            doc.object("applications").ifPresent(apps -> {
                for (var e : apps.entries()) {
                    String name = e.getKey();
                    if (!name.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,63}")) {
                        apps.problem(name, "an application name is 1 to 64 letters, digits, '.', '_' or '-', starting"
                                + " with a letter or digit");
                        continue;
                    }
                    JsonObject.of(e.getValue(), apps.pathOf(name), problems).ifPresent(app -> {
                        JailBuilder builder = new JailBuilder();
                        Reader r = new Reader(app, builder, true);
                        r.read();
                        out.put(name, new Application(name, builder, r.restart, r.stopFirst, r.listen,
                                r.setnsSocket == null ? null : new SetnsSocketConfig(r.setnsSocket, r.setnsSkip)));
                    });
                }
            });
            if (!doc.has("applications")) doc.problemHere("missing \"applications\"");
            doc.finish();
        });
        return out;
    }

    private static Optional<Long> limitValue(JsonNode v) {
        if (v.canConvertToExactIntegral() && v.canConvertToLong() && v.longValue() >= 0) return Optional.of(v.longValue());
        if (v.isTextual()) return Rlimit.parseValue(v.textValue());
        return Optional.empty();
    }

    /** Reads one application object into the builder. */
    private static final class Reader {
        private final JsonObject app;
        private final JailBuilder b;
        private final Map<String, String> labels = new HashMap<>();
        /** Read for the supervisor, which also takes "restart". */
        private final boolean supervised;
        RestartPolicy restart = RestartPolicy.ALWAYS;
        boolean stopFirst;
        /** The rootfs is an overlay: its layer must never be mounted by two jails at once. */
        private boolean overlay;
        final List<dev.corral.spec.ListenAddress> listen = new ArrayList<>();
        /** "setns_socket": null for none, "" for the daemon's default path, else the path. */
        String setnsSocket;
        final Set<Namespace> setnsSkip = EnumSet.of(Namespace.USER);

        Reader(JsonObject app, JailBuilder builder) {
            this(app, builder, false);
        }

        Reader(JsonObject app, JailBuilder builder, boolean supervised) {
            this.app = app;
            this.b = builder;
            this.supervised = supervised;
        }

        void read() {
            app.string("type").ifPresent(t -> {
                if (!t.equals("external")) {
                    app.problem("type", "corral runs executables: only \"external\" is supported, not \"" + t + "\"");
                }
            });
            List<String> argv = new ArrayList<>();
            Optional<String> exe = app.string("executable");
            if (exe.isPresent()) argv.add(exe.get());
            else if (!app.has("executable")) app.problemHere("missing \"executable\"");
            argv.addAll(app.strings("arguments"));
            if (exe.isPresent()) b.command(argv);
            label("command", app.pathOf("executable"));

            app.string("working_directory").ifPresent(b::workingDirectory);
            label("workingDirectory", app.pathOf("working_directory"));
            identity("user", "uid", b::user, b::uid);
            identity("group", "gid", b::group, b::gid);
            app.object("environment").ifPresent(env -> {
                for (var e : env.entries()) {
                    if (e.getValue().isTextual()) b.env(e.getKey(), e.getValue().textValue());
                    else env.problem(e.getKey(), "expected a string, found " + JsonObject.describe(e.getValue()));
                }
            });
            label("environment", app.pathOf("environment"));
            app.object("limits").ifPresent(this::limits);
            app.unsupported("processes", "corral runs one process per application");
            if (supervised) {
                List<String> addresses = app.strings("listen");
                for (int i = 0; i < addresses.size(); i++) {
                    try {
                        var a = dev.corral.spec.ListenAddress.parse(addresses.get(i));
                        if (listen.contains(a)) app.problem("listen", "\"" + addresses.get(i) + "\" is listed twice");
                        else listen.add(a);
                    } catch (IllegalArgumentException e) {
                        app.problems().add(new Problem(app.pathOf("listen") + "/" + i, e.getMessage()));
                    }
                }
            } else {
                app.unsupported("listen", "listening sockets are passed by the supervisor daemon (corral daemon)");
            }
            if (supervised) {
                app.string("restart").ifPresent(v -> RestartPolicy.parse(v).ifPresentOrElse(p -> restart = p,
                        () -> app.problem("restart", "expected \"always\", \"on-failure\" or \"never\", not \"" + v + "\"")));
                app.string("reload").ifPresent(v -> {
                    if (v.equals("stop-first")) stopFirst = true;
                    else if (!v.equals("start-first")) app.problem("reload", "expected \"start-first\" or \"stop-first\", not \"" + v + "\"");
                });
            } else {
                app.unsupported("restart", "restart policies belong to the supervisor daemon (corral daemon)");
            }
            app.object("isolation").ifPresent(this::isolation);
            if (supervised && overlay) overlayReloadsStopFirst();
            app.finish();
            b.labels(Labels.of(Map.copyOf(labels)));
        }

        /** Unit's "user"/"group" are names; corral also takes a number as a uid/gid. */
        private void identity(String key, String field, java.util.function.Consumer<String> byName,
                              java.util.function.LongConsumer byId) {
            app.raw(key).ifPresent(v -> {
                if (v.isTextual()) byName.accept(v.textValue());
                else if (v.canConvertToExactIntegral() && v.longValue() >= 0 && v.longValue() <= JsonObject.MAX_ID) {
                    byId.accept(v.longValue());
                } else {
                    app.problem(key, "expected a name or an id, found " + JsonObject.describe(v));
                }
            });
            label(key, app.pathOf(key));
            label(field, app.pathOf(key));
        }

        private void isolation(JsonObject iso) {
            Set<Namespace> unsharedExplicitly = EnumSet.noneOf(Namespace.class);
            iso.object("namespaces").ifPresent(ns -> {
                Set<Namespace> unshared = EnumSet.noneOf(Namespace.class);
                for (var e : ns.entries()) {
                    Optional<Namespace> n = Namespace.parse(e.getKey());
                    if (n.isEmpty()) {
                        ns.problem(e.getKey(), "unknown namespace; expected one of credential (user), mount, pid, "
                                + "network, uname (uts), ipc, cgroup, time");
                    } else if (!e.getValue().isBoolean()) {
                        ns.problem(e.getKey(), "expected true or false, found " + JsonObject.describe(e.getValue()));
                    } else if (e.getValue().booleanValue()) {
                        unshared.add(n.get());
                    }
                }
                b.namespaces(unshared);
                unsharedExplicitly.addAll(unshared);
            });
            label("namespaces", iso.pathOf("namespaces"));
            iso.object("join").ifPresent(join -> join(join, unsharedExplicitly));
            if (!autoIdRange(iso)) {
                for (JsonObject m : iso.objects("uidmap")) idMap(m).ifPresent(b::uidMap);
                for (JsonObject m : iso.objects("gidmap")) idMap(m).ifPresent(b::gidMap);
            }
            label("uidMap", iso.pathOf("uidmap"));
            label("gidMap", iso.pathOf("gidmap"));
            rootfs(iso);
            iso.object("automount").ifPresent(a -> {
                boolean procfs = a.bool("procfs").orElse(true);
                boolean tmpfs = a.bool("tmpfs").orElse(true);
                boolean devfs = a.bool("devfs").orElse(true);
                // Unit mounts its language modules' files; an external executable has none.
                a.bool("language_deps");
                a.finish();
                b.automount(new Automount(procfs, tmpfs, devfs));
            });
            for (JsonObject m : iso.objects("mounts")) mount(m).ifPresent(b::mount);
            label("mounts", iso.pathOf("mounts"));
            iso.string("hostname").ifPresent(b::hostname);
            label("hostname", iso.pathOf("hostname"));
            iso.bool("init").ifPresent(b::init);
            // Unit's new_privs: true lets setuid binaries gain privileges; corral's default is false.
            iso.bool("new_privs").ifPresent(v -> b.noNewPrivs(!v));
            iso.object("capabilities").ifPresent(this::capabilities);
            label("capabilities", iso.pathOf("capabilities"));
            iso.string("seccomp").ifPresent(v -> b.seccomp(v.equals("unconfined") ? Seccomp.UNCONFINED
                    : v.equals("default") ? Seccomp.DEFAULT : Seccomp.profile(v, iso.pathOf("seccomp"))));
            iso.bool("allow_userns").ifPresent(b::allowUserNamespaces);
            iso.object("rlimits").ifPresent(this::rlimits);
            iso.string("hidepid").ifPresent(b::procHidepid);
            label("procHidepid", iso.pathOf("hidepid"));
            iso.bool("new_session").ifPresent(b::newSession);
            iso.object("cgroup").ifPresent(c -> {
                c.string("path").ifPresent(b::cgroupPath);
                if (!c.has("path")) c.problemHere("missing \"path\"");
                c.finish();
                label("cgroupPath", c.pathOf("path"));
            });
            if (supervised) {
                iso.raw("setns_socket").ifPresent(v -> {
                    if (v.isBoolean()) setnsSocket = v.booleanValue() ? "" : null;
                    else if (v.isTextual() && v.textValue().startsWith("/") && v.textValue().indexOf('\0') < 0) setnsSocket = v.textValue();
                    else iso.problem("setns_socket", "expected true, false or an absolute path, found " + JsonObject.describe(v));
                });
                if (iso.has("setns_skip")) {
                    setnsSkip.clear();
                    List<String> names = iso.strings("setns_skip");
                    for (int i = 0; i < names.size(); i++) {
                        Optional<Namespace> n = Namespace.parse(names.get(i));
                        if (n.isEmpty()) iso.problems().add(new Problem(iso.pathOf("setns_skip") + "/" + i, "unknown namespace \""
                                + names.get(i) + "\"; expected one of user, mount, pid, network, uts, ipc, cgroup, time"));
                        else setnsSkip.add(n.get());
                    }
                }
            } else {
                iso.unsupported("setns_socket", "setns sockets belong to the supervisor daemon");
                iso.unsupported("setns_skip", "setns sockets belong to the supervisor daemon");
            }
            iso.finish();
        }

        /**
         * {"network": "/run/netns/blue", "ipc": "/proc/123/ns/ipc"}: existing namespaces to join
         * (OCI's namespaces[].path), keyed as in "namespaces". A type set to true there cannot be
         * joined too; without "namespaces", joining one leaves the others new.
         */
        private void join(JsonObject join, Set<Namespace> unshared) {
            for (var e : join.entries()) {
                Optional<Namespace> n = Namespace.parse(e.getKey());
                if (n.isEmpty()) {
                    join.problem(e.getKey(), "unknown namespace; expected one of credential (user), mount, pid, "
                            + "network, uname (uts), ipc, cgroup, time");
                } else if (!e.getValue().isTextual()) {
                    join.problem(e.getKey(), "expected the path of a namespace file, found " + JsonObject.describe(e.getValue()));
                } else if (unshared.contains(n.get())) {
                    join.problem(e.getKey(), "\"namespaces\" makes this namespace new; a jail joins a namespace or creates one");
                } else {
                    b.join(n.get(), e.getValue().textValue());
                }
                label("join." + n.map(Namespace::userName).orElse(e.getKey()), join.pathOf(e.getKey()));
            }
        }

        /**
         * The jail's cgroup limits: {"memory": "256M", "memory_swap": 0, "pids": 64, "cpu": "50%",
         * "cpu_weight": 100, "io_weight": 100, "cpuset": "0-1"}. Sizes and CPU amounts may be
         * numbers (bytes, cores) or strings with units.
         */
        private void limits(JsonObject l) {
            size(l, "memory", "limits.memory", b::memoryLimit);
            size(l, "memory_swap", "limits.memorySwap", b::memorySwapLimit);
            whole(l, "pids", "limits.pids", b::pidsLimit);
            l.raw("cpu").ifPresent(v -> {
                if (v.isNumber()) b.cpuLimit(v.doubleValue());
                else if (v.isTextual()) {
                    try {
                        b.cpuLimit(Quantities.cores(v.textValue()));
                    } catch (IllegalArgumentException e) {
                        l.problem("cpu", e.getMessage());
                    }
                } else l.problem("cpu", "expected cores (0.5) or a percentage of one core (\"50%\"), found " + JsonObject.describe(v));
            });
            label("limits.cpu", l.pathOf("cpu"));
            whole(l, "cpu_weight", "limits.cpuWeight", b::cpuWeight);
            whole(l, "io_weight", "limits.ioWeight", b::ioWeight);
            l.string("cpuset").ifPresent(b::cpuset);
            label("limits.cpuset", l.pathOf("cpuset"));
            // NGINX Unit's own "limits" bound requests, which pass through Unit's router, not corral.
            l.unsupported("timeout", "corral does not route requests; request limits belong to the server in the jail");
            l.unsupported("requests", "corral does not route requests; request limits belong to the server in the jail");
            l.finish();
        }

        private void size(JsonObject o, String key, String field, java.util.function.LongConsumer set) {
            o.raw(key).ifPresent(v -> {
                if (v.canConvertToExactIntegral() && v.canConvertToLong()) set.accept(v.longValue());
                else if (v.isTextual()) {
                    try {
                        set.accept(Quantities.bytes(v.textValue()));
                    } catch (IllegalArgumentException e) {
                        o.problem(key, e.getMessage());
                    }
                } else o.problem(key, "expected bytes or a size such as \"256M\", found " + JsonObject.describe(v));
            });
            label(field, o.pathOf(key));
        }

        private void whole(JsonObject o, String key, String field, java.util.function.LongConsumer set) {
            o.raw(key).ifPresent(v -> {
                if (v.canConvertToExactIntegral() && v.canConvertToLong()) set.accept(v.longValue());
                else o.problem(key, "expected a whole number, found " + JsonObject.describe(v));
            });
            label(field, o.pathOf(key));
        }

        /** {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}: drops first, then adds. */
        private void capabilities(JsonObject caps) {
            List<String> drop = caps.strings("drop"), add = caps.strings("add");
            caps.finish();
            for (int i = 0; i < drop.size(); i++) capability(caps, "drop", i, drop.get(i), false);
            for (int i = 0; i < add.size(); i++) capability(caps, "add", i, add.get(i), true);
        }

        private void capability(JsonObject caps, String key, int i, String name, boolean add) {
            if (name.equalsIgnoreCase("ALL")) {
                b.capabilities(add ? EnumSet.allOf(Capability.class) : Set.of());
                return;
            }
            Optional<Capability> c = Capability.parse(name);
            if (c.isEmpty()) caps.problems().add(new Problem(caps.pathOf(key) + "/" + i, "unknown capability \"" + name + "\""));
            else if (add) b.addCapability(c.get());
            else b.dropCapability(c.get());
        }

        /** {"nofile": 1024, "core": "0", "as": {"soft": "1G", "hard": "2G"}}. */
        private void rlimits(JsonObject limits) {
            for (var e : limits.entries()) {
                String where = limits.pathOf(e.getKey());
                Optional<Rlimit.Resource> r = Rlimit.Resource.parse(e.getKey());
                if (r.isEmpty()) {
                    limits.problem(e.getKey(), "unknown resource limit");
                    continue;
                }
                JsonNode v = e.getValue();
                Optional<Long> soft, hard;
                if (v.isObject()) {
                    JsonObject o = new JsonObject(v, where, limits.problems());
                    soft = o.raw("soft").flatMap(AppConfig::limitValue);
                    hard = o.raw("hard").flatMap(AppConfig::limitValue);
                    o.finish();
                } else {
                    soft = limitValue(v);
                    hard = soft;
                }
                if (soft.isEmpty() || hard.isEmpty()) {
                    limits.problem(e.getKey(), "expected a whole number, \"unlimited\", or {\"soft\": ..., \"hard\": ...}");
                    continue;
                }
                b.rlimit(new Rlimit(r.get(), soft.get(), hard.get(), where));
            }
        }

        /**
         * {@code "uidmap": "auto"} (and/or {@code "gidmap": "auto"}): ids 0..65535 mapped to a
         * range allocated at start, the same for uids and gids. Returns whether it was asked for.
         */
        /**
         * Unit's {@code "rootfs": DIR}, or {@code {"base": DIR, "overlay": true, "upper": DIR,
         * "work": DIR, "idmap": true}}: a shared base under a writable layer of the application's
         * own; with "idmap" the base is seen through an idmapped mount with the jail's id mapping.
         */
        private void rootfs(JsonObject iso) {
            JsonNode v = iso.get("rootfs");
            label("rootfs", iso.pathOf("rootfs"));
            if (v == null) return;
            if (v.isTextual()) {
                b.rootfs(v.textValue());
                return;
            }
            if (!v.isObject()) {
                iso.problem("rootfs", "expected a directory, or an object with \"base\", found " + JsonObject.describe(v));
                return;
            }
            iso.object("rootfs").ifPresent(r -> {
                r.string("base").ifPresent(b::rootfs);
                if (!r.has("base")) r.problemHere("missing \"base\" (the directory to use as the root)");
                boolean overlay = r.bool("overlay").orElse(false);
                r.bool("idmap").ifPresent(b::rootfsIdmap);
                String upper = r.string("upper").orElse(null), work = r.string("work").orElse(null);
                r.finish();
                label("rootfs", r.pathOf("base"));
                label("rootfsOverlay", r.pathOf("overlay"));
                label("rootfsUpper", r.pathOf("upper"));
                label("rootfsWork", r.pathOf("work"));
                label("rootfsIdmap", r.pathOf("idmap"));
                this.overlay = overlay;
                if (overlay) b.rootfsOverlay(new RootfsOverlay(upper, work, null, null));
                else if (upper != null || work != null) {
                    r.problem(upper != null ? "upper" : "work", "an upper or work directory needs \"overlay\": true");
                }
            });
        }

        /**
         * A start-first reload would mount the application's layer in the old and the new jail at
         * once, which overlayfs leaves undefined: an overlay application reloads stop-first.
         */
        private void overlayReloadsStopFirst() {
            JsonNode reload = app.get("reload");
            if (reload != null && reload.isTextual() && reload.textValue().equals("start-first")) {
                app.problem("reload", "an application on an overlay rootfs reloads stop-first: a start-first reload would"
                        + " have two jails write one layer at once");
            }
            stopFirst = true;
        }

        private boolean autoIdRange(JsonObject iso) {
            boolean uid = isAuto(iso, "uidmap"), gid = isAuto(iso, "gidmap");
            if (!uid && !gid) return false;
            String given = uid ? "uidmap" : "gidmap", other = uid ? "gidmap" : "uidmap";
            if (!(uid && gid) && iso.get(other) != null) {
                iso.problem(other, "with \"" + given + "\": \"auto\" the gids and uids come from one allocated range:"
                        + " leave \"" + other + "\" out or make it \"auto\" too");
            }
            b.autoIdRange();
            label("autoIds", iso.pathOf(given));
            return true;
        }

        private static boolean isAuto(JsonObject o, String key) {
            JsonNode v = o.get(key);
            return v != null && v.isTextual() && v.textValue().equals("auto");
        }

        private Optional<IdMapping> idMap(JsonObject m) {
            Optional<Long> inside = either(m, "container", "containerID");
            Optional<Long> outside = either(m, "host", "hostID");
            Optional<Long> size = m.id("size", JsonObject.MAX_ID + 1);
            if (!m.has("size")) m.problemHere("missing \"size\"");
            m.finish();
            if (inside.isEmpty() || outside.isEmpty() || size.isEmpty()) return Optional.empty();
            return Optional.of(new IdMapping(inside.get(), outside.get(), size.get(), m.path()));
        }

        /** Exactly one of Unit's two spellings of a map field. */
        private static Optional<Long> either(JsonObject m, String shipped, String proposal) {
            boolean a = m.has(shipped), c = m.has(proposal);
            if (a && c) {
                m.problemHere("give \"" + shipped + "\" or \"" + proposal + "\", not both");
                return Optional.empty();
            }
            if (!a && !c) {
                m.problemHere("missing \"" + shipped + "\"");
                return Optional.empty();
            }
            return m.id(a ? shipped : proposal, JsonObject.MAX_ID);
        }

        private Optional<MountSpec> mount(JsonObject m) {
            Optional<String> source = m.string("source");
            Optional<String> target = m.string("target");
            String type = m.string("type").orElse("bind");
            boolean readOnly = m.bool("read_only").orElse(false);
            boolean idmap = m.bool("idmap").orElse(false);
            m.finish();
            if (target.isEmpty()) {
                if (!m.has("target")) m.problemHere("missing \"target\"");
                return Optional.empty();
            }
            String t = target.get(), origin = m.path();
            boolean needsSource = type.equals("bind") || type.equals("symlink");
            if (needsSource && source.isEmpty()) {
                m.problemHere("a " + type + " mount needs \"source\"");
                return Optional.empty();
            }
            if (!needsSource && source.isPresent()) {
                m.problem("source", "a " + type + " mount takes no source");
                return Optional.empty();
            }
            if (readOnly && !type.equals("bind")) {
                m.problem("read_only", "only bind mounts can be made read-only here");
                return Optional.empty();
            }
            if (idmap && !type.equals("bind")) {
                m.problem("idmap", "only bind mounts can be idmapped");
                return Optional.empty();
            }
            return switch (type) {
                case "bind" -> Optional.of(new MountSpec.Bind(source.get(), t, readOnly, idmap, origin));
                case "tmpfs" -> Optional.of(new MountSpec.Tmpfs(t, origin));
                case "proc" -> Optional.of(new MountSpec.Proc(t, origin));
                case "dev" -> Optional.of(new MountSpec.Dev(t, origin));
                case "dir" -> Optional.of(new MountSpec.Dir(t, origin));
                case "symlink" -> Optional.of(new MountSpec.Symlink(source.get(), t, origin));
                default -> {
                    m.problem("type", "unknown mount type \"" + type + "\"; expected bind, tmpfs, proc, dev, dir or symlink");
                    yield Optional.empty();
                }
            };
        }

        private void label(String field, String path) {
            labels.put(field, path);
        }
    }
}
