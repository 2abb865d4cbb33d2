package org.culoss.internal;

import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import org.culoss.Reduction;

/**
 * Multi-class hinge loss on the CPU ({@code multi_margin_loss}), forward and backward fused: each
 * row is copied once into a per-thread array, and one pass over it gives the loss and the
 * gradient, whose entries depend on the target's score and their own alone. The row machinery
 * (threads, chunks, the mean's divisor, bad targets) is {@link SoftmaxRows}'s; the CUDA kernel
 * (multiclass_hinge.cu) computes the same in the same order: {@code z_j = (m - x_y) + x_j} in
 * float, {@code z_j > 0} strict, the row's sums in double.
 */
public final class JavaMulticlassHinge extends SoftmaxRows {
    private final FloatBuffer classWeights;
    private final float margin;
    private final int p;

    private JavaMulticlassHinge(FloatBuffer scores, long scoresStride, IntBuffer targets, int n, int c,
                                FloatBuffer classWeights, float margin, int p, boolean perRow, FloatBuffer gradOutput,
                                FloatBuffer loss, FloatBuffer gradScores, long gradStride) {
        super(scores, scoresStride, targets, n, c, NO_IGNORE_INDEX, perRow, gradOutput, loss, gradScores, gradStride);
        this.classWeights = classWeights;
        this.margin = margin;
        this.p = p;
    }

    /**
     * Multi-class hinge, forward and/or backward in one pass per row. Buffers are read and written
     * with absolute indices from 0, as {@link JavaSoftmaxCrossEntropy#run}'s; arguments are checked
     * by the caller but the targets.
     *
     * @param classWeights c weights, or null (all 1)
     * @param margin       finite
     * @param p            1 or 2
     * @return -1 if every target was in [0, c), else the smallest row whose target is not; such
     *         rows count for nothing (loss 0, gradient 0, not in the mean's divisor)
     */
    public static long run(FloatBuffer scores, long scoresStride, IntBuffer targets, int n, int c,
                           FloatBuffer classWeights, float margin, int p, Reduction reduction,
                           FloatBuffer gradOutput, FloatBuffer loss, FloatBuffer gradScores, long gradStride,
                           int threads) {
        return new JavaMulticlassHinge(scores, scoresStride, targets, n, c, classWeights, margin, p,
                reduction == Reduction.NONE, gradOutput, loss, gradScores, gradStride).run(reduction, null, threads);
    }

    @Override
    double row(int i, int y, Scratch s) {
        float[] x = s.x;
        logits.get((int) (i * logitsStride), x, 0, c);
        float base = margin - x[y];
        double wy = classWeights == null ? 1 : classWeights.get(y);
        boolean grad = gradLogits != null;
        // x[j] becomes the slope d z^p / d z of class j (0 where z <= 0 or NaN); sums[0] the sum of
        // z^p, sums[1] of the slopes, both over the classes but y.
        double[] sums = {0, 0};
        slopes(x, 0, y, base, sums);
        slopes(x, y + 1, c, base, sums);
        double rowLoss = wy * sums[0] / c;
        if (perRow && loss != null) {
            loss.put(i, (float) rowLoss);
        }
        if (grad) {
            // The kernel's float coefficient: upstream over the mean's divisor, times w_y / c. An
            // infinite one makes 0 * inf = NaN where the slope is 0, as PyTorch's product does.
            float coef = (float) upstream(i) * (float) wy / (float) c;
            for (int j = 0; j < c; j++) {
                x[j] *= coef;
            }
            x[y] = -coef * (float) sums[1];
            gradLogits.put((int) (i * gradStride), x, 0, c);
        }
        return rowLoss;
    }

    private void slopes(float[] x, int from, int to, float base, double[] sums) {
        double loss = 0;
        double slopeSum = 0;
        for (int j = from; j < to; j++) {
            float z = base + x[j];
            float slope = 0f;
            if (z > 0f) {
                loss += p == 1 ? z : (double) z * z;
                slope = p == 1 ? 1f : 2f * z;
                slopeSum += slope;
            }
            x[j] = slope;
        }
        sums[0] += loss;
        sums[1] += slopeSum;
    }
}
