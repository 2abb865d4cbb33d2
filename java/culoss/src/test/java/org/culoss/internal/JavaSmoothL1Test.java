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
 * The Java smooth L1 and Huber kernels against a float64 reference written from PyTorch's
 * formulas, finite differences away from the kinks, and PyTorch's exact values at the kinks.
 */
class JavaSmoothL1Test {
    /** huber false: option is beta; true: delta. */
    record Case(boolean huber, float[] x, float[] t, float option, Reduction reduction, float[] gradOut) {
        int count() {
            return x.length;
        }

        @Override
        public String toString() {
            return (huber ? "huber delta=" : "smooth_l1 beta=") + option + " count=" + x.length + " " + reduction
                    + " gradOut=" + (gradOut != null);
        }
    }

    record Result(float[] loss, float[] grad) {
        /** Everything written, for comparing calls bit for bit. */
        float[][] all() {
            return new float[][] {loss, grad};
        }
    }

    /** {loss, d loss / dx} of one element, PyTorch's branches. */
    static double[] element(boolean huber, double x, double t, double option) {
        double d = x - t;
        double z = Math.abs(d);
        if (huber) {
            double delta = option;
            return new double[] {z < delta ? 0.5 * z * z : delta * (z - 0.5 * delta),
                d <= -delta ? -delta : d >= delta ? delta : d};
        }
        double beta = option;
        double loss = z < beta ? 0.5 * z * z / beta : z - 0.5 * beta;
        double grad = beta == 0 ? Math.signum(d) : d <= -beta ? -1 : d >= beta ? 1 : d / beta;
        return new double[] {loss, grad};
    }

    /** The float64 reference of case k: its elements, and how they are reduced. */
    static ElementwiseReference reference(Case k) {
        return new ElementwiseReference((i, x) -> element(k.huber, x, k.t[i], k.option), k.reduction, k.gradOut);
    }

    static Result run(Case k, boolean forward, boolean backward, int threads) {
        FloatBuffer loss = lossOrNull(forward, k.reduction, k.count());
        FloatBuffer grad = nanFilledOrNull(backward, k.count());
        JavaSmoothL1.run(k.huber, direct(k.x), FloatBuffer.wrap(k.t), k.count(), k.option, k.reduction,
                wrapOrNull(k.gradOut), loss, grad, threads);
        return new Result(arrayOrNull(loss), arrayOrNull(grad));
    }

    /** Differences of about the option's size, so every branch is taken; some exactly 0. */
    static Case randomCase(Random rnd, boolean huber, int count, float option, Reduction reduction, boolean gradOut) {
        float[] x = new float[count];
        float[] t = new float[count];
        double scale = Math.max(option, 0.5f) * 1.5;
        for (int i = 0; i < count; i++) {
            x[i] = (float) (rnd.nextGaussian() * 2);
            t[i] = rnd.nextInt(8) == 0 ? x[i] : (float) (x[i] + rnd.nextGaussian() * scale);
        }
        float[] up = gradOut ? upstreamGradient(rnd, reduction, count) : null;
        return new Case(huber, x, t, option, reduction, up);
    }

    static List<Case> allOptions(Random rnd, int count) {
        List<Case> cases = new ArrayList<>();
        for (Reduction r : Reduction.values()) {
            for (float beta : new float[] {1f, 0f, 0.5f, 3f}) {
                cases.add(randomCase(rnd, false, count, beta, r, rnd.nextBoolean()));
            }
            for (float delta : new float[] {1f, 0.5f, 3f}) {
                cases.add(randomCase(rnd, true, count, delta, r, rnd.nextBoolean()));
            }
        }
        return cases;
    }

    @ParameterizedTest(name = "count={0}")
    @ValueSource(ints = {0, 1, 3, 5, 64, 4095, 4097, 9000})
    void matchesTheFloat64Reference(int count) {
        Random rnd = new Random(count);
        for (Case k : allOptions(rnd, count)) {
            double[] x = toDouble(k.x);
            Result fused = run(k, true, true, 1);
            double[] loss = reference(k).loss(x);
            assertEachWithin(loss, fused.loss(), 1e-5 * maxAbs(loss) + 1e-12, k + " loss");
            // The reference takes d = x - t in double, the kernel in float, as PyTorch does: compare
            // with the float difference's gradient, which decides the branch.
            double[] grad = reference(k).grad(floatDifferences(k));
            assertEachWithin(grad, fused.grad(), 1e-6 * maxAbs(grad) + 1e-12, k + " grad");
            assertArrayEquals(fused.loss(), run(k, true, false, 1).loss(), k::toString);
            assertArrayEquals(fused.grad(), run(k, false, true, 1).grad(), k::toString);
        }
    }

    /** x such that x - t (double) equals the float difference x - t: t itself plus (x - t in float). */
    private static double[] floatDifferences(Case k) {
        double[] x = new double[k.count()];
        for (int i = 0; i < x.length; i++) x[i] = (double) k.t[i] + (k.x[i] - k.t[i]);
        return x;
    }

