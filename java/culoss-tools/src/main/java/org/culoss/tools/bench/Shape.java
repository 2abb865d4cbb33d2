package org.culoss.tools.bench;

import java.util.Arrays;
import java.util.stream.Collectors;

/** A benchmark shape such as {@code 4096x1000}: positive sizes separated by {@code x}. */
public record Shape(long[] dims) {
    public static Shape parse(String text) {
        String[] parts = text.trim().toLowerCase().split("x");
        long[] dims = new long[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                dims[i] = Long.parseLong(parts[i]);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("shape \"" + text + "\" is not sizes separated by x (e.g. 4096x1000)");
            }
            if (dims[i] < 1) throw new IllegalArgumentException("shape \"" + text + "\" has a size below 1");
        }
        return new Shape(dims);
    }

    public int rank() {
        return dims.length;
    }

    /** Size {@code i} as an int (the Java APIs index with ints). */
    public int dim(int i) {
        return Math.toIntExact(dims[i]);
    }

    public long elements() {
        return Arrays.stream(dims).reduce(1, Math::multiplyExact);
    }

    /** Throws unless the shape has {@code rank} sizes; {@code form} names them, e.g. "NxC". */
    Shape require(int rank, String loss, String form) {
        if (dims.length != rank) throw new IllegalArgumentException(loss + " takes a shape " + form + ", not " + this);
        return this;
    }

    @Override
    public String toString() {
        return Arrays.stream(dims).mapToObj(Long::toString).collect(Collectors.joining("x"));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Shape s && Arrays.equals(dims, s.dims);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(dims);
    }
}
