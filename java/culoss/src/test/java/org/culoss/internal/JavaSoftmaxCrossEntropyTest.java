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

/** The Java softmax cross-entropy kernel against a float64 reference written from the formulas. */
class JavaSoftmaxCrossEntropyTest {
    private static final long NONE = JavaSoftmaxCrossEntropy.NO_IGNORE_INDEX;

    /** One call's inputs. weights and gradOut may be null. */
    record Case(int n, int c, float[] logits, int[] targets, float[] weights, long ignore, float smoothing,
                Reduction reduction, float[] gradOut) {
        @Override
        public String toString() {
            return "n=" + n + " c=" + c + " weights=" + (weights != null) + " ignore=" + (ignore == NONE ? "none" : ignore)
                    + " e=" + smoothing + " " + reduction + " gradOut=" + (gradOut != null);
        }
    }

    /** What the kernel wrote: loss is null without forward, grad null without backward. */
    record Result(long firstBad, float[] loss, float[] grad) {}

    // ---- the float64 reference ----

    private static boolean counts(Case k, int i) {
        int y = k.targets[i];
        return y != k.ignore && y >= 0 && y < k.c;
    }

    private static double weight(Case k, int j) {
        return k.weights == null ? 1 : k.weights[j];
    }

    /** Sum of w_y over the rows that count: the mean's divisor. */
    private static double divisor(Case k) {
        double d = 0;
        for (int i = 0; i < k.n; i++) {
            if (counts(k, i)) {
                d += weight(k, k.targets[i]);
            }
        }
        return d;
    }

    /** log sum_j exp(x_j) of row i. */
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

    /** (1-e) w_y (-log p_y) + e/C sum_j w_j (-log p_j), or 0 when the row does not count. */
    private static double rowLoss(Case k, double[] x, int i) {
        if (!counts(k, i)) {
            return 0;
        }
        double lse = logSumExp(k, x, i);
        int y = k.targets[i];
        double loss = (1 - (double) k.smoothing) * weight(k, y) * (lse - x[i * k.c + y]);
        if (k.smoothing != 0) {
            double smooth = 0;
            for (int j = 0; j < k.c; j++) {
                smooth += weight(k, j) * (lse - x[i * k.c + j]);
            }
            loss += (double) k.smoothing / k.c * smooth;
        }
        return loss;
    }

    /** The loss output: n values for NONE, else one. */
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

    /** The scalar whose gradient the backward computes: sum_i gradOut_i loss_i, or gradOut * loss. */
    private static double objective(Case k, double[] x) {
        double[] loss = refLoss(k, x);
        double s = 0;
        for (int i = 0; i < loss.length; i++) {
            s += (k.gradOut == null ? 1 : k.gradOut[i]) * loss[i];
        }
        return s;
    }

    /** Analytic gradient of {@link #objective}. */
    private static double[] refGrad(Case k, double[] x) {
        double[] grad = new double[k.n * k.c];
        double weightSum = 0;
        for (int j = 0; j < k.c; j++) {
            weightSum += weight(k, j);
        }
        double d = divisor(k);
        double e = k.smoothing;
        for (int i = 0; i < k.n; i++) {
            if (!counts(k, i)) {
                continue;
            }
            double g;
            if (k.reduction == Reduction.NONE) {
                g = k.gradOut == null ? 1 : k.gradOut[i];
            } else {
                g = k.gradOut == null ? 1 : k.gradOut[0];
                if (k.reduction == Reduction.MEAN) {
                    g = d == 0 ? 0 : g / d;
                }
            }
            double lse = logSumExp(k, x, i);
            int y = k.targets[i];
            for (int j = 0; j < k.c; j++) {
                double p = Math.exp(x[i * k.c + j] - lse);
                double nll = (1 - e) * weight(k, y) * (p - (j == y ? 1 : 0));
                double smooth = e / k.c * (weightSum * p - weight(k, j));
                grad[i * k.c + j] = g * (nll + smooth);
            }
        }
        return grad;
    }


    // ---- running the kernel ----



