package org.culoss.bench;

import java.util.concurrent.TimeUnit;
import org.culoss.Backend;
import org.culoss.Culoss;
import org.culoss.tools.bench.Workload;
import org.culoss.tools.bench.Workloads;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Fused forward+backward of each loss on the shapes that matter for it, on buffers in the
 * backend's memory (off-heap for java, device memory for cuda), each call ending in a
 * synchronisation. The same workloads as {@code ./culoss bench}.
 *
 * <pre>
 * java -jar bench/target/benchmarks.jar LossBenchmark                       # java, 1 thread and all cores
 * java -jar bench/target/benchmarks.jar LossBenchmark -p backend=cuda        # a GPU
 * java -jar bench/target/benchmarks.jar LossBenchmark -p backend=emulated -jvmArgsAppend -Dculoss.native=emulated
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xmx4g"})
public class LossBenchmark {
    /** loss:shape, as {@code ./culoss bench --loss L --shape S}. */
    @Param({
        "softmax_cross_entropy:4096x10", "softmax_cross_entropy:4096x1000",
        "softmax_cross_entropy:512x32000", "softmax_cross_entropy:64x131072",
        "triplet_margin:4096x512", "center:4096x512x10000",
        "softmax_focal:4096x10", "softmax_focal:4096x1000",
        "softmax_focal:512x32000", "softmax_focal:64x131072",
        "sigmoid_focal:4096x10", "sigmoid_focal:4096x1000", "sigmoid_focal:512x32000", "sigmoid_focal:64x131072",
        "smooth_l1:16777216", "huber:16777216",
    })
    public String workload;

    @Param({"java"})
    public String backend;

    /** java backend threads; 0: all cores. Ignored by the native backends. */
    @Param({"1", "0"})
    public int threads;

    private Workload w;

    @Setup
    public void setUp() {
        String[] parts = workload.split(":");
        w = Workloads.create(parts[0], Workloads.shape(parts[0], parts[1]), backend());
    }

    Backend backend() {
        if (!backend.equals("java")) return Culoss.backend(backend);
        return Culoss.java(threads == 0 ? Runtime.getRuntime().availableProcessors() : threads);
    }

    @Benchmark
    public void forwardBackward() {
        w.run();
        w.synchronize();
    }

    @TearDown
    public void tearDown() {
        w.close();
    }
}
