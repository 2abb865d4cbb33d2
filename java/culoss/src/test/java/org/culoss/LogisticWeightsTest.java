package org.culoss;

import static org.culoss.testing.TestArrays.assertClose;
import static org.culoss.testing.TestArrays.toArray;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.FloatBuffer;
import java.util.Random;
import org.culoss.testing.BackendMemory;
import org.culoss.testing.BackendsUnderTest;
import org.culoss.testing.TestArrays;
import org.junit.jupiter.api.Test;

/**
 * The logistic loss with PyTorch's tensor weights through the typed API, on every backend under
 * test: a per-element weight and a pos_weight per class of the last dimension against the
 * formula in float64 (the reference cases check the same against PyTorch itself), the three ways
 * of calling agreeing bit for bit, a scalar pos_weight with a weight as a table of one class, and
 * the refusals that name their argument.
 */
class LogisticWeightsTest {
    private static final int ROWS = 1301;  // several 4096-element chunks, none starting at class 0
    private static final int CLASSES = 7;

    /** PyTorch's binary_cross_entropy_with_logits per element in float64: {loss, d loss / d x}. */
    private static double[] reference(double x, double t, double w, double p) {
        double lw = (p - 1) * t + 1;
        double loss = (1 - t) * x + lw * (Math.log1p(Math.exp(-Math.abs(x))) + Math.max(-x, 0));
        double grad = lw / (1 + Math.exp(-x)) - p * t;
        return new double[] {w * loss, w * grad};
    }

    @Test
    void weightAndPerClassPosWeightMatchTheFormulaOnEveryBackend() {
        Random rnd = new Random(11);
        int count = ROWS * CLASSES;
        float[] x = new float[count];
        float[] t = new float[count];
        float[] w = new float[count];
        float[] p = new float[CLASSES];
        for (int i = 0; i < count; i++) {
            x[i] = (float) (3 * rnd.nextGaussian());
            t[i] = rnd.nextInt(5) / 4f;
            w[i] = rnd.nextInt(49) / 16f - 0.5f;
        }
        for (int k = 0; k < CLASSES; k++) p[k] = 0.25f + k * 0.75f;
        float[] expectedNone = new float[count];
        float[] expectedGrad = new float[count];
        double sum = 0;
        for (int i = 0; i < count; i++) {
            double[] r = reference(x[i], t[i], w[i], p[i % CLASSES]);
            expectedNone[i] = (float) r[0];
            expectedGrad[i] = (float) (r[1] / count);
            sum += r[0];
        }
        for (Backend b : BackendsUnderTest.all()) {
            try (Logistic none = Logistic.builder().backend(b).reduction(Reduction.NONE).posWeights(p).build();
                 Logistic mean = Logistic.builder().backend(b).posWeights(p).build()) {
                assertClose(expectedNone, none.forward(x, t, w), "none loss on " + b);
                Logistic.Result r = mean.forwardBackward(x, t, w, null);
                assertEquals(sum / count, r.loss()[0], 1e-5 * Math.abs(sum / count), "mean loss on " + b);
                assertClose(expectedGrad, r.gradLogits(), "mean gradient on " + b);
                assertArrayEquals(r.gradLogits(), mean.backward(x, t, w, null), "backward alone on " + b);
                sameOnBuffers(mean, x, t, w, r);
            }
        }
    }

    /** Direct host buffers and backend memory give the array call's bits. */
    private static void sameOnBuffers(Logistic loss, float[] x, float[] t, float[] w, Logistic.Result arrays) {
        int count = x.length;
        FloatBuffer lossOut = TestArrays.direct(1);
        FloatBuffer grad = TestArrays.direct(count);
        loss.forwardBackward(TestArrays.direct(x), TestArrays.direct(t), TestArrays.direct(w), count, null, lossOut, grad);
        assertArrayEquals(arrays.loss(), toArray(lossOut, 1), "host buffers' loss");
        assertArrayEquals(arrays.gradLogits(), toArray(grad, count), "host buffers' gradient");
        try (BackendMemory m = new BackendMemory(loss.backend())) {
            DeviceBuffer dl = m.floats(1);
            DeviceBuffer dg = m.floats(count);
            loss.forwardBackward(m.floats(x), m.floats(t), m.floats(w), count, null, dl, dg,
                    m.add(loss.allocateWorkspace(count)));
            float[] l = new float[1];
            float[] g = new float[count];
            dl.copyTo(l);
            dg.copyTo(g);
            assertArrayEquals(arrays.loss(), l, "backend memory's loss");
            assertArrayEquals(arrays.gradLogits(), g, "backend memory's gradient");
        }
    }

    @Test
    void aScalarPosWeightWithAWeightIsATableOfOneClass() {
        Random rnd = new Random(5);
        float[] x = new float[50];
        float[] t = new float[50];
        float[] w = new float[50];
        float[] ones = new float[50];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (4 * rnd.nextGaussian());
            t[i] = rnd.nextFloat();
            w[i] = 2 * rnd.nextFloat();
            ones[i] = 1f;
        }
        for (Backend b : BackendsUnderTest.all()) {
            try (Logistic scalar = Logistic.builder().backend(b).reduction(Reduction.NONE).posWeight(3f).build();
                 Logistic table = Logistic.builder().backend(b).reduction(Reduction.NONE).posWeights(new float[] {3f})
                         .build()) {
                assertNull(scalar.posWeights());
                assertArrayEquals(new float[] {3f}, table.posWeights());
                Logistic.Result weighted = scalar.forwardBackward(x, t, w, null);
                assertArrayEquals(weighted.loss(), table.forward(x, t, w), "scalar against table on " + b);
                // weight all 1 and no weight: the same bits, through both forms
                assertArrayEquals(scalar.forward(x, t), scalar.forward(x, t, ones), "no weight on " + b);
                assertArrayEquals(table.forward(x, t), scalar.forward(x, t), "table without weight on " + b);
                for (int i = 0; i < x.length; i++) {
                    assertEquals(reference(x[i], t[i], w[i], 3)[0], weighted.loss()[i],
                            1e-5 * Math.max(1, Math.abs(weighted.loss()[i])), "element " + i + " on " + b);
                }
            }
        }
    }

    @Test
    void refusalsNameTheirArgument() {
        for (Backend b : BackendsUnderTest.all()) {
            try (Logistic loss = Logistic.builder().backend(b).posWeights(new float[] {1f, 2f, 3f}).build()) {
                float[] seven = new float[7];
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> loss.forward(seven, seven));
                assertTrue(e.getMessage().startsWith("count (7) is not a multiple of the classes (3)"), e.getMessage());
                float[] six = new float[6];
                e = assertThrows(IllegalArgumentException.class, () -> loss.forward(six, six, new float[5]));
                assertTrue(e.getMessage().startsWith("weight "), e.getMessage());
                e = assertThrows(IllegalArgumentException.class, () -> loss.forwardBackward(TestArrays.direct(six),
                        TestArrays.direct(six), TestArrays.direct(5), 6, null, TestArrays.direct(1),
                        TestArrays.direct(6)));
                assertTrue(e.getMessage().startsWith("weight "), e.getMessage());
                assertEquals(loss.workspaceBytes(6), loss.workspaceBytes(6));
                assertThrows(IllegalArgumentException.class, () -> loss.workspaceBytes(7));
            }
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Logistic.builder().posWeights(new float[] {1f, Float.NaN}));
        assertTrue(e.getMessage().startsWith("posWeights[1] "), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Logistic.builder().posWeights(new float[0]));
        assertTrue(e.getMessage().startsWith("posWeights "), e.getMessage());
    }
}