    private static Result run(Case k, boolean forward, boolean backward, int threads) {
        FloatBuffer loss = forward ? nanFilled(k.reduction == Reduction.NONE ? k.n : 1) : null;
        FloatBuffer grad = backward ? nanFilled(k.n * k.c) : null;
        long bad = JavaSoftmaxCrossEntropy.run(direct(k.logits), k.c, IntBuffer.wrap(k.targets), k.n, k.c,
                k.weights == null ? null : FloatBuffer.wrap(k.weights), k.ignore, k.smoothing, k.reduction,
                k.gradOut == null ? null : FloatBuffer.wrap(k.gradOut), loss, grad, k.c, threads);
        return new Result(bad, loss == null ? null : loss.array(), grad == null ? null : grad.array());
    }

    // ---- random cases ----

    /** ignoreMode: 0 none, 1 ignore_index -100 with about a quarter of the rows ignored, 2 class 0 ignored. */
    private static Case randomCase(Random rnd, int n, int c, Reduction reduction, boolean weighted, float smoothing,
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
        float[] weights = null;
        if (weighted) {
            weights = new float[c];
            for (int j = 0; j < c; j++) {
                weights[j] = 0.5f + 1.5f * rnd.nextFloat();
            }
        }
        float[] upstream = null;
        if (gradOut) {
            upstream = new float[reduction == Reduction.NONE ? n : 1];
            for (int i = 0; i < upstream.length; i++) {
                upstream[i] = (float) rnd.nextGaussian();
            }
        }
        return new Case(n, c, logits, targets, weights, ignore, smoothing, reduction, upstream);
    }

    /** Every reduction and option combination on one shape. */
    private static List<Case> allOptions(Random rnd, int n, int c) {
        List<Case> cases = new ArrayList<>();
        for (Reduction reduction : Reduction.values()) {
            for (boolean weighted : new boolean[] {false, true}) {
                for (float smoothing : new float[] {0f, 0.2f}) {
                    for (int ignoreMode = 0; ignoreMode < 3; ignoreMode++) {
                        for (boolean gradOut : new boolean[] {false, true}) {
                            cases.add(randomCase(rnd, n, c, reduction, weighted, smoothing, ignoreMode, gradOut));
                        }
                    }
                }
            }
        }
        return cases;
    }


    // ---- the tests ----

