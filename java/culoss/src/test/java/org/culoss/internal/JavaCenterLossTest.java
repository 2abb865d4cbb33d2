package org.culoss.internal;

import static org.culoss.testing.ElementwiseAsserts.assertEachWithin;
import static org.culoss.testing.ElementwiseAsserts.assertRowsZero;
import static org.culoss.testing.RandomInputs.gaussian;
import static org.culoss.testing.RandomInputs.upstreamGradient;
import static org.culoss.testing.TestArrays.maxAbs;
import static org.culoss.testing.TestArrays.toDouble;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.culoss.Reduction;
import org.culoss.testing.FiniteDifferences;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The Java center-loss kernel against a float64 reference written from the formulas, and finite differences. */
class JavaCenterLossTest {

    /** One call's inputs; gradOut may be null. */
    record Case(int n, int d, int c, float[] x, int[] y, float[] centers, float lambda, float alpha,
                Reduction reduction, float[] gradOut) {
        @Override
        public String toString() {
            return "n=" + n + " d=" + d + " c=" + c + " lambda=" + lambda + " alpha=" + alpha + " " + reduction
                    + " gradOut=" + (gradOut != null);
        }
    }

    /** What the kernel wrote: null where not asked. */
    record Result(long firstBad, float[] loss, float[] gradFeatures, float[] gradCenters) {}

    // ---- the float64 reference ----

    private static boolean valid(Case k, int i) {
        return k.y[i] >= 0 && k.y[i] < k.c;
    }

    private static double upstream(Case k, int i) {
        if (k.gradOut == null) return 1;
        return k.reduction == Reduction.NONE ? k.gradOut[i] : k.gradOut[0];
    }

    private static double scale(Case k) {
        return k.reduction == Reduction.MEAN && k.n > 0 ? 1.0 / k.n : 1.0;
    }

    /** Per-row losses lambda/2 ||x_i - c_{y_i}||^2 (0 for a bad label), from double inputs. */
    private static double[] rows(Case k, double[] x, double[] centers) {
        double[] rows = new double[k.n];
        for (int i = 0; i < k.n; i++) {
            if (!valid(k, i)) continue;
            double s = 0;
            for (int j = 0; j < k.d; j++) {
                double diff = x[i * k.d + j] - centers[k.y[i] * k.d + j];
                s += diff * diff;
            }
            rows[i] = 0.5 * k.lambda * s;
        }
        return rows;
    }

    private static double[] refLoss(Case k, double[] x, double[] centers) {
        double[] rows = rows(k, x, centers);
        if (k.reduction == Reduction.NONE) return rows;
        double total = 0;
        for (double r : rows) total += r;
        return new double[] {total * scale(k)};
    }

    /** The scalar whose gradient the backward computes: sum_i g_i loss_i (times the mean's 1/n). */
    private static double objective(Case k, double[] x, double[] centers) {
        double[] rows = rows(k, x, centers);
        double total = 0;
        for (int i = 0; i < k.n; i++) total += upstream(k, i) * rows[i];
        return total * scale(k);
    }

    private static double[] refGradFeatures(Case k, double[] x, double[] centers) {
        double[] g = new double[k.n * k.d];
        for (int i = 0; i < k.n; i++) {
            if (!valid(k, i)) continue;
            for (int j = 0; j < k.d; j++) {
                g[i * k.d + j] = k.lambda * upstream(k, i) * scale(k) * (x[i * k.d + j] - centers[k.y[i] * k.d + j]);
            }
        }
        return g;
    }

    private static double[] refGradCenters(Case k, double[] x, double[] centers) {
        double[] g = new double[k.c * k.d];
        for (int i = 0; i < k.n; i++) {
            if (!valid(k, i)) continue;
            for (int j = 0; j < k.d; j++) {
                g[k.y[i] * k.d + j] -= k.lambda * upstream(k, i) * scale(k) * (x[i * k.d + j] - centers[k.y[i] * k.d + j]);
            }
        }
        return g;
    }

    private static double[] refUpdate(Case k) {
        double[] out = toDouble(k.centers);
        double[] sums = new double[k.c * k.d];
        int[] counts = new int[k.c];
        for (int i = 0; i < k.n; i++) {
            if (!valid(k, i)) continue;
            counts[k.y[i]]++;
            for (int j = 0; j < k.d; j++) sums[k.y[i] * k.d + j] += (double) k.centers[k.y[i] * k.d + j] - k.x[i * k.d + j];
        }
        for (int cl = 0; cl < k.c; cl++) {
            for (int j = 0; j < k.d; j++) out[cl * k.d + j] -= k.alpha * sums[cl * k.d + j] / (1 + counts[cl]);
        }
        return out;
    }

    // ---- running the kernel ----

