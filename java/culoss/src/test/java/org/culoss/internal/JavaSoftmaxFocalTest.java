package org.culoss.internal;

import static org.culoss.testing.TestArrays.direct;
import static org.culoss.testing.TestArrays.maxAbs;
import static org.culoss.testing.TestArrays.nanFilled;
import static org.culoss.testing.TestArrays.toDouble;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.culoss.Reduction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The Java softmax focal kernel against a float64 reference written from the formula, and both
 * against finite differences of the loss itself.
 */
class JavaSoftmaxFocalTest {
    private static final long NONE = JavaSoftmaxFocal.NO_IGNORE_INDEX;

    /** One call's inputs. classAlpha and gradOut may be null. */
    record Case(int n, int c, float[] logits, int[] targets, float[] classAlpha, float alpha, float gamma, long ignore,
                Reduction reduction, float[] gradOut) {
        @Override
        public String toString() {
            return "n=" + n + " c=" + c + " alpha=" + (classAlpha != null ? "per-class" : alpha) + " gamma=" + gamma
                    + " ignore=" + (ignore == NONE ? "none" : ignore) + " " + reduction + " gradOut=" + (gradOut != null);
        }
    }

    /** What the kernel wrote: loss is null without forward, grad null without backward. */
    record Result(long firstBad, float[] loss, float[] grad) {}

    // ---- the float64 reference ----

    private static boolean counts(Case k, int i) {
        int y = k.targets[i];
        return y != k.ignore && y >= 0 && y < k.c;
    }

    private static double alpha(Case k, int y) {
        return k.classAlpha == null ? k.alpha : k.classAlpha[y];
    }

    /** The mean's divisor: the number of rows that count. */
    private static double divisor(Case k) {
        double d = 0;
        for (int i = 0; i < k.n; i++) {
            if (counts(k, i)) {
                d++;
            }
        }
        return d;
    }

