package org.culoss.internal;

import static org.culoss.testing.ElementwiseAsserts.assertEachWithin;
import static org.culoss.testing.KernelBuffers.arrayOrNull;
import static org.culoss.testing.KernelBuffers.lossOrNull;
import static org.culoss.testing.KernelBuffers.nanFilledOrNull;
import static org.culoss.testing.KernelBuffers.wrapOrNull;
import static org.culoss.testing.RandomInputs.upstreamGradient;
import static org.culoss.testing.TestArrays.direct;
import static org.culoss.testing.TestArrays.maxAbs;
import static org.culoss.testing.TestArrays.toDouble;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.culoss.Reduction;
import org.culoss.testing.ElementwiseReference;
import org.culoss.testing.FiniteDifferences;
import org.culoss.testing.ThreadCountAsserts;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The Java sigmoid focal kernel against a float64 reference written from torchvision's formula
 * (textbook form, not the kernel's rewritten one), and both against finite differences.
 */
class JavaSigmoidFocalTest {
    static final float[] GAMMAS = {0f, 0.5f, 1f, 2f, 3.7f};
    static final float[] ALPHAS = {0.25f, -1f, 0.75f};

    /** One call's inputs; gradOut may be null. */
    record Case(float[] x, float[] t, float alpha, float gamma, Reduction reduction, float[] gradOut) {
        int count() {
            return x.length;
        }

        @Override
        public String toString() {
            return "count=" + x.length + " alpha=" + alpha + " gamma=" + gamma + " " + reduction + " gradOut="
                    + (gradOut != null);
        }
    }

    record Result(float[] loss, float[] grad) {
        /** Everything written, for comparing calls bit for bit. */
        float[][] all() {
            return new float[][] {loss, grad};
        }
    }

    // ---- the float64 reference ----

    static double softplus(double v) {
        return Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v)));
    }

    static double sigmoid(double v) {
        return v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v));
    }

    /** {loss, d loss / dx} of one element. */
    static double[] element(double x, double t, double alpha, double gamma) {
        double p = sigmoid(x);
        double q = sigmoid(-x);
        double ce = t * softplus(-x) + (1 - t) * softplus(x);
        double m = t * q + (1 - t) * p;  // 1 - p_t
        double at = alpha >= 0 ? alpha * t + (1 - alpha) * (1 - t) : 1;
        double mg = gamma == 0 ? 1 : Math.pow(m, gamma);
        // d/dx [ce m^gamma] = (p - t) m^gamma + ce gamma m^(gamma-1) p q (1 - 2t); the second term is
        // 0 where gamma = 0 or m = 0 (there ce = 0 too).
        double second = gamma == 0 || m == 0 ? 0 : ce * gamma * Math.pow(m, gamma - 1) * p * q * (1 - 2 * t);
        return new double[] {at * ce * mg, at * (((1 - t) * p - t * q) * mg + second)};
    }

    /** The float64 reference of case k: its elements, and how they are reduced. */
    static ElementwiseReference reference(Case k) {
        return new ElementwiseReference((i, x) -> element(x, k.t[i], k.alpha, k.gamma), k.reduction, k.gradOut);
    }

    /** Central differences of the reference objective, in double. */
    static double[] finiteDifferences(Case k, double[] x) {
        return FiniteDifferences.central(x, 1e-6, () -> reference(k).objective(x));
    }

    // ---- running the kernel ----

    static Result run(Case k, boolean forward, boolean backward, int threads) {
        FloatBuffer loss = lossOrNull(forward, k.reduction, k.count());
        FloatBuffer grad = nanFilledOrNull(backward, k.count());
        JavaSigmoidFocal.run(direct(k.x), FloatBuffer.wrap(k.t), k.count(), k.alpha, k.gamma, k.reduction,
                wrapOrNull(k.gradOut), loss, grad, threads);
        return new Result(arrayOrNull(loss), arrayOrNull(grad));
    }

    // ---- cases ----

    /** Logits ~ N(0, scale), targets a mix of 0, 1 and soft labels. */
    static Case randomCase(Random rnd, int count, double scale, float alpha, float gamma, Reduction reduction,
                           boolean gradOut) {
        float[] x = new float[count];
        float[] t = new float[count];
        for (int i = 0; i < count; i++) {
            x[i] = (float) (rnd.nextGaussian() * scale);
            int pick = rnd.nextInt(4);
            t[i] = pick == 0 ? 0f : pick == 1 ? 1f : rnd.nextFloat();
        }
        float[] up = gradOut ? upstreamGradient(rnd, reduction, count) : null;
        return new Case(x, t, alpha, gamma, reduction, up);
    }

    static List<Case> allOptions(Random rnd, int count, double scale) {
        List<Case> cases = new ArrayList<>();
        for (Reduction r : Reduction.values()) {
            for (float alpha : ALPHAS) {
                for (float gamma : GAMMAS) {
                    cases.add(randomCase(rnd, count, scale, alpha, gamma, r, rnd.nextBoolean()));
                }
            }
        }
        return cases;
    }

    // ---- the tests ----

    @ParameterizedTest(name = "count={0}")
    @ValueSource(ints = {0, 1, 3, 5, 64, 4095, 4097, 9000})
    void matchesTheFloat64Reference(int count) {
        Random rnd = new Random(count);
        for (Case k : allOptions(rnd, count, 3)) {
            double[] x = toDouble(k.x);
            Result fused = run(k, true, true, 1);
            double[] loss = reference(k).loss(x);
            assertEachWithin(loss, fused.loss(), 1e-5 * maxAbs(loss) + 1e-12, k + " loss");
            double[] grad = reference(k).grad(x);
            assertEachWithin(grad, fused.grad(), 1e-5 * maxAbs(grad) + 1e-12, k + " grad");
            // Forward alone and backward alone give the fused pass's bits.
            assertArrayEquals(fused.loss(), run(k, true, false, 1).loss(), k::toString);
            assertArrayEquals(fused.grad(), run(k, false, true, 1).grad(), k::toString);
        }
    }

    @Test
    void referenceGradientMatchesFiniteDifferences() {
        Random rnd = new Random(7);
        for (Case k : allOptions(rnd, 6, 2)) {
            double[] x = toDouble(k.x);
            double[] analytic = reference(k).grad(x);
            assertEachWithin(finiteDifferences(k, x), analytic, 1e-6 * maxAbs(analytic) + 1e-10, k + " element");
        }
    }

    @Test
    void kernelGradientMatchesFiniteDifferences() {
        Random rnd = new Random(8);
        for (Case k : allOptions(rnd, 6, 2)) {
            double[] numeric = finiteDifferences(k, toDouble(k.x));
            float[] grad = run(k, false, true, 1).grad();
            assertEachWithin(numeric, grad, 1e-4 * maxAbs(numeric) + 1e-9, k + " element");
        }
    }

    @Test
    void saturatedLogitsGiveFiniteAccurateValues() {
        List<Float> xs = new ArrayList<>();
        List<Float> ts = new ArrayList<>();
        for (float mag : new float[] {17f, 30f, 88f, 100f, 1e4f}) {
            for (float sign : new float[] {1f, -1f}) {
                for (float t : new float[] {0f, 1f, 0.3f, 0.999f}) {
                    xs.add(sign * mag);
                    ts.add(t);
                }
            }
        }
        float[] x = new float[xs.size()];
        float[] t = new float[ts.size()];
        for (int i = 0; i < x.length; i++) {
            x[i] = xs.get(i);
            t[i] = ts.get(i);
        }
        for (float gamma : new float[] {0f, 0.5f, 2f}) {
            for (float alpha : new float[] {-1f, 0.25f}) {
                Case k = new Case(x, t, alpha, gamma, Reduction.NONE, null);
                Result r = run(k, true, true, 1);
                for (int i = 0; i < x.length; i++) {
                    double[] ref = element(x[i], t[i], alpha, gamma);
                    String what = k + " x=" + x[i] + " t=" + t[i];
                    assertTrue(Float.isFinite(r.loss()[i]) && Float.isFinite(r.grad()[i]), what);
                    // Each element on its own: relative 1e-5, or absolute 1e-30 for the values that
                    // underflow in float (exp(-|x|) is 0 below -87.3).
                    assertEquals(ref[0], r.loss()[i], 1e-5 * Math.abs(ref[0]) + 1e-30, what + " loss");
                    assertEquals(ref[1], r.grad()[i], 1e-5 * Math.abs(ref[1]) + 1e-30, what + " grad");
                }
            }
        }
    }

    @Test
    void softLabelsAndSmallLogitsAreAccurateElementwise() {
        // Near x = 0 both branches of the sign choice meet; around |x| = 1e-3 the log1p series and
        // the sign factor work on tiny differences.
        float[] x = {0f, -0f, 1e-30f, -1e-30f, 1e-3f, -1e-3f, 0.5f, -0.5f, Float.MIN_VALUE};
        float[] t = {0.5f, 0.2f, 1f, 0f, 0.7f, 0.1f, 1f, 0f, 0.4f};
        for (float gamma : GAMMAS) {
            Case k = new Case(x, t, 0.25f, gamma, Reduction.NONE, null);
            Result r = run(k, true, true, 1);
            for (int i = 0; i < x.length; i++) {
                double[] ref = element(x[i], t[i], 0.25, gamma);
                assertEquals(ref[0], r.loss()[i], 2e-6 * Math.abs(ref[0]) + 1e-30, k + " loss " + i);
                assertEquals(ref[1], r.grad()[i], 2e-6 * Math.abs(ref[1]) + 1e-12, k + " grad " + i);
            }
        }
    }

    @Test
    void nanPropagates() {
        Case k = new Case(new float[] {Float.NaN, 1f}, new float[] {1f, 0f}, 0.25f, 2f, Reduction.NONE, null);
        Result r = run(k, true, true, 1);
        assertTrue(Float.isNaN(r.loss()[0]) && Float.isNaN(r.grad()[0]));
        assertTrue(Float.isFinite(r.loss()[1]) && Float.isFinite(r.grad()[1]));
    }

    @Test
    void threadCountDoesNotChangeAnyBit() {
        Random rnd = new Random(12);
        for (Reduction reduction : Reduction.values()) {
            for (float gamma : new float[] {2f, 0.5f}) {
                Case k = randomCase(rnd, 50_003, 4, 0.25f, gamma, reduction, true);
                ThreadCountAsserts.assertSameBitsForThreadCounts(threads -> run(k, true, true, threads).all(),
                        k.toString(), 1, 2, 3);
            }
        }
    }

    @Test
    void slicesAreReadAndWrittenFromIndexZero() {
        // Callers pass slices: a buffer whose position is not 0 is sliced first, and the kernel
        // writes nothing past count.
        Random rnd = new Random(13);
        Case k = randomCase(rnd, 10, 2, 0.25f, 2f, Reduction.NONE, false);
        float[] backing = new float[13];
        Arrays.fill(backing, 7f);
        FloatBuffer grad = FloatBuffer.wrap(backing).position(2).slice();
        JavaSigmoidFocal.run(FloatBuffer.wrap(k.x), FloatBuffer.wrap(k.t), 10, 0.25f, 2f, Reduction.NONE, null,
                null, grad, 1);
        assertEquals(7f, backing[0]);
        assertEquals(7f, backing[1]);
        assertEquals(7f, backing[12]);
        double[] ref = reference(k).grad(toDouble(k.x));
        for (int i = 0; i < 10; i++) {
            assertEquals(ref[i], backing[2 + i], 1e-5 * maxAbs(ref), "grad " + i);
        }
    }
}
