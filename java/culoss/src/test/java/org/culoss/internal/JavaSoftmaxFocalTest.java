package org.culoss.internal;

import static org.culoss.testing.ElementwiseAsserts.assertAllFinite;
import static org.culoss.testing.ElementwiseAsserts.assertEachRelative;
import static org.culoss.testing.ElementwiseAsserts.assertEachWithin;
import static org.culoss.testing.KernelBuffers.wrapOrNull;
import static org.culoss.testing.SoftmaxReference.logSumExp;
import static org.culoss.testing.TestArrays.direct;
import static org.culoss.testing.TestArrays.maxAbs;
import static org.culoss.testing.TestArrays.toDouble;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.util.ArrayList;
import java.util.Arrays;
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
 * The Java softmax focal kernel against a float64 reference written from the formula, and both
 * against finite differences of the loss itself; the checks it shares with cross-entropy come
 * from {@link LabelledRowsKernelContract}.
 */
class JavaSoftmaxFocalTest implements LabelledRowsKernelContract<JavaSoftmaxFocalTest.Case> {
    private static final long NONE = JavaSoftmaxFocal.NO_IGNORE_INDEX;

    /** One call's inputs. classAlpha and gradOut may be null. */
    record Case(int n, int c, float[] logits, int[] targets, float[] classAlpha, float alpha, float gamma, long ignore,
                Reduction reduction, float[] gradOut)
            implements LabelledRowsKernelContract.Rows {
        @Override
        public String toString() {
            return "n=" + n + " c=" + c + " alpha=" + (classAlpha != null ? "per-class" : alpha) + " gamma=" + gamma
                    + " ignore=" + (ignore == NONE ? "none" : ignore) + " " + reduction + " gradOut=" + (gradOut != null);
        }
    }

    // ---- the float64 reference ----

    private static double alpha(Case k, int y) {
        return k.classAlpha == null ? k.alpha : k.classAlpha[y];
    }

    /** The mean's divisor: the number of rows that count. */
    @Override
    public double divisor(Case k) {
        double d = 0;
        for (int i = 0; i < k.n; i++) {
            if (counts(k, i)) {
                d++;
            }
        }
        return d;
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
    @Override
    public double rowLoss(Case k, double[] x, int i) {
        if (!counts(k, i)) {
            return 0;
        }
        double lse = logSumExp(x, i, k.c);
        double q = q(k, x, i, lse);
        return -alpha(k, k.targets[i]) * Math.pow(q, k.gamma) * logP(k, x, i, lse, q);
    }

    /**
     * Analytic gradient: F (p_k - [k == y]), F = alpha_y (q^g - g p_y q^(g-1) log p_y), with the
     * limits of its 0 * inf cases taken explicitly (q = 0; p_y = 0).
     */
    @Override
    public double[] refGrad(Case k, double[] x) {
        double[] grad = new double[k.n * k.c];
        double d = divisor(k);
        double g = k.gamma;
        for (int i = 0; i < k.n; i++) {
            if (!counts(k, i)) {
                continue;
            }
            double up = ReductionReference.upstream(k.reduction, k.gradOut, i, d);
            int y = k.targets[i];
            double lse = logSumExp(x, i, k.c);
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

    @Override
    public long call(Case k, FloatBuffer logits, int logitsStride, FloatBuffer loss, FloatBuffer grad, int gradStride,
                     int threads) {
        return JavaSoftmaxFocal.run(logits, logitsStride, IntBuffer.wrap(k.targets), k.n, k.c, wrapOrNull(k.classAlpha),
                k.alpha, k.gamma, k.ignore, k.reduction, wrapOrNull(k.gradOut), loss, grad, gradStride, threads);
    }

    // ---- random cases ----

    /** With gamma 2, the usual focal setting, for the contract's checks. */
    @Override
    public Case randomCase(Random rnd, int n, int c, Reduction reduction, boolean perClass, int ignoreMode,
                           boolean gradOut) {
        return randomCase(rnd, n, c, reduction, perClass, 2f, ignoreMode, gradOut);
    }

    /** ignoreMode: one of {@link ClassLabels}'s modes. */
    private static Case randomCase(Random rnd, int n, int c, Reduction reduction, boolean perClass, float gamma,
                                   int ignoreMode, boolean gradOut) {
        // Per-class alpha in [0.1, 2); the scalar alpha 0.25 where there is none.
        RandomLabelledRows in = RandomLabelledRows.draw(rnd, n, c, reduction, ignoreMode, NONE, perClass, 0.1f, 1.9f,
                gradOut);
        return new Case(n, c, in.logits(), in.labels().targets(), in.perClass(), 0.25f, gamma, in.labels().ignore(),
                reduction, in.gradOut());
    }

    /** Every reduction and option combination on one shape. */
    @Override
    public List<Case> allOptions(Random rnd, int n, int c) {
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

    /** Losses within 1e-5 relative (absolute below 1e-3), gradients within 1e-5 of the largest. */
    @Override
    public void assertMatchesReference(Case k, Outputs r) {
        double[] x = toDouble(k.logits);
        if (r.loss() != null) {
            assertEachRelative(refLoss(k, x), r.loss(), 1e-5, 1e-3, k + " loss");
        }
        if (r.grad() != null) {
            double[] grad = refGrad(k, x);
            assertEachWithin(grad, r.grad(), 1e-5 * maxAbs(grad) + 1e-12, k + " grad");
        }
    }

    // ---- the tests ----

    /**
     * The shapes of the contract's matchesTheFloat64Reference. 64 and 129 classes: the vectorized
     * exp's edge and odd halving passes; 1: p = 1, loss 0.
     */
    static Stream<Arguments> shapes() {
        return LabelledRowsKernelContract.shapeGrid(new int[] {0, 1, 5, 40}, new int[] {1, 2, 3, 7, 64, 129, 1000});
    }

    @Test
    void gammaZeroIsAlphaWeightedCrossEntropy() {
        Random rnd = new Random(15);
        for (int c : new int[] {5, 100}) {
            for (Reduction reduction : new Reduction[] {Reduction.NONE, Reduction.SUM}) {
                for (boolean perClass : new boolean[] {false, true}) {
                    Case k = randomCase(rnd, 30, c, reduction, perClass, 0f, 1, true);
                    Outputs focal = run(k, true, true, 1);
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
                    Outputs r = run(k, true, true, 1);
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
            Outputs r = run(k, true, true, 1);
            assertEquals(0f, r.loss()[0]);
            for (float g : r.grad()) {
                assertEquals(0f, g, 0f);
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
                Outputs r = run(k, true, true, 1);
                assertAllFinite(k.toString(), r.grad());
                double[] grad = refGrad(k, toDouble(logits));
                assertEachWithin(grad, r.grad(), 1e-6 * maxAbs(grad), k + " grad");
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
                RandomInputs.fillHuge(rnd, k.logits);
                Outputs r = run(k, true, true, 1);
                assertAllFinite(k.toString(), r.all());
                assertMatchesReference(k, r);
            }
        }
    }
}
