package org.culoss.internal;

import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import org.culoss.Reduction;

/**
 * Center loss (Wen et al., ECCV 2016) on the CPU: the loss with its feature gradient, the center
 * gradient, and the center update, all deterministic for any thread count.
 *
 * <p>The loss pass runs over chunks of rows (boundaries from n and d alone, chunk sums added in
 * chunk order, as {@link Chunked} does). Each row and its center are copied into per-thread
 * arrays once, and the difference, its square and the gradient come from branch-free loops C2
 * vectorizes.
 *
 * <p>The per-class sums (the center gradient and the update) first sort the row indices by label
 * with a stable counting sort (integer work, O(n + C)). Each (class, column) sum is then added in
 * sorted order, that is in row order, inside one task: the tasks are (group of classes, block of
 * columns), and however they are split or scheduled every sum sees the same additions in the same
 * order, so the result is the same bits for every thread count. A class's samples are summed with
 * one vectorizable loop per sample over a block of columns.
 */
public final class JavaCenterLoss {
    /** Elements (rows x d) per chunk of the loss pass, and samples x columns per task of the class sums. */
    private static final int CHUNK_ELEMENTS = 1 << 14;
    /** Columns per task of the class sums: wide enough for the loops to vectorize, narrow enough to split large d. */
    private static final int COLUMN_BLOCK = 256;

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private JavaCenterLoss() {}

    /**
     * The loss, the feature gradient and the center gradient (each optional). Buffers are read and
     * written with absolute indices from 0 (callers pass slices); arguments are already checked,
     * except the labels.
     *
     * @param features     n rows of d
     * @param labels       n class indices; one outside [0, c) makes its row count for nothing
     * @param centers      c rows of d
     * @param gradOutput   upstream gradient: null means 1; n values for NONE, else 1 value
     * @param loss         output or null: n values for NONE, else 1 value (MEAN divides by n)
     * @param gradFeatures output or null: n rows of d, lambda (x_i - c_{y_i}) g_i (/ n for MEAN)
     * @param gradCenters  output or null: c rows of d, -lambda sum_{y_i = j} (x_i - c_j) g_i (/ n for MEAN);
     *                     rows of classes without samples are 0
     * @param threads      1 = the caller's thread; more = split the work over that many workers
     * @return -1 if every label is in [0, c), else the first row whose label is not
     */
    public static long run(FloatBuffer features, IntBuffer labels, FloatBuffer centers, int n, int d, int c,
                           float lambda, Reduction reduction, FloatBuffer gradOutput, FloatBuffer loss,
                           FloatBuffer gradFeatures, FloatBuffer gradCenters, int threads) {
        long firstBad = firstBad(labels, n, c);
        boolean perRow = reduction == Reduction.NONE;
        double scale = reduction == Reduction.MEAN && n > 0 ? 1.0 / n : 1.0;
        double upstream = perRow || gradOutput == null ? 1 : gradOutput.get(0);
        if (gradCenters != null) {
            // grad_c_j = factor * sum_{y_i = j} w_i (c_j - x_i), w_i the row's upstream gradient for NONE.
            float factor = (float) (lambda * scale * upstream);
            classSums(features, labels, centers, n, d, c, perRow ? gradOutput : null, factor, 0f, gradCenters,
                    threads);
        }
        if (loss == null && gradFeatures == null) {
            return firstBad;
        }
        int rowsPerChunk = Math.max(1, CHUNK_ELEMENTS / d);
        int chunks = (int) (((long) n + rowsPerChunk - 1) / rowsPerChunk);
        double half = 0.5 * lambda;
        double total = Chunked.sum(chunks, threads, () -> {
            Scratch s = SCRATCH.get().fit(d);
            return k -> {
                int end = (int) Math.min(n, (long) (k + 1) * rowsPerChunk);
                double sum = 0;
                for (int i = k * rowsPerChunk; i < end; i++) {
                    sum += row(i, s, features, labels, centers, d, c, half, lambda, scale, perRow, upstream,
                            gradOutput, loss, gradFeatures);
                }
                return sum;
            };
        });
        if (loss != null && !perRow) {
            loss.put(0, (float) (reduction == Reduction.MEAN ? (n == 0 ? 0 : total / n) : total));
        }
        return firstBad;
    }

