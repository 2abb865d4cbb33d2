package org.culoss.bench;

import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.culoss.dl4j.CulossSoftmaxCrossEntropy;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.memory.conf.WorkspaceConfiguration;
import org.nd4j.linalg.api.memory.enums.AllocationPolicy;
import org.nd4j.linalg.api.memory.enums.LearningPolicy;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;
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
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The loss's part of a Deeplearning4j training step, side by side: what DL4J's
 * {@code OutputLayer} asks of {@code LossMCXENT} with a softmax (the gradient, then the score:
 * two calls), against what culoss's {@code FusedOutputLayer} asks of
 * {@code CulossSoftmaxCrossEntropy} (one {@code computeGradientAndScore}). Both on nd4j-native
 * arrays as the layer hands them over: pre-softmax scores and one-hot labels, row-major float.
 * Each call runs inside an nd4j workspace, as the loss does in a DL4J training step (the step's
 * working memory is a workspace reused from step to step): allocations come from memory already
 * mapped, not from fresh pages. Built only with {@code -Ppeers}.
 *
 * <pre>
 * mvn -B -Ppeers -pl bench -am package -DskipTests
 * java -jar bench/target/benchmarks.jar Dl4jOutputLayerBenchmark
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xmx6g"})
public class Dl4jOutputLayerBenchmark {
    @Param({"4096x1000", "512x32000"})
    public String shape;

    /** Threads of both: nd4j's and culoss's pure-Java backend. */
    @Param({"1", "2"})
    public int threads;

    private INDArray preOutput;
    private INDArray labels;
    private LossMCXENT dl4j;
    private CulossSoftmaxCrossEntropy culoss;
    private ActivationSoftmax softmax;
    private final WorkspaceConfiguration workspace = WorkspaceConfiguration.builder()
            .policyAllocation(AllocationPolicy.STRICT).policyLearning(LearningPolicy.FIRST_LOOP).build();

    @Setup
    public void setUp() {
        String[] parts = shape.split("x");
        int n = Integer.parseInt(parts[0]);
        int c = Integer.parseInt(parts[1]);
        Nd4j.getEnvironment().setMaxMasterThreads(threads);
        Nd4j.getEnvironment().setMaxThreads(threads);
        Random rnd = new Random(1);
        float[] x = new float[n * c];
        for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
        preOutput = Nd4j.create(x, new long[] {n, c}, 'c');
        labels = Nd4j.zeros(DataType.FLOAT, n, c);
        for (int i = 0; i < n; i++) labels.putScalar(i, rnd.nextInt(c), 1f);
        dl4j = new LossMCXENT();
        culoss = new CulossSoftmaxCrossEntropy().withThreads(threads);
        softmax = new ActivationSoftmax();
    }

    /** DL4J's OutputLayer step: computeGradient, then computeScore. */
    @Benchmark
    public void dl4jLossMcxent(Blackhole bh) {
        try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().getAndActivateWorkspace(workspace, "dl4j")) {
            bh.consume(dl4j.computeGradient(labels, preOutput, softmax, null));
            bh.consume(dl4j.computeScore(labels, preOutput, softmax, null, false));
        }
    }

    /** culoss's FusedOutputLayer step: one computeGradientAndScore. */
    @Benchmark
    public void culossFused(Blackhole bh) {
        try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().getAndActivateWorkspace(workspace, "culoss")) {
            bh.consume(culoss.computeGradientAndScore(labels, preOutput, softmax, null, false));
        }
    }
}
