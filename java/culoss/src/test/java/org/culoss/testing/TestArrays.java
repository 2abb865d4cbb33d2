package org.culoss.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Arrays;

/** What the tests share for arrays and buffers: conversions, direct copies, and the closeness rule. */
public final class TestArrays {
    private TestArrays() {}

    public static double[] toDouble(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) d[i] = a[i];
        return d;
    }

    /** The largest magnitude over all the arrays. */
    public static double maxAbs(double[]... arrays) {
        double m = 0;
        for (double[] a : arrays) {
            for (double v : a) m = Math.max(m, Math.abs(v));
        }
        return m;
    }

    /** A direct, native-order copy of {@code a} (its limit is the length). */
    public static FloatBuffer direct(float[] a) {
        FloatBuffer b = direct(a.length);
        b.put(0, a);
        return b.limit(a.length);
    }

    /** An empty direct, native-order buffer of {@code floats} (at least one float of memory). */
    public static FloatBuffer direct(int floats) {
        return ByteBuffer.allocateDirect(Math.max(4, floats * 4)).order(ByteOrder.nativeOrder()).asFloatBuffer();
    }

    /** A heap buffer of NaN: what a kernel leaves unwritten shows. */
    public static FloatBuffer nanFilled(int length) {
        float[] a = new float[length];
        Arrays.fill(a, Float.NaN);
        return FloatBuffer.wrap(a);
    }

    /** The first {@code length} floats of {@code b} from index 0. */
    public static float[] toArray(FloatBuffer b, int length) {
        float[] out = new float[length];
        b.duplicate().clear().get(out);
        return out;
    }

    /** Relative L2 error within 1e-5, non-finite values in the same places. */
    public static void assertClose(float[] expected, float[] actual, String what) {
        assertClose(expected, actual, what, 1e-5);
    }

    public static void assertClose(float[] expected, float[] actual, String what, double tolerance) {
        assertEquals(expected.length, actual.length, what + ": length");
        double diff = 0;
        double norm = 0;
        for (int i = 0; i < expected.length; i++) {
            if (!Float.isFinite(expected[i]) || !Float.isFinite(actual[i])) {
                assertEquals(expected[i], actual[i], what + ": non-finite at " + i);
                continue;
            }
            diff += (double) (expected[i] - actual[i]) * (expected[i] - actual[i]);
            norm += (double) expected[i] * expected[i];
        }
        double rel = Math.sqrt(diff) / Math.max(Math.sqrt(norm), 1e-12);
        assertTrue(rel <= tolerance, what + ": relative error " + rel);
    }
}