    @Test
    void gradientsMatchFiniteDifferencesAwayFromTheKinks() {
        Random rnd = new Random(7);
        for (Case k : allOptions(rnd, 8)) {
            double[] x = toDouble(k.x);
            // Move every element at least 1e-3 away from d = 0 and |d| = option: the loss is smooth there.
            for (int i = 0; i < x.length; i++) {
                double d = x[i] - k.t[i];
                for (double kink : new double[] {0, k.option, -k.option}) {
                    if (Math.abs(d - kink) < 1e-3) d = kink + 2e-3;
                }
                k.x[i] = (float) (k.t[i] + d);
                x[i] = k.x[i];
            }
            double[] analytic = reference(k).grad(x);
            double[] numeric = FiniteDifferences.central(x, 1e-6, () -> reference(k).objective(x));
            float[] grad = run(k, false, true, 1).grad();
            double scale = maxAbs(analytic) + 1e-9;
            assertEachWithin(numeric, analytic, 1e-6 * scale, k + " reference, element");
            assertEachWithin(numeric, grad, 1e-4 * scale, k + " kernel, element");
        }
    }

    @Test
    void kinksTakePyTorchsValues() {
        // d = 0, 0, +-beta exactly, and beyond; the expected values are PyTorch's (1.13 for beta > 0
        // and Huber; 2.1's L1 for beta = 0, whose gradient at d = 0 is 0).
        float[] x = {0f, 1.5f, 0.5f, -0.5f, 2f, 3f};
        float[] t = {0f, 1.5f, 0f, 0f, 1.5f, 1f};  // d = 0, 0, 0.5, -0.5, 0.5, 2
        Object[][] expected = {
            {false, 0f, new float[] {0, 0, 0.5f, 0.5f, 0.5f, 2}, new float[] {0, 0, 1, -1, 1, 1}},
            {false, 0.5f, new float[] {0, 0, 0.25f, 0.25f, 0.25f, 1.75f}, new float[] {0, 0, 1, -1, 1, 1}},
            {false, 1f, new float[] {0, 0, 0.125f, 0.125f, 0.125f, 1.5f}, new float[] {0, 0, 0.5f, -0.5f, 0.5f, 1}},
            {true, 0.5f, new float[] {0, 0, 0.125f, 0.125f, 0.125f, 0.875f}, new float[] {0, 0, 0.5f, -0.5f, 0.5f, 0.5f}},
            {true, 2f, new float[] {0, 0, 0.125f, 0.125f, 0.125f, 2}, new float[] {0, 0, 0.5f, -0.5f, 0.5f, 2}},
        };
        for (Object[] e : expected) {
            Case k = new Case((Boolean) e[0], x, t, (Float) e[1], Reduction.NONE, null);
            Result r = run(k, true, true, 1);
            assertArrayEquals((float[]) e[2], r.loss(), k::toString);
            assertArrayEquals((float[]) e[3], r.grad(), k::toString);
        }
    }

    @Test
    void nonFiniteDifferences() {
        float inf = Float.POSITIVE_INFINITY;
        float[] x = {inf, -inf, Float.NaN, 3e38f, 0f};
        float[] t = {0f, 0f, 0f, -3e38f, Float.NaN};
        for (boolean huber : new boolean[] {false, true}) {
            for (float option : new float[] {0f, 1f}) {
                if (huber && option == 0f) continue;
                Case k = new Case(huber, x, t, option, Reduction.NONE, null);
                Result r = run(k, true, true, 1);
                float cap = huber ? option : 1f;
                assertEquals(inf, r.loss()[0], k::toString);
                assertEquals(inf, r.loss()[1], k::toString);
                assertEquals(cap, r.grad()[0], k::toString);
                assertEquals(-cap, r.grad()[1], k::toString);
                assertTrue(Float.isNaN(r.loss()[2]) && Float.isNaN(r.grad()[2]), k::toString);
                assertEquals(inf, r.loss()[3], k + ": 6e38 overflows float, as in PyTorch");
                assertEquals(cap, r.grad()[3], k::toString);
                assertTrue(Float.isNaN(r.loss()[4]) && Float.isNaN(r.grad()[4]), k::toString);
            }
        }
    }

    @Test
    void threadCountDoesNotChangeAnyBit() {
        Random rnd = new Random(12);
        for (Reduction reduction : Reduction.values()) {
            for (boolean huber : new boolean[] {false, true}) {
                Case k = randomCase(rnd, huber, 50_003, 1f, reduction, true);
                ThreadCountAsserts.assertSameBitsForThreadCounts(threads -> run(k, true, true, threads).all(),
                        k.toString(), 1, 2, 3);
            }
        }
    }

    @Test
    void nothingIsWrittenPastCount() {
        float[] backing = new float[12];
        Arrays.fill(backing, 7f);
        FloatBuffer grad = FloatBuffer.wrap(backing).position(1).slice();
        FloatBuffer loss = FloatBuffer.wrap(new float[12]).position(1).slice();
        float[] x = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
        JavaSmoothL1.run(true, FloatBuffer.wrap(x), FloatBuffer.wrap(new float[10]), 10, 2f, Reduction.NONE, null,
                loss, grad, 1);
        assertEquals(7f, backing[0]);
        assertEquals(7f, backing[11]);
        assertEquals(2f, backing[10]);
        assertEquals(1f, backing[1]);
    }
}
