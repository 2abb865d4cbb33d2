package org.culoss;

import java.util.Locale;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * One parameter of a loss as the case format and the tools name it ({@code label_smoothing}),
 * bound to the builder option that sets it. The builder keeps the range checks; a value the
 * builder refuses is reported under this name.
 *
 * @param <B> the loss's builder
 */
final class Param<B> {
    enum Kind {
        /** {@code none}, {@code sum} or {@code mean}. */
        REDUCTION,
        /** A number. */
        NUMBER,
        BOOLEAN,
        /** A 32-bit integer, or null where {@link #onNull} says what null means. */
        INTEGER
    }

    final String name;
    final Kind kind;
    /** The default as the listing shows it (the builder's own default applies). */
    final String fallback;
    private final BiConsumer<B, Object> set;
    /** What JSON null sets; null when null is not a value of this parameter. */
    final Consumer<B> onNull;
    /** What an absent parameter sets beyond the builder's default, or null. */
    final Consumer<B> onAbsent;
    /** The per-class table input that null stands for (given exactly when the value is null), or null. */
    final String nullMeansTable;
    /** Null may also come without the table: then it means "not given", the builder's default. */
    final boolean nullAlone;

    private Param(String name, Kind kind, String fallback, BiConsumer<B, Object> set, Consumer<B> onNull,
            Consumer<B> onAbsent, String nullMeansTable) {
        this(name, kind, fallback, set, onNull, onAbsent, nullMeansTable, false);
    }

    private Param(String name, Kind kind, String fallback, BiConsumer<B, Object> set, Consumer<B> onNull,
            Consumer<B> onAbsent, String nullMeansTable, boolean nullAlone) {
        this.nullAlone = nullAlone;
        this.name = name;
        this.kind = kind;
        this.fallback = fallback;
        this.set = set;
        this.onNull = onNull;
        this.onAbsent = onAbsent;
        this.nullMeansTable = nullMeansTable;
    }

    static <B> Param<B> reduction(String fallback, BiConsumer<B, Reduction> set) {
        return new Param<>("reduction", Kind.REDUCTION, fallback, (b, v) -> set.accept(b, (Reduction) v), null, null,
                null);
    }

    static <B> Param<B> number(String name, String fallback, BiConsumer<B, Float> set) {
        return new Param<>(name, Kind.NUMBER, fallback, (b, v) -> set.accept(b, (Float) v), null, null, null);
    }

    /** A number whose null means "not given": the builder's default, which {@code fallback} shows. */
    static <B> Param<B> numberOrNull(String name, String fallback, BiConsumer<B, Float> set) {
        return new Param<>(name, Kind.NUMBER, fallback, (b, v) -> set.accept(b, (Float) v), b -> {}, null, null);
    }

    static <B> Param<B> bool(String name, String fallback, BiConsumer<B, Boolean> set) {
        return new Param<>(name, Kind.BOOLEAN, fallback, (b, v) -> set.accept(b, (Boolean) v), null, null, null);
    }

    static <B> Param<B> integer(String name, String fallback, BiConsumer<B, Integer> set, Consumer<B> onNull,
            Consumer<B> onAbsent) {
        return new Param<>(name, Kind.INTEGER, fallback, (b, v) -> set.accept(b, (Integer) v), onNull, onAbsent,
                null);
    }

    /** A number whose null means "per class, from the table input {@code table}". */
    static <B> Param<B> numberOrTable(String name, String fallback, BiConsumer<B, Float> set, String table) {
        return new Param<>(name, Kind.NUMBER, fallback, (b, v) -> set.accept(b, (Float) v), b -> {}, null, table);
    }

    /**
     * A number whose null means "per class, from the table input {@code table}" when that is given,
     * else "not given" (the builder's default, which {@code fallback} shows).
     */
    static <B> Param<B> numberNullOrTable(String name, String fallback, BiConsumer<B, Float> set, String table) {
        return new Param<>(name, Kind.NUMBER, fallback, (b, v) -> set.accept(b, (Float) v), b -> {}, null, table,
                true);
    }

    /**
     * Sets {@code value} (a {@link Number}, {@link Boolean} or {@link String} as JSON gives it; a
     * null value is JSON null) on the builder, or throws {@link IllegalArgumentException} that
     * starts with {@code params.<name>}.
     */
    void apply(B builder, Object value) {
        if (value == null) {
            if (onNull == null) throw new IllegalArgumentException("params." + name + " is null");
            onNull.accept(builder);
            return;
        }
        try {
            set.accept(builder, convert(value));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("params." + name + ": " + e.getMessage(), e);
        }
    }

    private Object convert(Object value) {
        switch (kind) {
            case REDUCTION:
                if (value instanceof String) {
                    String s = (String) value;
                    if (s.equals("none") || s.equals("sum") || s.equals("mean")) {
                        return Reduction.valueOf(s.toUpperCase(Locale.ROOT));
                    }
                }
                throw new IllegalArgumentException("\"" + value + "\" is not none, sum or mean");
            case NUMBER:
                return (float) number(value);
            case BOOLEAN:
                if (value instanceof Boolean) return value;
                if (value instanceof Number && (((Number) value).doubleValue() == 0 || ((Number) value).doubleValue() == 1)) {
                    return ((Number) value).doubleValue() == 1;
                }
                throw new IllegalArgumentException(value + " is not true or false");
            case INTEGER:
                double v = number(value);
                if (v != Math.rint(v) || v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
                    throw new IllegalArgumentException(value + " is not a 32-bit integer");
                }
                return (int) v;
            default:
                throw new IllegalStateException(kind.toString());
        }
    }

    /** Numbers come as {@link Number}s: the tools parse the case format's spellings ("inf", "1e4"). */
    private static double number(Object value) {
        if (value instanceof Number) return ((Number) value).doubleValue();
        throw new IllegalArgumentException(value + " is not a number");
    }
}
