package dev.corral.seccomp;

import com.fasterxml.jackson.databind.JsonNode;
import dev.corral.config.JsonObject;
import dev.corral.spec.Capability;
import dev.corral.spec.Problem;
import dev.corral.spec.SpecException;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads an OCI runtime-spec {@code linux.seccomp} object or a Docker/Podman seccomp profile (the
 * same shape plus {@code archMap}, {@code includes}/{@code excludes} and {@code comment}) into a
 * {@link Policy}. Every problem is reported with its JSON pointer, all at once.
 *
 * <p>Semantics, following runc and Docker where the formats leave room:
 * <ul>
 * <li>Rules are tried in profile order; the first whose conditions all hold decides. A rule with
 *     several conditions on the same argument means any of them (runc's long-standing reading,
 *     which profiles rely on), otherwise all of them.</li>
 * <li>Comparisons are unsigned and over the full 64-bit argument.</li>
 * <li>{@code errnoRet} and {@code defaultErrnoRet} default to EPERM.</li>
 * <li>When the default action is not ALLOW or LOG, syscalls numbered above the highest one the
 *     profile names get ENOSYS, as runc does, so that libc falls back from syscalls the profile
 *     predates (clone3, faccessat2, …) instead of failing on EPERM.</li>
 * <li>The filter is for x86_64: calls of other architectures are killed and x32 calls get EPERM,
 *     whatever {@code architectures} says; it may list SCMP_ARCH_X86_64, SCMP_ARCH_X86 and
 *     SCMP_ARCH_X32. {@code archMap} must have an SCMP_ARCH_X86_64 entry (with at most those
 *     sub-architectures); its entries for other machines are ignored, as Docker does.</li>
 * <li>{@code includes}/{@code excludes}: {@code arches} is matched against amd64/x86_64; a rule
 *     for other architectures only is skipped, names unchecked (they are theirs).
 *     {@code caps} is matched against the capabilities the jailed program gets, {@code minKernel}
 *     against the running kernel.</li>
 * <li>Names of syscalls x86_64 lacks but other architectures have ({@code chown32},
 *     {@code _llseek}, {@code arm_fadvise64_64}, …) are skipped; other unknown names are errors.</li>
 * <li>Not supported (each is an error): SCMP_ACT_TRACE (no tracer), SCMP_ACT_NOTIFY,
 *     {@code listenerPath}, {@code listenerMetadata} (no notification listener), and
 *     {@code flags} (the filter is loaded without flags).</li>
 * </ul>
 */
final class OciProfile {

