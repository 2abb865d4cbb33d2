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
import org.culoss.testing.FiniteDifferences;
import org.culoss.testing.ReductionReference;
import org.culoss.testing.ThreadCountAsserts;
import org.junit.jupiter.api.Test;

/**
 * The Java triplet margin kernel against a float64 reference written from the formulas, whose
 * gradient is itself checked by finite differences, for every option (p in {0.5, 1, 1.5, 2, 3,
 * inf}, swap, margin, eps, every reduction, with and without an upstream gradient) on inputs kept
 * away from the kinks; the kinks themselves are checked against PyTorch 1.13's values.
 */
class JavaTripletMarginTest {
    private static final float INF = Float.POSITIVE_INFINITY;
    private static final float[] PS = {0.5f, 1f, 1.5f, 2f, 3f, INF};

    /** One call's inputs; gradOut may be null. */
    record Case(int n, int d, float[] a, float[] p, float[] neg, float margin, float pNorm, float eps, boolean swap,
                Reduction reduction, float[] gradOut) {
        @Override
        public String toString() {
            return "n=" + n + " d=" + d + " p=" + pNorm + " swap=" + swap + " margin=" + margin + " eps=" + eps + " "
                    + reduction + " gradOut=" + (gradOut != null);
        }
    }

    /** What the kernel wrote (null where not asked). */
    record Result(float[] loss, float[] ga, float[] gp, float[] gn) {}

    // ---- the float64 reference ----

    /** x_j = u_j - v_j + eps of row i. */
    private static double[] components(double[] u, double[] v, int i, int d, double eps) {
        double[] x = new double[d];
        for (int j = 0; j < d; j++) {
            x[j] = u[i * d + j] - v[i * d + j] + eps;
        }
        return x;
    }

    private static double norm(double[] x, double p) {
        if (Double.isInfinite(p)) {
            double m = 0;
            for (double v : x) m = Math.max(m, Math.abs(v));
            return m;
        }
        double s = 0;
        for (double v : x) s += Math.pow(Math.abs(v), p);
        return Math.pow(s, 1 / p);
    }

    /** d ||x||_p / dx by PyTorch's norm_backward rules. */
    private static double[] normGrad(double[] x, double p) {
        double dist = norm(x, p);
        double[] g = new double[x.length];
        if (Double.isInfinite(p)) {
            int count = 0;
            for (double v : x) count += Math.abs(v) == dist ? 1 : 0;
            for (int j = 0; j < x.length; j++) {
                if (Math.abs(x[j]) == dist && x[j] != 0) g[j] = Math.signum(x[j]) / count;
            }
            return g;
        }
        if (!(dist > 0)) return g;
        for (int j = 0; j < x.length; j++) {
            if (x[j] != 0) g[j] = Math.signum(x[j]) * (p == 1 ? 1 : Math.pow(Math.abs(x[j]) / dist, p - 1));
        }
        return g;
    }

    /** Row losses, and per row (d_ap, d_an, d_pn, v). */
    private static double[][] rows(Case k, double[] a, double[] p, double[] n) {
        double[][] out = new double[k.n][];
        for (int i = 0; i < k.n; i++) {
            double dAp = norm(components(a, p, i, k.d, k.eps), k.pNorm);
            double dAn = norm(components(a, n, i, k.d, k.eps), k.pNorm);
            double dPn = k.swap ? norm(components(p, n, i, k.d, k.eps), k.pNorm) : Double.NaN;
            double dNeg = k.swap ? Math.min(dAn, dPn) : dAn;
            double v = k.margin + dAp - dNeg;
            out[i] = new double[] {dAp, dAn, dPn, v};
        }
        return out;
    }

    private static double[] refLoss(Case k, double[] a, double[] p, double[] n) {
        double[][] r = rows(k, a, p, n);
        double[] loss = new double[k.n];
        for (int i = 0; i < k.n; i++) {
            loss[i] = Math.max(r[i][3], 0);
        }
        return ReductionReference.reduce(loss, k.reduction, k.n);
    }

    /** sum_i gradOut_i loss_i (or gradOut * reduced loss): the scalar whose gradient the backward gives. */
    private static double objective(Case k, double[] a, double[] p, double[] n) {
        return ReductionReference.objective(refLoss(k, a, p, n), k.gradOut);
    }

