package org.culoss.bench;

import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.SizeTPointer;
import org.culoss.Backend;
import org.culoss.Culoss;
import org.culoss.Declarations.Workload;
import org.culoss.internal.CulossNative;
import org.culoss.tools.bench.Shape;
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
 * What crossing into native code costs, and how it amortises with the batch: a trivial native
 * call ({@code culossGetVersion}), a call that checks a loss's arguments and returns
 * (the workspace query), and the smallest loss call (softmax cross-entropy, C = 10, fused) against
 * the batch size N, on {@code backend} and on the java backend for comparison.
 *
 * <pre>
 * java -jar bench/target/benchmarks.jar JniBenchmark -p backend=cuda
 * java -jar bench/target/benchmarks.jar JniBenchmark -p backend=emulated -jvmArgsAppend -Dculoss.native=emulated
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class JniBenchmark {
    private final SizeTPointer bytes = new SizeTPointer(1);

    /** The smallest loss call's buffers; its parameters apply to {@link #smallestLossCall} only. */
    @State(Scope.Benchmark)
    public static class LossCall {
        /** The backend of the loss call: java, emulated or cuda. */
        @Param({"java"})
        public String backend;

        @Param({"1", "16", "256", "4096"})
        public int batch;

        Workload w;

        @Setup
        public void setUp() {
            Backend b = backend.equals("java") ? Culoss.java(1) : Culoss.backend(backend);
            w = Workloads.create("softmax_cross_entropy", Shape.parse(batch + "x10"), b);
        }

        @TearDown
        public void tearDown() {
            w.close();
        }
    }

    @Benchmark
    public int trivialNativeCall() {
        return CulossNative.culossGetVersion();
    }

    @Benchmark
    public int workspaceQuery() {
        return CulossNative.culossSoftmaxCrossEntropyWorkspaceSize(4096, 10, 0, 2, bytes);
    }

    @Benchmark
    public void smallestLossCall(LossCall call) {
        call.w.run();
        call.w.synchronize();
    }

    @TearDown
    public void tearDown() {
        bytes.close();
    }
}