    /** Names of this machine's architecture in {@code includes/excludes.arches} (Go's GOARCH, uname). */
    static final Set<String> NATIVE_ARCHES = Set.of("amd64", "x86_64");
    /** What {@code architectures} may list: the filter handles each of these ABIs (see above). */
    private static final Set<String> SUPPORTED_ARCHES = Set.of("SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32");
    /** Every architecture name of the OCI runtime spec. */
    private static final Set<String> KNOWN_ARCHES = Set.of("SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32",
            "SCMP_ARCH_ARM", "SCMP_ARCH_AARCH64", "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS64N32",
            "SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC", "SCMP_ARCH_PPC64",
            "SCMP_ARCH_PPC64LE", "SCMP_ARCH_S390", "SCMP_ARCH_S390X", "SCMP_ARCH_PARISC", "SCMP_ARCH_PARISC64",
            "SCMP_ARCH_RISCV64", "SCMP_ARCH_LOONGARCH64", "SCMP_ARCH_M68K", "SCMP_ARCH_SH", "SCMP_ARCH_SHEB");
    private static final Map<String, ArgCheck.Op> OPS = Map.of(
            "SCMP_CMP_EQ", ArgCheck.Op.EQ, "SCMP_CMP_NE", ArgCheck.Op.NE,
            "SCMP_CMP_LT", ArgCheck.Op.LT, "SCMP_CMP_LE", ArgCheck.Op.LE,
            "SCMP_CMP_GT", ArgCheck.Op.GT, "SCMP_CMP_GE", ArgCheck.Op.GE,
            "SCMP_CMP_MASKED_EQ", ArgCheck.Op.MASKED_EQ);
    private static final BigInteger MAX_U64 = BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);
    private static final Pattern KERNEL_VERSION = Pattern.compile("(\\d+)\\.(\\d+)(?:\\.(\\d+))?");

    private final List<Problem> problems = new ArrayList<>();
    private final Set<Capability> capabilities;
    private final int[] kernel;

    private OciProfile(Set<Capability> capabilities, int[] kernel) {
        this.capabilities = capabilities;
        this.kernel = kernel;
    }

    /**
     * Compiles {@code json}; {@code source} names it in syntax errors. {@code capabilities} are the
     * jailed program's, for {@code caps} conditions; {@code kernel} is the running kernel's
     * version, for {@code minKernel}.
     */
    static byte[] compile(String json, String source, Set<Capability> capabilities, int[] kernel)
            throws SpecException {
        JsonNode root = JsonObject.read(json, source);

        OciProfile reader = new OciProfile(capabilities, kernel);
        Policy policy = reader.read(root);
        if (!reader.problems.isEmpty()) throw new SpecException(reader.problems);

        byte[] filter = FilterCompiler.compile(policy);
        int length = filter.length / 8;
        if (length > Bpf.MAX_INSNS) {
            throw new SpecException("/syscalls", "the filter needs " + length + " BPF instructions; the kernel takes at most "
                    + Bpf.MAX_INSNS);
        }
        return filter;
    }

    /** Parses a kernel release such as {@code 6.18.44-fc-v595} into {major, minor, patch}; zeros if it is not one. */
    static int[] kernelVersion(String release) {
        Matcher m = KERNEL_VERSION.matcher(release == null ? "" : release);
        if (!m.lookingAt()) return new int[] {0, 0, 0};
        return new int[] {Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)),
                m.group(3) == null ? 0 : Integer.parseInt(m.group(3))};
    }

    /** The policy, or null when the document is not even an object; check {@link #problems}. */
    private Policy read(JsonNode root) {
        JsonObject doc = JsonObject.of(root, "", problems).orElse(null);
        if (doc == null) return null;

        Integer defaultErrno = errno(doc, "defaultErrnoRet");
        String defaultName = doc.string("defaultAction").orElse(null);
        if (defaultName == null && doc.get("defaultAction") == null) doc.problemHere("missing \"defaultAction\"");
        int defaultAction = defaultName == null ? Bpf.RET_ALLOW
                : action(defaultName, doc.pathOf("defaultAction"), defaultErrno, doc.pathOf("defaultErrnoRet"));

        boolean hasArchitectures = architectures(doc);
        archMap(doc, hasArchitectures);
        unsupported(doc);

        // Rules are collected per syscall first: the ENOSYS cut-off depends on all of them.
        List<int[]> order = new ArrayList<>();          // {nr, index into rules}
        List<Rule> rules = new ArrayList<>();
        JsonNode syscalls = doc.get("syscalls");
        if (syscalls != null) {
            List<JsonNode> entries = array(syscalls, doc.pathOf("syscalls"));
            for (int i = 0; entries != null && i < entries.size(); i++) {
                entry(entries.get(i), doc.pathOf("syscalls") + "/" + i, order, rules);
            }
        }
        doc.finish();

        boolean allowLike = defaultAction == Bpf.RET_ALLOW || defaultAction == Bpf.RET_LOG;
        int highestNamed = order.stream().mapToInt(o -> o[0]).max().orElse(-1);
        Policy policy = new Policy(defaultAction, Bpf.errno(Bpf.EPERM), allowLike ? -1 : highestNamed);
        for (int[] o : order) policy.add(o[0], rules.get(o[1]));
        return policy;
    }

    /** Reads {@code architectures}; true if it is there. */
    private boolean architectures(JsonObject doc) {
        JsonNode archs = doc.get("architectures");
        if (archs == null) return false;
        List<JsonNode> list = array(archs, doc.pathOf("architectures"));
        for (int i = 0; list != null && i < list.size(); i++) {
            String path = doc.pathOf("architectures") + "/" + i;
            String arch = string(list.get(i), path);
            if (arch == null) continue;
            if (!KNOWN_ARCHES.contains(arch)) problems.add(new Problem(path, "unknown architecture \"" + arch + "\""));
            else if (!SUPPORTED_ARCHES.contains(arch)) {
                problems.add(new Problem(path, arch + " is not supported: corral makes filters for x86_64 only"));
            }
        }
        return !archs.isEmpty();
    }

    /** Docker's {@code archMap}: only the entry for this machine means anything here. */
    private void archMap(JsonObject doc, boolean hasArchitectures) {
        JsonNode map = doc.get("archMap");
        if (map == null) return;
        String mapPath = doc.pathOf("archMap");
        List<JsonNode> entries = array(map, mapPath);
        if (entries == null || entries.isEmpty()) return;
        if (hasArchitectures) problems.add(new Problem(mapPath, "use either \"architectures\" or \"archMap\", not both"));
        boolean native64 = false;
        for (int i = 0; i < entries.size(); i++) {
            JsonObject e = JsonObject.of(entries.get(i), mapPath + "/" + i, problems).orElse(null);
            if (e == null) continue;
            String arch = e.string("architecture").orElse(null);
            if (arch == null && e.get("architecture") == null) e.problemHere("missing \"architecture\"");
            if (arch != null && !KNOWN_ARCHES.contains(arch)) {
                problems.add(new Problem(e.pathOf("architecture"), "unknown architecture \"" + arch + "\""));
            }
            boolean isNative = "SCMP_ARCH_X86_64".equals(arch);
            native64 |= isNative;
            JsonNode subs = e.get("subArchitectures");
            List<JsonNode> subList = subs == null ? List.of() : array(subs, e.pathOf("subArchitectures"));
            for (int j = 0; subList != null && j < subList.size(); j++) {
                String path = e.pathOf("subArchitectures") + "/" + j;
                String sub = string(subList.get(j), path);
                if (sub == null) continue;
                if (!KNOWN_ARCHES.contains(sub)) problems.add(new Problem(path, "unknown architecture \"" + sub + "\""));
                else if (isNative && !SUPPORTED_ARCHES.contains(sub)) {
                    problems.add(new Problem(path, sub + " is not supported: corral makes filters for x86_64 only"));
                }
            }
            e.finish();
        }
        if (!native64) {
            problems.add(new Problem(mapPath, "no entry for SCMP_ARCH_X86_64: this profile is for other machines"));
        }
    }

    /** Keys of the OCI format that need machinery corral does not have. */
    private void unsupported(JsonObject doc) {
        JsonNode flags = doc.get("flags");
        if (flags != null) {
            List<JsonNode> list = array(flags, doc.pathOf("flags"));
            if (list != null && !list.isEmpty()) {
                doc.problem("flags", "not supported: corral loads the filter without flags");
            }
        }
        for (String key : List.of("listenerPath", "listenerMetadata")) {
            JsonNode v = doc.get(key);
            if (v == null) continue;
            String s = string(v, doc.pathOf(key));
            if (s != null && !s.isEmpty()) {
                doc.problem(key, "not supported: corral has no seccomp notification listener");
            }
        }
    }

    /** One {@code syscalls[]} entry: its rules go to {@code rules}, in order. */
    private void entry(JsonNode node, String path, List<int[]> order, List<Rule> rules) {
        JsonObject e = JsonObject.of(node, path, problems).orElse(null);
        if (e == null) return;

        // name(s), each with its pointer
        List<String[]> names = new ArrayList<>();   // {name, path}
        JsonNode many = e.get("names");
        if (many != null) {
            List<JsonNode> list = array(many, e.pathOf("names"));
            for (int j = 0; list != null && j < list.size(); j++) {
                String p = e.pathOf("names") + "/" + j;
                String n = string(list.get(j), p);
                if (n != null) names.add(new String[] {n, p});
            }
        }
        JsonNode one = e.get("name");
        if (one != null) {
            String n = string(one, e.pathOf("name"));
            if (n != null) names.add(new String[] {n, e.pathOf("name")});
        }
        if (many == null && one == null) e.problemHere("missing \"names\"");
        else if (names.isEmpty() && many != null && many.isArray() && many.isEmpty()) e.problem("names", "is empty");

        Integer errnoRet = errno(e, "errnoRet");
        String actionName = e.string("action").orElse(null);
        if (actionName == null && e.get("action") == null) e.problemHere("missing \"action\"");
        int action = actionName == null ? 0 : action(actionName, e.pathOf("action"), errnoRet, e.pathOf("errnoRet"));

        List<ArgCheck> checks = args(e);
        e.string("comment");
        Applies applies = condition(e, "includes", true).and(condition(e, "excludes", false));
        e.finish();

        if (applies == Applies.NOT_THIS_ARCH) return;   // another machine's syscalls: not ours to check
        Set<Integer> numbers = new LinkedHashSet<>();
        for (String[] n : names) {
            OptionalInt nr = Syscalls.number(n[0]);
            if (nr.isPresent()) numbers.add(nr.getAsInt());
            else if (!Syscalls.otherArchitecture(n[0])) problems.add(new Problem(n[1], "unknown syscall \"" + n[0] + "\""));
        }
        if (applies != Applies.YES) return;

        // Several conditions on one argument: each is a rule of its own (runc's reading).
        Set<Integer> seen = new HashSet<>();
        boolean repeated = checks.stream().anyMatch(c -> !seen.add(c.index()));
        List<Rule> entryRules = repeated
                ? checks.stream().map(c -> new Rule(List.of(c), action)).toList()
                : List.of(new Rule(checks, action));
        for (int nr : numbers) {
            for (Rule r : entryRules) {
                order.add(new int[] {nr, rules.size()});
                rules.add(r);
            }
        }
    }

    /** The {@code args} of an entry. */
    private List<ArgCheck> args(JsonObject e) {
        List<ArgCheck> checks = new ArrayList<>();
        JsonNode args = e.get("args");
        if (args == null) return checks;
        List<JsonNode> list = array(args, e.pathOf("args"));
        for (int j = 0; list != null && j < list.size(); j++) {
            JsonObject a = JsonObject.of(list.get(j), e.pathOf("args") + "/" + j, problems).orElse(null);
            if (a == null) continue;
            Long index = null, value = null, valueTwo = 0L;
            ArgCheck.Op op = null;
            JsonNode v;
            if ((v = a.get("index")) == null) a.problemHere("missing \"index\"");
            else if (!v.isIntegralNumber() || v.bigIntegerValue().signum() < 0 || v.bigIntegerValue().compareTo(BigInteger.valueOf(5)) > 0) {
                a.problem("index", "expected an argument index from 0 to 5, found " + JsonObject.describe(v));
            } else {
                index = v.longValue();
            }
            if ((v = a.get("value")) == null) a.problemHere("missing \"value\"");
            else value = u64(v, a.pathOf("value"));
            if ((v = a.get("valueTwo")) != null) valueTwo = u64(v, a.pathOf("valueTwo"));
            String opName = a.string("op").orElse(null);
            if (opName == null && a.get("op") == null) a.problemHere("missing \"op\"");
            if (opName != null) {
                op = OPS.get(opName);
                if (op == null) a.problem("op", "unknown comparison \"" + opName + "\"; expected one of "
                        + String.join(", ", OPS.keySet().stream().sorted().toList()));
            }
            a.finish();
            if (index != null && value != null && valueTwo != null && op != null) {
                checks.add(ArgCheck.of(index.intValue(), op, value, valueTwo));
            }
        }
        return checks;
    }

    /** Whether an entry applies here; {@link #and} keeps the stronger "no". */
    private enum Applies {
        YES, NOT_THIS_ARCH, NOT_NOW;

        Applies and(Applies other) {
            return this == NOT_THIS_ARCH || other == NOT_THIS_ARCH ? NOT_THIS_ARCH : this == YES ? other : this;
        }
    }

    /**
     * Docker's {@code includes} (every condition must hold) or {@code excludes} (the entry is
     * dropped if any holds).
     */
    private Applies condition(JsonObject entry, String key, boolean include) {
        JsonNode node = entry.get(key);
        if (node == null) return Applies.YES;
        JsonObject c = JsonObject.of(node, entry.pathOf(key), problems).orElse(null);
        if (c == null) return Applies.YES;
        Applies result = Applies.YES;

        JsonNode arches = c.get("arches");
        if (arches != null) {
            List<JsonNode> list = array(arches, c.pathOf("arches"));
            boolean listed = false;
            for (int i = 0; list != null && i < list.size(); i++) {
                String a = string(list.get(i), c.pathOf("arches") + "/" + i);
                listed |= a != null && NATIVE_ARCHES.contains(a);
            }
            if (list != null && !list.isEmpty() && listed != include) result = Applies.NOT_THIS_ARCH;
        }

        JsonNode caps = c.get("caps");
        if (caps != null) {
            List<JsonNode> list = array(caps, c.pathOf("caps"));
            boolean all = true, any = false;
            for (int i = 0; list != null && i < list.size(); i++) {
                String path = c.pathOf("caps") + "/" + i;
                String name = string(list.get(i), path);
                if (name == null) continue;
                var cap = Capability.parse(name);
                if (cap.isEmpty()) {
                    problems.add(new Problem(path, "unknown capability \"" + name + "\""));
                    continue;
                }
                boolean held = capabilities.contains(cap.get());
                all &= held;
                any |= held;
            }
            if (list != null && !list.isEmpty() && (include ? !all : any)) result = result.and(Applies.NOT_NOW);
        }

        String minKernel = c.string("minKernel").orElse(null);
        if (minKernel != null) {
            Matcher m = KERNEL_VERSION.matcher(minKernel);
            if (!m.matches()) {
                c.problem("minKernel", "expected a kernel version such as \"4.8\", found \"" + minKernel + "\"");
            } else {
                boolean atLeast = compare(kernel, kernelVersion(minKernel)) >= 0;
                if (atLeast != include) result = result.and(Applies.NOT_NOW);
            }
        }
        c.finish();
        return result;
    }

    private static int compare(int[] a, int[] b) {
        for (int i = 0; i < 3; i++) {
            if (a[i] != b[i]) return Integer.compare(a[i], b[i]);
        }
        return 0;
    }

    /** A seccomp return value for an {@code SCMP_ACT_*} name; reports and returns ALLOW if there is none. */
    private int action(String name, String path, Integer errnoRet, String errnoPath) {
        if (errnoRet != null && !name.equals("SCMP_ACT_ERRNO") && name.startsWith("SCMP_ACT_")) {
            problems.add(new Problem(errnoPath, "applies only to SCMP_ACT_ERRNO, not " + name));
        }
        return switch (name) {
            case "SCMP_ACT_ALLOW" -> Bpf.RET_ALLOW;
            case "SCMP_ACT_ERRNO" -> Bpf.errno(errnoRet == null ? Bpf.EPERM : errnoRet);
            case "SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD" -> Bpf.RET_KILL_THREAD;
            case "SCMP_ACT_KILL_PROCESS" -> Bpf.RET_KILL_PROCESS;
            case "SCMP_ACT_TRAP" -> Bpf.RET_TRAP;
            case "SCMP_ACT_LOG" -> Bpf.RET_LOG;
            case "SCMP_ACT_TRACE" -> unsupportedAction(path, name + " is not supported: corral runs no tracer");
            case "SCMP_ACT_NOTIFY" -> unsupportedAction(path,
                    name + " is not supported: corral has no seccomp notification listener");
            default -> unsupportedAction(path, "unknown action \"" + name + "\"");
        };
    }

    private int unsupportedAction(String path, String message) {
        problems.add(new Problem(path, message));
        return Bpf.RET_ALLOW;
    }

    /** An errno value under {@code key}, or null if absent or invalid (reported). */
    private Integer errno(JsonObject o, String key) {
        JsonNode v = o.get(key);
        if (v == null) return null;
        if (!v.isIntegralNumber() || !v.canConvertToInt() || v.intValue() < 0 || v.intValue() > Bpf.MAX_ERRNO) {
            o.problem(key, "expected an errno from 0 to " + Bpf.MAX_ERRNO + ", found " + JsonObject.describe(v));
            return null;
        }
        return v.intValue();
    }

    /** An unsigned 64-bit value as a long (same bits), or null if invalid (reported). */
    private Long u64(JsonNode v, String path) {
        if (!v.isIntegralNumber() || v.bigIntegerValue().signum() < 0 || v.bigIntegerValue().compareTo(MAX_U64) > 0) {
            problems.add(new Problem(path, "expected a whole number from 0 to " + MAX_U64 + ", found " + JsonObject.describe(v)));
            return null;
        }
        return v.bigIntegerValue().longValue();
    }

    private List<JsonNode> array(JsonNode v, String path) {
        if (!v.isArray()) {
            problems.add(new Problem(path, "expected an array, found " + JsonObject.describe(v)));
            return null;
        }
        List<JsonNode> list = new ArrayList<>();
        v.forEach(list::add);
        return list;
    }

    private String string(JsonNode v, String path) {
        if (v.isTextual()) return v.textValue();
        problems.add(new Problem(path, "expected a string, found " + JsonObject.describe(v)));
        return null;
    }
}
