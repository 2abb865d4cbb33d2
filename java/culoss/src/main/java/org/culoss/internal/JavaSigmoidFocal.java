package org.culoss.internal;

import java.nio.FloatBuffer;
import org.culoss.Reduction;

/**
 * Sigmoid focal loss (torchvision.ops.sigmoid_focal_loss) on the CPU, forward and backward fused,
 * in the chunks of {@link ElementwiseChunks}.
 *
 * <p>The formulas are the CUDA kernel's (native/src/sigmoid_focal.cu), which stay finite for
 * saturated logits and any gamma >= 0: with e = exp(-|x|), inv = 1/(1+e), s = e inv, u = 1 - t,
 * <pre>
 *   ce = log1p(e) + (x >= 0 ? u x : -t x)       m = 1 - p_t = inv D,  D = (x >= 0 ? u + t e : t + u e)
 *   loss = a_t ce m^gamma                       grad = a_t m^gamma [(u p - t q) + gamma (u - t) ce s / D]
 * </pre>
 * Written for C2's auto-vectorizer: e comes from SoftmaxRows's polynomial exp,
 * log1p(e) from the atanh series (e in [0, 1], relative error below 1e-7), and the choices on the
 * sign of x from a 0/1 factor k made with min/max, so every loop is branch-free arithmetic on
 * arrays. A gamma other than 0, 1 or 2 takes Math.pow, one scalar call per element.
 */
public final class JavaSigmoidFocal implements ElementwiseChunks.Kernel {
    /** x * BIG * BIG is +-inf or 0 for every float x. */
    private static final float BIG = 0x1p100f;

    private final float gamma;
    /** a_t = alpha t + (1 - alpha)(1 - t) when weighted, else no factor (not 0 t + 0 u + 1: 0 * inf). */
    private final boolean weighted;
    private final float alpha;

    private JavaSigmoidFocal(float alpha, float gamma) {
        this.gamma = gamma;
        this.weighted = alpha >= 0;
        this.alpha = alpha;
    }

    /**
     * Forward and/or backward, as {@link ElementwiseChunks#run}; arguments are already checked
     * (alpha finite, gamma finite and >= 0).
     *
     * @param alpha negative: no weighting
     */
    public static void run(FloatBuffer logits, FloatBuffer targets, int count, float alpha, float gamma,
                           Reduction reduction, FloatBuffer gradOutput, FloatBuffer loss, FloatBuffer gradLogits,
                           int threads) {
        ElementwiseChunks.run(kernel(alpha, gamma), logits, targets, count, reduction, gradOutput,
                loss, gradLogits, threads);
    }

    /** The per-chunk arithmetic for these options. */
    public static ElementwiseChunks.Kernel kernel(float alpha, float gamma) {
        return new JavaSigmoidFocal(alpha, gamma);
    }

