package org.culoss.internal;

import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.util.Arrays;
import org.culoss.Reduction;

/**
 * The row machinery of the pure-Java softmax losses ({@link JavaSoftmaxCrossEntropy},
 * {@link JavaSoftmaxFocal}), which {@link JavaMulticlassHinge} shares: one call's arguments, the look at the targets that finds the mean's
 * divisor and the first bad row, the split of the rows into chunks (run by {@link Chunked}'s
 * workers, with deterministic chunk sums), the per-thread scratch arrays, and the vectorizable
 * exp, sum and max a row is computed with. A loss supplies {@link #row}: one counted row's loss
 * and gradient.
 *
 * <p>Java 17 has no vector API without flags, so the speed comes from C2's auto-vectorizer, which
 * only handles small, branch-free counted loops over arrays. Hence the shape of the code: exp is a
 * float polynomial (Math.exp is a scalar call), its 2^k factor is built with float arithmetic
 * (Float.intBitsToFloat does not vectorize), and sums and maxima are taken by halving the array
 * (a running accumulator does not vectorize either).
 *
 * <p>The target's exponential is kept out of the row sum ({@link #expWithoutTarget}): a float sum
 * that holds a 1 loses the tiny terms of a confident row, whose loss is log(1 + tiny).
 */
abstract class SoftmaxRows {
    /** Marks "no ignore_index": targets are int32, so no target equals it. */
    public static final long NO_IGNORE_INDEX = Long.MIN_VALUE;

    /**
     * Logit elements per chunk of rows. The chunking depends on c alone, and chunk sums are added
     * in chunk order, so the reduced loss is the same bits whatever the thread count.
     */
    private static final int CHUNK_ELEMENTS = 1 << 14;
    /**
     * Rows shorter than this take Math.exp. C2 sizes a loop's unrolling, and so its vectors, by the
     * trip counts profiled before it compiles: had the vector loops below run first on a few
     * classes (a test suite, a warm-up), they would stay narrow for every later large C (measured:
     * 7x slower for C = 1000 after C = 3). Rows this short gain little from vectors anyway.
     */
    private static final int VECTOR_EXP_MIN = 64;
    /** Halving stops at this many partial sums, which are then added in double. */
    private static final int HALVING_STOP = 64;

    private static final float LOG2E = 1.44269504f;
    /** ln 2 in two parts; k * LN2_HI is exact for the k that occur, so r = d - k ln 2 keeps its bits. */
    private static final float LN2_HI = 0.693359375f;
    private static final float LN2_LO = -2.12194440e-4f;
    /** (v + ROUND) - ROUND rounds v to an integer, for |v| < 2^22. */
    private static final float ROUND = 0x1.8p23f;

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    final FloatBuffer logits;
    final long logitsStride;
    /** One class index per row, or null: soft targets (the loss reads its own), every row counts. */
    final IntBuffer targets;
    final int n;
    final int c;
    final long ignoreIndex;
    /** Reduction NONE: per-row losses and per-row upstream gradients. */
    final boolean perRow;
    final FloatBuffer gradOutput;
    final FloatBuffer loss;
    final FloatBuffer gradLogits;
    final long gradStride;
    final int rowsPerChunk;
    final int chunks;
    /** SUM/MEAN: the upstream gradient over the divisor (MEAN), the same for every row; set by {@link #run}. */
    double gradScale;

    /** Arguments as {@link JavaSoftmaxCrossEntropy#run} documents them. */
    SoftmaxRows(FloatBuffer logits, long logitsStride, IntBuffer targets, int n, int c, long ignoreIndex,
                boolean perRow, FloatBuffer gradOutput, FloatBuffer loss, FloatBuffer gradLogits, long gradStride) {
        this.logits = logits;
        this.logitsStride = logitsStride;
        this.targets = targets;
        this.n = n;
        this.c = c;
        this.ignoreIndex = ignoreIndex;
        this.perRow = perRow;
        this.gradOutput = gradOutput;
        this.loss = loss;
        this.gradLogits = gradLogits;
        this.gradStride = gradStride;
        this.rowsPerChunk = Math.max(1, CHUNK_ELEMENTS / Math.max(1, c));
        this.chunks = n == 0 ? 0 : (n - 1) / rowsPerChunk + 1;
    }

