package org.culoss.internal;

/**
 * Logistic loss (binary cross-entropy with logits) with a scalar pos_weight p on the CPU, in the
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
        return (c, n, loss, grad) -> {
            float[] x = c.x;
            float[] t = c.t;
            float[] e = c.spare(0);
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
                    float lw = (posWeight - 1f) * tj + 1f;
                    out[j] = lw * out[j] + (xj >= 0f ? (1f - tj) * xj : -(posWeight * tj) * xj);
                }
            }
            if (grad) {
                float[] out = c.grad;
                for (int j = 0; j < n; j++) {
                    float tj = t[j];
                    float lw = (posWeight - 1f) * tj + 1f;
                    float s = e[j] / (1f + e[j]);
                    out[j] = x[j] >= 0f ? (1f - tj) - lw * s : lw * s - posWeight * tj;
                }
            }
        };
    }
}