    @Override
    public void compute(ElementwiseChunks.Chunk c, int n, boolean loss, boolean grad) {
        float[] x = c.x;
        float[] t = c.t;
        float[] e = c.spare(0);
        float[] kp = c.spare(1);
        float[] ce = c.spare(2);
        float[] m = c.spare(3);
        float[] a = c.spare(4);
        // Many small loops rather than one: C2 vectorizes a loop only when it unrolls it, and it
        // does not unroll a long body (measured: 5 ns per element fused, 0.1 to 0.2 split).
        for (int j = 0; j < n; j++) {
            e[j] = -Math.abs(x[j]);
        }
        SoftmaxRows.exp(e, n, 0f, c.grad);  // e = exp(-|x|); grad is scratch until the gradient
        for (int j = 0; j < n; j++) {
            kp[j] = sign01(x[j]);
        }
        for (int j = 0; j < n; j++) {
            ce[j] = log1p01(e[j]);
        }
        // + (x >= 0 ? u x : -t x). The factor k picks a branch by multiplying, so the target enters
        // as tf, its finite clamp (0 * inf is NaN); an infinite target then adds t - tf = +-inf,
        // which is -t, the value of both branches. A finite target is used exactly (t - tf = 0).
        for (int j = 0; j < n; j++) {
            float tj = t[j];
            float tf = Math.max(-Float.MAX_VALUE, Math.min(Float.MAX_VALUE, tj));
            float kj = kp[j];
            ce[j] += x[j] * (kj * (1f - tf) - (1f - kj) * tf - (tj - tf));
        }
        // D: a finite target gives two finite branches, an infinite one NaN in both.
        for (int j = 0; j < n; j++) {
            float tj = t[j];
            float u = 1f - tj;
            float kj = kp[j];
            a[j] = kj * (u + tj * e[j]) + (1f - kj) * (tj + u * e[j]);
        }
        for (int j = 0; j < n; j++) {  // m = 1 - p_t = D / (1 + e)
            m[j] = a[j] / (1f + e[j]);
        }
        // m^gamma, in m[] itself (m is not needed again).
        if (gamma == 0f) {
            for (int j = 0; j < n; j++) {
                m[j] = 1f;
            }
        } else if (gamma == 2f) {
            for (int j = 0; j < n; j++) {
                m[j] = m[j] * m[j];
            }
        } else if (gamma != 1f) {
            for (int j = 0; j < n; j++) {
                m[j] = (float) Math.pow(m[j], gamma);
            }
        }
        if (loss) {
            float[] out = c.loss;
            if (weighted) {
                for (int j = 0; j < n; j++) {
                    float tj = t[j];
                    out[j] = (alpha * tj + (1f - alpha) * (1f - tj)) * ce[j] * m[j];
                }
            } else {
                for (int j = 0; j < n; j++) {
                    out[j] = ce[j] * m[j];
                }
            }
        }
        if (grad) {
            float g = gamma;
            if (g == 0f) {  // the second term is 0 * t, as the kernel (PyTorch's pow backward gives 0)
                for (int j = 0; j < n; j++) {
                    ce[j] = 0f * t[j];
                }
            } else {
                // gamma (u - t) ce r, r = p q / m = s / D for D != 0 (negative for a target outside
                // [0, 1]); r = 0 where D = 0 (s = 0 and ce = 0 there for a target in [0, 1]). nz is 1
                // for D != 0 and 0 for D = 0 (NaN for NaN), so D = 0 divides by 1, not 0.
                for (int j = 0; j < n; j++) {
                    float tj = t[j];
                    float sm = e[j] / (1f + e[j]);  // sigmoid(-|x|)
                    float nz = Math.min(Math.abs(a[j]) * BIG * BIG, 1f);
                    ce[j] = g * ((1f - tj) - tj) * ce[j] * (sm / (a[j] + (1f - nz)) * nz);
                }
            }
            // + u p - t q, p and q picked by the sign of x.
            for (int j = 0; j < n; j++) {
                float tj = t[j];
                float kj = kp[j];
                float inv = 1f / (1f + e[j]);
                float sm = e[j] * inv;
                float p = kj * inv + (1f - kj) * sm;
                float q = kj * sm + (1f - kj) * inv;
                ce[j] += (1f - tj) * p - tj * q;
            }
            float[] out = c.grad;
            if (weighted) {
                for (int j = 0; j < n; j++) {
                    float tj = t[j];
                    out[j] = (alpha * tj + (1f - alpha) * (1f - tj)) * m[j] * ce[j];
                }
            } else {
                for (int j = 0; j < n; j++) {
                    out[j] = m[j] * ce[j];
                }
            }
        }
    }

    /**
     * 1 for x > 0, 0 for x < 0, 1/2 for x = +-0 (where both choices give the same value), NaN for
     * NaN: branch-free, so loops using it vectorize.
     */
    static float sign01(float x) {
        return Math.max(-1f, Math.min(1f, x * BIG * BIG)) * 0.5f + 0.5f;
    }

    /**
     * log(1 + e) for e in [0, 1]: 2 atanh(r), r = e / (2 + e) in [0, 1/3], by its series to r^15
     * (truncation below 1.5e-8 relative). No cancellation, so tiny e keep their digits.
     */
    static float log1p01(float e) {
        float r = e / (2f + e);
        float r2 = r * r;
        float poly = 1f / 15f;
        poly = poly * r2 + 1f / 13f;
        poly = poly * r2 + 1f / 11f;
        poly = poly * r2 + 1f / 9f;
        poly = poly * r2 + 1f / 7f;
        poly = poly * r2 + 1f / 5f;
        poly = poly * r2 + 1f / 3f;
        poly = poly * r2 + 1f;
        return 2f * r * poly;
    }
}