    /** A row kernel over gathered rows [rows, c] (contiguous) and their gradient (null: none). */
    interface RowsKernel {
        long run(FloatBuffer rows, FloatBuffer gradRows);
    }

    /**
     * Logits [n, c, inner] (class j of sample b at position k at (b * c + j) * inner + k), each
     * (b, k) a row: the rows are gathered into a scratch array [n * inner, c] in the targets' order
     * (so a {@code none} loss is [n, inner]), run, and the gradient scattered back into the logits'
     * layout (so it may be written over the logits). The pure-Java backend's copy; the native
     * kernels read the layout in place.
     */
    static long spatial(FloatBuffer logits, int n, int c, int inner, FloatBuffer gradLogits, RowsKernel kernel) {
        float[] gathered = toRows(logits, n, c, inner);
        float[] grad = gradLogits == null ? null : new float[gathered.length];
        long bad = kernel.run(FloatBuffer.wrap(gathered), grad == null ? null : FloatBuffer.wrap(grad));
        if (grad != null) {
            for (int b = 0; b < n; b++) {
                for (int j = 0; j < c; j++) {
                    int to = (b * c + j) * inner;
                    for (int k = 0; k < inner; k++) gradLogits.put(to + k, grad[(b * inner + k) * c + j]);
                }
            }
        }
        return bad;
    }

    /** [n, c, inner] gathered into rows [n * inner, c], row (b, k) holding sample b's classes at position k. */
    static float[] toRows(FloatBuffer x, int n, int c, int inner) {
        int rows = Math.multiplyExact(n, inner);
        float[] gathered = new float[Math.multiplyExact(rows, c)];
        for (int b = 0; b < n; b++) {
            for (int j = 0; j < c; j++) {
                int from = (b * c + j) * inner;
                for (int k = 0; k < inner; k++) gathered[(b * inner + k) * c + j] = x.get(from + k);
            }
        }
        return gathered;
    }

    /**
     * Loss of row i, whose target y is in [0, c) and not ignored (-1 without class-index
     * targets); writes its per-row loss (when
     * {@link #perRow} and {@link #loss} is set) and its gradient (when {@link #gradLogits} is set).
     * {@code s.x} etc. are at least c long.
     */
    abstract double row(int i, int y, Scratch s);

    /** Readies a thread's scratch for this call (e.g. copies the class weights into {@code s.w}). */
    void prepare(Scratch s) {}

    /**
     * The whole call: the targets, the rows (in parallel when {@code threads > 1}), the reduced loss.
     *
     * @param divisorWeights the weights of the classes in the mean's divisor (sum of w[y] over the
     *                       counted rows), or null: the divisor is the number of counted rows
     * @return -1 if every target was valid, else the smallest row index whose target is outside
     *         [0,c) and not ignoreIndex; such rows are skipped exactly like ignored rows
     */
    final long run(Reduction reduction, FloatBuffer divisorWeights, int threads) {
        // One look at the targets up front: the mean's divisor must be known before any gradient.
        long firstBad = -1;
        double divisor = targets == null ? n : 0;
        for (int i = 0; targets != null && i < n; i++) {
            int y = targets.get(i);
            if (y == ignoreIndex) {
                continue;
            }
            if (y < 0 || y >= c) {
                if (firstBad < 0) {
                    firstBad = i;
                }
                continue;
            }
            divisor += divisorWeights == null ? 1 : divisorWeights.get(y);
        }
        double upstream = reduction == Reduction.NONE || gradOutput == null ? 1 : gradOutput.get(0);
        // All rows ignored: loss 0 and gradient 0, where PyTorch gives NaN.
        gradScale = reduction != Reduction.MEAN ? upstream : divisor == 0 ? 0 : upstream / divisor;
        double total = Chunked.sum(chunks, threads, () -> {
            Scratch s = scratch();
            return k -> chunk(k, s);
        });
        if (loss != null && reduction != Reduction.NONE) {
            double value = reduction == Reduction.SUM ? total : divisor == 0 ? 0 : total / divisor;
            loss.put(0, (float) value);
        }
        return firstBad;
    }

    /** The upstream gradient of row i. */
    final double upstream(int i) {
        return !perRow ? gradScale : gradOutput == null ? 1 : gradOutput.get(i);
    }

