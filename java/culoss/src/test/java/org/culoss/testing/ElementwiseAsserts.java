package org.culoss.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Element-by-element comparison of a kernel's output (or an analytic gradient) with a float64
 * reference or finite differences. Unlike {@link TestArrays#assertClose}'s L2 rule, every element
 * must be within its own tolerance, so one wrong element among many large ones fails; the
 * message names the element.
 */
public final class ElementwiseAsserts {
    private ElementwiseAsserts() {}

    /** The same length, and every |expected_i - actual_i| <= tolerance. */
    public static void assertEachWithin(double[] expected, float[] actual, double tolerance, String what) {
        assertEachWithin(expected, TestArrays.toDouble(actual), tolerance, what);
    }

    /** The same length, and every |expected_i - actual_i| <= tolerance. */
    public static void assertEachWithin(double[] expected, double[] actual, double tolerance, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], tolerance, what + " " + i);
        }
    }

    /**
     * The same length, and every |expected_i - actual_i| <= relative * max(minMagnitude,
     * |expected_i|): for losses, whose elements are rounded relative to their own size; values
     * below minMagnitude are held to an absolute relative * minMagnitude.
     */
    public static void assertEachRelative(double[] expected, float[] actual, double relative, double minMagnitude,
                                          String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], relative * Math.max(minMagnitude, Math.abs(expected[i])), what + " " + i);
        }
    }

    /**
     * Every element of the given rows of a row-major {@code values} with {@code width} columns is
     * exactly 0: the gradient of rows a kernel must skip (bad or ignored labels).
     */
    public static void assertRowsZero(float[] values, int width, int... rows) {
        for (int i : rows) {
            for (int j = 0; j < width; j++) {
                assertEquals(0f, values[i * width + j], "row " + i + " column " + j);
            }
        }
    }

    /** No NaN or infinity in any of the arrays: what overflow in a naive exp or log would leave. */
    public static void assertAllFinite(String what, float[]... arrays) {
        for (int a = 0; a < arrays.length; a++) {
            for (int i = 0; i < arrays[a].length; i++) {
                assertTrue(Float.isFinite(arrays[a][i]), what + ": output " + a + " element " + i);
            }
        }
    }
}
