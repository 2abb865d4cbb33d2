package org.culoss.internal;

/**
 * Binary hinge loss on the CPU, in the chunks of {@link ElementwiseChunks}: for scores s, targets
 * y and the margin m, z = m - y s, loss max(z, 0) as torch.clamp(z, min=0) (NaN stays NaN), and
 * gradient -y where z >= 0, else -y * 0 (clamp's gradient: the kink passes it, a NaN z does not),
 * the CUDA kernel's expressions.
 */
public final class JavaHinge {
    private JavaHinge() {}

    /** The per-chunk arithmetic for this margin (finite, checked by the caller). */
    public static ElementwiseChunks.Kernel kernel(float margin) {
        return (c, n, loss, grad) -> {
            float[] z = c.x;
            float[] y = c.t;
            for (int j = 0; j < n; j++) {
                z[j] = margin - y[j] * z[j];
            }
            if (loss) {
                float[] out = c.loss;
                for (int j = 0; j < n; j++) {
                    out[j] = Math.max(z[j], 0f);  // Math.max keeps NaN
                }
            }
            if (grad) {
                float[] out = c.grad;
                for (int j = 0; j < n; j++) {
                    out[j] = -y[j] * (z[j] >= 0f ? 1f : 0f);  // -y * 0: NaN for a NaN target, as the kernel
                }
            }
        };
    }
}