    private static double logSumExp(Case k, double[] x, int i) {
        double m = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < k.c; j++) {
            m = Math.max(m, x[i * k.c + j]);
        }
        double s = 0;
        for (int j = 0; j < k.c; j++) {
            s += Math.exp(x[i * k.c + j] - m);
        }
        return m + Math.log(s);
    }

    /** q = 1 - p_y as the sum of the other probabilities (x_y - lse cancels when p_y is near 1). */
    private static double q(Case k, double[] x, int i, double lse) {
        double q = 0;
        for (int j = 0; j < k.c; j++) {
            if (j != k.targets[i]) {
                q += Math.exp(x[i * k.c + j] - lse);
            }
        }
        return q;
    }

    private static double logP(Case k, double[] x, int i, double lse, double q) {
        return q < 0.5 ? Math.log1p(-q) : x[i * k.c + k.targets[i]] - lse;
    }

    /** -alpha_y (1 - p_y)^gamma log p_y, or 0 when the row does not count. */
    private static double rowLoss(Case k, double[] x, int i) {
        if (!counts(k, i)) {
            return 0;
        }
        double lse = logSumExp(k, x, i);
        double q = q(k, x, i, lse);
        return -alpha(k, k.targets[i]) * Math.pow(q, k.gamma) * logP(k, x, i, lse, q);
    }

    private static double[] refLoss(Case k, double[] x) {
        double[] rows = new double[k.n];
        double total = 0;
        for (int i = 0; i < k.n; i++) {
            rows[i] = rowLoss(k, x, i);
            total += rows[i];
        }
        switch (k.reduction) {
            case NONE:
                return rows;
            case SUM:
                return new double[] {total};
            default:
                double d = divisor(k);
                return new double[] {d == 0 ? 0 : total / d};
        }
    }

    /** The scalar whose gradient the backward computes. */
    private static double objective(Case k, double[] x) {
        double[] loss = refLoss(k, x);
        double s = 0;
        for (int i = 0; i < loss.length; i++) {
            s += (k.gradOut == null ? 1 : k.gradOut[i]) * loss[i];
        }
        return s;
    }

    /**
     * Analytic gradient: F (p_k - [k == y]), F = alpha_y (q^g - g p_y q^(g-1) log p_y), with the
     * limits of its 0 * inf cases taken explicitly (q = 0; p_y = 0).
     */
    private static double[] refGrad(Case k, double[] x) {
        double[] grad = new double[k.n * k.c];
        double d = divisor(k);
        double g = k.gamma;
        for (int i = 0; i < k.n; i++) {
            if (!counts(k, i)) {
                continue;
            }
            double up;
            if (k.reduction == Reduction.NONE) {
                up = k.gradOut == null ? 1 : k.gradOut[i];
            } else {
                up = k.gradOut == null ? 1 : k.gradOut[0];
                if (k.reduction == Reduction.MEAN) {
                    up = d == 0 ? 0 : up / d;
                }
            }
            int y = k.targets[i];
            double lse = logSumExp(k, x, i);
            double q = q(k, x, i, lse);
            double lp = logP(k, x, i, lse, q);
            double p = Math.exp(lp);
            double a = alpha(k, y);
            double f;
            if (q == 0) {
                f = g == 0 ? a : 0;
            } else if (p == 0) {
                f = a * Math.pow(q, g);
            } else {
                f = a * (Math.pow(q, g) - g * p * Math.pow(q, g - 1) * lp);
            }
            for (int j = 0; j < k.c; j++) {
                double pj = Math.exp(x[i * k.c + j] - lse);
                grad[i * k.c + j] = up * f * (j == y ? -q : pj);
            }
        }
        return grad;
    }



    // ---- running the kernel ----



    private static Result run(Case k, boolean forward, boolean backward, int threads) {
        FloatBuffer loss = forward ? nanFilled(k.reduction == Reduction.NONE ? k.n : 1) : null;
        FloatBuffer grad = backward ? nanFilled(k.n * k.c) : null;
        long bad = JavaSoftmaxFocal.run(direct(k.logits), k.c, IntBuffer.wrap(k.targets), k.n, k.c,
                k.classAlpha == null ? null : FloatBuffer.wrap(k.classAlpha), k.alpha, k.gamma, k.ignore, k.reduction,
                k.gradOut == null ? null : FloatBuffer.wrap(k.gradOut), loss, grad, k.c, threads);
        return new Result(bad, loss == null ? null : loss.array(), grad == null ? null : grad.array());
    }

    // ---- random cases ----

    /** ignoreMode: 0 none, 1 ignore_index -100 with about a quarter of the rows ignored, 2 class 0 ignored. */
    private static Case randomCase(Random rnd, int n, int c, Reduction reduction, boolean perClass, float gamma,
                                   int ignoreMode, boolean gradOut) {
        float[] logits = new float[n * c];
        for (int i = 0; i < logits.length; i++) {
            logits[i] = (float) (rnd.nextGaussian() * 2);
        }
        int[] targets = new int[n];
        for (int i = 0; i < n; i++) {
            targets[i] = rnd.nextInt(c);
        }
        long ignore = NONE;
        if (ignoreMode == 1) {
            ignore = -100;
            for (int i = 0; i < n; i++) {
                if (rnd.nextInt(4) == 0) {
                    targets[i] = -100;
                }
            }
        } else if (ignoreMode == 2) {
            ignore = 0;
        }
        float[] classAlpha = null;
        if (perClass) {
            classAlpha = new float[c];
            for (int j = 0; j < c; j++) {
                classAlpha[j] = 0.1f + 1.9f * rnd.nextFloat();
            }
        }
        float[] upstream = null;
        if (gradOut) {
            upstream = new float[reduction == Reduction.NONE ? n : 1];
            for (int i = 0; i < upstream.length; i++) {
                upstream[i] = (float) rnd.nextGaussian();
            }
        }
        return new Case(n, c, logits, targets, classAlpha, 0.25f, gamma, ignore, reduction, upstream);
    }

    /** Every reduction and option combination on one shape. */
    private static List<Case> allOptions(Random rnd, int n, int c) {
        List<Case> cases = new ArrayList<>();
        for (Reduction reduction : Reduction.values()) {
            for (boolean perClass : new boolean[] {false, true}) {
                for (float gamma : new float[] {0f, 0.5f, 2f, 3.5f}) {
                    for (int ignoreMode = 0; ignoreMode < 3; ignoreMode++) {
                        cases.add(randomCase(rnd, n, c, reduction, perClass, gamma, ignoreMode, ignoreMode != 1));
                    }
                }
            }
        }
        return cases;
    }

    private static void assertMatchesReference(Case k, Result r) {
        double[] x = toDouble(k.logits);
        if (r.loss() != null) {
            double[] loss = refLoss(k, x);
            assertEquals(loss.length, r.loss().length, k::toString);
            for (int i = 0; i < loss.length; i++) {
                assertEquals(loss[i], r.loss()[i], 1e-5 * Math.max(1e-3, Math.abs(loss[i])), k + " loss " + i);
            }
        }
        if (r.grad() != null) {
            double[] grad = refGrad(k, x);
            double tol = 1e-5 * maxAbs(grad) + 1e-12;
            for (int i = 0; i < grad.length; i++) {
                assertEquals(grad[i], r.grad()[i], tol, k + " grad " + i);
            }
        }
    }

    // ---- the tests ----

    static Stream<Arguments> shapes() {
        List<Arguments> shapes = new ArrayList<>();
        // 64 and 129: the vectorized exp's edge and odd halving passes; 1: p = 1, loss 0.
        for (int c : new int[] {1, 2, 3, 7, 64, 129, 1000}) {
            for (int n : new int[] {0, 1, 5, 40}) {
                shapes.add(Arguments.of(n, c));
            }
        }
        return shapes.stream();
    }

    @ParameterizedTest(name = "n={0} c={1}")
    @MethodSource("shapes")
    void matchesTheFloat64Reference(int n, int c) {
        Random rnd = new Random(31L * n + c);
        for (Case k : allOptions(rnd, n, c)) {
            Result fused = run(k, true, true, 1);
            assertEquals(-1, fused.firstBad(), k::toString);
            assertMatchesReference(k, fused);
            // Forward alone and backward alone give the fused pass's bits.
            assertArrayEquals(fused.loss(), run(k, true, false, 1).loss(), k::toString);
            assertArrayEquals(fused.grad(), run(k, false, true, 1).grad(), k::toString);
        }
    }

    @Test
    void referenceGradientMatchesFiniteDifferences() {
        Random rnd = new Random(7);
        for (int c : new int[] {1, 3, 7}) {
            for (int n : new int[] {1, 4}) {
                for (Case k : allOptions(rnd, n, c)) {
                    double[] x = toDouble(k.logits);
                    double[] analytic = refGrad(k, x);
                    double[] numeric = finiteDifferences(k, x);
                    double tol = 1e-6 * maxAbs(analytic) + 1e-12;
                    for (int i = 0; i < analytic.length; i++) {
                        assertEquals(numeric[i], analytic[i], tol, k + " element " + i);
                    }
                }
            }
        }
    }

    @Test
    void kernelGradientMatchesFiniteDifferences() {
        Random rnd = new Random(8);
        for (int c : new int[] {1, 2, 3, 7, 70}) {
            for (int n : new int[] {1, 4}) {
                for (Case k : allOptions(rnd, n, c)) {
                    double[] numeric = finiteDifferences(k, toDouble(k.logits));
                    float[] grad = run(k, false, true, 1).grad();
                    double tol = 1e-3 * maxAbs(numeric) + 1e-9;
                    for (int i = 0; i < numeric.length; i++) {
                        assertEquals(numeric[i], grad[i], tol, k + " element " + i);
                    }
                }
            }
        }
    }

    /** Central differences of the reference objective, in double. */
    private static double[] finiteDifferences(Case k, double[] x) {
        double h = 1e-5;
        double[] grad = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            double saved = x[i];
            x[i] = saved + h;
            double up = objective(k, x);
            x[i] = saved - h;
            double down = objective(k, x);
            x[i] = saved;
            grad[i] = (up - down) / (2 * h);
        }
        return grad;
    }

    @Test
    void gammaZeroIsAlphaWeightedCrossEntropy() {
        Random rnd = new Random(15);
        for (int c : new int[] {5, 100}) {
            for (Reduction reduction : new Reduction[] {Reduction.NONE, Reduction.SUM}) {
                for (boolean perClass : new boolean[] {false, true}) {
                    Case k = randomCase(rnd, 30, c, reduction, perClass, 0f, 1, true);
                    Result focal = run(k, true, true, 1);
                    float[] weights = k.classAlpha;
                    if (weights == null) {
                        weights = new float[c];
                        Arrays.fill(weights, k.alpha);
                    }
                    FloatBuffer loss = FloatBuffer.allocate(focal.loss().length);
                    FloatBuffer grad = FloatBuffer.allocate(k.n * c);
                    JavaSoftmaxCrossEntropy.run(direct(k.logits), c, IntBuffer.wrap(k.targets), k.n, c,
                            FloatBuffer.wrap(weights), k.ignore, 0f, reduction, FloatBuffer.wrap(k.gradOut), loss, grad,
                            c, 1);
                    for (int i = 0; i < loss.capacity(); i++) {
                        assertEquals(loss.get(i), focal.loss()[i], 2e-6 * Math.max(1, Math.abs(loss.get(i))), k + " loss");
                    }
                    for (int i = 0; i < grad.capacity(); i++) {
                        assertEquals(grad.get(i), focal.grad()[i], 2e-6, k + " grad " + i);
                    }
                }
            }
        }
    }

    @Test
    void nearCertainRowsKeepTheirDigits() {
        // p_y = 1 - (C-1) e^-gap: 1 - p_y below float's resolution near 1.
        for (float gamma : new float[] {0.5f, 0f, 2f}) {
            for (int c : new int[] {2, 5, 300}) {
                for (float gap : new float[] {16.1f, 18f, 25f, 40f}) {
                    float[] logits = new float[c];
                    Arrays.fill(logits, 3f - gap);
                    logits[c / 2] = 3f;
                    Case k = new Case(1, c, logits, new int[] {c / 2}, null, 0.25f, gamma, NONE, Reduction.NONE, null);
                    Result r = run(k, true, true, 1);
                    double[] x = toDouble(logits);
                    double ref = refLoss(k, x)[0];
                    assertTrue(r.loss()[0] >= 0 && Float.isFinite(r.loss()[0]), k.toString());
                    if (ref > 1e-30) {
                        assertEquals(ref, r.loss()[0], 1e-5 * ref, k + " gap " + gap);
                    }
                    double[] grad = refGrad(k, x);
                    for (int j = 0; j < c; j++) {
                        assertTrue(Float.isFinite(r.grad()[j]), k.toString());
                        assertEquals(grad[j], r.grad()[j], 1e-5 * Math.abs(grad[j]) + 1e-40, k + " gap " + gap + " grad " + j);
                    }
                }
            }
        }
    }

    @Test
    void oneClassHasZeroLossAndGradient() {
        for (float gamma : new float[] {0f, 0.5f, 2f}) {
            Case k = new Case(3, 1, new float[] {5f, -2f, 1e4f}, new int[] {0, 0, 0}, null, 0.25f, gamma, NONE,
                    Reduction.SUM, null);
            Result r = run(k, true, true, 1);
            assertEquals(0f, r.loss()[0]);
            for (float g : r.grad()) {
                assertEquals(0f, g, 0f);
            }
        }
    }

    @Test
    void invalidTargetsAreReportedAndSkipped() {
        Random rnd = new Random(9);
        for (Reduction reduction : Reduction.values()) {
            for (int threads : new int[] {1, 2}) {
                Case k = randomCase(rnd, 6, 5, reduction, true, 2f, 0, true);
                k.targets[1] = 5;  // == c
                k.targets[3] = -1;
                k.targets[4] = Integer.MIN_VALUE;
                Result r = run(k, true, true, threads);
                assertEquals(1, r.firstBad());
                assertMatchesReference(k, r);  // the reference skips them too, nor counts them in the mean
                for (int j = 0; j < k.c; j++) {
                    assertEquals(0f, r.grad()[1 * k.c + j]);
                    assertEquals(0f, r.grad()[3 * k.c + j]);
                }
            }
        }
    }

    @Test
    void allRowsIgnoredGivesZeroNotNaN() {
        for (Reduction reduction : Reduction.values()) {
            Case k = randomCase(new Random(10), 4, 3, reduction, true, 2f, 1, false);
            Arrays.fill(k.targets, -100);
            Result r = run(k, true, true, 1);
            assertEquals(-1, r.firstBad());
            assertArrayEquals(new float[r.loss().length], r.loss(), reduction::toString);
            assertArrayEquals(new float[12], r.grad(), reduction::toString);
        }
    }

    @Test
    void emptyBatch() {
        for (Reduction reduction : new Reduction[] {Reduction.SUM, Reduction.MEAN}) {
            Case k = randomCase(new Random(11), 0, 5, reduction, false, 2f, 0, true);
            Result r = run(k, true, true, 2);
            assertEquals(-1, r.firstBad());
            assertArrayEquals(new float[] {0f}, r.loss());
        }
    }

    @Test
    void threadCountDoesNotChangeAnyBit() {
        Random rnd = new Random(12);
        int[][] shapes = {{513, 1000}, {20000, 7}};
        for (int[] shape : shapes) {
            for (Reduction reduction : Reduction.values()) {
                Case k = randomCase(rnd, shape[0], shape[1], reduction, true, 2f, 1, true);
                Result one = run(k, true, true, 1);
                Result three = run(k, true, true, 3);
                assertArrayEquals(one.loss(), three.loss(), k::toString);
                assertArrayEquals(one.grad(), three.grad(), k::toString);
            }
        }
    }

    @Test
    void negativeInfinityLogits() {
        for (float gamma : new float[] {0f, 0.5f, 2f}) {
            for (Reduction reduction : Reduction.values()) {
                // Row 0: -inf off the target; row 1: -inf on the target (p_y = 0, F = alpha).
                float ninf = Float.NEGATIVE_INFINITY;
                float[] logits = {0.5f, ninf, 2f, ninf, -1f, ninf, 0f, 3f};
                Case k = new Case(2, 4, logits, new int[] {0, 1}, null, 0.25f, gamma, NONE, reduction, null);
                Result r = run(k, true, true, 1);
                for (float g : r.grad()) {
                    assertTrue(Float.isFinite(g), k.toString());
                }
                double[] grad = refGrad(k, toDouble(logits));
                for (int i = 0; i < grad.length; i++) {
                    assertEquals(grad[i], r.grad()[i], 1e-6 * maxAbs(grad), k + " grad " + i);
                }
                assertEquals(0f, r.grad()[1]);
                assertEquals(0f, r.grad()[3]);
                float scale = reduction == Reduction.MEAN ? 0.5f : 1f;  // the mean over the 2 rows
                assertEquals(-0.25f * scale, r.grad()[5], 1e-7, "F = alpha where p_y = 0");
                assertEquals(Float.POSITIVE_INFINITY, r.loss()[reduction == Reduction.NONE ? 1 : 0], k.toString());
            }
        }
    }

    @Test
    void largeLogitsDoNotOverflow() {
        Random rnd = new Random(13);
        for (float gamma : new float[] {0.5f, 2f}) {
            for (Reduction reduction : Reduction.values()) {
                Case k = randomCase(rnd, 8, 70, reduction, true, gamma, 0, true);
                for (int i = 0; i < k.logits.length; i++) {
                    k.logits[i] = (rnd.nextBoolean() ? 1e4f : -1e4f) + (float) rnd.nextGaussian() * 10;
                }
                Result r = run(k, true, true, 1);
                for (float v : r.loss()) {
                    assertTrue(Float.isFinite(v), k.toString());
                }
                for (float v : r.grad()) {
                    assertTrue(Float.isFinite(v), k.toString());
                }
                assertMatchesReference(k, r);
            }
        }
    }

    @Test
    void stridedSlicesAreReadAndWrittenInPlace() {
        Random rnd = new Random(14);
        Case k = randomCase(rnd, 5, 33, Reduction.MEAN, true, 2f, 1, true);
        Result packed = run(k, true, true, 1);
        int n = k.n;
        int c = k.c;
        int logitsStride = c + 3;
        int gradStride = c + 5;
        int offset = 2;
        float[] padded = new float[offset + n * logitsStride];
        Arrays.fill(padded, Float.NaN); // padding must never be read
        for (int i = 0; i < n; i++) {
            System.arraycopy(k.logits, i * c, padded, offset + i * logitsStride, c);
        }
        FloatBuffer logits = direct(padded).position(offset).slice();
        FloatBuffer grad = FloatBuffer.wrap(new float[offset + n * gradStride]).position(offset).slice();
        for (int i = 0; i < grad.capacity(); i++) {
            grad.put(i, -7f); // padding must never be written
        }
        FloatBuffer loss = FloatBuffer.allocate(1);
        JavaSoftmaxFocal.run(logits, logitsStride, IntBuffer.wrap(k.targets), n, c, FloatBuffer.wrap(k.classAlpha),
                k.alpha, k.gamma, k.ignore, k.reduction, FloatBuffer.wrap(k.gradOut), loss, grad, gradStride, 1);
        assertEquals(packed.loss()[0], loss.get(0));
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < gradStride; j++) {
                float expected = j < c ? packed.grad()[i * c + j] : -7f;
                assertEquals(expected, grad.get(i * gradStride + j), "row " + i + " column " + j);
            }
        }
    }
}