    /** Analytic gradients {anchor, positive, negative} of {@link #objective}. */
    private static double[][] refGrad(Case k, double[] a, double[] p, double[] n) {
        double[][] g = new double[3][k.n * k.d];
        double[][] r = rows(k, a, p, n);
        for (int i = 0; i < k.n; i++) {
            if (r[i][3] < 0) continue;
            double up = ReductionReference.upstream(k.reduction, k.gradOut, i, k.n);
            double wAn = 1, wPn = 0;
            if (k.swap) {
                if (r[i][2] < r[i][1]) {
                    wAn = 0;
                    wPn = 1;
                } else if (r[i][2] == r[i][1]) {
                    wAn = 0.5;
                    wPn = 0.5;
                }
            }
            double[] gAp = normGrad(components(a, p, i, k.d, k.eps), k.pNorm);
            double[] gAn = normGrad(components(a, n, i, k.d, k.eps), k.pNorm);
            double[] gPn = k.swap ? normGrad(components(p, n, i, k.d, k.eps), k.pNorm) : new double[k.d];
            for (int j = 0; j < k.d; j++) {
                g[0][i * k.d + j] = up * (gAp[j] - wAn * gAn[j]);
                g[1][i * k.d + j] = up * (-gAp[j] - wPn * gPn[j]);
                g[2][i * k.d + j] = up * (wAn * gAn[j] + wPn * gPn[j]);
            }
        }
        return g;
    }

    /** Central differences of the reference objective, in double, for the three inputs. */
    private static double[][] finiteDifferences(Case k) {
        double[][] x = {toDouble(k.a), toDouble(k.p), toDouble(k.neg)};
        double[][] g = new double[3][];
        for (int w = 0; w < 3; w++) {
            g[w] = FiniteDifferences.central(x[w], 1e-6, () -> objective(k, x[0], x[1], x[2]));
        }
        return g;
    }

    // ---- running the kernel ----

    /** grads: bit 0 anchor, 1 positive, 2 negative. */
    private static Result run(Case k, boolean forward, int grads, int threads) {
        int len = k.n * k.d;
        FloatBuffer loss = lossOrNull(forward, k.reduction, k.n);
        FloatBuffer ga = nanFilledOrNull((grads & 1) != 0, len);
        FloatBuffer gp = nanFilledOrNull((grads & 2) != 0, len);
        FloatBuffer gn = nanFilledOrNull((grads & 4) != 0, len);
        JavaTripletMargin.run(direct(k.a), FloatBuffer.wrap(k.p), direct(k.neg), k.n, k.d, k.margin, k.pNorm, k.eps,
                k.swap, k.reduction, wrapOrNull(k.gradOut), loss, ga, gp, gn, threads);
        return new Result(arrayOrNull(loss), arrayOrNull(ga), arrayOrNull(gp), arrayOrNull(gn));
    }

    /** The three gradients, anchor, positive, negative (null where not asked). */
    private static float[][] grads(Result r) {
        return new float[][] {r.ga(), r.gp(), r.gn()};
    }

    // ---- random cases ----

    /**
     * Random triplets kept away from every kink (|v| > 0.05, swap distances apart by 0.05; for
     * d <= 16 also components |x_j| > 0.05 and a unique largest |x_j| for p = inf), so that finite differences
     * see a smooth function. Every other row has the negative near the positive, where swap picks
     * dist(p, n); margins vary so that some rows are inactive.
     */
    private static Case smoothCase(Random rnd, int n, int d, float pNorm, boolean swap, float margin, float eps,
                                   Reduction reduction, boolean gradOut) {
        float[] a = new float[n * d];
        float[] p = new float[n * d];
        float[] ng = new float[n * d];
        for (int i = 0; i < n; i++) {
            for (int attempt = 0; ; attempt++) {
                for (int j = 0; j < d; j++) {
                    a[i * d + j] = (float) rnd.nextGaussian();
                    p[i * d + j] = (float) rnd.nextGaussian();
                    float base = i % 2 == 0 ? p[i * d + j] : a[i * d + j];
                    ng[i * d + j] = base + (float) rnd.nextGaussian() * 0.7f;
                }
                Case one = new Case(1, d, Arrays.copyOfRange(a, i * d, i * d + d), Arrays.copyOfRange(p, i * d, i * d + d),
                        Arrays.copyOfRange(ng, i * d, i * d + d), margin, pNorm, eps, swap, Reduction.NONE, null);
                if (smooth(one)) break;
                if (attempt > 1000) throw new AssertionError("no smooth row for " + one);
            }
        }
        float[] up = gradOut ? upstreamGradient(rnd, reduction, n) : null;
        return new Case(n, d, a, p, ng, margin, pNorm, eps, swap, reduction, up);
    }

