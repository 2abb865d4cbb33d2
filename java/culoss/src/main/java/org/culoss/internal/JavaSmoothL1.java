package org.culoss.internal;

import java.nio.FloatBuffer;
import org.culoss.Reduction;

/**
 * Smooth L1 and Huber losses on the CPU, forward and backward fused, in the chunks of
 * {@link ElementwiseChunks}, by branch-free loops that C2 vectorizes: the {@code |d| < beta}
 * choice becomes {@code zc = min(|d|, beta)}, so
 * <pre>
 *   smooth L1: 0.5 zc (zc / beta) + (|d| - zc)    gradient clamp(d / beta, -1, 1)
 *   Huber:     zc (|d| - 0.5 zc)                  gradient clamp(d, -delta, delta)
 * </pre>
 * which is within an ulp of PyTorch's expression (Huber: bit for bit where {@code |d| < delta}),
 * and PyTorch's gradient exactly at {@code |d| == beta} (the linear branch). Smooth L1 divides
 * before it multiplies because PyTorch's 0.5 z z / beta overflows for z above 1.8e19 while the
 * loss fits (beta = 1e30). beta = 0 is the L1 loss with gradient sign(d), sign(0) = 0.
 */
public final class JavaSmoothL1 {
    /** d * BIG * BIG is +-inf or 0 for every float d, so clamping it to [-1, 1] gives sign(d). */
    private static final float BIG = 0x1p100f;

    private JavaSmoothL1() {}

    /**
     * Smooth L1 ({@code huber = false}, option = beta >= 0) or Huber ({@code huber = true}, option
     * = delta > 0), forward and/or backward; the rest as {@link ElementwiseChunks#run}.
     */
    public static void run(boolean huber, FloatBuffer input, FloatBuffer target, int count, float option,
                           Reduction reduction, FloatBuffer gradOutput, FloatBuffer loss, FloatBuffer gradInput,
                           int threads) {
        ElementwiseChunks.run(kernel(huber, option), input, target, count, reduction, gradOutput, loss, gradInput,
                threads);
    }

    /** The per-chunk arithmetic of smooth L1 ({@code huber = false}) or Huber. */
    public static ElementwiseChunks.Kernel kernel(boolean huber, float option) {
        return (c, n, l, g) -> {
            float[] d = c.x;
            float[] t = c.t;
            for (int j = 0; j < n; j++) {
                d[j] = d[j] - t[j];
            }
            if (l) loss(d, c.loss, n, huber, option);
            if (g) grad(d, c.grad, n, huber, option);
        };
    }

    /** Per-element loss of the differences d; one branch-free loop per variant. */
    private static void loss(float[] d, float[] out, int n, boolean huber, float option) {
        if (huber) {
            float delta = option;
            for (int j = 0; j < n; j++) {
                float z = Math.abs(d[j]);
                float zc = Math.min(z, delta);
                // zc (z - zc / 2): 0.5 z z below delta, PyTorch's delta (z - 0.5 delta) above it,
                // and no inf * 0 when delta is infinite (0.5 zc zc + delta (z - zc) was NaN there).
                out[j] = zc * (z - 0.5f * zc);
            }
        } else if (option == 0f) {
            for (int j = 0; j < n; j++) {
                out[j] = Math.abs(d[j]);
            }
        } else {
            float beta = option;
            for (int j = 0; j < n; j++) {
                float z = Math.abs(d[j]);
                float zc = Math.min(z, beta);
                out[j] = 0.5f * zc * (zc / beta) + (z - zc);
            }
        }
    }

    /** d loss / d input; beta = 0 gives sign(d) with sign(0) = 0. */
    private static void grad(float[] d, float[] out, int n, boolean huber, float option) {
        if (huber) {
            float delta = option;
            for (int j = 0; j < n; j++) {
                out[j] = Math.max(-delta, Math.min(delta, d[j]));
            }
        } else if (option == 0f) {
            for (int j = 0; j < n; j++) {
                out[j] = Math.max(-1f, Math.min(1f, d[j] * BIG * BIG));
            }
        } else if (option == Float.POSITIVE_INFINITY) {
            // PyTorch's |d| >= beta branch, sign(d), where d is infinite too; d / beta would be
            // inf / inf = NaN there. Every finite d is inside the quadratic zone: d / beta = +-0.
            for (int j = 0; j < n; j++) {
                out[j] = Float.isInfinite(d[j]) ? Math.signum(d[j]) : d[j] / option;
            }
        } else {
            float beta = option;
            for (int j = 0; j < n; j++) {
                out[j] = Math.max(-1f, Math.min(1f, d[j] / beta));
            }
        }
    }
}