    /**
     * The update of the paper, in place: {@code c_j -= alpha * sum_{y_i = j} (c_j - x_i) / (1 + n_j)},
     * computed as {@code (c_j (1 + n_j (1 - alpha)) + alpha sum x_i) / (1 + n_j)}: the paper's form
     * cancels about n_j-fold when the centers are far from the batch and alpha is 1. Classes
     * without samples, and rows with a label outside [0, c), change nothing.
     *
     * @return -1 if every label is in [0, c), else the first row whose label is not
     */
    public static long updateCenters(FloatBuffer features, IntBuffer labels, FloatBuffer centers, int n, int d, int c,
                                     float alpha, int threads) {
        long firstBad = firstBad(labels, n, c);
        classSums(features, labels, centers, n, d, c, null, 0f, alpha, null, threads);
        return firstBad;
    }

    private static long firstBad(IntBuffer labels, int n, int c) {
        for (int i = 0; i < n; i++) {
            int y = labels.get(i);
            if (y < 0 || y >= c) return i;
        }
        return -1;
    }

    /** Loss of row i (0 for a bad label); writes its per-row loss and its gradient. */
    private static double row(int i, Scratch s, FloatBuffer features, IntBuffer labels, FloatBuffer centers, int d,
                              int c, double half, float lambda, double scale, boolean perRow, double upstream,
                              FloatBuffer gradOutput, FloatBuffer loss, FloatBuffer gradFeatures) {
        int y = labels.get(i);
        long rowStart = (long) i * d;
        float[] x = s.x;
        if (y < 0 || y >= c) {
            if (perRow && loss != null) loss.put(i, 0f);
            if (gradFeatures != null) {
                java.util.Arrays.fill(x, 0, d, 0f);
                gradFeatures.put((int) rowStart, x, 0, d);
            }
            return 0;
        }
        float[] cy = s.c;
        features.get((int) rowStart, x, 0, d);
        centers.get((int) ((long) y * d), cy, 0, d);
        for (int j = 0; j < d; j++) {
            x[j] = x[j] - cy[j];
        }
        for (int j = 0; j < d; j++) {
            cy[j] = x[j] * x[j];
        }
        double rowLoss = half * sum(cy, d);
        if (perRow && loss != null) loss.put(i, (float) rowLoss);
        if (gradFeatures != null) {
            double g = perRow ? (gradOutput == null ? 1 : gradOutput.get(i)) : upstream;
            float coef = (float) (lambda * g * scale);
            for (int j = 0; j < d; j++) {
                x[j] *= coef;
            }
            gradFeatures.put((int) rowStart, x, 0, d);
        }
        return rowLoss;
    }

    /** Sum of v[0, len) with eight double accumulators (a fixed order: the same bits every time). */
    private static double sum(float[] v, int len) {
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
        int j = 0;
        for (; j + 8 <= len; j += 8) {
            s0 += v[j];
            s1 += v[j + 1];
            s2 += v[j + 2];
            s3 += v[j + 3];
            s4 += v[j + 4];
            s5 += v[j + 5];
            s6 += v[j + 6];
            s7 += v[j + 7];
        }
        for (; j < len; j++) {
            s0 += v[j];
        }
        return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
    }

