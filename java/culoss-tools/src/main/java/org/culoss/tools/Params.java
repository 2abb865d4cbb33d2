package org.culoss.tools;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Collections;
import java.util.Map;
import java.util.Set;

/** The {@code params} of a case, with typed getters that fail the case on a value of the wrong kind. */
public final class Params {
    private final Map<String, JsonNode> values;

    Params(Map<String, JsonNode> values) {
        this.values = Collections.unmodifiableMap(values);
    }

    public Set<String> names() {
        return values.keySet();
    }

    public boolean has(String name) {
        return values.containsKey(name);
    }

    /** A string parameter, or {@code fallback} when absent. */
    public String string(String name, String fallback) {
        JsonNode v = values.get(name);
        if (v == null) return fallback;
        if (!v.isTextual()) throw new CaseException("params." + name + " (" + v + ") is not a string");
        return v.asText();
    }

    /** A number parameter (a JSON number or a string such as "inf" or "1e4"), or {@code fallback}. */
    public double number(String name, double fallback) {
        JsonNode v = values.get(name);
        if (v == null) return fallback;
        try {
            return Numbers.parse(v);
        } catch (CaseException e) {
            throw new CaseException("params." + name + ": " + e.getMessage());
        }
    }

    /** A boolean parameter (JSON {@code true}/{@code false}, or 0/1 as some writers emit), or {@code fallback}. */
    public boolean bool(String name, boolean fallback) {
        JsonNode v = values.get(name);
        if (v == null) return fallback;
        if (v.isIntegralNumber() && (v.asLong() == 0 || v.asLong() == 1)) return v.asLong() == 1;
        if (!v.isBoolean()) throw new CaseException("params." + name + " (" + v + ") is not true or false");
        return v.asBoolean();
    }

    /** True when the parameter is present and JSON {@code null}. */
    public boolean isNull(String name) {
        JsonNode v = values.get(name);
        return v != null && v.isNull();
    }

    /** An integer parameter, or {@code fallback} when absent (check {@link #isNull} first). */
    public int integer(String name, int fallback) {
        if (!values.containsKey(name)) return fallback;
        double v = number(name, fallback);
        if (v != Math.rint(v) || v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
            throw new CaseException("params." + name + " (" + values.get(name) + ") is not a 32-bit integer");
        }
        return (int) v;
    }

    /**
     * The value as the loss declarations take it: null for JSON null, a {@link Double} for a
     * number (or a string {@link Numbers} reads, such as "inf"), a {@link Boolean}, else the string.
     */
    public Object value(String name) {
        JsonNode v = values.get(name);
        if (v == null || v.isNull()) return null;
        if (v.isBoolean()) return v.asBoolean();
        if (v.isNumber()) return Numbers.parse(v);
        if (v.isTextual()) {
            try {
                return Numbers.parse(v);
            } catch (CaseException e) {
                return v.asText();
            }
        }
        throw new CaseException("params." + name + " (" + v + ") is not a number, a string, true, false or null");
    }
}
