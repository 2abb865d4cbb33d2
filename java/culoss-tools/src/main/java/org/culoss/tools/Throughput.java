package org.culoss.tools;

import java.util.Locale;
import org.culoss.Backend;
import org.culoss.Declarations.Workload;
import org.culoss.tools.bench.Shape;
import org.culoss.tools.bench.Timing;
import org.culoss.tools.bench.Workloads;

/**
 * One line of throughput after a verify run: fused softmax cross-entropy on a fixed shape, timed
 * as {@code ./culoss bench} times it but briefly. A first impression, not a benchmark.
 */
final class Throughput {
    private Throughput() {}

    static String line(Backend backend) {
        // The emulated backend runs one OS thread per CUDA thread: a smaller shape keeps it short.
        boolean emulated = backend.name().equals("emulated");
        Shape shape = Shape.parse(emulated ? "256x1000" : "4096x1000");
        try (Workload w = Workloads.create("softmax_cross_entropy", shape, backend)) {
            Timing t = Timing.of(w, emulated ? 0 : 300, emulated ? 3 : 15);
            return String.format(Locale.ROOT, "throughput: softmax cross-entropy forward+backward %s on %s: %.3g ms "
                    + "(%.3g GB/s, median of %d, backend memory)", shape, backend.name(), t.medianMillis(),
                    t.gigabytesPerSecond(w.bytesMoved()), t.runs());
        }
    }
}