    static Stream<Arguments> shapes() {
        List<Arguments> shapes = new ArrayList<>();
        // 64, 129 and 4099 add the vectorized exp's edges and odd halving passes to the usual shapes.
        for (int c : new int[] {1, 2, 3, 7, 33, 64, 129, 1000, 4099}) {
            for (int n : new int[] {0, 1, 5, 64}) {
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
            double[] x = toDouble(k.logits);
            Result fused = run(k, true, true, 1);
            assertEquals(-1, fused.firstBad(), k::toString);

            double[] loss = refLoss(k, x);
            assertEquals(loss.length, fused.loss().length, k::toString);
            for (int i = 0; i < loss.length; i++) {
                assertEquals(loss[i], fused.loss()[i], 1e-5 * Math.max(1, Math.abs(loss[i])), k + " loss " + i);
            }
            double[] grad = refGrad(k, x);
            double tol = 1e-5 * maxAbs(grad) + 1e-12;
            for (int i = 0; i < grad.length; i++) {
                assertEquals(grad[i], fused.grad()[i], tol, k + " grad " + i);
            }

            // Forward alone and backward alone give the fused pass's bits.
            assertArrayEquals(fused.loss(), run(k, true, false, 1).loss(), k::toString);
            assertArrayEquals(fused.grad(), run(k, false, true, 1).grad(), k::toString);
        }
    }

    @Test
    void probabilitiesAreAccurateElementwise() {
        // One row whose logits span the whole float exp range: with e = 0, no weights and gradOut 1,
        // the gradient off the target is p_j itself. The max is 0, so x - max is exact and only
        // the exp's own error shows (float rounding of x - max alone can reach |x - max| * 6e-8).
        for (int c : new int[] {40, 4096}) { // Math.exp below 64 classes, the polynomial above
            float[] logits = new float[c];
            for (int j = 0; j < c; j++) {
                logits[j] = -87f * j / c;
            }
            Case k = new Case(1, c, logits, new int[] {c / 2}, null, NONE, 0f, Reduction.NONE, null);
            float[] grad = run(k, false, true, 1).grad();
            double lse = logSumExp(k, toDouble(logits), 0);
            for (int j = 0; j < c; j++) {
                double p = Math.exp(logits[j] - lse);
                if (j != c / 2 && p >= Float.MIN_NORMAL) { // subnormal floats hold fewer digits
                    assertEquals(p, grad[j], 1e-6 * p, "class " + j);
                }
            }
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
        for (int c : new int[] {1, 2, 3, 7}) {
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
    void invalidTargetsAreReportedAndSkipped() {
        Random rnd = new Random(9);
        for (Reduction reduction : Reduction.values()) {
            for (int threads : new int[] {1, 2}) {
                Case k = randomCase(rnd, 6, 5, reduction, true, 0.2f, 0, true);
                k.targets[1] = 5;  // == c
                k.targets[3] = -1;
                k.targets[4] = Integer.MIN_VALUE;
                Result r = run(k, true, true, threads);
                assertEquals(1, r.firstBad());

                // Bad rows count like ignored rows: the reference sees them as outside [0, c) too.
                double[] x = toDouble(k.logits);
                double[] loss = refLoss(k, x);
                for (int i = 0; i < loss.length; i++) {
                    assertEquals(loss[i], r.loss()[i], 1e-5 * Math.max(1, Math.abs(loss[i])), reduction + " loss " + i);
                }
                double[] grad = refGrad(k, x);
                for (int i = 0; i < grad.length; i++) {
                    assertEquals(grad[i], r.grad()[i], 1e-5 * maxAbs(grad), reduction + " grad " + i);
                }
                for (int j = 0; j < k.c; j++) {
                    assertEquals(0f, r.grad()[1 * k.c + j]);
                    assertEquals(0f, r.grad()[3 * k.c + j]);
                }
            }
        }
        // Only invalid rows: the mean has nothing to divide by, and everything is 0.
        Case k = randomCase(rnd, 3, 4, Reduction.MEAN, false, 0f, 0, false);
        Arrays.fill(k.targets, 4);
        Result r = run(k, true, true, 1);
        assertEquals(0, r.firstBad());
        assertEquals(0f, r.loss()[0]);
        assertArrayEquals(new float[12], r.grad());
    }

    @Test
    void allRowsIgnoredGivesZeroNotNaN() {
        for (Reduction reduction : Reduction.values()) {
            Case k = randomCase(new Random(10), 4, 3, reduction, true, 0.2f, 1, false);
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
            Case k = randomCase(new Random(11), 0, 5, reduction, false, 0.1f, 0, true);
            Result r = run(k, true, true, 2);
            assertEquals(-1, r.firstBad());
            assertArrayEquals(new float[] {0f}, r.loss());
        }
    }

    @Test
    void threadCountDoesNotChangeAnyBit() {
        Random rnd = new Random(12);
        // Shapes that make several chunks of rows, so that two workers really split them.
        int[][] shapes = {{513, 1000}, {20000, 7}, {300, 3000}};
        for (int[] shape : shapes) {
            for (Reduction reduction : Reduction.values()) {
                Case k = randomCase(rnd, shape[0], shape[1], reduction, true, 0.1f, 1, true);
                Result one = run(k, true, true, 1);
                Result two = run(k, true, true, 2);
                Result three = run(k, true, true, 3);
                assertArrayEquals(one.loss(), two.loss(), k::toString);
                assertArrayEquals(one.grad(), two.grad(), k::toString);
                assertArrayEquals(one.loss(), three.loss(), k::toString);
                assertArrayEquals(one.grad(), three.grad(), k::toString);
            }
        }
    }

    @Test
    void negativeInfinityLogits() {
        for (float smoothing : new float[] {0f, 0.2f}) {
            for (Reduction reduction : Reduction.values()) {
                // Row 0: -inf off the target; row 1: -inf on the target.
                float ninf = Float.NEGATIVE_INFINITY;
                float[] logits = {0.5f, ninf, 2f, ninf, -1f, ninf, 0f, 3f};
                Case k = new Case(2, 4, logits, new int[] {0, 1}, null, NONE, smoothing, reduction, null);
                Result r = run(k, true, true, 1);
                for (float g : r.grad()) {
                    assertTrue(Float.isFinite(g), k.toString());
                }
                double[] grad = refGrad(k, toDouble(logits));
                for (int i = 0; i < grad.length; i++) {
                    assertEquals(grad[i], r.grad()[i], 1e-6 * maxAbs(grad), k + " grad " + i);
                }
                if (smoothing == 0) {
                    // p = 0 exactly where the logit is -inf.
                    assertEquals(0f, r.grad()[1]);
                    assertEquals(0f, r.grad()[3]);
                }
                // Row 1's target has p = 0, so every reduction's loss is +inf, as in PyTorch; with
                // smoothing, row 0 is +inf too, since it averages -log p over the -inf classes.
                assertEquals(Float.POSITIVE_INFINITY, r.loss()[reduction == Reduction.NONE ? 1 : 0], k.toString());
                if (reduction == Reduction.NONE) {
                    double row0 = rowLoss(k, toDouble(logits), 0);
                    assertEquals(smoothing == 0 ? row0 : Double.POSITIVE_INFINITY, r.loss()[0], 1e-5 * Math.abs(row0));
                }
            }
        }
    }

    @Test
    void largeLogitsDoNotOverflow() {
        Random rnd = new Random(13);
        for (float smoothing : new float[] {0f, 0.2f}) {
            for (Reduction reduction : Reduction.values()) {
                Case k = randomCase(rnd, 8, 50, reduction, true, smoothing, 0, true);
                for (int i = 0; i < k.logits.length; i++) {
                    k.logits[i] = (rnd.nextBoolean() ? 1e4f : -1e4f) + (float) rnd.nextGaussian() * 10;
                }
                Result r = run(k, true, true, 1);
                double[] x = toDouble(k.logits);
                double[] loss = refLoss(k, x);
                for (int i = 0; i < loss.length; i++) {
                    assertTrue(Float.isFinite(r.loss()[i]), k.toString());
                    assertEquals(loss[i], r.loss()[i], 1e-5 * Math.max(1, Math.abs(loss[i])), k + " loss " + i);
                }
                double[] grad = refGrad(k, x);
                for (int i = 0; i < grad.length; i++) {
                    assertTrue(Float.isFinite(r.grad()[i]), k.toString());
                    assertEquals(grad[i], r.grad()[i], 1e-5 * maxAbs(grad), k + " grad " + i);
                }
            }
        }
    }

    @Test
    void stridedSlicesAreReadAndWrittenInPlace() {
        Random rnd = new Random(14);
        Case k = randomCase(rnd, 5, 33, Reduction.MEAN, true, 0.1f, 1, true);
        Result packed = run(k, true, true, 1);

        int n = k.n;
        int c = k.c;
        int logitsStride = c + 3;
        int gradStride = c + 5;
        int offset = 2; // the buffers are slices that start inside a larger allocation
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
        JavaSoftmaxCrossEntropy.run(logits, logitsStride, IntBuffer.wrap(k.targets), n, c, FloatBuffer.wrap(k.weights),
                k.ignore, k.smoothing, k.reduction, FloatBuffer.wrap(k.gradOut), loss, grad, gradStride, 1);

        assertEquals(packed.loss()[0], loss.get(0));
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < gradStride; j++) {
                float expected = j < c ? packed.grad()[i * c + j] : -7f;
                assertEquals(expected, grad.get(i * gradStride + j), "row " + i + " column " + j);
            }
        }
        // Positions and limits are as the caller left them.
        assertEquals(0, logits.position());
        assertEquals(n * logitsStride, logits.limit());
        assertEquals(0, grad.position());
        assertEquals(0, loss.position());
    }
}
