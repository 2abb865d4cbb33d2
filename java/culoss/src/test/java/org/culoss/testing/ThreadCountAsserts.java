package org.culoss.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.function.IntFunction;

/**
 * The Java kernels split rows across worker threads but promise the same bits for any thread
 * count (each reduction is summed in a fixed order). The tests check that the same way for every
 * loss: run with each count, compare every output with the first count's.
 */
public final class ThreadCountAsserts {
    private ThreadCountAsserts() {}

    /**
     * {@code outputs} runs the kernel with a thread count and returns everything it wrote (an entry
     * may be null where an output was not asked); the first of {@code threadCounts} is the baseline.
     */
    public static void assertSameBitsForThreadCounts(IntFunction<float[][]> outputs, String what, int... threadCounts) {
        float[][] baseline = outputs.apply(threadCounts[0]);
        for (int t = 1; t < threadCounts.length; t++) {
            float[][] other = outputs.apply(threadCounts[t]);
            for (int o = 0; o < baseline.length; o++) {
                assertArrayEquals(baseline[o], other[o],
                        what + ": output " + o + ", " + threadCounts[t] + " threads against " + threadCounts[0]);
            }
        }
    }
}
