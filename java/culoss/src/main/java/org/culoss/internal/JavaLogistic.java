package org.culoss.internal;

import java.util.Arrays;

/**
 * Logistic loss (binary cross-entropy with logits) with a pos_weight p on the CPU, in the
 * chunks of {@link ElementwiseChunks}. The CUDA kernel's forms (native/src/logistic.cu), in which
 * no two large terms cancel: with e = exp(-|x|), s = e / (1 + e), u = 1 - t, lw = (p - 1) t + 1,
 * <pre>
 *   loss = lw log1p(e) + (x >= 0 ? u x : -p t x)      grad = x >= 0 ? u - lw s : lw s - p t
 * </pre>
 * e from SoftmaxRows's vectorized exp and log1p(e) from the series {@link JavaSigmoidFocal} uses;
 * the choices on the sign of x are comparisons (a 0/1 factor would turn an infinite target's
 * unused branch into 0 * inf).
 */
public final class JavaLogistic {
    private JavaLogistic() {}

    /** The per-chunk arithmetic for this pos_weight (finite, checked by the caller; 1 for none). */
    public static ElementwiseChunks.Kernel kernel(float posWeight) {
        return kernel(new float[] {posWeight});
    }

    /**
     * The per-chunk arithmetic with a pos_weight per class: element i takes
     * {@code posWeights[i % classes]} (the last dimension, as PyTorch broadcasts a [C] pos_weight).
     */
    public static ElementwiseChunks.Kernel kernel(float[] posWeights) {
        int classes = posWeights.length;
        return (c, n, loss, grad) -> {
            float[] x = c.x;
            float[] t = c.t;
            float[] e = c.spare(0);
            float[] p = c.spare(1);
            if (classes == 1) {
                Arrays.fill(p, 0, n, posWeights[0]);
            } else {
                for (int j = 0, k = c.base % classes; j < n; j++) {
                    p[j] = posWeights[k];
                    if (++k == classes) k = 0;
                }
            }
            for (int j = 0; j < n; j++) {
                e[j] = -Math.abs(x[j]);
            }
            SoftmaxRows.exp(e, n, 0f, c.grad);  // e = exp(-|x|); grad is scratch until the gradient
            if (loss) {
                float[] out = c.loss;
                for (int j = 0; j < n; j++) {
                    out[j] = JavaSigmoidFocal.log1p01(e[j]);
                }
                for (int j = 0; j < n; j++) {
                    float tj = t[j];
                    float xj = x[j];
                    float lw = (p[j] - 1f) * tj + 1f;
                    out[j] = lw * out[j] + (xj >= 0f ? (1f - tj) * xj : -(p[j] * tj) * xj);
                }
            }
            if (grad) {
                float[] out = c.grad;
                for (int j = 0; j < n; j++) {
                    float tj = t[j];
                    float lw = (p[j] - 1f) * tj + 1f;
                    float s = e[j] / (1f + e[j]);
                    out[j] = x[j] >= 0f ? (1f - tj) - lw * s : lw * s - p[j] * tj;
                }
            }
        };
    }
}
