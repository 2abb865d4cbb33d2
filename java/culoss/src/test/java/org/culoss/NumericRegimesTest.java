package org.culoss;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.stream.Stream;
import org.culoss.testing.BackendsUnderTest;
import org.culoss.testing.FusedResults;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.function.Executable;

/**
 * Every loss, on every backend of this JVM, in the numeric regimes where a float kernel loses its
 * digits or overflows although the float64 result is an ordinary float: confident softmax rows
 * (a loss of log(1 + tiny)), masked classes (-1e9, -FLT_MAX) under label smoothing, the center
 * update with far centers, triplet rows whose small loss is the difference of two large
 * distances, and elementwise losses whose squares or sums overflow a float.
 *
 * <p>References are float64 math on the float32 inputs, from the formulas; a loss whose float64
 * value is past Float.MAX_VALUE is expected to be infinity. The rule is the usual one:
 * ||got - ref|| / max(||ref||, 1e-12) at most 1e-5 over each output, non-finite values of the
 * reference at the same places. Each regime runs forward, backward and fused, NONE/SUM/MEAN,
 * single rows and a few rows, on the row lengths that take different native paths (the emulated
 * backend a third of those calls, see {@link #everyCall}). Each check's name says the loss, the
 * regime, the shape, the reduction, the entry point and the backend.
 */
class NumericRegimesTest {
    private static final double TOLERANCE = 1e-5;
    private static final float FLT_MAX = Float.MAX_VALUE;
    private static final Reduction[] REDUCTIONS = {Reduction.NONE, Reduction.SUM, Reduction.MEAN};
    private static final AtomicInteger CHECKS = new AtomicInteger();

    enum Entry {
        FORWARD, BACKWARD, FUSED;

        boolean loss() {
            return this != BACKWARD;
        }

        boolean grad() {
            return this != FORWARD;
        }

        @Override
        public String toString() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    @AfterAll
    static void report() {
        System.out.println("NumericRegimesTest: " + CHECKS.get() + " checks in this JVM");
    }

    // ================================================================ the 1e-5 rule

    /** One output against its float64 reference. */
    private record Output(String name, double[] ref, float[] got) {}

    private static Executable close(String what, Output o) {
        return () -> {
            CHECKS.incrementAndGet();
            String at = what + ", " + o.name;
            assertEquals(o.ref.length, o.got.length, at + ": length");
            double diff = 0, norm = 0;
            for (int i = 0; i < o.ref.length; i++) {
                double r = o.ref[i];
                float g = o.got[i];
                if (!Double.isFinite(r)) {
                    if (Double.isNaN(r) ? !Float.isNaN(g) : g != r) {
                        fail(at + ": expected " + r + " at " + i + ", got " + g);
                    }
                    continue;
                }
                if (!Float.isFinite(g)) {
                    fail(at + ": got " + g + " at " + i + " where the reference is " + r);
                }
                diff += (g - r) * (g - r);
                norm += r * r;
            }
            double rel = Math.sqrt(diff) / Math.max(Math.sqrt(norm), 1e-12);
            assertTrue(rel <= TOLERANCE, at + ": relative error " + rel);
        };
    }

    /** Every output of one call, each reported on its own. */
    private static void verify(String what, List<Output> outputs) {
        assertAll(what, outputs.stream().map(o -> close(what, o)));
    }

    /** The float a float64 loss rounds to is infinite past Float.MAX_VALUE: expect infinity there. */
    private static double[] lossRange(double[] loss) {
        double[] out = loss.clone();
        for (int i = 0; i < out.length; i++) {
            if (Float.isInfinite((float) out[i])) out[i] = Math.copySign(Double.POSITIVE_INFINITY, out[i]);
        }
        return out;
    }

    private static double reduce(double[] rows, Reduction r, double divisor) {
        double total = 0;
        for (double v : rows) total += v;
        return r == Reduction.MEAN ? (divisor == 0 ? 0 : total / divisor) : total;
    }

    /** Upstream gradients: one per row for NONE, else one scalar. */
    private static float[] gradOutput(Random rnd, int rows, Reduction r) {
        if (r != Reduction.NONE) return new float[] {0.75f};
        float[] g = new float[rows];
        for (int i = 0; i < rows; i++) g[i] = 0.5f + rnd.nextFloat();
        return g;
    }

    /** The upstream gradient of row i over the mean's divisor. */
    private static double upstream(float[] go, int i, Reduction r, double divisor) {
        if (r == Reduction.NONE) return go[i];
        return r == Reduction.MEAN ? (divisor == 0 ? 0 : go[0] / divisor) : go[0];
    }

    private static String shape(int n, String what, int len) {
        return "n=" + n + " " + what + "=" + len;
    }

