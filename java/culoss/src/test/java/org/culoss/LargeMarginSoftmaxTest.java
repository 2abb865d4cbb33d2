package org.culoss;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.culoss.testing.BackendsUnderTest;
import org.culoss.testing.FiniteDifferences;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * L-Softmax where its piecewise definition joins: rows whose target angle sits on each boundary
 * k pi / m and just either side of it (and at 0 and pi), on every backend, the feature and weight
 * gradients against central finite differences of the paper's own definition in float64 (acos,
 * then k from theta). A wrong k, a wrong sign of (-1)^k or a wrong psi derivative would show as
 * an O(1) error here.
 * Then the backends against each other, bit for bit: both sum every product in double in the same
 * order.
 */
class LargeMarginSoftmaxTest {
    private static final int D = 4;
    private static final int C = 3;

    @TestFactory
    Stream<DynamicTest> gradientsMatchFiniteDifferencesAtTheBoundaries() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Backend backend : BackendsUnderTest.all()) {
            for (int m : new int[] {2, 3, 4}) {
                for (float lambda : new float[] {0f, 1f}) {
                    for (boolean weights : new boolean[] {false, true}) {
                        String what = backend + " m=" + m + " lambda=" + lambda + (weights ? " weights" : " features");
                        tests.add(DynamicTest.dynamicTest(what, () -> check(backend, m, lambda, weights, what)));
                    }
                }
            }
        }
        return tests.stream();
    }

    /** One row per angle: every k pi / m, 0 < k <= m... and 1e-3 either side, plus 0 and pi. */
    private static double[] angles(int m) {
        List<Double> out = new ArrayList<>();
        for (int k = 0; k <= m; k++) {
            for (double side : new double[] {-1e-3, 0, 1e-3}) {
                double t = k * Math.PI / m + side;
                if (t >= 0 && t <= Math.PI) out.add(t);
            }
        }
        return out.stream().mapToDouble(Double::doubleValue).toArray();
    }

    /** Features at the given angles to their target's weight vector, lengths 0.5 to 2. */
    private static float[] featuresAt(double[] angles, float[] w, int[] y, Random rnd) {
        float[] x = new float[angles.length * D];
        for (int i = 0; i < angles.length; i++) {
            double[] u = new double[D];
            double nu = 0;
            for (int k = 0; k < D; k++) {
                u[k] = w[k * C + y[i]];
                nu += u[k] * u[k];
            }
            nu = Math.sqrt(nu);
            double[] v = new double[D];
            double dot = 0;
            for (int k = 0; k < D; k++) {
                v[k] = rnd.nextGaussian();
                dot += v[k] * u[k] / nu;
            }
            double nv = 0;
            for (int k = 0; k < D; k++) {
                v[k] -= dot * u[k] / nu;
                nv += v[k] * v[k];
            }
            nv = Math.sqrt(nv);
            double length = 0.5 + 0.75 * (i % 3);
            for (int k = 0; k < D; k++) {
                x[i * D + k] = (float) (length * (Math.cos(angles[i]) * u[k] / nu + Math.sin(angles[i]) * v[k] / nv));
            }
        }
        return x;
    }

    private static void check(Backend backend, int m, float lambda, boolean weights, String what) {
        Random rnd = new Random(31L * m + (weights ? 7 : 0) + (long) lambda);
        double[] angles = angles(m);
        int n = angles.length;
        float[] w = new float[D * C];
        for (int i = 0; i < w.length; i++) w[i] = (float) rnd.nextGaussian();
        int[] y = new int[n];
        for (int i = 0; i < n; i++) y[i] = i % C;
        float[] x = featuresAt(angles, w, y, rnd);
        try (LargeMarginSoftmax lsm = LargeMarginSoftmax.builder().backend(backend).margin(m).lambda(lambda)
                .reduction(Reduction.SUM).build()) {
            LargeMarginSoftmax.Result r = lsm.forwardBackward(x, w, y, n, D, C);
            double[] xd = toDouble(x);
            double[] wd = toDouble(w);
            double[] input = weights ? wd : xd;
            float[] grad = weights ? r.gradWeights() : r.gradFeatures();
            // h small against the 1e-3 offsets; psi's second derivative jumps by 2 m^2 at a
            // boundary, which costs a row on one an error of about h m^2 |W| / 2: 1e-5 here
            double[] numeric = FiniteDifferences.central(input, 1e-6, () -> paperLoss(xd, wd, y, m, lambda));
            for (int e = 0; e < input.length; e++) {
                assertEquals(numeric[e], grad[e], 1e-4 * Math.max(1, Math.abs(numeric[e])),
                        what + ": element " + e + (weights ? "" : " (angle " + angles[e / D] + ")"));
            }
        }
    }

    private static double[] toDouble(float[] v) {
        double[] out = new double[v.length];
        for (int i = 0; i < v.length; i++) out[i] = v[i];
        return out;
    }

    /**
     * The paper's definition in float64, summed over the rows: theta by acos, k = floor(m theta /
     * pi), psi = (-1)^k cos(m theta) - 2k; the backends compute psi from cos(theta) by the
     * Chebyshev polynomials instead, so this is an independent formula.
     */
    private static double paperLoss(double[] x, double[] w, int[] y, int m, float lambda) {
        int n = y.length;
        double total = 0;
        for (int i = 0; i < n; i++) {
            double[] f = new double[C];
            double nx = 0;
            for (int k = 0; k < D; k++) nx += x[i * D + k] * x[i * D + k];
            for (int j = 0; j < C; j++) {
                for (int k = 0; k < D; k++) f[j] += x[i * D + k] * w[k * C + j];
            }
            double nw = 0;
            for (int k = 0; k < D; k++) nw += w[k * C + y[i]] * w[k * C + y[i]];
            double product = Math.sqrt(nx) * Math.sqrt(nw);
            double theta = Math.acos(Math.max(-1, Math.min(1, f[y[i]] / product)));
            int k = Math.min(m - 1, (int) Math.floor(theta * m / Math.PI));
            double psi = ((k & 1) == 0 ? 1 : -1) * Math.cos(m * theta) - 2 * k;
            f[y[i]] = (lambda * f[y[i]] + product * psi) / (1 + lambda);
            double max = Double.NEGATIVE_INFINITY;
            for (double v : f) max = Math.max(max, v);
            double sum = 0;
            for (double v : f) sum += Math.exp(v - max);
            total += max + Math.log(sum) - f[y[i]];
        }
        return total;
    }

    @Test
    void backendsAgreeBitForBit() {
        Backend nat = BackendsUnderTest.nativeOrNull();
        org.junit.jupiter.api.Assumptions.assumeTrue(nat != null, BackendsUnderTest::whyNoNative);
        Random rnd = new Random(5);
        int n = 37;
        int d = 21;
        int c = 19;
        float[] x = new float[n * d];
        float[] w = new float[d * c];
        int[] y = new int[n];
        for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
        for (int i = 0; i < w.length; i++) w[i] = (float) (0.3 * rnd.nextGaussian());
        for (int i = 0; i < n; i++) y[i] = rnd.nextInt(c);
        LargeMarginSoftmax.Result[] results = new LargeMarginSoftmax.Result[2];
        Backend[] backends = {Culoss.java(), nat};
        for (int b = 0; b < 2; b++) {
            try (LargeMarginSoftmax lsm = LargeMarginSoftmax.builder().backend(backends[b]).margin(3).lambda(0.5f)
                    .build()) {
                results[b] = lsm.forwardBackward(x, w, y, n, d, c);
            }
        }
        // the logits and both products are the same double sums; the cross-entropy pass between
        // them is each backend's own, so the gradients agree to float rounding, the logits exactly
        assertArrayEquals(results[0].modifiedLogits(), results[1].modifiedLogits());
        assertArrayEquals(results[0].gradFeatures(), results[1].gradFeatures(), 1e-6f);
        assertArrayEquals(results[0].gradWeights(), results[1].gradWeights(), 1e-6f);
        assertEquals(results[0].loss()[0], results[1].loss()[0], 1e-6f * Math.abs(results[0].loss()[0]));
    }

    @Test
    void optionsOutOfRangeNameTheOption() {
        assertEquals("margin (0) is not in [1, 16]",
                assertThrows(IllegalArgumentException.class, () -> LargeMarginSoftmax.builder().margin(0)).getMessage());
        assertEquals("margin (17) is not in [1, 16]",
                assertThrows(IllegalArgumentException.class, () -> LargeMarginSoftmax.builder().margin(17)).getMessage());
        assertEquals("lambda (-0.5) is negative",
                assertThrows(IllegalArgumentException.class, () -> LargeMarginSoftmax.builder().lambda(-0.5f))
                        .getMessage());
    }
}