    private static boolean smooth(Case k) {
        double[] a = toDouble(k.a), p = toDouble(k.p), n = toDouble(k.neg);
        double[][] r = rows(k, a, p, n);
        if (Math.abs(r[0][3]) < 0.05) return false;
        if (k.swap && Math.abs(r[0][1] - r[0][2]) < 0.05) return false;
        List<double[]> xs = new ArrayList<>(List.of(components(a, p, 0, k.d, k.eps), components(a, n, 0, k.d, k.eps)));
        if (k.swap) xs.add(components(p, n, 0, k.d, k.eps));
        if (k.d > 16) return true;  // no finite differences on those: the active set is enough
        for (double[] x : xs) {
            double[] mags = new double[x.length];
            for (int j = 0; j < x.length; j++) {
                if (Math.abs(x[j]) < 0.05) return false;
                mags[j] = Math.abs(x[j]);
            }
            Arrays.sort(mags);
            if (Float.isInfinite(k.pNorm) && x.length > 1 && mags[x.length - 1] - mags[x.length - 2] < 0.05) return false;
        }
        return true;
    }

    /** Every option on one shape. */
    private static List<Case> allOptions(Random rnd, int n, int d) {
        List<Case> cases = new ArrayList<>();
        for (float pNorm : PS) {
            for (boolean swap : new boolean[] {false, true}) {
                for (Reduction reduction : Reduction.values()) {
                    for (boolean gradOut : new boolean[] {false, true}) {
                        float margin = rnd.nextBoolean() ? 1f : 0.3f;
                        float eps = rnd.nextBoolean() ? 1e-6f : 0.1f;
                        cases.add(smoothCase(rnd, n, d, pNorm, swap, margin, eps, reduction, gradOut));
                    }
                }
            }
        }
        return cases;
    }

    private static void assertLossClose(Case k, float[] got, String what) {
        double[] a = toDouble(k.a), p = toDouble(k.p), n = toDouble(k.neg);
        double[] ref = refLoss(k, a, p, n);
        // A float loss is margin + d_ap - d_neg: its rounding is relative to the distances.
        double[][] r = rows(k, a, p, n);
        double[] scale = new double[k.n];
        double total = 0;
        for (int i = 0; i < k.n; i++) {
            scale[i] = Math.abs(k.margin) + r[i][0] + (k.swap ? Math.min(r[i][1], r[i][2]) : r[i][1]);
            total += scale[i];
        }
        assertEquals(ref.length, got.length, what);
        for (int i = 0; i < ref.length; i++) {
            double s = k.reduction == Reduction.NONE ? scale[i] : k.reduction == Reduction.SUM ? total : total / k.n;
            assertEquals(ref[i], got[i], 1e-5 * Math.max(1, Math.abs(ref[i])) + 1e-6 * s, what + " loss " + i);
        }
    }

    private static void assertGradClose(double[][] ref, Result r, String what) {
        float[][] got = grads(r);
        double tol = 1e-5 * maxAbs(ref) + 1e-7;
        for (int w = 0; w < 3; w++) {
            if (got[w] != null) assertEachWithin(ref[w], got[w], tol, what + " gradient " + w + " element");
        }
    }

    // ---- the tests ----

    @Test
    void referenceGradientMatchesFiniteDifferences() {
        Random rnd = new Random(1);
        for (int d : new int[] {1, 3, 5}) {
            for (int n : new int[] {1, 3}) {
                for (Case k : allOptions(rnd, n, d)) {
                    double[][] analytic = refGrad(k, toDouble(k.a), toDouble(k.p), toDouble(k.neg));
                    double[][] numeric = finiteDifferences(k);
                    double tol = 1e-6 * Math.max(1, maxAbs(analytic));
                    for (int w = 0; w < 3; w++) {
                        assertEachWithin(numeric[w], analytic[w], tol, k + " input " + w + " element");
                    }
                }
            }
        }
    }

    @Test
    void kernelMatchesReferenceAndFiniteDifferences() {
        Random rnd = new Random(2);
        for (int d : new int[] {1, 3, 5, 16}) {
            for (int n : new int[] {1, 4}) {
                for (Case k : allOptions(rnd, n, d)) {
                    Result r = run(k, true, 7, 1);
                    assertLossClose(k, r.loss(), k.toString());
                    double[][] numeric = finiteDifferences(k);
                    double tol = 1e-4 * Math.max(1, maxAbs(numeric));
                    float[][] got = grads(r);
                    for (int w = 0; w < 3; w++) {
                        assertEachWithin(numeric[w], got[w], tol, k + " input " + w + " element");
                    }
                    assertGradClose(refGrad(k, toDouble(k.a), toDouble(k.p), toDouble(k.neg)), r, k.toString());
                }
            }
        }
    }

