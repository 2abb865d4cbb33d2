package org.culoss.internal;

import static org.culoss.testing.ElementwiseAsserts.assertAllFinite;
import static org.culoss.testing.ElementwiseAsserts.assertEachRelative;
import static org.culoss.testing.ElementwiseAsserts.assertEachWithin;
import static org.culoss.testing.KernelBuffers.wrapOrNull;
import static org.culoss.testing.SoftmaxReference.logSumExp;
import static org.culoss.testing.TestArrays.maxAbs;
import static org.culoss.testing.TestArrays.toDouble;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.culoss.Reduction;
import org.culoss.testing.ClassLabels;
import org.culoss.testing.LabelledRowsKernelContract;
import org.culoss.testing.RandomInputs;
import org.culoss.testing.RandomLabelledRows;
import org.culoss.testing.ReductionReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.provider.Arguments;

/**
 * The Java softmax cross-entropy kernel against a float64 reference written from the formulas;
 * the checks it shares with softmax focal come from {@link LabelledRowsKernelContract}.
 */
class JavaSoftmaxCrossEntropyTest implements LabelledRowsKernelContract<JavaSoftmaxCrossEntropyTest.Case> {
    private static final long NONE = JavaSoftmaxCrossEntropy.NO_IGNORE_INDEX;

    /** One call's inputs. weights and gradOut may be null. */
    record Case(int n, int c, float[] logits, int[] targets, float[] weights, long ignore, float smoothing,
                Reduction reduction, float[] gradOut)
            implements LabelledRowsKernelContract.Rows {
        @Override
        public String toString() {
            return "n=" + n + " c=" + c + " weights=" + (weights != null) + " ignore=" + (ignore == NONE ? "none" : ignore)
                    + " e=" + smoothing + " " + reduction + " gradOut=" + (gradOut != null);
        }
    }

    // ---- the float64 reference ----

    private static double weight(Case k, int j) {
        return k.weights == null ? 1 : k.weights[j];
    }

    /** Sum of w_y over the rows that count: the mean's divisor. */
    @Override
    public double divisor(Case k) {
        double d = 0;
        for (int i = 0; i < k.n; i++) {
            if (counts(k, i)) {
                d += weight(k, k.targets[i]);
            }
        }
        return d;
    }

    /** (1-e) w_y (-log p_y) + e/C sum_j w_j (-log p_j), or 0 when the row does not count. */
    @Override
    public double rowLoss(Case k, double[] x, int i) {
        if (!counts(k, i)) {
            return 0;
        }
        double lse = logSumExp(x, i, k.c);
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

    /** Analytic gradient of {@link #objective}. */
    @Override
    public double[] refGrad(Case k, double[] x) {
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
            double g = ReductionReference.upstream(k.reduction, k.gradOut, i, d);
            double lse = logSumExp(x, i, k.c);
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

    /** Losses within 1e-5 relative (absolute below 1), gradients within 1e-5 of the largest. */
    @Override
    public void assertMatchesReference(Case k, Outputs r) {
        double[] x = toDouble(k.logits);
        if (r.loss() != null) {
            assertEachRelative(refLoss(k, x), r.loss(), 1e-5, 1, k + " loss");
        }
        if (r.grad() != null) {
            double[] grad = refGrad(k, x);
            assertEachWithin(grad, r.grad(), 1e-5 * maxAbs(grad), k + " grad");
        }
    }

    // ---- running the kernel ----

    @Override
    public long call(Case k, FloatBuffer logits, int logitsStride, FloatBuffer loss, FloatBuffer grad, int gradStride,
                     int threads) {
        return JavaSoftmaxCrossEntropy.run(logits, logitsStride, IntBuffer.wrap(k.targets), k.n, k.c,
                wrapOrNull(k.weights), k.ignore, k.smoothing, k.reduction, wrapOrNull(k.gradOut), loss, grad,
                gradStride, threads);
    }

    // ---- random cases ----

    /** With label smoothing 0.1, so that the contract's checks cover the smoothing term. */
    @Override
    public Case randomCase(Random rnd, int n, int c, Reduction reduction, boolean perClass, int ignoreMode,
                           boolean gradOut) {
        return randomCase(rnd, n, c, reduction, perClass, 0.1f, ignoreMode, gradOut);
    }

    /** ignoreMode: one of {@link ClassLabels}'s modes. */
    private static Case randomCase(Random rnd, int n, int c, Reduction reduction, boolean weighted, float smoothing,
                                   int ignoreMode, boolean gradOut) {
        // Weights in [0.5, 2).
        RandomLabelledRows in = RandomLabelledRows.draw(rnd, n, c, reduction, ignoreMode, NONE, weighted, 0.5f, 1.5f,
                gradOut);
        return new Case(n, c, in.logits(), in.labels().targets(), in.perClass(), in.labels().ignore(), smoothing,
                reduction, in.gradOut());
    }

    /** Every reduction and option combination on one shape. */
    @Override
    public List<Case> allOptions(Random rnd, int n, int c) {
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

    /**
     * The shapes of the contract's matchesTheFloat64Reference: 64, 129 and 4099 classes add the
     * vectorized exp's edges and odd halving passes to the usual shapes.
     */
    static Stream<Arguments> shapes() {
        int[] classes = {1, 2, 3, 7, 33, 64, 129, 1000, 4099};
        return LabelledRowsKernelContract.shapeGrid(new int[] {0, 1, 5, 64}, classes);
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
            double lse = logSumExp(toDouble(logits), 0, c);
            for (int j = 0; j < c; j++) {
                double p = Math.exp(logits[j] - lse);
                if (j != c / 2 && p >= Float.MIN_NORMAL) { // subnormal floats hold fewer digits
                    assertEquals(p, grad[j], 1e-6 * p, "class " + j);
                }
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
                Outputs r = run(k, true, true, 1);
                assertAllFinite(k.toString(), r.grad());
                double[] grad = refGrad(k, toDouble(logits));
                assertEachWithin(grad, r.grad(), 1e-6 * maxAbs(grad), k + " grad");
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
                RandomInputs.fillHuge(rnd, k.logits);
                Outputs r = run(k, true, true, 1);
                assertAllFinite(k.toString(), r.all());
                assertMatchesReference(k, r);
            }
        }
    }
}
