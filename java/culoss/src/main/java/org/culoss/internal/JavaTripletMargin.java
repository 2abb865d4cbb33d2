package org.culoss.internal;

import java.nio.FloatBuffer;
import java.util.Arrays;
import org.culoss.Reduction;

/**
 * Triplet margin loss on the CPU ({@code F.triplet_margin_loss} semantics), forward and backward
 * fused: each row of the three inputs is copied once into per-thread arrays, and the distances,
 * the loss and the three gradients come from those copies.
 *
 * <p>The per-component work is plain indexed loops over arrays (the differences u - v + eps,
 * squares or absolute values, the gradient's scaling). The loss side is in double: the
 * components, their powers, the sums ({@link SoftmaxRows#sum(double[], int, double[], double[])}'s
 * halving) and margin + d_ap - d_an; on long rows whose loss is small against the distances
 * (d = 4096, distances near 90, loss 0.004) float components and float sums cost the loss its
 * digits. The loops that widen float to double run scalar (C2 of JDK 17 does not vectorize the
 * conversion); the halving sums vectorize. The gradients are float: p = 1 and 2 form the
 * components again in float (vectorized), p = inf and general p use the double ones. p = 1, 2
 * and inf have their own loops; any other p takes Math.pow in double, once per component and
 * distance (the gradient reuses the powers).
 */
public final class JavaTripletMargin {
    /**
     * Input elements (of one of the three inputs) per chunk of rows. The chunking depends on d
     * alone, and chunk sums are added in chunk order, so the reduced loss is the same bits
     * whatever the thread count.
     */
    private static final int CHUNK_ELEMENTS = 1 << 13;

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private JavaTripletMargin() {}

    /**
     * Triplet margin loss, forward and/or backward in one pass per row. Buffers are read and
     * written with absolute indices from 0 (callers pass slices); positions and limits are not
     * changed. Arguments are validated by the caller: n, d >= 1 (n may be 0), p > 0 (or +inf),
     * margin and eps finite, buffer lengths, no overlap between outputs and inputs.
     *
     * @param anchor       n rows of d, contiguous
     * @param positive     n rows of d
     * @param negative     n rows of d
     * @param gradOutput   upstream gradient: null means 1; n values for NONE, else 1 value
     * @param loss         output or null (no forward): n values for NONE, else 1 value (0 for n = 0)
     * @param gradAnchor   output or null; likewise gradPositive and gradNegative
     * @param threads      1 = the caller's thread; more = rows split over that many workers
     */
    public static void run(FloatBuffer anchor, FloatBuffer positive, FloatBuffer negative, int n, int d,
                           float margin, float p, float eps, boolean swap, Reduction reduction,
                           FloatBuffer gradOutput, FloatBuffer loss, FloatBuffer gradAnchor,
                           FloatBuffer gradPositive, FloatBuffer gradNegative, int threads) {
        double upstream = reduction == Reduction.NONE || gradOutput == null ? 1 : gradOutput.get(0);
        double gradScale = reduction == Reduction.MEAN ? (n == 0 ? 0 : upstream / n) : upstream;
        Pass pass = new Pass(anchor, positive, negative, n, d, margin, p, eps, swap, reduction == Reduction.NONE,
                gradOutput, gradScale, loss, gradAnchor, gradPositive, gradNegative);
        double total = Chunked.sum(pass.chunks, threads, () -> {
            Scratch s = SCRATCH.get().fit(d);
            return k -> pass.chunk(k, s);
        });
        if (loss != null && reduction != Reduction.NONE) {
            double value = reduction == Reduction.SUM ? total : n == 0 ? 0 : total / n;
            loss.put(0, (float) value);
        }
    }

    /** How the p-norm is computed. */
    private static final int GENERAL = 0;
    private static final int L1 = 1;
    private static final int L2 = 2;
    private static final int LINF = 3;

    /** The arguments of one call, and the row loop. */
    private static final class Pass {
        final FloatBuffer anchor;
        final FloatBuffer positive;
        final FloatBuffer negative;
        final int n;
        final int d;
        final double margin;
        final double p;
        final float eps;
        final boolean swap;
        final int norm;
        final boolean perRow;
        final FloatBuffer gradOutput;
        final double gradScale;
        final FloatBuffer loss;
        final FloatBuffer gradAnchor;
        final FloatBuffer gradPositive;
        final FloatBuffer gradNegative;
        final boolean backward;
        final int rowsPerChunk;
        final int chunks;

