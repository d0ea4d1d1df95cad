package dev.corral.config;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.corral.spec.IdMapping;
import dev.corral.spec.Problem;
import dev.corral.spec.SpecException;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * One JSON object being read, with its JSON-pointer path. Every getter records the key as known,
 * and type errors go to the shared problem list instead of stopping, so a config is reported
 * whole. {@link #finish()} turns every key nobody asked for into an "unknown key" problem.
 */
public final class JsonObject {
    private final JsonNode node;
    private final String path;
    private final List<Problem> problems;
    private final Set<String> known = new LinkedHashSet<>();

    private static final ObjectMapper STRICT = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    /**
     * Parses a whole document, refusing duplicate keys and trailing content; a syntax error is
     * one problem at {@code source:LINE:COL}.
     */
    public static JsonNode read(String json, String source) throws SpecException {
        JsonNode root;
        try {
            root = STRICT.readTree(json);
        } catch (JsonProcessingException e) {
            JsonLocation at = e.getLocation();
            String where = at == null ? source : source + ":" + at.getLineNr() + ":" + at.getColumnNr();
            throw new SpecException(where, "malformed JSON: " + e.getOriginalMessage());
        }
        if (root == null || root.isMissingNode()) throw new SpecException(source, "empty document");
        return root;
    }

    JsonObject(JsonNode node, String path, List<Problem> problems) {
        this.node = node;
        this.path = path;
        this.problems = problems;
    }

    /** Reads {@code value} at {@code path} as an object, or records why it is not one. */
    public static Optional<JsonObject> of(JsonNode value, String path, List<Problem> problems) {
        if (!value.isObject()) {
            problems.add(new Problem(path.isEmpty() ? "/" : path, "expected an object, found " + describe(value)));
            return Optional.empty();
        }
        return Optional.of(new JsonObject(value, path, problems));
    }

    List<Problem> problems() {
        return problems;
    }

    String path() {
        return path;
    }

    public String pathOf(String key) {
        return path + "/" + key.replace("~", "~0").replace("/", "~1");
    }

    boolean has(String key) {
        known.add(key);
        return node.has(key);
    }

    public Optional<JsonNode> raw(String key) {
        return Optional.ofNullable(get(key));
    }

    /** The value under {@code key}, or null when absent or JSON null. */
    public JsonNode get(String key) {
        known.add(key);
        JsonNode v = node.get(key);
        return v == null || v.isNull() ? null : v;
    }

    public Optional<String> string(String key) {
        return raw(key).flatMap(v -> {
            if (v.isTextual()) return Optional.of(v.textValue());
            problem(key, "expected a string, found " + describe(v));
            return Optional.empty();
        });
    }

    Optional<Boolean> bool(String key) {
        return raw(key).flatMap(v -> {
            if (v.isBoolean()) return Optional.of(v.booleanValue());
            problem(key, "expected true or false, found " + describe(v));
            return Optional.empty();
        });
    }

    /** A whole number within [0, max]. */
    Optional<Long> id(String key, long max) {
        return raw(key).flatMap(v -> {
            if (v.canConvertToExactIntegral() && v.canConvertToLong() && v.longValue() >= 0 && v.longValue() <= max) {
                return Optional.of(v.longValue());
            }
            problem(key, "expected a whole number from 0 to " + max + ", found " + describe(v));
            return Optional.empty();
        });
    }

    Optional<JsonObject> object(String key) {
        return raw(key).flatMap(v -> of(v, pathOf(key), problems));
    }

    List<String> strings(String key) {
        List<String> out = new ArrayList<>();
        raw(key).ifPresent(v -> {
            if (!v.isArray()) {
                problem(key, "expected an array of strings, found " + describe(v));
                return;
            }
            for (int i = 0; i < v.size(); i++) {
                if (v.get(i).isTextual()) out.add(v.get(i).textValue());
                else problems.add(new Problem(pathOf(key) + "/" + i, "expected a string, found " + describe(v.get(i))));
            }
        });
        return out;
    }

    /** Each element of an array of objects, with its own path. */
    List<JsonObject> objects(String key) {
        List<JsonObject> out = new ArrayList<>();
        raw(key).ifPresent(v -> {
            if (!v.isArray()) {
                problem(key, "expected an array, found " + describe(v));
                return;
            }
            for (int i = 0; i < v.size(); i++) of(v.get(i), pathOf(key) + "/" + i, problems).ifPresent(out::add);
        });
        return out;
    }

    /** The entries of this object, in document order. */
    List<Map.Entry<String, JsonNode>> entries() {
        List<Map.Entry<String, JsonNode>> out = new ArrayList<>();
        node.properties().forEach(e -> {
            known.add(e.getKey());
            out.add(e);
        });
        return out;
    }

    /** A key corral knows but does not implement yet: refusing it beats ignoring it. */
    void unsupported(String key, String why) {
        if (has(key)) problem(key, "not supported yet: " + why);
    }

    public void problem(String key, String message) {
        problems.add(new Problem(pathOf(key), message));
    }

    public void problemHere(String message) {
        problems.add(new Problem(path.isEmpty() ? "/" : path, message));
    }

    /** Records every key that no getter asked for. */
    public void finish() {
        node.fieldNames().forEachRemaining(k -> {
            if (known.contains(k)) return;
            String hint = Suggestions.closest(k, known).map(s -> "; did you mean \"" + s + "\"?").orElse("");
            problem(k, "unknown key" + hint);
        });
    }

    /** How an unexpected value is named in messages: "the number 5", "an array". */
    public static String describe(JsonNode v) {
        return switch (v.getNodeType()) {
            case STRING -> "the string \"" + v.textValue() + "\"";
            case NUMBER -> "the number " + v.asText();
            case BOOLEAN -> v.asText();
            case ARRAY -> "an array";
            case OBJECT -> "an object";
            case NULL -> "null";
            default -> v.getNodeType().toString().toLowerCase(java.util.Locale.ROOT);
        };
    }

    static final long MAX_ID = IdMapping.MAX_ID;
}
