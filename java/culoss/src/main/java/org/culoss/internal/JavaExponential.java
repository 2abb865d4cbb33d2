package org.culoss.internal;

/**
 * Exponential (AdaBoost) loss on the CPU, in the chunks of {@link ElementwiseChunks}: for scores
 * s and targets y, loss exp(-y s) and gradient -y exp(-y s), the CUDA kernel's expressions. The
 * exponential is taken in double and rounded once, so the loss is within half an ulp and the
 * gradient is finite wherever the loss is (|y| = 1).
 */
public final class JavaExponential {
    /** The per-chunk arithmetic; the exponential loss has no option. */
    public static final ElementwiseChunks.Kernel KERNEL = JavaExponential::compute;

    private JavaExponential() {}

    private static void compute(ElementwiseChunks.Chunk c, int n, boolean loss, boolean grad) {
        float[] s = c.x;
        float[] y = c.t;
        for (int j = 0; j < n; j++) {
            s[j] = (float) Math.exp(-y[j] * s[j]);
        }
        if (loss) {
            System.arraycopy(s, 0, c.loss, 0, n);
        }
        if (grad) {
            float[] out = c.grad;
            for (int j = 0; j < n; j++) {
                out[j] = -y[j] * s[j];
            }
        }
    }
}
