package dev.corral.spec;

import java.util.Map;

/**
 * How a front end spells a spec field in its error messages: the CLI says {@code --hostname},
 * a JSON config says {@code /isolation/hostname}. Fields are named as in {@link JailSpec}.
 */
@FunctionalInterface
public interface Labels {
    String of(String field);

    /** The Java builder's spelling: the field's own name. */
    Labels FIELD_NAMES = field -> field;

    static Labels of(Map<String, String> names) {
        return field -> names.getOrDefault(field, field);
    }
}