    @Test
    void largerShapesMatchTheReference() {
        Random rnd = new Random(3);
        for (int d : new int[] {64, 512, 513, 4097}) {
            for (float pNorm : PS) {
                Case k = smoothCase(rnd, 6, d, pNorm, d % 2 == 1, 1f, 1e-6f, Reduction.NONE, true);
                Result r = run(k, true, 7, 1);
                double[] a = toDouble(k.a), p = toDouble(k.p), n = toDouble(k.neg);
                assertLossClose(k, r.loss(), k.toString());
                assertGradClose(refGrad(k, a, p, n), r, k.toString());
            }
        }
    }

    @Test
    void forwardAloneAndGradientSubsetsGiveTheFusedBits() {
        Random rnd = new Random(4);
        for (float pNorm : PS) {
            Case k = smoothCase(rnd, 5, 7, pNorm, true, 1f, 1e-6f, Reduction.MEAN, true);
            Result fused = run(k, true, 7, 1);
            assertArrayEquals(fused.loss(), run(k, true, 0, 1).loss(), k::toString);
            for (int grads = 1; grads < 7; grads++) {
                Result part = run(k, false, grads, 1);
                if ((grads & 1) != 0) assertArrayEquals(fused.ga(), part.ga(), k::toString);
                if ((grads & 2) != 0) assertArrayEquals(fused.gp(), part.gp(), k::toString);
                if ((grads & 4) != 0) assertArrayEquals(fused.gn(), part.gn(), k::toString);
            }
        }
    }

    @Test
    void threadCountDoesNotChangeAnyBit() {
        Random rnd = new Random(5);
        int[][] shapes = {{5000, 8}, {300, 600}, {40, 4097}};
        for (int[] shape : shapes) {
            for (Reduction reduction : Reduction.values()) {
                Case k = smoothCase(rnd, shape[0], shape[1], 2f, true, 1f, 1e-6f, reduction, true);
                ThreadCountAsserts.assertSameBitsForThreadCounts(threads -> {
                    Result r = run(k, true, 7, threads);
                    return new float[][] {r.loss(), r.ga(), r.gp(), r.gn()};
                }, k.toString(), 1, 2, 3);
            }
        }
    }

    @Test
    void emptyBatch() {
        for (Reduction reduction : Reduction.values()) {
            Case k = new Case(0, 5, new float[0], new float[0], new float[0], 1f, 2f, 1e-6f, true, reduction, null);
            Result r = run(k, true, 7, 2);
            assertArrayEquals(reduction == Reduction.NONE ? new float[0] : new float[] {0f}, r.loss(), reduction::toString);
        }
    }

    @Test
    void identicalAnchorAndPositive() {
        // d_ap = eps d^(1/p), its gradient sign(eps) (1/d)^(1-1/p) per component (p = inf: 1/d each).
        float[] a = {0.5f, -1f, 2f, 0.25f};
        float[] neg = {3f, 1f, -2f, 0f};
        for (float pNorm : PS) {
            Case k = new Case(1, 4, a, a.clone(), neg, 100f, pNorm, 1e-6f, false, Reduction.SUM, null);
            Result r = run(k, true, 7, 1);
            double[][] ref = refGrad(k, toDouble(a), toDouble(a), toDouble(neg));
            assertGradClose(ref, r, k.toString());
            double expected = Float.isInfinite(pNorm) ? 0.25 : Math.pow(4, 1.0 / pNorm - 1);
            for (int j = 0; j < 4; j++) assertEquals(-expected, r.gp()[j], 1e-6 * expected, k.toString());
        }
    }

