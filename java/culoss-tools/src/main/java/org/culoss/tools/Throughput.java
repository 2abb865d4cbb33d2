package org.culoss.tools;

import java.util.Arrays;
import java.util.Random;
import org.culoss.Backend;
import org.culoss.SoftmaxCrossEntropy;

/**
 * One line of throughput after a verify run: fused softmax cross-entropy on a fixed shape, the
 * median of a few timed calls after warm-up, and the bytes that must move (logits read once,
 * gradient written once) over that time. A first impression, not a benchmark.
 */
final class Throughput {
    private Throughput() {}

    static String line(Backend backend) {
        // The emulated backend runs one OS thread per CUDA thread: a smaller shape keeps it short.
        boolean emulated = backend.name().equals("emulated");
        int n = emulated ? 256 : 4096;
        int c = 1000;
        Random rnd = new Random(1);
        float[] logits = new float[n * c];
        for (int i = 0; i < logits.length; i++) logits[i] = (float) rnd.nextGaussian();
        int[] targets = rnd.ints(n, 0, c).toArray();
        long[] nanos = new long[emulated ? 3 : 15];
        try (SoftmaxCrossEntropy ce = SoftmaxCrossEntropy.builder().backend(backend).build()) {
            for (int i = 0; i < (emulated ? 1 : 30); i++) ce.forwardBackward(logits, targets, n, c);  // JIT warm-up
            for (int i = 0; i < nanos.length; i++) {
                long t0 = System.nanoTime();
                ce.forwardBackward(logits, targets, n, c);
                nanos[i] = System.nanoTime() - t0;
            }
        }
        Arrays.sort(nanos);
        double ms = nanos[nanos.length / 2] / 1e6;
        double gbps = 2.0 * n * c * Float.BYTES / (ms * 1e6);
        return String.format("throughput: softmax cross-entropy forward+backward %dx%d on %s: %.3g ms (%.3g GB/s, "
                + "median of %d, float[] API)", n, c, backend.name(), ms, gbps, nanos.length);
    }
}
