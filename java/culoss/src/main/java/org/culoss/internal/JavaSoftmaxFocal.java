package org.culoss.internal;

import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import org.culoss.Reduction;

/**
 * Softmax focal loss on the CPU, forward and backward fused, on the row machinery of
 * {@link SoftmaxRows} (as {@link JavaSoftmaxCrossEntropy}):
 * {@code loss = -alpha_y (1 - p_y)^gamma log p_y}, {@code d loss / d x_k = F (p_k - [k == y])},
 * {@code F = alpha_y (q^gamma - gamma p_y q^(gamma-1) log p_y)}, {@code q = 1 - p_y}.
 *
 * <p>Numerics as the CUDA kernel: q is the sum of the other classes' exponentials over the row's
 * sum (the target's exponential is set aside before the sum), so it keeps its digits when p_y is
 * within an ulp of 1; log p_y is log1p(-q) for small q; {@code q^(gamma-1) log p_y} is written
 * {@code q^gamma (log p_y / q)} (limit -1 at q = 0) and {@code p_y log p_y} is 0 at p_y = 0.
 */
public final class JavaSoftmaxFocal extends SoftmaxRows {
    private final FloatBuffer classAlpha;
    private final double alpha;
    private final double gamma;

    private JavaSoftmaxFocal(FloatBuffer logits, long logitsStride, IntBuffer targets, int n, int c,
                             FloatBuffer classAlpha, double alpha, double gamma, long ignoreIndex, boolean perRow,
                             FloatBuffer gradOutput, FloatBuffer loss, FloatBuffer gradLogits, long gradStride) {
        super(logits, logitsStride, targets, n, c, ignoreIndex, perRow, gradOutput, loss, gradLogits, gradStride);
        this.classAlpha = classAlpha;
        this.alpha = alpha;
        this.gamma = gamma;
    }

    /**
     * Softmax focal loss, forward and/or backward in one pass per row. Buffers are used with
     * absolute indices from 0 (callers pass slices); arguments are already validated by the
     * caller, except the targets.
     *
     * @param logits      n rows, row i at [i*logitsStride, i*logitsStride + c)
     * @param targets     n class indices
     * @param classAlpha  c weights alpha_y, or null: {@code alpha} for every class
     * @param alpha       the weight of every class when classAlpha is null
     * @param gamma       the focusing exponent, finite and >= 0 (0: cross-entropy weighted by alpha_y)
     * @param ignoreIndex rows whose target equals it count for nothing; NO_IGNORE_INDEX for none
     * @param reduction   NONE, SUM, or MEAN: the sum over the number of counted rows (0 when none counts)
     * @param gradOutput  upstream gradient: null means 1; n values when reduction is NONE, else 1 value
     * @param loss        output or null (no forward): n values for NONE, else 1 value
     * @param gradLogits  output or null (no backward): row i at [i*gradStride, i*gradStride + c)
     * @param threads     1 = the caller's thread; more = split the rows over that many workers
     * @return -1 if every target was valid, else the smallest row index whose target is outside
     *         [0,c) and not ignoreIndex; such rows count for nothing (nor in the mean's count)
     */
    /** Logits [n, c, inner] and targets [n, inner]: each (b, k) a row of {@link #run} ({@link SoftmaxRows#spatial}). */
    public static long runSpatial(FloatBuffer logits, IntBuffer targets, int n, int c, int inner,
                                  FloatBuffer classAlpha, float alpha, float gamma, long ignoreIndex,
                                  Reduction reduction, FloatBuffer gradOutput, FloatBuffer loss,
                                  FloatBuffer gradLogits, int threads) {
        return spatial(logits, n, c, inner, gradLogits, (rows, grad) -> run(rows, c, targets, n * inner, c,
                classAlpha, alpha, gamma, ignoreIndex, reduction, gradOutput, loss, grad, c, threads));
    }

    public static long run(FloatBuffer logits, long logitsStride, IntBuffer targets, int n, int c,
                           FloatBuffer classAlpha, float alpha, float gamma, long ignoreIndex, Reduction reduction,
                           FloatBuffer gradOutput, FloatBuffer loss, FloatBuffer gradLogits, long gradStride,
                           int threads) {
        return new JavaSoftmaxFocal(logits, logitsStride, targets, n, c, classAlpha, alpha, gamma, ignoreIndex,
                reduction == Reduction.NONE, gradOutput, loss, gradLogits, gradStride)
                .run(reduction, null, threads);
    }

    @Override
    double row(int i, int y, Scratch s) {
        float[] x = s.x;
        logits.get((int) (i * logitsStride), x, 0, c);
        float max = max(x, c, s.a, s.b);
        double shiftedY = (double) x[y] - max;
        float expY = expWithoutTarget(x, c, max, y, s.a);
        double others = sum(x, c, s.a, s.b);
        double sumExp = others + expY;
        double q = others / sumExp;
        double logP = q < 0.25 ? Math.log1p(-q) : shiftedY - Math.log(sumExp);
        double qGamma = gamma == 2 ? q * q : gamma == 1 ? q : Math.pow(q, gamma);
        double alphaY = classAlpha == null ? alpha : classAlpha.get(y);
        double rowLoss = alphaY * (qGamma * -logP);
        if (perRow && loss != null) {
            loss.put(i, (float) rowLoss);
        }
        if (gradLogits != null && infiniteUpstream(i)) {
            storeNaNGradient(i, x);
        } else if (gradLogits != null) {
            double g = upstream(i);
            double pY = expY / sumExp;
            // p_y log p_y / q: its limit -1 at q = 0, and 0 where p_y = 0 (log p_y = -inf).
            double pLogPOverQ = pY > 0 ? pY * (q > 0 ? logP / q : -1) : 0;
            double f = g * alphaY * qGamma * (1 - gamma * pLogPOverQ);
            float scale = (float) (f / sumExp);
            for (int j = 0; j < c; j++) {
                x[j] *= scale;
            }
            x[y] = (float) (-f * q);
            gradLogits.put((int) (i * gradStride), x, 0, c);
        }
        return rowLoss;
    }
}