    /**
     * The calls of one case: every reduction with every entry on each backend, but on the emulated
     * one (tens of milliseconds a call, its CUDA threads run as CPU threads) a third of them: each
     * entry once and each reduction once, paired differently from case to case ({@code rotation}).
     */
    private static <R> Stream<DynamicTest> everyCall(String name, long rotation, Function<Reduction, R> reference,
                                                     Call<R> call) {
        List<DynamicTest> tests = new ArrayList<>();
        for (Backend b : BackendsUnderTest.all()) {
            for (int ri = 0; ri < REDUCTIONS.length; ri++) {
                Reduction r = REDUCTIONS[ri];
                for (Entry e : Entry.values()) {
                    if (b.name().equals("emulated") && (ri + rotation + e.ordinal()) % 3 != 0) continue;
                    String what = name + ", " + r + ", " + e + ", backend " + b;
                    tests.add(DynamicTest.dynamicTest(what, () -> {
                        verify(what, call.run(b, r, e, reference.apply(r)));
                    }));
                }
            }
        }
        return tests.stream();
    }

    /** One call of a loss on a backend, with the reference of its reduction: the outputs to check. */
    @FunctionalInterface
    private interface Call<R> {
        List<Output> run(Backend b, Reduction r, Entry e, R reference);
    }

    // ================================================================ softmax rows

    /** A softmax case: cross-entropy (focal false) with weights and smoothing, or focal with alpha and gamma. */
    private record Rows(String regime, boolean focal, int n, int c, float[] x, int[] y, float[] weights,
                        float smoothing, float alpha, float gamma, long seed) {
        String loss() {
            return focal ? "softmax focal" : "softmax cross-entropy";
        }

        @Override
        public String toString() {
            String opts = focal ? " gamma=" + gamma + (weights != null ? " classAlpha" : " alpha=" + alpha)
                    : (weights != null ? " weights" : "") + (smoothing != 0 ? " e=" + smoothing : "");
            return loss() + ", " + regime + ", " + shape(n, "C", c) + opts;
        }
    }

    private record RowsRef(double[] loss, double[] grad, float[] gradOut) {}

    /**
     * Float64 softmax losses from the row's max m: O = sum_{j != y} e^(x_j - m), S = e^(x_y - m) + O,
     * 1 - p_y = O / S, -log p_y = log1p(O) when x_y is the max (S = 1 + O), else (m - x_y) + log S
     * (two terms >= 0), -log p_j = (m - x_j) + log S.
     */
    private static RowsRef rowsReference(Rows k, Reduction r) {
        int n = k.n, c = k.c;
        double[] rows = new double[n];
        double[] grad = new double[n * c];
        double[] p = new double[c];
        float[] go = gradOutput(new Random(k.seed + 1), n, r);
        double divisor = 0;
        for (int i = 0; i < n; i++) divisor += k.focal || k.weights == null ? 1 : k.weights[k.y[i]];
        for (int i = 0; i < n; i++) {
            int y = k.y[i];
            int at = i * c;
            double m = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < c; j++) m = Math.max(m, k.x[at + j]);
            double others = 0;
            for (int j = 0; j < c; j++) {
                p[j] = Math.exp(k.x[at + j] - m);
                if (j != y) others += p[j];
            }
            double s = p[y] + others;
            double logS = Math.log(s);
            double nll = k.x[at + y] == m ? Math.log1p(others) : (m - k.x[at + y]) + logS;
            double q = others / s;
            for (int j = 0; j < c; j++) p[j] /= s;
            double g = upstream(go, i, r, divisor);
            if (k.focal) {
                double ay = k.weights == null ? k.alpha : k.weights[y];
                double gamma = k.gamma;
                rows[i] = ay * Math.pow(q, gamma) * nll;
                // d/dx_j = F (p_j - [j == y]), F = a_y (q^gamma + gamma p_y q^(gamma-1) (-log p_y))
                double f = ay * (Math.pow(q, gamma) + gamma * p[y] * Math.pow(q, gamma - 1) * nll);
                for (int j = 0; j < c; j++) grad[at + j] = g * f * (j == y ? -q : p[j]);
            } else {
                double e = k.smoothing;
                double wy = k.weights == null ? 1 : k.weights[y];
                double wSum = 0, smooth = 0;
                for (int j = 0; j < c; j++) {
                    double wj = k.weights == null ? 1 : k.weights[j];
                    wSum += wj;
                    smooth += wj * ((m - k.x[at + j]) + logS);
                }
                rows[i] = (1 - e) * wy * nll + e / c * smooth;
                // d/dx_j = (1-e) w_y (p_j - [j == y]) + e/C (W p_j - w_j), with p_y - 1 = -q
                for (int j = 0; j < c; j++) {
                    double wj = k.weights == null ? 1 : k.weights[j];
                    double nllPart = j == y ? -q : p[j];
                    double smoothPart = j == y ? wSum * (1 - q) - wj : wSum * p[j] - wj;
                    grad[at + j] = g * ((1 - e) * wy * nllPart + e / c * smoothPart);
                }
            }
        }
        double[] loss = r == Reduction.NONE ? rows : new double[] {reduce(rows, r, divisor)};
        return new RowsRef(lossRange(loss), grad, go);
    }

