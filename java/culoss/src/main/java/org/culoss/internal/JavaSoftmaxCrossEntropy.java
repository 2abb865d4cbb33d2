package org.culoss.internal;

import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.util.Arrays;
import org.culoss.Reduction;

/**
 * Softmax cross-entropy on the CPU, forward and backward fused: each row is copied once into a
 * per-thread array, and the loss and the gradient come from that copy. The row machinery
 * (threads, chunks, scratch, the vectorizable exp/sum/max) is {@link SoftmaxRows}'s.
 */
public final class JavaSoftmaxCrossEntropy extends SoftmaxRows {
    private final FloatBuffer classWeights;
    private final double smoothing;
    private final double weightSum;
    /** Soft targets: n rows of c, contiguous; null for class indices. */
    private final FloatBuffer targetProbs;
    /** The class-distance weighted form: row i weighs (|argmax - y| + 1) / M_y, not w[y]. */
    private final boolean distanceWeighted;

    private JavaSoftmaxCrossEntropy(FloatBuffer logits, long logitsStride, IntBuffer targets, FloatBuffer targetProbs,
                                    int n, int c, FloatBuffer classWeights, long ignoreIndex, double smoothing,
                                    double weightSum, boolean distanceWeighted, boolean perRow,
                                    FloatBuffer gradOutput, FloatBuffer loss, FloatBuffer gradLogits,
                                    long gradStride) {
        super(logits, logitsStride, targets, n, c, ignoreIndex, perRow, gradOutput, loss, gradLogits, gradStride);
        this.classWeights = classWeights;
        this.smoothing = smoothing;
        this.weightSum = weightSum;
        this.targetProbs = targetProbs;
        this.distanceWeighted = distanceWeighted;
    }

    /**
     * Softmax cross-entropy, forward and/or backward in one pass per row.
     * All buffers are read/written with absolute indices starting at 0 (callers pass slices); their positions and limits are not changed.
     * Arguments are already validated by the caller (sizes, lengths, finite options); do not re-validate except targets.
     * @param logits       n rows, row i at [i*logitsStride, i*logitsStride + c)
     * @param targets      n class indices
     * @param classWeights c weights, or null (all 1)
     * @param ignoreIndex  rows whose target equals it count for nothing (loss 0, gradient 0, weight 0 in the mean); NO_IGNORE_INDEX for none
     * @param labelSmoothing e in [0,1]
     * @param gradOutput   upstream gradient: null means 1; n values when reduction is NONE, else 1 value
     * @param loss         output or null (no forward): n values for NONE, else 1 value
     * @param gradLogits   output or null (no backward): row i at [i*gradStride, i*gradStride + c)
     * @param threads      1 = run in the caller's thread; >1 = split rows over that many workers
     * @return -1 if every target was valid, else the smallest row index whose target is outside [0,c) and not ignoreIndex; such rows are skipped exactly like ignored rows (never an out-of-bounds access) and the computation still completes
     */
    public static long run(FloatBuffer logits, long logitsStride, IntBuffer targets, int n, int c,
                           FloatBuffer classWeights, long ignoreIndex, float labelSmoothing,
                           Reduction reduction, FloatBuffer gradOutput,
                           FloatBuffer loss, FloatBuffer gradLogits, long gradStride, int threads) {
        double weightSum = c;
        if (classWeights != null) {
            weightSum = 0;
            for (int j = 0; j < c; j++) {
                weightSum += classWeights.get(j);
            }
        }
        return new JavaSoftmaxCrossEntropy(logits, logitsStride, targets, null, n, c, classWeights, ignoreIndex,
                labelSmoothing, weightSum, false, reduction == Reduction.NONE, gradOutput, loss, gradLogits,
                gradStride).run(reduction, classWeights, threads);
    }

    /**
     * The class-distance weighted cross-entropy, for ordinal labels: row i's loss is
     * w_i (-log p_y) with w_i = (|argmax_j x_ij - y| + 1) / M_y, M_y = sum_k (|y - k| + 1), the
     * argmax torch.argmax's (the first index of the largest logit); w_i is held constant in the
     * gradient, w_i (p_j - [j == y]). No ignore index; the mean divides by the rows. Buffers and
     * the return value as {@link #run}.
     */
    public static long runDistanceWeighted(FloatBuffer logits, long logitsStride, IntBuffer targets, int n, int c,
                                           Reduction reduction, FloatBuffer gradOutput, FloatBuffer loss,
                                           FloatBuffer gradLogits, long gradStride, int threads) {
        return new JavaSoftmaxCrossEntropy(logits, logitsStride, targets, null, n, c, null, NO_IGNORE_INDEX, 0, c,
                true, reduction == Reduction.NONE, gradOutput, loss, gradLogits, gradStride)
                .run(reduction, null, threads);
    }

