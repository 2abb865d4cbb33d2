package org.culoss.internal;

import java.nio.FloatBuffer;
import org.culoss.Reduction;

/**
 * The driver every elementwise Java kernel shares: it walks a flat index in chunks of
 * {@link #CHUNK} elements, copies each chunk of the input and the target into per-thread arrays,
 * lets the loss compute its per-element values there, and does the rest itself: storing or summing
 * the loss, scaling the gradient by the upstream gradient and storing it. Chunk boundaries depend
 * on the count alone and chunk sums are added in chunk order ({@link Chunked}), so a reduced loss
 * is the same bits for any thread count. A chunk's sum does not overflow where the double sum fits
 * ({@link SoftmaxRows#sumWithoutOverflow}).
 *
 * <p>A loss supplies one {@link Kernel}: branch-free loops over plain arrays, which C2 vectorizes;
 * the driver's one virtual call per chunk costs nothing beside 4096 elements of work.
 */
public final class ElementwiseChunks {
    /** Elements per chunk: the per-thread arrays stay in the L2 cache. */
    public static final int CHUNK = 4096;

    private static final ThreadLocal<Chunk> SCRATCH = ThreadLocal.withInitial(Chunk::new);

    private ElementwiseChunks() {}

    /** One loss's per-element arithmetic over a chunk. */
    public interface Kernel {
        /**
         * Reads {@code c.x} and {@code c.t} (which it may overwrite) for {@code n} elements and
         * writes the per-element loss into {@code c.loss} when {@code loss} is set and the gradient
         * with respect to x, before the upstream gradient, into {@code c.grad} when {@code grad} is set.
         */
        void compute(Chunk c, int n, boolean loss, boolean grad);
    }

    /** A thread's arrays for one chunk: x and t as read, the two outputs, and spares for the kernel. */
    public static final class Chunk {
        /** The flat index of the chunk's first element (a per-class table is read by index). */
        public int base;
        public final float[] x = new float[CHUNK];
        public final float[] t = new float[CHUNK];
        public final float[] loss = new float[CHUNK];
        public final float[] grad = new float[CHUNK];
        private final float[][] spare = new float[6][];
        final float[] upper = new float[CHUNK];
        final float[] weight = new float[CHUNK];
        final float[] acc = new float[CHUNK];
        final double[] wide = new double[CHUNK];
        final double[] wideUpper = new double[CHUNK];

        /** Spare array {@code i} (0 to 5) for a kernel's intermediate terms, made on first use. */
        public float[] spare(int i) {
            float[] a = spare[i];
            return a != null ? a : (spare[i] = new float[CHUNK]);
        }
    }

    /**
     * Forward and/or backward of {@code kernel} over {@code count} elements. Buffers are read and
     * written with absolute indices from 0 (callers pass slices); arguments are already checked.
     *
     * @param gradOutput upstream gradient: null means 1; count values for NONE, else 1 value
     * @param loss       output or null (no forward): count values for NONE, else 1 value
     * @param grad       output or null (no backward): count values
     * @param threads    1 = the caller's thread; more = split the chunks over that many workers
     */
    public static void run(Kernel kernel, FloatBuffer x, FloatBuffer t, int count, Reduction reduction,
                           FloatBuffer gradOutput, FloatBuffer loss, FloatBuffer grad, int threads) {
        run(kernel, x, t, null, count, reduction, gradOutput, loss, grad, threads);
    }

    /**
     * The same with a per-element {@code weight} (null: none) multiplying each element's loss and
     * gradient, as PyTorch's {@code weight} tensors do; a {@code MEAN} still divides by the count.
     */
    public static void run(Kernel kernel, FloatBuffer x, FloatBuffer t, FloatBuffer weight, int count,
                           Reduction reduction, FloatBuffer gradOutput, FloatBuffer loss, FloatBuffer grad,
                           int threads) {
        boolean perElement = reduction == Reduction.NONE;
        double upstream = perElement || gradOutput == null ? 1 : gradOutput.get(0);
        float gradScale = (float) (reduction == Reduction.MEAN && count > 0 ? upstream / count : upstream);
        int chunks = (int) (((long) count + CHUNK - 1) / CHUNK);
        double total = Chunked.sum(chunks, threads, () -> {
            Chunk c = SCRATCH.get();
            return k -> {
                int base = k * CHUNK;
                int n = Math.min(CHUNK, count - base);
                c.base = base;
                x.get(base, c.x, 0, n);
                t.get(base, c.t, 0, n);
                kernel.compute(c, n, loss != null, grad != null);
                if (weight != null) weigh(c, weight, base, n, loss != null, grad != null);
                // The upstream gradient is read before the loss is stored: a NONE loss may be written over it.
                if (grad != null) scale(c, base, n, perElement ? gradOutput : null, perElement ? 1f : gradScale);
                double sum = 0;
                if (loss != null) {
                    if (perElement) {
                        loss.put(base, c.loss, 0, n);
                    } else {
                        sum = SoftmaxRows.sumWithoutOverflow(c.loss, n, c.acc, c.upper, c.wide, c.wideUpper);
                    }
                }
                if (grad != null) grad.put(base, c.grad, 0, n);
                return sum;
            };
        });
        if (loss != null && !perElement) {
            loss.put(0, (float) (reduction == Reduction.MEAN ? (count == 0 ? 0 : total / count) : total));
        }
    }

    /** loss and grad *= the elements' weights. */
    private static void weigh(Chunk c, FloatBuffer weight, int base, int n, boolean loss, boolean grad) {
        float[] w = c.weight;
        weight.get(base, w, 0, n);
        if (loss) {
            float[] l = c.loss;
            for (int j = 0; j < n; j++) {
                l[j] *= w[j];
            }
        }
        if (grad) {
            float[] g = c.grad;
            for (int j = 0; j < n; j++) {
                g[j] *= w[j];
            }
        }
    }

    /** grad *= the upstream gradient: per element from {@code upstream}, else the one {@code scale}. */
    private static void scale(Chunk c, int base, int n, FloatBuffer upstream, float scale) {
        float[] g = c.grad;
        if (upstream != null) {
            float[] up = c.upper;
            upstream.get(base, up, 0, n);
            for (int j = 0; j < n; j++) {
                g[j] *= up[j];
            }
        } else if (scale != 1f) {
            for (int j = 0; j < n; j++) {
                g[j] *= scale;
            }
        }
    }
}
