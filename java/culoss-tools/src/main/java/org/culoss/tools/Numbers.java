package org.culoss.tools;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Locale;

/** Numbers of the case format: JSON numbers, or strings such as "inf", "-inf", "nan" and "1e4". */
final class Numbers {
    private Numbers() {}

    static double parse(JsonNode v) {
        if (v.isNumber()) return v.asDouble();
        if (v.isTextual()) return parse(v.asText());
        throw new CaseException(v + " is not a number");
    }

    static double parse(String text) {
        String s = text.trim().toLowerCase(Locale.ROOT);
        switch (s) {
            case "inf": case "+inf": case "infinity": case "+infinity":
                return Double.POSITIVE_INFINITY;
            case "-inf": case "-infinity":
                return Double.NEGATIVE_INFINITY;
            case "nan": case "+nan": case "-nan":
                return Double.NaN;
            default:
                // Only decimals: Double.parseDouble would also take "0x1p3", "1d" or "NaN" spelled oddly.
                if (!s.matches("[+-]?(\\d+\\.?\\d*|\\.\\d+)(e[+-]?\\d+)?")) {
                    throw new CaseException("\"" + text + "\" is not a number");
                }
                return Double.parseDouble(s);
        }
    }
}