    /**
     * (|a - y| + 1) / M_y, M_y = c + y (y + 1) / 2 + (c - 1 - y) (c - y) / 2 in double, as the
     * kernel's (interclass_distance.cu), rounded to a float as the kernel's weight is.
     */
    /**
     * Logits [n, c, inner] and targets [n, inner]: each (b, k) is a row of {@link #run}
     * ({@link SoftmaxRows#spatial}).
     */
    public static long runSpatial(FloatBuffer logits, IntBuffer targets, int n, int c, int inner,
                                  FloatBuffer classWeights, long ignoreIndex, float labelSmoothing,
                                  Reduction reduction, FloatBuffer gradOutput, FloatBuffer loss,
                                  FloatBuffer gradLogits, int threads) {
        return spatial(logits, n, c, inner, gradLogits, (rows, grad) -> run(rows, c, targets, n * inner, c,
                classWeights, ignoreIndex, labelSmoothing, reduction, gradOutput, loss, grad, c, threads));
    }

    static float distanceWeight(int argmax, int y, int c) {
        double m = c + 0.5 * ((double) y * (y + 1.0) + (c - 1.0 - y) * ((double) c - y));
        return (float) ((Math.abs((long) argmax - y) + 1.0) / m);
    }

    /**
     * Softmax cross-entropy with soft targets ({@code F.cross_entropy} with class probabilities):
     * row i's loss is -sum_j a_j log p_j with a_j = w_j ((1 - e) t_ij + e / c), its gradient
     * p_j sum(a) - a_j; every row counts and the mean divides by n. Buffers as {@link #run};
     * {@code targetProbs} is n rows of c, contiguous, any real values.
     */
    public static void runProbs(FloatBuffer logits, long logitsStride, FloatBuffer targetProbs, int n, int c,
                                FloatBuffer classWeights, float labelSmoothing, Reduction reduction,
                                FloatBuffer gradOutput, FloatBuffer loss, FloatBuffer gradLogits, long gradStride,
                                int threads) {
        new JavaSoftmaxCrossEntropy(logits, logitsStride, null, targetProbs, n, c, classWeights, NO_IGNORE_INDEX,
                labelSmoothing, 0, false, reduction == Reduction.NONE, gradOutput, loss, gradLogits, gradStride)
                .run(reduction, null, threads);
    }

    /**
     * Soft targets over logits [n, c, inner]: targetProbs in the same layout, each (b, k) a row of
     * {@link #runProbs} ({@link SoftmaxRows#spatial}); the mean divides by n * inner.
     */
    public static void runProbsSpatial(FloatBuffer logits, FloatBuffer targetProbs, int n, int c, int inner,
                                       FloatBuffer classWeights, float labelSmoothing, Reduction reduction,
                                       FloatBuffer gradOutput, FloatBuffer loss, FloatBuffer gradLogits, int threads) {
        FloatBuffer probs = FloatBuffer.wrap(toRows(targetProbs, n, c, inner));
        spatial(logits, n, c, inner, gradLogits, (rows, grad) -> {
            runProbs(rows, c, probs, n * inner, c, classWeights, labelSmoothing, reduction, gradOutput, loss, grad, c,
                    threads);
            return -1;
        });
    }

    /** This call's class weights (all 1 without weights) into the thread's scratch. */
    @Override
    void prepare(Scratch s) {
        if (classWeights == null) {
            Arrays.fill(s.w, 0, c, 1f);
        } else {
            classWeights.get(0, s.w, 0, c);
        }
        if (smoothing != 0 || targetProbs != null) {
            s.doubles(c);
        }
    }

