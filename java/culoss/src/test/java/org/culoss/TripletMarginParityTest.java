package org.culoss;

import static org.culoss.testing.DirectBuffers.unaligned;
import static org.culoss.testing.TestArrays.assertClose;
import static org.culoss.testing.TestArrays.direct;
import static org.culoss.testing.TestArrays.toArray;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.FloatBuffer;
import java.util.Random;
import java.util.stream.Stream;
import org.culoss.testing.BackendMemory;
import org.culoss.testing.BackendsUnderTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The native backend of this JVM against the java backend (itself checked against a float64
 * reference and finite differences), through every way of calling: arrays, heap and direct
 * buffers (one float past an aligned start: every row unaligned), backend memory, forward alone,
 * backward alone and with some gradients left out. The inputs mix plain rows, rows whose negative
 * is near the positive (swap changes the choice), identical anchor and positive, and inactive rows.
 */
class TripletMarginParityTest {
    private static final float INF = Float.POSITIVE_INFINITY;

    static Stream<Arguments> shapes() {
        // n, d, p, swap, reduction, margin, eps
        return Stream.of(
                Arguments.of(0, 5, 2f, false, Reduction.MEAN, 1f, 1e-6f),
                Arguments.of(1, 1, 2f, false, Reduction.SUM, 1f, 1e-6f),
                Arguments.of(9, 1, 1f, true, Reduction.NONE, 0.5f, 1e-6f),
                Arguments.of(13, 3, 1.5f, true, Reduction.MEAN, 1f, 1e-6f),
                Arguments.of(21, 5, 3f, false, Reduction.NONE, 1f, 0.1f),
                Arguments.of(35, 16, INF, true, Reduction.SUM, 2f, 1e-6f),
                Arguments.of(30, 64, 2f, true, Reduction.MEAN, 1f, 1e-6f),
                Arguments.of(11, 100, 0.5f, false, Reduction.NONE, 1f, 1e-6f),
                Arguments.of(7, 512, 2f, true, Reduction.NONE, 1f, 1e-6f),
                Arguments.of(5, 513, 1f, false, Reduction.SUM, 3f, 0f),
                Arguments.of(3, 4097, 2f, true, Reduction.MEAN, 1f, 1e-6f),
                Arguments.of(2, 9000, 1.5f, true, Reduction.NONE, 4f, 1e-6f));
    }

    private static Backend nativeBackend() {
        Backend b = BackendsUnderTest.nativeOrNull();
        assumeTrue(b != null, BackendsUnderTest::whyNoNative);
        return b;
    }

    private static TripletMargin loss(Backend b, float p, boolean swap, Reduction r, float margin, float eps) {
        return TripletMargin.builder().backend(b).p(p).swap(swap).reduction(r).margin(margin).eps(eps).build();
    }

