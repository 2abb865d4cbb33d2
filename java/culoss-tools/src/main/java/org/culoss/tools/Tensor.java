package org.culoss.tools;

import java.util.Arrays;

/** A tensor of a case: its shape and its row-major values, read in float64. */
public final class Tensor {
    private final int[] shape;
    private final double[] data;

    public Tensor(int[] shape, double[] data) {
        long size = size(shape);
        if (size != data.length) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " holds " + size
                    + " values, data has " + data.length);
        }
        this.shape = shape.clone();
        this.data = data;
    }

    /** A tensor from float32 values (what a backend produced). */
    public static Tensor of(int[] shape, float[] values) {
        double[] data = new double[values.length];
        for (int i = 0; i < values.length; i++) data[i] = values[i];
        return new Tensor(shape, data);
    }

    public int[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    public int dim(int i) {
        return shape[i];
    }

    public int size() {
        return data.length;
    }

    public double get(int i) {
        return data[i];
    }

    /** The values rounded to float32. */
    public float[] toFloats() {
        float[] out = new float[data.length];
        for (int i = 0; i < data.length; i++) out[i] = (float) data[i];
        return out;
    }

    /** The values as int32; every value must be an integer in range. */
    public int[] toInts(String name) {
        int[] out = new int[data.length];
        for (int i = 0; i < data.length; i++) {
            double v = data[i];
            if (v != Math.rint(v) || v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
                throw new CaseException(name + "[" + i + "] (" + v + ") is not a 32-bit integer");
            }
            out[i] = (int) v;
        }
        return out;
    }

    public boolean hasShape(int... expected) {
        return Arrays.equals(shape, expected);
    }

    /** {@code [2, 3]}, or {@code []} for a scalar. */
    public static String shapeString(int[] shape) {
        return Arrays.toString(shape);
    }

    /** The multi-index of a flat position, for messages: {@code [1, 4]}. */
    public String indexString(int flat) {
        int[] idx = new int[shape.length];
        for (int d = shape.length - 1; d >= 0; d--) {
            if (shape[d] > 0) {
                idx[d] = flat % shape[d];
                flat /= shape[d];
            }
        }
        return Arrays.toString(idx);
    }

    static long size(int[] shape) {
        long n = 1;
        for (int d : shape) n *= d;
        return n;
    }
}