    /**
     * The per-class sums in row order. With {@code out} non-null (the center gradient):
     * acc_j = sum_{y_i = j} w_i (c_j - x_i) and out_j = factor * acc_j, 0 for classes without
     * samples. With {@code out} null (the update): acc_j = sum_{y_i = j} x_i and
     * c_j = (c_j (1 + n_j (1 - alpha)) + alpha acc_j) / (1 + n_j) in {@code centers}.
     */
    private static void classSums(FloatBuffer features, IntBuffer labels, FloatBuffer centers, int n, int d, int c,
                                  FloatBuffer weights, float factor, float alpha, FloatBuffer out, int threads) {
        // Stable counting sort of the rows by label: start[j] .. start[j + 1] are class j's rows in order.
        int[] start = new int[c + 1];
        for (int i = 0; i < n; i++) {
            int y = labels.get(i);
            if (y >= 0 && y < c) start[y + 1]++;
        }
        for (int j = 0; j < c; j++) {
            start[j + 1] += start[j];
        }
        int[] order = new int[start[c]];
        int[] next = java.util.Arrays.copyOf(start, c);
        for (int i = 0; i < n; i++) {
            int y = labels.get(i);
            if (y >= 0 && y < c) order[next[y]++] = i;
        }
        // Tasks: groups of consecutive classes with about CHUNK_ELEMENTS samples x columns, times
        // blocks of columns. Only the work split depends on them, never a sum's order.
        int width = Math.min(d, COLUMN_BLOCK);
        int columnBlocks = (d + width - 1) / width;
        long perGroup = Math.max(1, CHUNK_ELEMENTS / width);
        int[] groupStart = new int[c + 1];
        int groups = 0;
        long inGroup = 0;
        for (int j = 0; j < c; j++) {
            if (j == 0 || inGroup >= perGroup) {
                groupStart[groups++] = j;
                inGroup = 0;
            }
            inGroup += 1 + start[j + 1] - start[j];  // an empty class still costs its row
        }
        groupStart[groups] = c;
        int tasks = groups * columnBlocks;
        int finalGroups = groups;
        Chunked.sum(tasks, threads, () -> {
            Scratch s = SCRATCH.get().fit(width);
            return k -> {
                int group = k % finalGroups;
                int block = k / finalGroups;
                int col0 = block * width;
                int cols = Math.min(width, d - col0);
                for (int j = groupStart[group]; j < groupStart[group + 1]; j++) {
                    classBlock(s, j, col0, cols, start, order, features, centers, d, weights, factor, alpha, out);
                }
                return 0;
            };
        });
    }

    private static void classBlock(Scratch s, int j, int col0, int cols, int[] start, int[] order,
                                   FloatBuffer features, FloatBuffer centers, int d, FloatBuffer weights, float factor,
                                   float alpha, FloatBuffer out) {
        float[] acc = s.acc;
        float[] cj = s.c;
        float[] x = s.x;
        int centerAt = (int) ((long) j * d + col0);
        int count = start[j + 1] - start[j];
        if (count == 0) {
            if (out != null) {
                java.util.Arrays.fill(acc, 0, cols, 0f);
                out.put(centerAt, acc, 0, cols);
            }
            return;
        }
        centers.get(centerAt, cj, 0, cols);
        java.util.Arrays.fill(acc, 0, cols, 0f);
        for (int p = start[j]; p < start[j + 1]; p++) {
            int i = order[p];
            features.get((int) ((long) i * d + col0), x, 0, cols);
            if (out == null) {
                for (int e = 0; e < cols; e++) {
                    acc[e] += x[e];
                }
            } else if (weights == null) {
                for (int e = 0; e < cols; e++) {
                    acc[e] += cj[e] - x[e];
                }
            } else {
                float w = weights.get(i);
                for (int e = 0; e < cols; e++) {
                    acc[e] += w * (cj[e] - x[e]);
                }
            }
        }
        if (out != null) {
            for (int e = 0; e < cols; e++) {
                acc[e] *= factor;
            }
            out.put(centerAt, acc, 0, cols);
        } else {
            double keep = 1 + count * (1 - (double) alpha);
            double denom = 1 + count;
            for (int e = 0; e < cols; e++) {
                acc[e] = (float) ((cj[e] * keep + alpha * (double) acc[e]) / denom);
            }
            centers.put(centerAt, acc, 0, cols);
        }
    }

    /** Per-thread arrays, grown to the largest row seen. */
    private static final class Scratch {
        float[] x = new float[0];
        float[] c = x;
        float[] acc = x;

        Scratch fit(int len) {
            if (x.length < len) {
                x = new float[len];
                c = new float[len];
                acc = new float[len];
            }
            return this;
        }
    }
}
