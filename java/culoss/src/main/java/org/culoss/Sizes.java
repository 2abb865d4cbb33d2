package org.culoss;

/**
 * Every size the library computes from sizes a caller gave (element counts, row extents, bytes):
 * the one place they are multiplied, each product checked. A size that does not fit a long is
 * refused naming the argument; it is never wrapped into a small or negative one, which would
 * let a kernel read past a buffer that passed a length check.
 */
final class Sizes {
    private Sizes() {}

    /** The longest Java array every JVM allocates (some reserve a few header words of the 2^31 - 1). */
    static final long MAX_ARRAY_LENGTH = Integer.MAX_VALUE - 8;

    /** {@code count} elements of {@code elementBytes} each, in bytes. */
    static long bytes(long count, int elementBytes, String name) {
        Checks.nonNegative(count, name);
        if (count > Long.MAX_VALUE / elementBytes) {
            throw new IllegalArgumentException(name + " (" + count + ") is more bytes than a long counts");
        }
        return count * elementBytes;
    }

    /** The product of non-negative sizes, named {@code what} in the error. */
    static long product(String what, long... factors) {
        try {
            return exactProduct(factors);
        } catch (ArithmeticException e) {
            StringBuilder values = new StringBuilder();
            for (long f : factors) values.append(values.length() == 0 ? "" : " * ").append(f);
            throw new IllegalArgumentException(what + " (" + values + ") is more than a long counts");
        }
    }

    /** a * b, or {@link ArithmeticException} when it overflows a long; allocates nothing (calls use it). */
    static long exactProduct(long a, long b) {
        return Math.multiplyExact(a, b);
    }

    /** The product of sizes, or {@link ArithmeticException} when it overflows a long. */
    static long exactProduct(long... factors) {
        long p = 1;
        for (long f : factors) p = Math.multiplyExact(p, f);
        return p;
    }

    /**
     * The elements {@code rows} rows of {@code cols} span at row stride {@code stride}: the last
     * row ends at {@code (rows - 1) * stride + cols}. {@link ArithmeticException} when it overflows.
     */
    static long exactRowsExtent(long rows, long stride, long cols) {
        return rows == 0 ? 0 : Math.addExact(Math.multiplyExact(rows - 1, stride), cols);
    }
}
