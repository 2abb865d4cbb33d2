package org.culoss.internal;

import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import org.culoss.Reduction;

/**
 * The 0-1 loss on the CPU: 1 where a row's argmax is not its target. The argmax is
 * torch.argmax's, as the CUDA kernel's (zero_one.cu): the first NaN, else the first index of the
 * largest score. The row machinery (threads, chunks, the mean's divisor, bad targets) is
 * {@link SoftmaxRows}'s, with no gradient.
 */
public final class JavaZeroOne extends SoftmaxRows {
    private JavaZeroOne(FloatBuffer scores, long scoresStride, IntBuffer targets, int n, int c, boolean perRow,
                        FloatBuffer loss) {
        super(scores, scoresStride, targets, n, c, NO_IGNORE_INDEX, perRow, null, loss, null, 0);
    }

    /**
     * Buffers are read and written with absolute indices from 0, as {@link JavaSoftmaxCrossEntropy#run}'s.
     *
     * @return -1 if every target was in [0, c), else the smallest row whose target is not; such
     *         rows count for nothing (loss 0, not in the mean's divisor)
     */
    public static long run(FloatBuffer scores, long scoresStride, IntBuffer targets, int n, int c,
                           Reduction reduction, FloatBuffer loss, int threads) {
        return new JavaZeroOne(scores, scoresStride, targets, n, c, reduction == Reduction.NONE, loss)
                .run(reduction, null, threads);
    }

    @Override
    double row(int i, int y, Scratch s) {
        float[] x = s.x;
        logits.get((int) (i * logitsStride), x, 0, c);
        double wrong = argmax(x, c, s) == y ? 0 : 1;
        if (perRow && loss != null) {
            loss.put(i, (float) wrong);
        }
        return wrong;
    }

    /**
     * The first NaN of x[0, c), else the first index of its largest value: the maximum by
     * {@link #max}'s vectorized halving (Math.max keeps a NaN), then a scan for its first place.
     * A branchy running argmax does not vectorize: it took 2.3x as long at 4096 x 1000, 1 thread.
     */
    static int argmax(float[] x, int c, Scratch s) {
        return firstPlace(x, c, max(x, c, s.a, s.b));
    }

    /** The argmax of x[0, c) given its maximum m ({@link #max}'s: NaN where x has a NaN). */
    static int firstPlace(float[] x, int c, float m) {
        if (m != m) {
            for (int j = 0; j < c; j++) {
                if (x[j] != x[j]) {
                    return j;
                }
            }
        }
        for (int j = 0; j < c; j++) {
            if (x[j] == m) {
                return j;
            }
        }
        return 0;  // not reached: m is one of x's values
    }
}