    private static List<Output> runRows(Rows k, Backend b, Reduction r, Entry e, RowsRef ref) {
        float[] loss = null, grad = null;
        try (RowSoftmaxLoss<?> f = rowsLoss(k, b, r)) {
            if (e == Entry.FORWARD) loss = f.forward(k.x, k.y, k.n, k.c);
            if (e == Entry.BACKWARD) grad = f.backward(k.x, k.y, k.n, k.c, ref.gradOut);
            if (e == Entry.FUSED) {
                float[][] res = FusedResults.lossAndGrad(f.forwardBackward(k.x, k.y, k.n, k.c, ref.gradOut));
                loss = res[0];
                grad = res[1];
            }
        }
        List<Output> out = new ArrayList<>();
        if (e.loss()) out.add(new Output("loss", ref.loss, loss));
        if (e.grad()) out.add(new Output("gradLogits", ref.grad, grad));
        return out;
    }

    /** The case's loss, no ignore index: focal with its gamma and per-class or scalar alpha, else cross-entropy. */
    private static RowSoftmaxLoss<?> rowsLoss(Rows k, Backend b, Reduction r) {
        if (!k.focal) {
            return SoftmaxCrossEntropy.builder().backend(b).reduction(r).labelSmoothing(k.smoothing)
                    .classWeights(k.weights).noIgnoreIndex().build();
        }
        SoftmaxFocal.Builder builder = SoftmaxFocal.builder().backend(b).reduction(r).gamma(k.gamma).noIgnoreIndex();
        return (k.weights != null ? builder.classAlpha(k.weights) : builder.alpha(k.alpha)).build();
    }

    private static Stream<DynamicTest> rowsTests(Rows k) {
        return everyCall(k.toString(), k.seed, r -> rowsReference(k, r), (b, r, e, ref) -> runRows(k, b, r, e, ref));
    }

    private static float[] weights(Random rnd, int c) {
        float[] w = new float[c];
        for (int j = 0; j < c; j++) w[j] = 0.5f + 1.5f * rnd.nextFloat();
        return w;
    }