    /**
     * Whether row i's gradient scale (its upstream gradient, over the mean's divisor) is infinite
     * as a float. Its gradient is then NaN, as the CUDA kernel's: PyTorch's is inf - inf at most
     * entries (its log-softmax backward, g_j - p_j sum g), and no one finite form of it gives its
     * mix of NaN and inf.
     */
    final boolean infiniteUpstream(int i) {
        return Float.isInfinite((float) upstream(i));
    }

    /** Row i's gradient, all NaN (an infinite upstream gradient), stored. */
    final void storeNaNGradient(int i, float[] x) {
        Arrays.fill(x, 0, c, Float.NaN);
        gradLogits.put((int) (i * gradStride), x, 0, c);
    }

    /** This thread's scratch, sized for c and readied for this call. */
    private Scratch scratch() {
        Scratch s = SCRATCH.get().fit(c);
        prepare(s);
        return s;
    }

    private double chunk(int k, Scratch s) {
        int end = (int) Math.min(n, (long) (k + 1) * rowsPerChunk);
        double sum = 0;
        for (int i = k * rowsPerChunk; i < end; i++) {
            int y = targets == null ? -1 : targets.get(i);
            if (targets != null && (y == ignoreIndex || y < 0 || y >= c)) {
                skip(i, s);
            } else {
                sum += row(i, y, s);
            }
        }
        return sum;
    }

    /** A row that does not count: per-row loss 0, gradient 0. */
    private void skip(int i, Scratch s) {
        if (perRow && loss != null) {
            loss.put(i, 0f);
        }
        if (gradLogits != null) {
            Arrays.fill(s.x, 0, c, 0f);
            gradLogits.put((int) (i * gradStride), s.x, 0, c);
        }
    }

    /**
     * x[j] = exp(x[j] - max) for j < c, to about 1e-7 relative; 0 where x[j] - max < -87.3
     * (below the float normal range), so exp(-inf) = 0. Uses t as scratch.
     */
    static void exp(float[] x, int c, float max, float[] t) {
        if (c < VECTOR_EXP_MIN) {
            for (int j = 0; j < c; j++) {
                x[j] = (float) Math.exp(x[j] - max);
            }
            return;
        }
        // exp(d) = 2^k exp(r), k = round(d / ln 2), |r| <= ln2 / 2. The clamp keeps -inf and huge
        // negatives finite, with k >= -128.
        for (int j = 0; j < c; j++) {
            float d = Math.max(x[j] - max, -88.7f);
            float k = (d * LOG2E + ROUND) - ROUND;
            x[j] = d - k * LN2_HI - k * LN2_LO;
            t[j] = k;
        }
        // 2^k without touching bits: q ~ 2^(k/128) to 1e-4, squared 7 times (within 2% of 2^k),
        // then rounded to the nearest multiple of 2^k by adding and subtracting b, whose ulp is 2^k.
        // keep = 1 for k >= -126, else 0: smaller k would be subnormal, and those exps become 0.
        for (int j = 0; j < c; j++) {
            float k = t[j];
            float keep = ((k * 0x1p-8f + 0.994140625f) + ROUND) - ROUND;
            float z = k * keep * 0x1p-7f;
            float q = ((0.039483629f * z + 0.23079747f) * z + 0.69130641f) * z + 0.99994272f;
            q *= q;
            q *= q;
            q *= q;
            q *= q;
            q *= q;
            q *= q;
            q *= q;
            float b = q * 0x1.8p23f;
            t[j] = ((q + b) - b) * keep;
        }
        // exp(r) on [-ln2/2, ln2/2]: the Cephes expf polynomial.
        for (int j = 0; j < c; j++) {
            float r = x[j];
            float p = 1.9875691500e-4f;
            p = p * r + 1.3981999507e-3f;
            p = p * r + 8.3334519073e-3f;
            p = p * r + 4.1665795894e-2f;
            p = p * r + 1.6666665459e-1f;
            p = p * r + 5.0000001201e-1f;
            x[j] = (p * r * r + r + 1f) * t[j];
        }
    }

    /**
     * {@link #exp} of the row, then the target's exponential e^(x_y - max) is returned and x[y]
     * set to 0, so that {@link #sum} of x is the sum of the other classes alone.
     */
    static float expWithoutTarget(float[] x, int c, float max, int y, float[] t) {
        exp(x, c, max, t);
        float expY = x[y];
        x[y] = 0f;
        return expY;
    }

