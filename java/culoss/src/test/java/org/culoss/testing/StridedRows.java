package org.culoss.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * Row-major matrices laid out as a caller's strided slice: each row of {@code width} values
 * followed by padding up to {@code stride}, the whole starting {@code offset} floats into a larger
 * allocation. The per-row kernels (softmax cross-entropy, softmax focal) take such slices; their
 * tests run one next to a packed run and check that the padding is neither read nor written.
 */
public final class StridedRows {
    private StridedRows() {}

    /** What the padding of an output holds before and, if untouched, after the kernel. */
    public static final float OUTPUT_PADDING = -7f;

    /** A direct slice holding {@code packed}'s rows at {@code stride}; the padding is NaN, so reading it shows. */
    public static FloatBuffer input(float[] packed, int rows, int width, int stride, int offset) {
        float[] padded = new float[offset + rows * stride];
        Arrays.fill(padded, Float.NaN);
        for (int i = 0; i < rows; i++) {
            System.arraycopy(packed, i * width, padded, offset + i * stride, width);
        }
        return TestArrays.direct(padded).position(offset).slice();
    }

    /** A heap slice of {@code rows * stride} values, all {@link #OUTPUT_PADDING}. */
    public static FloatBuffer output(int rows, int stride, int offset) {
        FloatBuffer out = FloatBuffer.wrap(new float[offset + rows * stride]).position(offset).slice();
        for (int i = 0; i < out.capacity(); i++) {
            out.put(i, OUTPUT_PADDING);
        }
        return out;
    }

    /** Each row of {@code out} is the packed row bit for bit, and its padding is untouched. */
    public static void assertRowsThenPadding(float[] packed, FloatBuffer out, int rows, int width, int stride) {
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < stride; j++) {
                float expected = j < width ? packed[i * width + j] : OUTPUT_PADDING;
                assertEquals(expected, out.get(i * stride + j), "row " + i + " column " + j);
            }
        }
    }
}