    @Override
    double row(int i, int y, Scratch s) {
        if (targetProbs != null) {
            return softRow(i, s);
        }
        float[] x = s.x;
        float[] w = s.w;
        logits.get((int) (i * logitsStride), x, 0, c);
        float max = max(x, c, s.a, s.b);
        double shiftedY = (double) x[y] - max;
        double wy = distanceWeighted ? distanceWeight(JavaZeroOne.firstPlace(x, c, max), y, c) : w[y];
        double e = smoothing;
        double t = 0;
        if (e != 0) {
            // t = sum_j w_j (max - x_j), terms >= 0, in double: a masked class (-FLT_MAX) times a
            // weight above 1, or two of them added, overflow a float.
            double[] d = s.da;
            for (int j = 0; j < c; j++) {
                d[j] = (double) w[j] * ((double) max - x[j]);
            }
            t = sum(d, c, d, s.db);
        }
        float expY = expWithoutTarget(x, c, max, y, s.a);
        double others = sum(x, c, s.a, s.b);
        double sumExp = others + expY;
        double logSum = Math.log(sumExp);
        // -log p_y = log(1 + others / e_y) when the target leads: log S of a sum near 1 would lose
        // the digits of a small loss. Otherwise log S >= 0 (the max is in S) and -shiftedY > 0.
        double nll = expY >= 0.5f ? Math.log1p(others / expY) : logSum - shiftedY;
        // sum_j w_j (-log p_j) = t + W log S: two terms >= 0.
        double rowLoss = (1 - e) * wy * nll;
        if (e != 0) {
            rowLoss += e / c * (t + weightSum * logSum);
        }
        if (perRow && loss != null) {
            loss.put(i, (float) rowLoss);
        }
        if (gradLogits != null && infiniteUpstream(i)) {
            storeNaNGradient(i, x);
        } else if (gradLogits != null) {
            double g = upstream(i);
            // grad_j = g [A p_j - B w_j] - [j == y] g (1-e) w_y, with A = (1-e) w_y + e W / c, B = e / c.
            double coefP = g * ((1 - e) * wy + e * weightSum / c);
            double coefW = g * e / c;
            float scaleP = (float) (coefP / sumExp);
            float scaleW = (float) coefW;
            if (e == 0) {
                for (int j = 0; j < c; j++) {
                    x[j] *= scaleP;
                }
            } else {
                for (int j = 0; j < c; j++) {
                    x[j] = scaleP * x[j] - scaleW * w[j];
                }
            }
            // The target's entry from q = 1 - p_y = others / S, which keeps its digits where p_y
            // rounds to 1: -(1-e) w_y q + e/C ((W - w_y) - W q).
            double q = others / sumExp;
            x[y] = (float) (g * (-(1 - e) * wy * q + e / c * ((weightSum - wy) - weightSum * q)));
            gradLogits.put((int) (i * gradStride), x, 0, c);
        }
        return rowLoss;
    }

    /**
     * A row with soft targets (see {@link #runProbs}). Every step is a branch-free float loop over
     * the scratch arrays, or a halving sum, so that C2 vectorizes it (a loop that mixes float and
     * double does not); only the sum of a_j (max - x_j) is redone in double when its float terms
     * overflow (a masked class at -FLT_MAX under a positive max).
     */
    private double softRow(int i, Scratch s) {
        float[] x = s.x;
        float[] w = s.w;
        logits.get((int) (i * logitsStride), x, 0, c);
        float max = max(x, c, s.a, s.b);
        float[] a = s.b;
        targetProbs.get(i * c, a, 0, c);
        float keep = (float) (1 - smoothing);
        float spread = (float) (smoothing / c);
        for (int j = 0; j < c; j++) {
            a[j] = w[j] * (keep * a[j] + spread);
        }
        double total = sum(a, c, s.e, s.f);
        // The loss is sum_j a_j (max - x_j) + A log S. A -inf logit with a_j = 0 gives 0 * inf =
        // NaN, as PyTorch's 0 * log 0.
        float[] terms = s.e;
        for (int j = 0; j < c; j++) {
            terms[j] = a[j] * (max - x[j]);
        }
        double shifted = sum(terms, c, terms, s.f);
        if (!Double.isFinite(shifted)) {
            double[] wide = s.da;
            for (int j = 0; j < c; j++) {
                wide[j] = (double) a[j] * ((double) max - x[j]);
            }
            shifted = sum(wide, c, wide, s.db);
        }
        exp(x, c, max, s.a);
        double sumExp = sum(x, c, s.a, s.e);
        double rowLoss = shifted + total * Math.log(sumExp);
        if (perRow && loss != null) {
            loss.put(i, (float) rowLoss);
        }
        if (gradLogits != null && infiniteUpstream(i)) {
            storeNaNGradient(i, x);
        } else if (gradLogits != null) {
            // g (p_j A - a_j); where p_j A and a_j are the same float (one class, or a certain
            // one-hot row) the gradient is exactly 0, as the kernel's.
            float scale = (float) (total / sumExp);
            float g = (float) upstream(i);
            for (int j = 0; j < c; j++) {
                x[j] = g * (scale * x[j] - a[j]);
            }
            gradLogits.put((int) (i * gradStride), x, 0, c);
        }
        return rowLoss;
    }
}