        Pass(FloatBuffer anchor, FloatBuffer positive, FloatBuffer negative, int n, int d, float margin, float p,
             float eps, boolean swap, boolean perRow, FloatBuffer gradOutput, double gradScale, FloatBuffer loss,
             FloatBuffer gradAnchor, FloatBuffer gradPositive, FloatBuffer gradNegative) {
            this.anchor = anchor;
            this.positive = positive;
            this.negative = negative;
            this.n = n;
            this.d = d;
            this.margin = margin;
            this.p = p;
            this.eps = eps;
            this.swap = swap;
            this.norm = p == 1f ? L1 : p == 2f ? L2 : p == Float.POSITIVE_INFINITY ? LINF : GENERAL;
            this.perRow = perRow;
            this.gradOutput = gradOutput;
            this.gradScale = gradScale;
            this.loss = loss;
            this.gradAnchor = gradAnchor;
            this.gradPositive = gradPositive;
            this.gradNegative = gradNegative;
            this.backward = gradAnchor != null || gradPositive != null || gradNegative != null;
            this.rowsPerChunk = Math.max(1, CHUNK_ELEMENTS / Math.max(1, d));
            this.chunks = n == 0 ? 0 : (n - 1) / rowsPerChunk + 1;
        }

        double chunk(int k, Scratch s) {
            int end = (int) Math.min(n, (long) (k + 1) * rowsPerChunk);
            double sum = 0;
            for (int i = k * rowsPerChunk; i < end; i++) {
                sum += row(i, s);
            }
            return sum;
        }

        /** Loss of row i; writes its per-row loss and its gradients. */
        private double row(int i, Scratch s) {
            int at = i * d;
            float[] a = s.a;
            float[] b = s.b;
            float[] c = s.c;
            anchor.get(at, a, 0, d);
            positive.get(at, b, 0, d);
            negative.get(at, c, 0, d);
            double[] xap = s.xap;
            double[] xan = s.xan;
            double[] xpn = s.xpn;
            double dAp = distance(a, b, xap, s, 0);
            double dAn = distance(a, c, xan, s, 1);
            double dPn = swap ? distance(b, c, xpn, s, 2) : 0;
            // torch.min's gradient rule with swap: all to the smaller distance, half and half on a tie.
            double dNeg = dAn;
            double wAn = 1;
            double wPn = 0;
            if (swap) {
                if (dPn < dAn) {
                    dNeg = dPn;
                    wAn = 0;
                    wPn = 1;
                } else if (dPn == dAn) {
                    wAn = 0.5;
                    wPn = 0.5;
                }
            }
            double v = (margin + dAp) - dNeg;
            double rowLoss = v >= 0 || Double.isNaN(v) ? v : 0;  // clamp_min keeps NaN
            if (perRow && loss != null) {
                loss.put(i, (float) rowLoss);
            }
            if (!backward) {
                return rowLoss;
            }
            // clamp_min's rule: the gradient passes at exactly 0 too.
            double g = 0;
            if (v >= 0) {
                g = perRow ? (gradOutput == null ? 1 : gradOutput.get(i)) : gradScale;
            }
            boolean exactAp = zeroTimesGradientIsZero(dAp);
            boolean exactAn = zeroTimesGradientIsZero(dAn);
            boolean exactPn = !swap || zeroTimesGradientIsZero(dPn);
            if (g == 0 && exactAp && exactAn && exactPn) {
                Arrays.fill(a, 0, d, 0f);
                if (gradAnchor != null) gradAnchor.put(at, a, 0, d);
                if (gradPositive != null) gradPositive.put(at, a, 0, d);
                if (gradNegative != null) gradNegative.put(at, a, 0, d);
                return rowLoss;
            }
            // d dist / d x_j of each distance, then the three gradients.
            float[] gap = s.gap;
            float[] gan = s.gan;
            float[] gpn = s.gpn;
            normGradient(xap, a, b, dAp, gap, s, 0);
            float cAp = (float) g;
            // torch.min gives the distance it did not pick exactly 0 (not 0 times an infinite
            // upstream gradient, which is NaN).
            float cAn = wAn == 0 ? 0f : (float) (g * wAn);
            float cPn = wPn == 0 ? 0f : (float) (g * wPn);
            if (wAn != 0 || !exactAn) {
                normGradient(xan, a, c, dAn, gan, s, 1);
            } else {
                Arrays.fill(gan, 0, d, 0f);
            }
            boolean withPn = wPn != 0 || !exactPn;
            if (withPn) {
                normGradient(xpn, b, c, dPn, gpn, s, 2);
            }
            if (gradAnchor != null) {
                for (int j = 0; j < d; j++) {
                    a[j] = cAp * gap[j] - cAn * gan[j];
                }
                gradAnchor.put(at, a, 0, d);
            }
            if (gradPositive != null) {
                if (withPn) {
                    for (int j = 0; j < d; j++) {
                        b[j] = -(cAp * gap[j]) - cPn * gpn[j];
                    }
                } else {
                    for (int j = 0; j < d; j++) {
                        b[j] = -(cAp * gap[j]);
                    }
                }
                gradPositive.put(at, b, 0, d);
            }
            if (gradNegative != null) {
                if (withPn) {
                    for (int j = 0; j < d; j++) {
                        c[j] = cAn * gan[j] + cPn * gpn[j];
                    }
                } else {
                    for (int j = 0; j < d; j++) {
                        c[j] = cAn * gan[j];
                    }
                }
                gradNegative.put(at, c, 0, d);
            }
            return rowLoss;
        }