    /**
     * Confident rows: small integer logits, the target leading the largest other by 17 to 22, so
     * the loss is log(1 + tiny) and 1 - p_y is far below a float ulp of 1.
     */
    private static Rows confident(boolean focal, int n, int c, boolean weighted, float smoothing, float gamma,
                                  long seed) {
        Random rnd = new Random(seed);
        float[] x = new float[n * c];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = rnd.nextInt(c);
            float top = c == 1 ? 0f : Float.NEGATIVE_INFINITY;
            for (int j = 0; j < c; j++) {
                x[i * c + j] = Math.round(1.5 * rnd.nextGaussian());
                if (j != y[i]) top = Math.max(top, x[i * c + j]);
            }
            x[i * c + y[i]] = top + 17 + rnd.nextInt(6);
        }
        return new Rows("confident rows", focal, n, c, x, y, weighted ? weights(rnd, c) : null, smoothing, 0.25f,
                gamma, seed);
    }

    /**
     * Masked classes: the same classes of every row are -1e9 or -FLT_MAX (two -FLT_MAX classes
     * half a row apart, which a halving sum pairs), never a target; the weights of the -FLT_MAX
     * classes are 1.5 and 2.
     */
    private static Rows masked(boolean focal, int n, int c, boolean weighted, float smoothing, long seed) {
        Random rnd = new Random(seed);
        float[] mask = new float[c];  // 0: not masked
        if (c <= 7) {
            mask[1] = -1e9f;
            mask[2] = -FLT_MAX;
            if (c == 7) {
                mask[4] = -FLT_MAX;
                mask[5] = -1e9f;
            }
        } else {
            int j0 = 1 + rnd.nextInt(c / 2 - 1);
            mask[j0] = -FLT_MAX;
            mask[j0 + c / 2] = -FLT_MAX;
            for (int j = 1; j < c; j++) {
                if (mask[j] == 0 && rnd.nextInt(50) == 0) mask[j] = rnd.nextBoolean() ? -1e9f : -FLT_MAX;
            }
        }
        float[] w = weighted ? weights(rnd, c) : null;
        int flip = 0;
        for (int j = 0; j < c && w != null; j++) {
            if (mask[j] == -FLT_MAX) w[j] = flip++ % 2 == 0 ? 1.5f : 2f;
        }
        float[] x = new float[n * c];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            do {
                y[i] = rnd.nextInt(c);
            } while (mask[y[i]] != 0);
            for (int j = 0; j < c; j++) x[i * c + j] = mask[j] != 0 ? mask[j] : (float) (2 * rnd.nextGaussian());
        }
        return new Rows("masked classes", focal, n, c, x, y, w, smoothing, 0.25f, 2f, seed);
    }

    private static Rows example(float[] row, int target, long seed) {
        StringBuilder s = new StringBuilder("confident row [");
        for (int j = 0; j < row.length; j++) s.append(j > 0 ? ", " : "").append((int) row[j]);
        return new Rows(s.append("] target ").append(target).toString(), false, 1, row.length, row,
                new int[] {target}, null, 0f, 0f, 0f, seed);
    }

    private static final int[] ROW_LENGTHS = {4, 7, 1000, 3000, 5000, 20000};

    @TestFactory
    Stream<DynamicTest> softmaxCrossEntropyConfidentRows() {
        List<Rows> cases = new ArrayList<>();
        cases.add(example(new float[] {17, 1, 0, -2}, 0, 1));
        cases.add(example(new float[] {22, 0, 0, 0}, 0, 2));
        long seed = 100;
        for (int c : ROW_LENGTHS) {
            for (int n : new int[] {1, 3}) {
                boolean weighted = c == 7 || c == 3000 || c == 20000;
                cases.add(confident(false, n, c, weighted, 0f, 0f, seed++));
                if (n == 3 && (c == 7 || c == 1000 || c == 5000)) {
                    cases.add(confident(false, n, c, !weighted, 0.1f, 0f, seed++));
                }
            }
        }
        return cases.stream().flatMap(NumericRegimesTest::rowsTests);
    }

    @TestFactory
    Stream<DynamicTest> softmaxFocalConfidentRows() {
        List<Rows> cases = new ArrayList<>();
        long seed = 200;
        for (int c : ROW_LENGTHS) {
            for (int n : new int[] {1, 3}) {
                cases.add(confident(true, n, c, c == 7 || c == 5000, 0f, n == 1 ? 2f : 0.5f, seed++));
            }
        }
        return cases.stream().flatMap(NumericRegimesTest::rowsTests);
    }

    @TestFactory
    Stream<DynamicTest> softmaxCrossEntropyMaskedClasses() {
        List<Rows> cases = new ArrayList<>();
        long seed = 300;
        for (int c : new int[] {4, 7, 1000, 3000, 20000}) {
            for (int n : new int[] {1, 3}) {
                cases.add(masked(false, n, c, true, c == 1000 ? 0.2f : 0.1f, seed++));
                if (n == 3 && c != 20000) cases.add(masked(false, n, c, false, 0.1f, seed++));
            }
        }
        return cases.stream().flatMap(NumericRegimesTest::rowsTests);
    }

    @TestFactory
    Stream<DynamicTest> softmaxFocalMaskedClasses() {
        List<Rows> cases = new ArrayList<>();
        long seed = 400;
        for (int c : new int[] {4, 1000, 20000}) {
            for (int n : new int[] {1, 3}) cases.add(masked(true, n, c, n == 3, 0f, seed++));
        }
        return cases.stream().flatMap(NumericRegimesTest::rowsTests);
    }

    // ================================================================ triplet margin

    private record Triplets(int n, int d, float p, float[] a, float[] pos, float[] neg, long seed) {
        @Override
        public String toString() {
            return "triplet margin, small loss against the distances, " + shape(n, "d", d) + " p=" + p;
        }
    }

    private record TripletRef(double[] loss, double[] ga, double[] gp, double[] gn, float[] gradOut) {}

    private static final float MARGIN = 1f;
    private static final float EPS = 1e-6f;

    private static double pnorm(double[] x, double p) {
        double s = 0;
        if (p == Double.POSITIVE_INFINITY) {
            for (double v : x) s = Math.max(s, Math.abs(v));
            return s;
        }
        for (double v : x) s += Math.pow(Math.abs(v), p);
        return Math.pow(s, 1 / p);
    }

    /** Distances near 90 whose difference leaves a loss near 0.004 (margin 1). */
    private static Triplets smallLoss(int n, int d, float p, long seed) {
        Random rnd = new Random(seed);
        float[] a = new float[n * d], pos = new float[n * d], neg = new float[n * d];
        double[] u = new double[d], v = new double[d];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < d; j++) {
                a[i * d + j] = (float) rnd.nextGaussian();
                u[j] = rnd.nextGaussian();
                v[j] = rnd.nextGaussian();
            }
            double su = 90 / pnorm(u, p), sv = (90 + MARGIN - 0.004) / pnorm(v, p);
            for (int j = 0; j < d; j++) {
                pos[i * d + j] = (float) (a[i * d + j] + u[j] * su);
                neg[i * d + j] = (float) (a[i * d + j] + v[j] * sv);
            }
        }
        return new Triplets(n, d, p, a, pos, neg, seed);
    }

    /** ||u - v + eps||_p in float64 and its gradient by PyTorch's norm_backward rules. */
    private static double distance(float[] u, float[] v, int at, int d, double p, double[] grad) {
        double[] x = new double[d];
        for (int j = 0; j < d; j++) x[j] = (double) u[at + j] - (double) v[at + j] + (double) EPS;
        double dist = pnorm(x, p);
        int count = 0;
        for (double xj : x) count += Math.abs(xj) == dist ? 1 : 0;
        for (int j = 0; j < d; j++) {
            double xj = x[j];
            if (dist == 0 || xj == 0) {
                grad[j] = 0;
            } else if (p == 1) {
                grad[j] = Math.signum(xj);
            } else if (p == 2) {
                grad[j] = xj / dist;
            } else if (p == Double.POSITIVE_INFINITY) {
                grad[j] = Math.abs(xj) == dist ? Math.signum(xj) / count : 0;
            } else {
                grad[j] = Math.signum(xj) * Math.pow(Math.abs(xj) / dist, p - 1);
            }
        }
        return dist;
    }

    private static TripletRef tripletReference(Triplets k, Reduction r) {
        int n = k.n, d = k.d;
        double[] rows = new double[n];
        double[] ga = new double[n * d], gp = new double[n * d], gn = new double[n * d];
        double[] gAp = new double[d], gAn = new double[d];
        float[] go = gradOutput(new Random(k.seed + 1), n, r);
        for (int i = 0; i < n; i++) {
            double dAp = distance(k.a, k.pos, i * d, d, k.p, gAp);
            double dAn = distance(k.a, k.neg, i * d, d, k.p, gAn);
            double v = MARGIN + dAp - dAn;
            rows[i] = Math.max(v, 0);
            if (v < 0) continue;
            double g = upstream(go, i, r, n);
            for (int j = 0; j < d; j++) {
                ga[i * d + j] = g * (gAp[j] - gAn[j]);
                gp[i * d + j] = -g * gAp[j];
                gn[i * d + j] = g * gAn[j];
            }
        }
        double[] loss = r == Reduction.NONE ? rows : new double[] {reduce(rows, r, n)};
        return new TripletRef(lossRange(loss), ga, gp, gn, go);
    }

    private static List<Output> runTriplets(Triplets k, Backend b, Reduction r, Entry e, TripletRef ref) {
        TripletMargin.Result res = null;
        float[] loss = null;
        try (TripletMargin tm = TripletMargin.builder().backend(b).reduction(r).margin(MARGIN).p(k.p).eps(EPS)
                .build()) {
            if (e == Entry.FORWARD) loss = tm.forward(k.a, k.pos, k.neg, k.n, k.d);
            if (e == Entry.BACKWARD) res = tm.backward(k.a, k.pos, k.neg, k.n, k.d, ref.gradOut);
            if (e == Entry.FUSED) {
                res = tm.forwardBackward(k.a, k.pos, k.neg, k.n, k.d, ref.gradOut);
                loss = res.loss();
            }
        }
        List<Output> out = new ArrayList<>();
        if (e.loss()) out.add(new Output("loss", ref.loss, loss));
        if (e.grad()) {
            out.add(new Output("gradAnchor", ref.ga, res.gradAnchor()));
            out.add(new Output("gradPositive", ref.gp, res.gradPositive()));
            out.add(new Output("gradNegative", ref.gn, res.gradNegative()));
        }
        return out;
    }

    @TestFactory
    Stream<DynamicTest> tripletMarginSmallLoss() {
        List<Triplets> cases = new ArrayList<>();
        long seed = 500;
        for (int d : new int[] {64, 300, 4096, 20000}) {
            for (float p : new float[] {1f, 2f, 3f, Float.POSITIVE_INFINITY}) {
                for (int n : new int[] {1, 3}) {
                    if (p != Float.POSITIVE_INFINITY || n == 1 || d == 64) cases.add(smallLoss(n, d, p, seed++));
                }
            }
        }
        return cases.stream().flatMap(k -> everyCall(k.toString(), k.seed(), r -> tripletReference(k, r),
                (b, r, e, ref) -> runTriplets(k, b, r, e, ref)));
    }

    // ================================================================ center loss

    private record Centers(int n, int d, int c, float far, float alpha, float[] x, int[] y, float[] centers,
                           long seed) {
        @Override
        public String toString() {
            return "center loss, centers far from the batch (" + far + "), n=" + n + " d=" + d + " C=" + c
                    + " alpha=" + alpha;
        }
    }

    private static final float LAMBDA = 0.5f;

    private static Centers farCenters(int n, int d, int c, float far, float alpha, long seed) {
        Random rnd = new Random(seed);
        float[] x = new float[n * d];
        for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
        float[] centers = new float[c * d];
        for (int i = 0; i < centers.length; i++) centers[i] = far + 0.5f * (float) rnd.nextGaussian();
        int[] y = new int[n];
        for (int i = 0; i < n; i++) y[i] = rnd.nextInt(c);
        return new Centers(n, d, c, far, alpha, x, y, centers, seed);
    }

    /** The paper's update in float64: c_j - alpha sum_{y_i = j} (c_j - x_i) / (1 + n_j). */
    private static double[] updateReference(Centers k) {
        double[] acc = new double[k.c * k.d];
        int[] count = new int[k.c];
        for (int i = 0; i < k.n; i++) {
            count[k.y[i]]++;
            for (int j = 0; j < k.d; j++) acc[k.y[i] * k.d + j] += (double) k.centers[k.y[i] * k.d + j] - k.x[i * k.d + j];
        }
        double[] out = new double[k.c * k.d];
        for (int cl = 0; cl < k.c; cl++) {
            for (int j = 0; j < k.d; j++) {
                int at = cl * k.d + j;
                out[at] = k.centers[at] - (double) k.alpha * acc[at] / (1 + count[cl]);
            }
        }
        return out;
    }

    private record CenterRef(double[] loss, double[] gradFeatures, double[] gradCenters, float[] gradOut) {}

    /** lambda/2 ||x_i - c_y||^2, its gradients lambda (x_i - c_y) g_i and -lambda sum (x_i - c_j) g_i. */
    private static CenterRef centerReference(Centers k, Reduction r) {
        int n = k.n, d = k.d;
        double[] rows = new double[n];
        double[] gx = new double[n * d], gc = new double[k.c * d];
        float[] go = gradOutput(new Random(k.seed + 1), n, r);
        for (int i = 0; i < n; i++) {
            double g = upstream(go, i, r, n);
            for (int j = 0; j < d; j++) {
                double diff = (double) k.x[i * d + j] - k.centers[k.y[i] * d + j];
                rows[i] += 0.5 * LAMBDA * diff * diff;
                gx[i * d + j] = LAMBDA * diff * g;
                gc[k.y[i] * d + j] -= LAMBDA * diff * g;
            }
        }
        double[] loss = r == Reduction.NONE ? rows : new double[] {reduce(rows, r, n)};
        return new CenterRef(lossRange(loss), gx, gc, go);
    }

    private static List<Output> runCenters(Centers k, Backend b, Reduction r, Entry e, CenterRef ref) {
        float[] loss = null, gx = null, gc = null;
        try (CenterLoss cl = CenterLoss.builder().backend(b).reduction(r).lambda(LAMBDA).alpha(k.alpha).build()) {
            if (e == Entry.FORWARD) loss = cl.forward(k.x, k.y, k.centers, k.n, k.d, k.c);
            if (e == Entry.BACKWARD) gx = cl.backward(k.x, k.y, k.centers, k.n, k.d, k.c, ref.gradOut);
            if (e == Entry.FUSED) {
                CenterLoss.Result res = cl.forwardBackward(k.x, k.y, k.centers, k.n, k.d, k.c, ref.gradOut, true);
                loss = res.loss();
                gx = res.gradFeatures();
                gc = res.gradCenters();
            }
        }
        List<Output> out = new ArrayList<>();
        if (e.loss()) out.add(new Output("loss", ref.loss, loss));
        if (e.grad()) out.add(new Output("gradFeatures", ref.gradFeatures, gx));
        if (e == Entry.FUSED) out.add(new Output("gradCenters", ref.gradCenters, gc));
        return out;
    }

    /** n, d, C: one sample, a few hundred, and (the update) thousands per class. */
    private static final int[][] CENTER_SHAPES = {{1, 12, 3}, {300, 12, 5}, {20000, 12, 3}};
    private static final int[][] CENTER_LOSS_SHAPES = {{1, 12, 3}, {300, 12, 5}, {2000, 12, 3}};

    @TestFactory
    Stream<DynamicTest> centerUpdateFarCenters() {
        List<DynamicTest> tests = new ArrayList<>();
        long seed = 600;
        for (int[] s : CENTER_SHAPES) {
            for (float far : new float[] {1000f, -3000f}) {
                for (float alpha : new float[] {1f, 0.5f}) {
                    Centers k = farCenters(s[0], s[1], s[2], far, alpha, seed++);
                    double[] ref = updateReference(k);
                    for (Backend b : BackendsUnderTest.all()) {
                        String what = k + ", update, backend " + b;
                        tests.add(DynamicTest.dynamicTest(what, () -> {
                            float[] centers = k.centers.clone();
                            try (CenterLoss cl = CenterLoss.builder().backend(b).alpha(k.alpha).build()) {
                                cl.updateCenters(k.x, k.y, centers, k.n, k.d, k.c);
                            }
                            close(what, new Output("centers", ref, centers)).execute();
                        }));
                    }
                }
            }
        }
        return tests.stream();
    }

    @TestFactory
    Stream<DynamicTest> centerLossFarCenters() {
        List<Centers> cases = new ArrayList<>();
        long seed = 700;
        for (int[] s : CENTER_LOSS_SHAPES) cases.add(farCenters(s[0], s[1], s[2], 1000f, 1f, seed++));
        return cases.stream().flatMap(k -> everyCall(k.toString(), k.seed(), r -> centerReference(k, r),
                (b, r, e, ref) -> runCenters(k, b, r, e, ref)));
    }

    // ================================================================ elementwise

    private enum Kind { SMOOTH_L1, HUBER, SIGMOID_FOCAL, L1, EXPONENTIAL, HINGE }

    /** option: beta, delta, or alpha (focal, with gamma). */
    private record Elements(String regime, Kind kind, float option, float gamma, float[] x, float[] t, long seed) {
        @Override
        public String toString() {
            String name = switch (kind) {
                case SMOOTH_L1 -> "smooth L1 beta=" + option;
                case HUBER -> "Huber delta=" + option;
                case SIGMOID_FOCAL -> "sigmoid focal alpha=" + option + " gamma=" + gamma;
                case L1 -> "L1";
                case EXPONENTIAL -> "exponential";
                case HINGE -> "hinge margin=" + option;
            };
            return name + ", " + regime + ", count=" + x.length;
        }
    }

    private record ElementRef(double[] loss, double[] grad, float[] gradOut) {}

    private static ElementRef elementReference(Elements k, Reduction r) {
        int count = k.x.length;
        double[] rows = new double[count];
        double[] grad = new double[count];
        float[] go = gradOutput(new Random(k.seed + 1), count, r);
        for (int i = 0; i < count; i++) {
            double x = k.x[i], t = k.t[i];
            double g = upstream(go, i, r, count);
            switch (k.kind) {
                case SMOOTH_L1 -> {
                    double beta = k.option, d = x - t, z = Math.abs(d);
                    rows[i] = z < beta ? 0.5 * z * z / beta : z - 0.5 * beta;
                    grad[i] = g * Math.max(-1, Math.min(1, d / beta));
                }
                case HUBER -> {
                    double delta = k.option, d = x - t, z = Math.abs(d);
                    rows[i] = z < delta ? 0.5 * z * z : delta * (z - 0.5 * delta);
                    grad[i] = g * Math.max(-delta, Math.min(delta, d));
                }
                case SIGMOID_FOCAL -> {
                    // ce = max(x, 0) - x t + log1p(e^-|x|), m = 1 - p_t, loss = a_t ce m^gamma;
                    // d/dx = a_t [(p - t) m^gamma + gamma m^(gamma-1) ce (1 - 2t) p (1 - p)]
                    double gamma = k.gamma;
                    double p = 1 / (1 + Math.exp(-x));
                    double ce = Math.max(x, 0) - x * t + Math.log1p(Math.exp(-Math.abs(x)));
                    double m = 1 - (p * t + (1 - p) * (1 - t));
                    double at = k.option < 0 ? 1 : k.option * t + (1 - k.option) * (1 - t);
                    rows[i] = at * ce * Math.pow(m, gamma);
                    double focusing = gamma == 0 ? 0 : gamma * Math.pow(m, gamma - 1) * ce * (1 - 2 * t) * p * (1 - p);
                    grad[i] = g * at * ((p - t) * Math.pow(m, gamma) + focusing);
                }
                case L1 -> {
                    double d = x - t;
                    rows[i] = Math.abs(d);
                    grad[i] = g * Math.signum(d);
                }
                case EXPONENTIAL -> {
                    double e = Math.exp(-t * x);
                    rows[i] = e;
                    grad[i] = g * -t * e;
                }
                case HINGE -> {
                    double z = k.option - t * x;
                    rows[i] = Math.max(z, 0);
                    grad[i] = z >= 0 ? g * -t : 0;
                }
            }
        }
        double[] loss = r == Reduction.NONE ? rows : new double[] {reduce(rows, r, count)};
        return new ElementRef(lossRange(loss), grad, go);
    }

    private static List<Output> runElements(Elements k, Backend b, Reduction r, Entry e, ElementRef ref) {
        float[] loss = null, grad = null;
        try (ElementwiseLoss<?> f = switch (k.kind) {
            case SMOOTH_L1 -> SmoothL1.builder().backend(b).reduction(r).beta(k.option).build();
            case HUBER -> Huber.builder().backend(b).reduction(r).delta(k.option).build();
            case SIGMOID_FOCAL -> SigmoidFocal.builder().backend(b).reduction(r).alpha(k.option).gamma(k.gamma).build();
            case L1 -> L1.builder().backend(b).reduction(r).build();
            case EXPONENTIAL -> Exponential.builder().backend(b).reduction(r).build();
            case HINGE -> Hinge.builder().backend(b).reduction(r).margin(k.option).build();
        }) {
            if (e == Entry.FORWARD) loss = f.forward(k.x, k.t);
            if (e == Entry.BACKWARD) grad = f.backward(k.x, k.t, ref.gradOut);
            if (e == Entry.FUSED) {
                loss = new float[ref.loss.length];
                grad = new float[k.x.length];
                f.forwardBackward(FloatBuffer.wrap(k.x), FloatBuffer.wrap(k.t), k.x.length,
                        FloatBuffer.wrap(ref.gradOut), FloatBuffer.wrap(loss), FloatBuffer.wrap(grad));
            }
        }
        List<Output> out = new ArrayList<>();
        if (e.loss()) out.add(new Output("loss", ref.loss, loss));
        if (e.grad()) out.add(new Output("grad", ref.grad, grad));
        return out;
    }

    /** smooth L1 with beta = 1e30 and |x - t| from 1e19 to 1e22: z z overflows a float, z z / beta does not. */
    private static Elements hugeBeta(int count, long seed) {
        Random rnd = new Random(seed);
        float[] x = new float[count], t = new float[count];
        for (int i = 0; i < count; i++) {
            x[i] = (float) ((i % 2 == 1 ? 1 : -1) * Math.pow(10, 19 + 3 * rnd.nextDouble()));
            t[i] = (float) rnd.nextGaussian();
        }
        return new Elements("beta far above |x - t| up to 1e22", Kind.SMOOTH_L1, 1e30f, 0f, x, t, seed);
    }

    /**
     * Losses near {@code size} (3e35, 2e37): the float sum of all of them (of 64 of them for 2e37)
     * overflows, their mean does not.
     */
    private static Elements bigLosses(Kind kind, float size, int count, long seed) {
        Random rnd = new Random(seed);
        float[] x = new float[count], t = new float[count];
        for (int i = 0; i < count; i++) {
            x[i] = (i % 3 != 0 ? size : -size) * (1 + 0.5f * rnd.nextFloat());
            t[i] = (float) rnd.nextGaussian();
        }
        return new Elements("losses near " + size, kind, 1f, 0f, x, t, seed);
    }

    /**
     * Exponential losses from exp(80) to exp(88.3) (5.5e34 to 2.2e38, a float still, and so is the
     * gradient times an upstream gradient up to 1.5): their float sum overflows, their mean does not.
     */
    private static Elements nearFloatMaxExponential(int count, long seed) {
        Random rnd = new Random(seed);
        float[] s = new float[count], y = new float[count];
        for (int i = 0; i < count; i++) {
            y[i] = i % 2 == 0 ? 1f : -1f;
            s[i] = -y[i] * (float) (80 + 8.3 * rnd.nextDouble());
        }
        return new Elements("-y s from 80 to 88.3", Kind.EXPONENTIAL, 0f, 0f, s, y, seed);
    }

    /** Hinge losses near size (scores of -+size against +-1 targets): the float sum overflows, the mean not. */
    private static Elements bigHinge(float size, int count, long seed) {
        Random rnd = new Random(seed);
        float[] s = new float[count], y = new float[count];
        for (int i = 0; i < count; i++) {
            y[i] = i % 3 != 0 ? 1f : -1f;
            s[i] = -y[i] * size * (1 + 0.5f * rnd.nextFloat());
        }
        return new Elements("losses near " + size, Kind.HINGE, 1f, 0f, s, y, seed);
    }

    /** Logits of +-size (1e36, 3e37) on the wrong side of their 0/1 targets: losses about a_t |x|. */
    private static Elements saturatedFocal(float alpha, float gamma, float size, int count, long seed) {
        Random rnd = new Random(seed);
        float[] x = new float[count], t = new float[count];
        for (int i = 0; i < count; i++) {
            x[i] = (i % 2 == 1 ? size : -size) * (1 + 0.5f * rnd.nextFloat());
            t[i] = i % 2 == 1 ? 0f : 1f;
        }
        return new Elements("logits +-" + size + " on the wrong side", Kind.SIGMOID_FOCAL, alpha, gamma, x, t, seed);
    }

    @TestFactory
    Stream<DynamicTest> elementwiseWideRange() {
        List<Elements> cases = new ArrayList<>();
        long seed = 800;
        for (int count : new int[] {1, 1001, 4096}) {
            cases.add(hugeBeta(count, seed++));
            if (count == 1) continue;
            for (float size : new float[] {3e35f, 2e37f}) {
                cases.add(bigLosses(Kind.SMOOTH_L1, size, count, seed++));
                cases.add(bigLosses(Kind.HUBER, size, count, seed++));
                cases.add(bigLosses(Kind.L1, size, count, seed++));
                cases.add(bigHinge(size, count, seed++));
            }
            cases.add(nearFloatMaxExponential(count, seed++));
            for (float size : new float[] {1e36f, 3e37f}) {
                cases.add(saturatedFocal(0.25f, 2f, size, count, seed++));
                cases.add(saturatedFocal(-1f, 0f, size, count, seed++));
            }
        }
        return cases.stream().flatMap(k -> everyCall(k.toString(), k.seed(), r -> elementReference(k, r),
                (b, r, e, ref) -> runElements(k, b, r, e, ref)));
    }
}
