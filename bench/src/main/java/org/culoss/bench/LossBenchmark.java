package org.culoss.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.culoss.Backend;
import org.culoss.Culoss;
import org.culoss.Declarations.Workload;
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
 * java -cp bench/target/benchmarks.jar org.culoss.bench.LossBenchmark                 # every loss, java
 * java -cp bench/target/benchmarks.jar org.culoss.bench.LossBenchmark -p backend=cuda  # a GPU
 * java -jar bench/target/benchmarks.jar LossBenchmark -p workload=smooth_l1:16777216  # one workload
 * </pre>
 * The workloads are the loss declarations' benchmark shapes ({@code ./culoss losses --json}).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xmx4g"})
public class LossBenchmark {
    /**
     * loss:shape, as {@code ./culoss bench --loss L --shape S}. Given on the command line, or filled
     * by {@link #main} with every shape of every declared loss.
     */
    @Param({})
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

    /** Every declared workload as JMH's {@code -p workload=} list: loss:shape, comma-separated. */
    static String allWorkloads() {
        List<String> all = new ArrayList<>();
        for (String loss : Workloads.losses()) {
            for (String shape : Workloads.defaultShapes(loss)) all.add(loss + ":" + shape);
        }
        return String.join(",", all);
    }

    /** JMH's command line, with this benchmark and every declared workload unless they are given. */
    public static void main(String[] args) throws Exception {
        List<String> a = new ArrayList<>(List.of(args));
        boolean workloadGiven = false;
        for (int i = 0; i + 1 < a.size(); i++) {
            if (a.get(i).equals("-p") && a.get(i + 1).startsWith("workload=")) workloadGiven = true;
        }
        if (!workloadGiven) {
            a.add("-p");
            a.add("workload=" + allWorkloads());
        }
        a.add(LossBenchmark.class.getSimpleName());
        org.openjdk.jmh.Main.main(a.toArray(new String[0]));
    }
}