        /**
         * Whether a zero coefficient times this distance's d dist / d x is zero everywhere, so that
         * the product can be skipped. PyTorch multiplies through: for p = 2 and general p, a NaN
         * distance makes the whole gradient NaN and an infinite component gives inf * 0 = NaN, even
         * where clamp_min or the swap's min passes 0 (a NaN row's NaN reaches the optimizer). For
         * p = 1 and p = inf the gradient is sign(x_j) or a share of it, finite whatever x is
         * (PyTorch's sgn(NaN) is 0).
         */
        private boolean zeroTimesGradientIsZero(double dist) {
            return norm == L1 || norm == LINF || Double.isFinite(dist);
        }

        /**
         * ||x||_p of the components x_j = u_j - v_j + eps, formed in double as the CUDA kernel
         * forms them (exact up to eps's rounding); for p = inf and general p they are kept in x
         * for the gradient, and for p = inf s.count[k] is how many |x_j| reach the max.
         */
        private double distance(float[] u, float[] v, double[] x, Scratch s, int k) {
            double[] t = s.t;
            double e = eps;
            switch (norm) {
                case L1: {
                    for (int j = 0; j < d; j++) {
                        t[j] = Math.abs((double) u[j] - v[j] + e);
                    }
                    return SoftmaxRows.sum(t, d, t, s.u);
                }
                case L2: {
                    for (int j = 0; j < d; j++) {
                        double xj = (double) u[j] - v[j] + e;
                        t[j] = xj * xj;
                    }
                    return Math.sqrt(SoftmaxRows.sum(t, d, t, s.u));
                }
                case LINF: {
                    for (int j = 0; j < d; j++) {
                        x[j] = (double) u[j] - v[j] + e;
                    }
                    double max = 0;
                    boolean nan = false;
                    for (int j = 0; j < d; j++) {
                        double ax = Math.abs(x[j]);
                        nan |= ax != ax;
                        max = Math.max(max, ax);
                    }
                    int count = 0;
                    for (int j = 0; j < d; j++) {
                        count += Math.abs(x[j]) == max ? 1 : 0;
                    }
                    s.count[k] = count;
                    return nan ? Double.NaN : max;
                }
                default: {
                    // |x_j|^p is kept: the gradient's |x_j|^(p-1) is |x_j|^p / |x_j|, no second pow.
                    double[] powers = s.powers[k];
                    for (int j = 0; j < d; j++) {
                        x[j] = (double) u[j] - v[j] + e;
                        powers[j] = Math.pow(Math.abs(x[j]), p);
                    }
                    return Math.pow(SoftmaxRows.sum(powers, d, t, s.u), 1 / p);
                }
            }
        }

