package org.culoss.internal;

import java.nio.FloatBuffer;
import org.culoss.Reduction;

/**
 * Smooth L1 and Huber losses on the CPU, forward and backward fused, over a flat index in chunks
 * of {@link #CHUNK} elements (boundaries fixed by the count alone; chunk sums added in chunk
 * order, so the reduced loss is the same bits for any thread count).
 *
 * <p>Each chunk is copied into per-thread arrays and computed by branch-free loops that C2
 * vectorizes: the {@code |d| < beta} choice becomes {@code zc = min(|d|, beta)}, so
 * <pre>
 *   smooth L1: 0.5 zc (zc / beta) + (|d| - zc)    gradient clamp(d / beta, -1, 1)
 *   Huber:     0.5 zc zc + delta (|d| - zc)       gradient clamp(d, -delta, delta)
 * </pre>
 * which is within an ulp of PyTorch's expression (Huber: bit for bit where {@code |d| < delta}),
 * and PyTorch's gradient exactly at {@code |d| == beta} (the linear branch). Smooth L1 divides
 * before it multiplies because PyTorch's 0.5 z z / beta overflows for z above 1.8e19 while the
 * loss fits (beta = 1e30). beta = 0 is the L1 loss with gradient sign(d), sign(0) = 0. A chunk's
 * sum does not overflow where the double sum fits ({@link SoftmaxRows#sumWithoutOverflow}).
 */
public final class JavaSmoothL1 {
    /** Elements per chunk: the per-thread arrays stay in the L2 cache. */
    static final int CHUNK = 4096;
    /** d * BIG * BIG is +-inf or 0 for every float d, so clamping it to [-1, 1] gives sign(d). */
    private static final float BIG = 0x1p100f;

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private JavaSmoothL1() {}

    /**
     * Smooth L1 ({@code huber = false}, option = beta >= 0) or Huber ({@code huber = true}, option
     * = delta > 0), forward and/or backward. Buffers are read and written with absolute indices
     * from 0 (callers pass slices); arguments are already checked.
     *
     * @param gradOutput upstream gradient: null means 1; count values for NONE, else 1 value
     * @param loss       output or null (no forward): count values for NONE, else 1 value
     * @param gradInput  output or null (no backward): count values
     * @param threads    1 = the caller's thread; more = split the chunks over that many workers
     */
    public static void run(boolean huber, FloatBuffer input, FloatBuffer target, int count, float option,
                           Reduction reduction, FloatBuffer gradOutput, FloatBuffer loss, FloatBuffer gradInput,
                           int threads) {
        boolean perElement = reduction == Reduction.NONE;
        double upstream = perElement || gradOutput == null ? 1 : gradOutput.get(0);
        float gradScale = (float) (reduction == Reduction.MEAN && count > 0 ? upstream / count : upstream);
        int chunks = (int) (((long) count + CHUNK - 1) / CHUNK);
        double total = Chunked.sum(chunks, threads, () -> {
            Scratch s = SCRATCH.get();
            return k -> chunk(k, s, huber, input, target, count, option, perElement, gradOutput, gradScale, loss,
                    gradInput);
        });
        if (loss != null && !perElement) {
            loss.put(0, (float) (reduction == Reduction.MEAN ? (count == 0 ? 0 : total / count) : total));
        }
    }

    private static double chunk(int k, Scratch s, boolean huber, FloatBuffer input, FloatBuffer target, int count,
                                float option, boolean perElement, FloatBuffer gradOutput, float gradScale,
                                FloatBuffer loss, FloatBuffer gradInput) {
        int base = k * CHUNK;
        int n = Math.min(CHUNK, count - base);
        float[] d = s.d;
        float[] out = s.out;
        input.get(base, d, 0, n);
        target.get(base, out, 0, n);
        for (int j = 0; j < n; j++) {
            d[j] = d[j] - out[j];
        }
        double sum = 0;
        if (loss != null) {
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
            if (perElement) {
                loss.put(base, out, 0, n);
            } else {
                sum = SoftmaxRows.sumWithoutOverflow(out, n, s.acc, s.upper, s.wide, s.wideUpper);
            }
        }
        if (gradInput != null) {
            if (huber) {
                float delta = option;
                for (int j = 0; j < n; j++) {
                    out[j] = Math.max(-delta, Math.min(delta, d[j]));
                }
            } else if (option == 0f) {
                for (int j = 0; j < n; j++) {
                    out[j] = Math.max(-1f, Math.min(1f, d[j] * BIG * BIG));
                }
            } else {
                float beta = option;
                for (int j = 0; j < n; j++) {
                    out[j] = Math.max(-1f, Math.min(1f, d[j] / beta));
                }
            }
            if (perElement && gradOutput != null) {
                float[] up = s.upper;
                gradOutput.get(base, up, 0, n);
                for (int j = 0; j < n; j++) {
                    out[j] *= up[j];
                }
            } else if (!perElement) {
                for (int j = 0; j < n; j++) {
                    out[j] *= gradScale;
                }
            }
            gradInput.put(base, out, 0, n);
        }
        return sum;
    }

    private static final class Scratch {
        final float[] d = new float[CHUNK];
        final float[] out = new float[CHUNK];
        final float[] upper = new float[CHUNK];
        final float[] acc = new float[CHUNK];
        final double[] wide = new double[CHUNK];
        final double[] wideUpper = new double[CHUNK];
    }
}
