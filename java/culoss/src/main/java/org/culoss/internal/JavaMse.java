package org.culoss.internal;

/**
 * Mean squared error on the CPU, in the chunks of {@link ElementwiseChunks}: d = x - t, loss
 * d * d and gradient 2 d, PyTorch's float expressions, in loops C2 vectorizes.
 */
public final class JavaMse {
    /** The per-chunk arithmetic; MSE has no option. */
    public static final ElementwiseChunks.Kernel KERNEL = JavaMse::compute;

    private JavaMse() {}

    private static void compute(ElementwiseChunks.Chunk c, int n, boolean loss, boolean grad) {
        float[] d = c.x;
        float[] t = c.t;
        for (int j = 0; j < n; j++) {
            d[j] = d[j] - t[j];
        }
        if (loss) {
            float[] out = c.loss;
            for (int j = 0; j < n; j++) {
                out[j] = d[j] * d[j];
            }
        }
        if (grad) {
            float[] out = c.grad;
            for (int j = 0; j < n; j++) {
                out[j] = 2f * d[j];
            }
        }
    }
}