        /**
         * out[j] = d dist / d x_j, PyTorch's norm_backward: 0 where the distance is 0, sign(x_j)
         * for p = 1 (sign(0) = 0), x_j / dist for p = 2, sign(x_j) (|x_j| / dist)^(p-1) otherwise
         * (0 where x_j = 0), sign(x_j) / count on the components of largest magnitude for p = inf.
         * p = 1 and 2 form the components again in float from u and v (a float gradient needs no
         * more, and C2 does not vectorize float-double conversions); p = inf compares the double
         * components {@link #distance} kept in x with the distance they gave.
         */
        private void normGradient(double[] x, float[] u, float[] v, double dist, float[] out, Scratch s, int k) {
            float e = eps;
            switch (norm) {
                case L1:
                    for (int j = 0; j < d; j++) {
                        out[j] = u[j] - v[j] + e;
                    }
                    for (int j = 0; j < d; j++) {
                        out[j] = Math.signum(out[j]);
                    }
                    return;
                case L2: {
                    // 0 for a distance of 0 (PyTorch's mask) or inf (x_j * 0: NaN where x_j is infinite);
                    // a NaN distance gives NaN throughout.
                    float inv = dist == 0 || dist == Double.POSITIVE_INFINITY ? 0f : (float) (1 / dist);
                    for (int j = 0; j < d; j++) {
                        out[j] = (u[j] - v[j] + e) * inv;
                    }
                    return;
                }
                case LINF: {
                    float share = s.count[k] > 0 ? 1f / s.count[k] : 0f;
                    for (int j = 0; j < d; j++) {
                        double xj = x[j];
                        out[j] = Math.abs(xj) == dist && xj != 0 ? (float) Math.copySign(share, xj) : 0f;
                    }
                    return;
                }
                default: {
                    // (|x_j| / dist)^(p-1) = (|x_j|^p / |x_j|) dist^(1-p), with |x_j|^p from distance().
                    // As PyTorch's x |x|^(p-2) / dist^(p-1): 0 for a distance of 0; NaN throughout for a
                    // NaN distance, and where x_j is infinite (inf * 0).
                    double[] powers = s.powers[k];
                    double scale = dist == 0 ? 0 : Math.pow(dist, 1 - p);
                    for (int j = 0; j < d; j++) {
                        double xj = x[j];
                        if (Double.isNaN(scale) || (Double.isInfinite(xj) && dist != 0)) {
                            out[j] = Float.NaN;
                        } else if (dist == Double.POSITIVE_INFINITY && p > 1 && xj != 0) {
                            // sum |x|^p overflowed: PyTorch's |x|^(p-2) / inf is 0 where the numerator
                            // is finite, inf / inf = NaN where it overflows too (as the kernel).
                            out[j] = Double.isInfinite(Math.pow(Math.abs(xj), p - 2)) ? Float.NaN : 0f;
                        } else {
                            out[j] = scale == 0 || xj == 0 ? 0f
                                    : (float) Math.copySign(powers[j] / Math.abs(xj) * scale, xj);
                        }
                    }
                }
            }
        }
    }

    /** Per-thread arrays, grown to the largest d seen. */
    private static final class Scratch {
        float[] a = new float[0];
        float[] b = a;
        float[] c = a;
        /** The three distances' d dist / d x. */
        float[] gap = a;
        float[] gan = a;
        float[] gpn = a;
        /** The components u - v + eps of the three distances (p = inf and general p). */
        double[] xap = new double[0];
        double[] xan = xap;
        double[] xpn = xap;
        double[] t = xap;
        double[] u = xap;
        final int[] count = new int[3];
        /** |x_j|^p of the three distances (general p). */
        final double[][] powers = {new double[0], new double[0], new double[0]};

        Scratch fit(int d) {
            if (a.length < d) {
                a = new float[d];
                b = new float[d];
                c = new float[d];
                gap = new float[d];
                gan = new float[d];
                gpn = new float[d];
                xap = new double[d];
                xan = new double[d];
                xpn = new double[d];
                t = new double[d];
                u = new double[d];
                for (int k = 0; k < 3; k++) {
                    powers[k] = new double[d];
                }
            }
            return this;
        }
    }
}
