package org.culoss.internal;

/**
 * L1 loss on the CPU, in the chunks of {@link ElementwiseChunks}: d = x - t, loss |d|, gradient
 * sign(d) as torch.sign gives it (0 at 0 and for NaN), the CUDA kernel's expressions.
 */
public final class JavaL1 {
    /** The per-chunk arithmetic; L1 has no option. */
    public static final ElementwiseChunks.Kernel KERNEL = JavaL1::compute;

    private JavaL1() {}

    private static void compute(ElementwiseChunks.Chunk c, int n, boolean loss, boolean grad) {
        float[] d = c.x;
        float[] t = c.t;
        for (int j = 0; j < n; j++) {
            d[j] = d[j] - t[j];
        }
        if (loss) {
            float[] out = c.loss;
            for (int j = 0; j < n; j++) {
                out[j] = Math.abs(d[j]);
            }
        }
        if (grad) {
            float[] out = c.grad;
            for (int j = 0; j < n; j++) {
                float v = d[j];
                out[j] = v > 0f ? 1f : v < 0f ? -1f : 0f;  // a comparison, so NaN gives 0
            }
        }
    }
}
