package org.culoss;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Random;
import org.culoss.testing.BackendsUnderTest;
import org.junit.jupiter.api.Test;

/**
 * Softmax cross-entropy with soft targets through the public API ({@code ...Probs}), on every
 * backend under test: one-hot probabilities give what class indices give, each way of calling
 * (arrays, direct buffers, backend memory) gives the Java backend's values, a float64 formula
 * agrees, and a bad argument is an exception that names it.
 */
class SoftTargetsTest {
    private static final int N = 37;
    private static final int C = 300;  // past 256: the native backend's warp path with several chunks

    @Test
    void oneHotProbabilitiesGiveTheClassIndexLoss() {
        Random rnd = new Random(1);
        float[] x = gaussian(rnd, N * C);
        int[] y = rnd.ints(N, 0, C).toArray();
        float[] t = new float[N * C];
        for (int i = 0; i < N; i++) t[i * C + y[i]] = 1f;
        for (Backend b : BackendsUnderTest.all()) {
            for (Reduction r : new Reduction[] {Reduction.NONE, Reduction.SUM, Reduction.MEAN}) {
                try (SoftmaxCrossEntropy ce = SoftmaxCrossEntropy.builder().backend(b).reduction(r)
                        .labelSmoothing(0.1f).noIgnoreIndex().build()) {
                    SoftmaxCrossEntropy.Result hard = ce.forwardBackward(x, y, N, C);
                    SoftmaxCrossEntropy.Result soft = ce.forwardBackwardProbs(x, t, N, C);
                    close(hard.loss(), soft.loss(), 1e-5, b + " " + r + " loss");
                    close(hard.gradLogits(), soft.gradLogits(), 1e-5, b + " " + r + " gradient");
                }
            }
        }
    }

    @Test
    void everyWayOfCallingAgreesWithTheFormula() {
        Random rnd = new Random(2);
        float[] x = gaussian(rnd, N * C);
        float[] t = new float[N * C];
        for (int k = 0; k < t.length; k++) t[k] = 1.5f * rnd.nextFloat() - 0.5f;  // any real, as PyTorch takes
        float[] w = new float[C];
        for (int j = 0; j < C; j++) w[j] = 0.25f + rnd.nextFloat();
        float e = 0.2f;
        double[] expectedGrad = new double[N * C];
        double expectedLoss = 0;
        for (int i = 0; i < N; i++) {  // float64: a_j = w_j ((1 - e) t_j + e / C), mean over N
            double m = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < C; j++) m = Math.max(m, x[i * C + j]);
            double s = 0;
            for (int j = 0; j < C; j++) s += Math.exp(x[i * C + j] - m);
            double lse = m + Math.log(s);
            double total = 0;
            double[] a = new double[C];
            for (int j = 0; j < C; j++) {
                a[j] = w[j] * ((1 - e) * t[i * C + j] + e / C);
                total += a[j];
                expectedLoss += a[j] * (lse - x[i * C + j]) / N;
            }
            for (int j = 0; j < C; j++) expectedGrad[i * C + j] = (Math.exp(x[i * C + j] - lse) * total - a[j]) / N;
        }
        for (Backend b : BackendsUnderTest.all()) {
            try (SoftmaxCrossEntropy ce = SoftmaxCrossEntropy.builder().backend(b).classWeights(w).labelSmoothing(e)
                    .build()) {
                SoftmaxCrossEntropy.Result arrays = ce.forwardBackwardProbs(x, t, N, C);
                assertEquals(expectedLoss, arrays.loss()[0], 1e-5 * Math.abs(expectedLoss), b + " loss");
                closeTo(expectedGrad, arrays.gradLogits(), b + " gradient");

                FloatBuffer loss = direct(1);
                FloatBuffer grad = direct(N * C);
                ce.forwardBackwardProbs(direct(x), C, direct(t), N, C, null, loss, grad, C);
                assertEquals(arrays.loss()[0], loss.get(0), 1e-6 * Math.abs(arrays.loss()[0]), b + " direct loss");
                float[] g = new float[N * C];
                grad.get(0, g);
                close(arrays.gradLogits(), g, 1e-6, b + " direct gradient");

                try (DeviceBuffer dx = b.allocateFloats(N * C); DeviceBuffer dt = b.allocateFloats(N * C);
                        DeviceBuffer dl = b.allocateFloats(1);
                        DeviceBuffer ws = b.allocateFloats(Math.max(1, ce.workspaceBytesProbs(N, C) / 4))) {
                    dx.copyFrom(x);
                    dt.copyFrom(t);
                    // In place: the gradient over the logits.
                    ce.forwardBackwardProbs(dx, C, dt, N, C, null, dl, dx, C, ws);
                    float[] dloss = new float[1];
                    dl.copyTo(dloss);
                    dx.copyTo(g);
                    assertEquals(arrays.loss()[0], dloss[0], 1e-6 * Math.abs(arrays.loss()[0]), b + " device loss");
                    close(arrays.gradLogits(), g, 1e-6, b + " device gradient, in place");
                }
            }
        }
    }

    @Test
    void badArgumentsNameTheirTensor() {
        try (SoftmaxCrossEntropy ce = SoftmaxCrossEntropy.builder().build()) {
            float[] x = new float[6];
            IllegalArgumentException short_ = assertThrows(IllegalArgumentException.class,
                    () -> ce.forwardBackwardProbs(x, new float[5], 2, 3));
            assertTrue(short_.getMessage().contains("targetProbs"), short_.getMessage());
            IllegalArgumentException none = assertThrows(IllegalArgumentException.class,
                    () -> ce.forwardProbs(x, null, 2, 3));
            assertTrue(none.getMessage().contains("targetProbs"), none.getMessage());
        }
    }

    private static float[] gaussian(Random rnd, int count) {
        float[] v = new float[count];
        for (int i = 0; i < count; i++) v[i] = (float) (2 * rnd.nextGaussian());
        return v;
    }

    private static FloatBuffer direct(int count) {
        return ByteBuffer.allocateDirect(count * 4).order(ByteOrder.nativeOrder()).asFloatBuffer();
    }

    private static FloatBuffer direct(float[] values) {
        FloatBuffer b = direct(values.length);
        b.put(values).flip();
        return b;
    }

    private static void close(float[] expected, float[] actual, double rtol, String what) {
        assertEquals(expected.length, actual.length, what);
        double scale = 0;
        for (float v : expected) scale = Math.max(scale, Math.abs(v));
        for (int k = 0; k < expected.length; k++) {
            assertEquals(expected[k], actual[k], rtol * Math.max(scale, 1e-30), what + " at " + k);
        }
    }

    private static void closeTo(double[] expected, float[] actual, String what) {
        double scale = 0;
        for (double v : expected) scale = Math.max(scale, Math.abs(v));
        for (int k = 0; k < expected.length; k++) assertEquals(expected[k], actual[k], 1e-5 * scale, what + " at " + k);
    }
}