    private static Result run(Case k, boolean loss, boolean gradFeatures, boolean gradCenters, int threads) {
        FloatBuffer l = loss ? FloatBuffer.allocate(k.reduction == Reduction.NONE ? k.n : 1) : null;
        FloatBuffer gf = gradFeatures ? FloatBuffer.allocate(k.n * k.d) : null;
        FloatBuffer gc = gradCenters ? FloatBuffer.allocate(k.c * k.d) : null;
        long bad = JavaCenterLoss.run(FloatBuffer.wrap(k.x), IntBuffer.wrap(k.y), FloatBuffer.wrap(k.centers), k.n, k.d,
                k.c, k.lambda, k.reduction, k.gradOut == null ? null : FloatBuffer.wrap(k.gradOut), l, gf, gc, threads);
        return new Result(bad, l == null ? null : l.array(), gf == null ? null : gf.array(),
                gc == null ? null : gc.array());
    }

    private static float[] update(Case k, int threads) {
        float[] centers = k.centers.clone();
        JavaCenterLoss.updateCenters(FloatBuffer.wrap(k.x), IntBuffer.wrap(k.y), FloatBuffer.wrap(centers), k.n, k.d,
                k.c, k.alpha, threads);
        return centers;
    }

    /** labels: 0 random, 1 all in the last class, 2 even classes only (odd ones empty). */
    static Case randomCase(Random rnd, int n, int d, int c, Reduction reduction, int labels, boolean gradOut) {
        float[] x = gaussian(rnd, n * d, 1);
        float[] centers = gaussian(rnd, c * d, 0.5);
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = labels == 0 ? rnd.nextInt(c) : labels == 1 ? c - 1 : 2 * rnd.nextInt((c + 1) / 2);
        }
        float[] g = gradOut ? upstreamGradient(rnd, reduction, n) : null;
        float lambda = 0.25f + 2 * rnd.nextFloat();
        float alpha = rnd.nextFloat();
        return new Case(n, d, c, x, y, centers, lambda, alpha, reduction, g);
    }

    private static List<Case> allOptions(Random rnd, int n, int d, int c) {
        List<Case> cases = new ArrayList<>();
        for (Reduction reduction : Reduction.values()) {
            for (int labels = 0; labels < 3; labels++) {
                for (boolean gradOut : new boolean[] {false, true}) {
                    cases.add(randomCase(rnd, n, d, c, reduction, labels, gradOut));
                }
            }
        }
        return cases;
    }

    /** Within relTol of the largest reference value: the rounding of the large elements shows in the small. */
    private static void assertNear(double[] expected, float[] actual, double relTol, String what) {
        assertEachWithin(expected, actual, relTol * maxAbs(expected) + 1e-12, what);
    }

    static Stream<Arguments> shapes() {
        List<Arguments> shapes = new ArrayList<>();
        for (int[] ndc : new int[][] {{0, 4, 3}, {1, 1, 1}, {5, 3, 1}, {5, 1, 4}, {64, 7, 3}, {64, 4, 17}, {300, 2, 5},
                {40, 130, 6}, {20, 300, 3}, {700, 33, 2}}) {
            shapes.add(Arguments.of(ndc[0], ndc[1], ndc[2]));
        }
        return shapes.stream();
    }

    @ParameterizedTest(name = "n={0} d={1} c={2}")
    @MethodSource("shapes")
    void matchesTheFloat64Reference(int n, int d, int c) {
        Random rnd = new Random(131L * n + 17L * d + c);
        for (Case k : allOptions(rnd, n, d, c)) {
            double[] x = toDouble(k.x);
            double[] cs = toDouble(k.centers);
            Result r = run(k, true, true, true, 1);
            assertEquals(-1, r.firstBad(), k::toString);
            assertNear(refLoss(k, x, cs), r.loss(), 1e-5, k + " loss");
            assertNear(refGradFeatures(k, x, cs), r.gradFeatures(), 1e-5, k + " gradFeatures");
            assertNear(refGradCenters(k, x, cs), r.gradCenters(), 1e-5, k + " gradCenters");
            assertNear(refUpdate(k), update(k, 1), 1e-5, k + " update");

            // each output alone is the same bits as in the fused call
            assertArrayEquals(r.loss(), run(k, true, false, false, 1).loss(), k::toString);
            assertArrayEquals(r.gradFeatures(), run(k, false, true, false, 1).gradFeatures(), k::toString);
            assertArrayEquals(r.gradCenters(), run(k, false, false, true, 1).gradCenters(), k::toString);
        }
    }

    @Test
    void referenceGradientsMatchFiniteDifferences() {
        Random rnd = new Random(7);
        for (int[] ndc : new int[][] {{1, 1, 1}, {4, 3, 2}, {6, 2, 4}}) {
            for (Case k : allOptions(rnd, ndc[0], ndc[1], ndc[2])) {
                double[] x = toDouble(k.x);
                double[] cs = toDouble(k.centers);
                double[] fx = finiteDifferences(k, x, cs, true);
                double[] fc = finiteDifferences(k, x, cs, false);
                double[] gx = refGradFeatures(k, x, cs);
                double[] gc = refGradCenters(k, x, cs);
                assertEachWithin(fx, gx, 1e-6 * maxAbs(gx) + 1e-9, k + " x");
                assertEachWithin(fc, gc, 1e-6 * maxAbs(gc) + 1e-9, k + " c");
            }
        }
    }

    @Test
    void kernelGradientsMatchFiniteDifferences() {
        Random rnd = new Random(8);
        for (int[] ndc : new int[][] {{1, 1, 1}, {4, 3, 2}, {6, 5, 4}, {9, 2, 1}}) {
            for (Case k : allOptions(rnd, ndc[0], ndc[1], ndc[2])) {
                double[] x = toDouble(k.x);
                double[] cs = toDouble(k.centers);
                Result r = run(k, false, true, true, 1);
                double[] fx = finiteDifferences(k, x, cs, true);
                double[] fc = finiteDifferences(k, x, cs, false);
                assertEachWithin(fx, r.gradFeatures(), 1e-3 * maxAbs(fx) + 1e-9, k + " x");
                assertEachWithin(fc, r.gradCenters(), 1e-3 * maxAbs(fc) + 1e-9, k + " c");
            }
        }
    }

    /** Central differences of the reference objective in double, over the features or the centers. */
    private static double[] finiteDifferences(Case k, double[] x, double[] centers, boolean overFeatures) {
        return FiniteDifferences.central(overFeatures ? x : centers, 1e-5, () -> objective(k, x, centers));
    }

    /**
     * The update, the center gradient and the loss are the same bits for every thread count and on
     * every run: 50 updates with each thread count, on a shape where the work splits into many
     * tasks (a big class, many small ones, d past one column block).
     */
    @Test
    void bitIdenticalForAnyThreadCountAndEveryRun() {
        Random rnd = new Random(11);
        int n = 3000, d = 300, c = 40;
        Case base = randomCase(rnd, n, d, c, Reduction.MEAN, 0, false);
        for (int i = 0; i < n; i += 3) base.y[i] = 7;  // one class with a third of the samples
        float[] first = update(base, 1);
        Result firstR = run(base, true, true, true, 1);
        for (int threads : new int[] {1, 2, 3, 4, 8}) {
            for (int run = 0; run < (threads == 1 ? 50 : 10); run++) {
                assertArrayEquals(first, update(base, threads), "update, threads=" + threads + " run " + run);
            }
            Result r = run(base, true, true, true, threads);
            assertEquals(Float.floatToRawIntBits(firstR.loss()[0]), Float.floatToRawIntBits(r.loss()[0]),
                    "loss, threads=" + threads);
            assertArrayEquals(firstR.gradFeatures(), r.gradFeatures(), "gradFeatures, threads=" + threads);
            assertArrayEquals(firstR.gradCenters(), r.gradCenters(), "gradCenters, threads=" + threads);
        }
        assertNear(refUpdate(base), first, 1e-5, "update");
    }

    @Test
    void invalidLabelsAreReportedAndSkipped() {
        Random rnd = new Random(9);
        for (Reduction reduction : Reduction.values()) {
            for (int threads : new int[] {1, 2}) {
                Case k = randomCase(rnd, 7, 3, 4, reduction, 0, true);
                k.y[1] = 4;  // == c
                k.y[3] = -1;
                k.y[5] = Integer.MIN_VALUE;
                Result r = run(k, true, true, true, threads);
                assertEquals(1, r.firstBad());
                double[] x = toDouble(k.x);
                double[] cs = toDouble(k.centers);
                assertNear(refLoss(k, x, cs), r.loss(), 1e-5, reduction + " loss");
                assertNear(refGradFeatures(k, x, cs), r.gradFeatures(), 1e-5, reduction + " gradFeatures");
                assertNear(refGradCenters(k, x, cs), r.gradCenters(), 1e-5, reduction + " gradCenters");
                assertRowsZero(r.gradFeatures(), k.d, 1, 3, 5);
                assertNear(refUpdate(k), update(k, threads), 1e-5, reduction + " update");
                float[] centers = k.centers.clone();
                assertEquals(1, JavaCenterLoss.updateCenters(FloatBuffer.wrap(k.x), IntBuffer.wrap(k.y),
                        FloatBuffer.wrap(centers), k.n, k.d, k.c, k.alpha, threads));
            }
        }
    }

    @Test
    void gradFeaturesMayBeTheFeatures() {
        Random rnd = new Random(12);
        Case k = randomCase(rnd, 50, 6, 5, Reduction.SUM, 0, false);
        double[] x = toDouble(k.x);
        double[] cs = toDouble(k.centers);
        float[] inPlace = k.x.clone();
        FloatBuffer gc = FloatBuffer.allocate(k.c * k.d);
        FloatBuffer buffer = FloatBuffer.wrap(inPlace);
        JavaCenterLoss.run(buffer, IntBuffer.wrap(k.y), FloatBuffer.wrap(k.centers), k.n, k.d, k.c, k.lambda,
                k.reduction, null, null, buffer, gc, 2);
        assertNear(refGradFeatures(k, x, cs), inPlace, 1e-5, "in place");
        assertNear(refGradCenters(k, x, cs), gc.array(), 1e-5, "gradCenters beside an in-place gradFeatures");
    }
}
