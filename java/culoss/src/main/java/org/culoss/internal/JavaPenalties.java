package org.culoss.internal;

/**
 * The L1 and L2 penalties on the CPU, in the chunks of {@link ElementwiseChunks} (the parameters
 * are its x; t is not read), as the CUDA kernels (penalties.cu) compute them: each element's
 * penalty formed in double and rounded once (w^2 overflows a float where lambda / 2 w^2 fits),
 * the sum in double; the gradient lambda sign(w) (torch.sign's: 0 at 0 and for NaN) or lambda w.
 */
public final class JavaPenalties {
    private JavaPenalties() {}

    /** lambda |w|, gradient lambda sign(w). */
    public static ElementwiseChunks.Kernel l1(float lambda) {
        return (c, n, loss, grad) -> {
            float[] w = c.x;
            if (loss) {
                float[] out = c.loss;
                for (int j = 0; j < n; j++) {
                    out[j] = (float) ((double) lambda * Math.abs(w[j]));
                }
            }
            if (grad) {
                float[] out = c.grad;
                for (int j = 0; j < n; j++) {
                    float v = w[j];
                    out[j] = v > 0f ? lambda : v < 0f ? -lambda : 0f;
                }
            }
        };
    }

    /** lambda / 2 w^2, gradient lambda w. */
    public static ElementwiseChunks.Kernel l2(float lambda) {
        double half = 0.5 * lambda;
        return (c, n, loss, grad) -> {
            float[] w = c.x;
            if (loss) {
                float[] out = c.loss;
                for (int j = 0; j < n; j++) {
                    double v = w[j];
                    out[j] = (float) (half * v * v);
                }
            }
            if (grad) {
                float[] out = c.grad;
                for (int j = 0; j < n; j++) {
                    out[j] = lambda * w[j];
                }
            }
        };
    }
}