    /** Inputs: [anchor, positive, negative], n x d each. */
    static float[][] inputs(Random rnd, int n, int d) {
        float[][] x = new float[3][n * d];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < d; j++) {
                int at = i * d + j;
                float a = (float) rnd.nextGaussian();
                float p = i % 5 == 4 ? a : a + (float) rnd.nextGaussian() * 0.5f;
                float neg = (float) rnd.nextGaussian();
                if (i % 3 == 1) neg = p + (float) rnd.nextGaussian() * 0.3f;  // swap picks dist(p, n)
                if (i % 7 == 6) neg = a + 10f;                                 // inactive
                x[0][at] = a;
                x[1][at] = p;
                x[2][at] = neg;
            }
        }
        return x;
    }

    @ParameterizedTest(name = "n={0} d={1} p={2} swap={3} {4} margin={5} eps={6}")
    @MethodSource("shapes")
    void nativeMatchesJavaOnEveryApi(int n, int d, float p, boolean swap, Reduction r, float margin, float eps) {
        Backend nat = nativeBackend();
        Random rnd = new Random(n * 31L + d);
        float[][] x = inputs(rnd, n, d);
        int len = n * d;
        int lossLength = r == Reduction.NONE ? n : 1;
        float[] gradOutput = new float[lossLength];
        for (int i = 0; i < lossLength; i++) gradOutput[i] = rnd.nextFloat() * 2f - 1f;

        TripletMargin java = loss(Culoss.java(), p, swap, r, margin, eps);
        TripletMargin tm = loss(nat, p, swap, r, margin, eps);
        TripletMargin.Result ref = java.forwardBackward(x[0], x[1], x[2], n, d, gradOutput);

        // 0. arrays
        TripletMargin.Result arrays = tm.forwardBackward(x[0], x[1], x[2], n, d, gradOutput);
        assertAllClose(ref, arrays, "arrays");

        // 1. heap buffers
        float[] loss1 = new float[lossLength];
        float[][] g1 = new float[3][len];
        tm.forwardBackward(FloatBuffer.wrap(x[0]), FloatBuffer.wrap(x[1]), FloatBuffer.wrap(x[2]), n, d,
                FloatBuffer.wrap(gradOutput), FloatBuffer.wrap(loss1), FloatBuffer.wrap(g1[0]), FloatBuffer.wrap(g1[1]),
                FloatBuffer.wrap(g1[2]));
        assertAllClose(ref, new TripletMargin.Result(loss1, g1[0], g1[1], g1[2]), "heap");

        // 2. direct buffers one float past an aligned start: the kernels take the scalar path
        FloatBuffer[] in = new FloatBuffer[3];
        FloatBuffer[] out = new FloatBuffer[3];
        for (int w = 0; w < 3; w++) {
            in[w] = unaligned(x[w]);
            out[w] = unaligned(len);
        }
        FloatBuffer dLoss = direct(lossLength);
        tm.forwardBackward(in[0], in[1], in[2], n, d, FloatBuffer.wrap(gradOutput), dLoss, out[0], out[1], out[2]);
        assertAllClose(ref, new TripletMargin.Result(toArray(dLoss, lossLength), toArray(out[0], len),
                toArray(out[1], len), toArray(out[2], len)), "direct");

        // 3. backend memory, queued on the default stream, with a workspace
        if (n > 0) {
            try (BackendMemory mem = new BackendMemory(nat)) {
                DeviceBuffer a = mem.floats(x[0]);
                DeviceBuffer pos = mem.floats(x[1]);
                DeviceBuffer neg = mem.floats(x[2]);
                DeviceBuffer ga = mem.floats(len);
                DeviceBuffer gp = mem.floats(len);
                DeviceBuffer gn = mem.floats(len);
                DeviceBuffer go = mem.floats(gradOutput);
                DeviceBuffer l = mem.floats(lossLength);
                DeviceBuffer ws = mem.add(tm.allocateWorkspace(n, d));
                tm.forwardBackward(a, pos, neg, n, d, go, l, ga, gp, gn, ws);
                nat.synchronize(0);
                float[] loss3 = new float[lossLength];
                float[][] g3 = new float[3][len];
                l.copyTo(loss3);
                ga.copyTo(g3[0]);
                gp.copyTo(g3[1]);
                gn.copyTo(g3[2]);
                assertAllClose(ref, new TripletMargin.Result(loss3, g3[0], g3[1], g3[2]), "device");

                // forward alone, backward alone with some gradients, on device memory
                try (DeviceBuffer l2 = nat.allocateFloats(lossLength)) {
                    tm.forward(a, pos, neg, n, d, l2, ws);
                    float[] loss4 = new float[lossLength];
                    l2.copyTo(loss4);
                    assertClose(ref.loss(), loss4, "device forward", 1e-5);
                }
                ga.copyFrom(new float[len]);
                tm.backward(a, pos, neg, n, d, go, null, gp, null, null);
                float[] g5 = new float[len];
                gp.copyTo(g5);
                assertClose(ref.gradPositive(), g5, "device backward, positive only", 1e-5);
                float[] untouched = new float[len];
                ga.copyTo(untouched);
                assertArrayEquals(new float[len], untouched, "gradAnchor was not asked for");
            }
        }

        // 4. forward alone and backward alone on arrays and buffers
        assertClose(ref.loss(), tm.forward(x[0], x[1], x[2], n, d), "forward", 1e-5);
        TripletMargin.Result back = tm.backward(x[0], x[1], x[2], n, d, gradOutput);
        assertNull(back.loss());
        assertAllClose(new TripletMargin.Result(null, ref.gradAnchor(), ref.gradPositive(), ref.gradNegative()), back,
                "backward");
        float[] gn6 = new float[len];
        tm.backward(FloatBuffer.wrap(x[0]), FloatBuffer.wrap(x[1]), FloatBuffer.wrap(x[2]), n, d,
                FloatBuffer.wrap(gradOutput), null, null, FloatBuffer.wrap(gn6));
        assertClose(ref.gradNegative(), gn6, "backward, negative only", 1e-5);
    }

    @Test
    void kinksAgreeOnEveryBackend() {
        // loss exactly 0 (the gradient passes) and a swap tie (half and half): PyTorch 1.13's values.
        for (Backend b : BackendsUnderTest.all()) {
            TripletMargin zero = TripletMargin.builder().backend(b).eps(0f).reduction(Reduction.SUM).build();
            TripletMargin.Result r = zero.forwardBackward(new float[] {0, 0}, new float[] {1, 0}, new float[] {2, 0}, 1, 2);
            assertEquals(0f, r.loss()[0], b.name());
            assertClose(new float[] {0, 0}, r.gradAnchor(), b + " zero anchor", 1e-6);
            assertClose(new float[] {1, 0}, r.gradPositive(), b + " zero positive", 1e-6);
            assertClose(new float[] {-1, 0}, r.gradNegative(), b + " zero negative", 1e-6);

            TripletMargin tie = TripletMargin.builder().backend(b).eps(0f).swap(true).reduction(Reduction.SUM).build();
            r = tie.forwardBackward(new float[] {1, 0}, new float[] {0, 1}, new float[] {0, 0}, 1, 2);
            assertEquals(1.414213562373095, r.loss()[0], 1e-6, b.name());
            assertClose(new float[] {0.20710678f, -0.70710678f}, r.gradAnchor(), b + " tie anchor", 1e-6);
            assertClose(new float[] {-0.70710678f, 0.20710678f}, r.gradPositive(), b + " tie positive", 1e-6);
            assertClose(new float[] {0.5f, 0.5f}, r.gradNegative(), b + " tie negative", 1e-6);
        }
    }

    @Test
    void theReducedLossIsTheSameBitsEveryRun() {
        Backend nat = nativeBackend();
        int n = 5000, d = 12;
        float[][] x = inputs(new Random(3), n, d);
        TripletMargin tm = TripletMargin.builder().backend(nat).swap(true).build();
        TripletMargin.Result first = tm.forwardBackward(x[0], x[1], x[2], n, d);
        for (int k = 0; k < 2; k++) {
            TripletMargin.Result again = tm.forwardBackward(x[0], x[1], x[2], n, d);
            assertEquals(Float.floatToRawIntBits(first.loss()[0]), Float.floatToRawIntBits(again.loss()[0]));
            assertArrayEquals(first.gradAnchor(), again.gradAnchor());
            assertArrayEquals(first.gradNegative(), again.gradNegative());
        }
    }

    private static void assertAllClose(TripletMargin.Result expected, TripletMargin.Result actual, String what) {
        if (expected.loss() != null) assertClose(expected.loss(), actual.loss(), what + " loss", 1e-5);
        assertClose(expected.gradAnchor(), actual.gradAnchor(), what + " gradAnchor", 1e-5);
        assertClose(expected.gradPositive(), actual.gradPositive(), what + " gradPositive", 1e-5);
        assertClose(expected.gradNegative(), actual.gradNegative(), what + " gradNegative", 1e-5);
    }
}
