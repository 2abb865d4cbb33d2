package org.culoss.tools.bench;

import java.util.Arrays;
import org.culoss.Declarations.Workload;

/**
 * Wall-clock timing of a workload: warm-up for a while (the JIT, the caches, the GPU clocks),
 * then {@code runs} timed calls, each ending in a synchronisation so that queued GPU work counts.
 */
public final class Timing {
    private final double[] millis;

    private Timing(double[] millis) {
        this.millis = millis;
    }

    public static Timing of(Workload w, long warmupMillis, int runs) {
        long end = System.nanoTime() + warmupMillis * 1_000_000L;
        do {
            w.run();
            w.synchronize();
        } while (System.nanoTime() < end);
        double[] ms = new double[runs];
        for (int i = 0; i < runs; i++) {
            long t0 = System.nanoTime();
            w.run();
            w.synchronize();
            ms[i] = (System.nanoTime() - t0) / 1e6;
        }
        Arrays.sort(ms);
        return new Timing(ms);
    }

    public double medianMillis() {
        int n = millis.length;
        return n % 2 == 1 ? millis[n / 2] : (millis[n / 2 - 1] + millis[n / 2]) / 2;
    }

    public double minMillis() {
        return millis[0];
    }

    public int runs() {
        return millis.length;
    }

    /** GB/s (1e9 bytes per second) for {@code bytes} moved per call at the median time. */
    public double gigabytesPerSecond(long bytes) {
        return bytes / (medianMillis() * 1e6);
    }
}