    /**
     * Sum of v[0, len) in pairwise order: float halving passes, then the last few partials in
     * double. The error stays near log2(len) float ulps, against len ulps for a running sum, and
     * the passes vectorize where a running sum does not. Each pass first copies the upper half to
     * {@code upper}, because C2 does not vectorize {@code v[j] + v[j + h]}, only equal indices.
     * {@code acc} receives the partial sums; it may be v when v need not survive.
     */
    static double sum(float[] v, int len, float[] acc, float[] upper) {
        float[] from = v;
        while (len > HALVING_STOP) {
            int h = len >>> 1;
            System.arraycopy(from, len - h, upper, 0, h);
            for (int j = 0; j < h; j++) {
                acc[j] = from[j] + upper[j];
            }
            acc[h] = from[h]; // the middle element when len is odd; harmless otherwise
            len -= h;
            from = acc;
        }
        double s0 = 0;
        double s1 = 0;
        int j = 0;
        for (; j + 1 < len; j += 2) {
            s0 += from[j];
            s1 += from[j + 1];
        }
        if (j < len) {
            s0 += from[j];
        }
        return s0 + s1;
    }

    /**
     * Sum of v[0, len) by halving as the float {@link #sum}, in double: for terms whose float sum
     * could overflow or cancel. {@code acc} may be v.
     */
    static double sum(double[] v, int len, double[] acc, double[] upper) {
        double[] from = v;
        while (len > HALVING_STOP) {
            int h = len >>> 1;
            System.arraycopy(from, len - h, upper, 0, h);
            for (int j = 0; j < h; j++) {
                acc[j] = from[j] + upper[j];
            }
            acc[h] = from[h];
            len -= h;
            from = acc;
        }
        double s0 = 0;
        double s1 = 0;
        int j = 0;
        for (; j + 1 < len; j += 2) {
            s0 += from[j];
            s1 += from[j + 1];
        }
        if (j < len) {
            s0 += from[j];
        }
        return s0 + s1;
    }

    /**
     * Sum of v[0, len) by the float {@link #sum} (into acc, which must not be v), and where that
     * is not finite, again in double: a float partial overflows where the double sum may still be
     * a float (a mean of losses near FLT_MAX / 64). Terms that are themselves inf or NaN give the
     * same either way. Only the overflow pays for the widening, which C2 does not vectorize.
     */
    static double sumWithoutOverflow(float[] v, int len, float[] acc, float[] upper, double[] wide,
                                     double[] wideUpper) {
        double s = sum(v, len, acc, upper);
        if (Double.isFinite(s)) {
            return s;
        }
        for (int j = 0; j < len; j++) {
            wide[j] = v[j];
        }
        return sum(wide, len, wide, wideUpper);
    }

    /** Maximum of v[0, len), by halving like {@link #sum}. */
    static float max(float[] v, int len, float[] acc, float[] upper) {
        float[] from = v;
        while (len > HALVING_STOP) {
            int h = len >>> 1;
            System.arraycopy(from, len - h, upper, 0, h);
            for (int j = 0; j < h; j++) {
                acc[j] = Math.max(from[j], upper[j]);
            }
            acc[h] = from[h];
            len -= h;
            from = acc;
        }
        float m = Float.NEGATIVE_INFINITY;
        for (int j = 0; j < len; j++) {
            m = Math.max(m, from[j]);
        }
        return m;
    }

    /**
     * Per-thread arrays, grown to the largest c seen: the row (x), class weights (w), scratch (a, b,
     * e, f), and double scratch (da, db) for the losses that ask for it ({@link #doubles}).
     */
    static final class Scratch {
        float[] x = new float[0];
        float[] w = x;
        float[] a = x;
        float[] b = x;
        float[] e = x;
        float[] f = x;
        double[] da = new double[0];
        double[] db = da;

        Scratch fit(int c) {
            if (x.length < c) {
                x = new float[c];
                w = new float[c];
                a = new float[c];
                b = new float[c];
                e = new float[c];
                f = new float[c];
            }
            return this;
        }

        Scratch doubles(int c) {
            if (da.length < c) {
                da = new double[c];
                db = new double[c];
            }
            return this;
        }
    }
}