    /**
     * The kinks, with PyTorch 1.13's values (F.triplet_margin_loss, float64 autograd, reduction
     * sum, printed with repr), for inputs where float32 and float64 agree exactly.
     */
    @Test
    void kinksMatchPyTorch() {
        record Kink(String name, float p, boolean swap, float margin, float eps, float[] a, float[] pos, float[] neg,
                    double loss, double[] ga, double[] gp, double[] gn) {}
        float[] a12 = {1, 2};
        float[] n30 = {3, 0};
        List<Kink> kinks = List.of(
                new Kink("loss exactly 0 (clamp_min passes the gradient)", 2f, false, 1f, 0f, new float[] {0, 0},
                        new float[] {1, 0}, new float[] {2, 0}, 0.0, new double[] {0, 0}, new double[] {1, 0},
                        new double[] {-1, 0}),
                new Kink("swap tie (half and half)", 2f, true, 1f, 0f, new float[] {1, 0}, new float[] {0, 1},
                        new float[] {0, 0}, 1.414213562373095, new double[] {0.20710678118654746, -0.7071067811865475},
                        new double[] {-0.7071067811865475, 0.20710678118654746}, new double[] {0.5, 0.5}),
                new Kink("zero distance p=1", 1f, false, 10f, 0.5f, a12, new float[] {1.5f, 2.5f}, n30, 6.0,
                        new double[] {1, -1}, new double[] {0, 0}, new double[] {-1, 1}),
                new Kink("zero distance p=1.5", 1.5f, false, 10f, 0.5f, a12, new float[] {1.5f, 2.5f}, n30,
                        6.775587510078182, new double[] {0.6820564686643998, -0.8805311147700873},
                        new double[] {0, 0}, new double[] {-0.6820564686643998, 0.8805311147700873}),
                new Kink("zero distance p=2", 2f, false, 10f, 0.5f, a12, new float[] {1.5f, 2.5f}, n30,
                        7.08452405257735, new double[] {0.5144957554275265, -0.8574929257125441},
                        new double[] {0, 0}, new double[] {-0.5144957554275265, 0.8574929257125441}),
                new Kink("zero distance p=inf", INF, false, 10f, 0.5f, a12, new float[] {1.5f, 2.5f}, n30, 7.5,
                        new double[] {0, -1}, new double[] {0, 0}, new double[] {0, 1}),
                new Kink("zero component p=1", 1f, false, 10f, 0.5f, a12, new float[] {1.5f, 0.5f}, n30, 8.0,
                        new double[] {1, 0}, new double[] {0, -1}, new double[] {-1, 1}),
                new Kink("zero component p=1.5", 1.5f, false, 10f, 0.5f, a12, new float[] {1.5f, 0.5f}, n30,
                        8.775587510078182, new double[] {0.6820564686643998, 0.11946888522991272},
                        new double[] {0, -1}, new double[] {-0.6820564686643998, 0.8805311147700873}),
                new Kink("zero component p=3", 3f, false, 10f, 0.5f, a12, new float[] {1.5f, 0.5f}, n30,
                        9.331598351278055, new double[] {0.31599493208549345, 0.12223629976251815},
                        new double[] {0, -1}, new double[] {-0.31599493208549345, 0.8777637002374818}),
                new Kink("zero component p=0.5", 0.5f, false, 10f, 0.5f, a12, new float[] {1.5f, 0.5f}, n30,
                        4.127016653792585, new double[] {2.290994448735806, -0.7745966692414832},
                        new double[] {0, -1}, new double[] {-2.290994448735806, 1.7745966692414832}),
                new Kink("inf tie (split)", INF, false, 10f, 0f, new float[] {0, 0, 0}, new float[] {1, -1, 0.5f},
                        new float[] {3, 0, 0}, 8.0, new double[] {0.5, 0.5, 0}, new double[] {0.5, -0.5, 0},
                        new double[] {-1, 0, 0}));
        for (Kink kk : kinks) {
            Case k = new Case(1, kk.a().length, kk.a(), kk.pos(), kk.neg(), kk.margin(), kk.p(), kk.eps(), kk.swap(),
                    Reduction.SUM, null);
            Result r = run(k, true, 7, 1);
            assertEquals(kk.loss(), r.loss()[0], 1e-6 * Math.max(1, kk.loss()), kk.name());
            double[][] torch = {kk.ga(), kk.gp(), kk.gn()};
            float[][] got = grads(r);
            // The reference follows the same rules.
            double[][] ref = refGrad(k, toDouble(kk.a()), toDouble(kk.pos()), toDouble(kk.neg()));
            for (int w = 0; w < 3; w++) {
                assertEachWithin(torch[w], got[w], 1e-6, kk.name() + " input " + w + " element");
                assertEachWithin(torch[w], ref[w], 1e-12, "reference: " + kk.name() + " input " + w + " element");
            }
        }
    }

    @Test
    void inactiveRowsHaveZeroGradientAndNaNPropagates() {
        float[] a = {0, 0, 5, 5};
        float[] p = {0.1f, 0, 5, 5};
        float[] n = {9, 9, 5, Float.NaN};
        Case k = new Case(2, 2, a, p, n, 1f, 2f, 1e-6f, false, Reduction.NONE, null);
        Result r = run(k, true, 7, 2);
        assertEquals(0f, r.loss()[0]);  // d_an far beyond the margin
        assertTrue(Float.isNaN(r.loss()[1]));
        for (int j = 0; j < 2; j++) {
            assertEquals(0f, r.ga()[j]);
            assertEquals(0f, r.gp()[j]);
            assertEquals(0f, r.gn()[j]);
        }
    }
}
