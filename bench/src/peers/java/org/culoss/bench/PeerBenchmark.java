package org.culoss.bench;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.GradientCollector;
import ai.djl.training.loss.Loss;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * What a Java user has today for softmax cross-entropy forward+gradient on the CPU, on the shapes
 * of {@link LossBenchmark}: DJL with its PyTorch engine ({@code F.cross_entropy} through JNI) and
 * Deeplearning4j's {@code LossMCXENT} on nd4j-native. Built only with {@code -Ppeers}, so the
 * default build never downloads them; the PyTorch native library comes from the
 * {@code pytorch-native-cpu} jar ({@code ai.djl.offline=true}: nothing is fetched at run time).
 *
 * <pre>
 * mvn -B -Ppeers -pl bench -am package -DskipTests
 * java -jar bench/target/benchmarks.jar "PeerBenchmark|LossBenchmark" -p workload=softmax_cross_entropy:4096x1000
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xmx4g", "-Dai.djl.offline=true"})
public class PeerBenchmark {
    @Param({"4096x10", "4096x1000", "512x32000", "64x131072"})
    public String shape;

    /** Intra-op threads of the peer; 0: all cores. */
    @Param({"1", "0"})
    public int threads;

    private int n;
    private int c;
    private int[] targets;
    private float[] logits;

    private NDManager djl;
    private NDArray djlLogits;
    private NDArray djlTargets;
    private Loss djlLoss;

    private INDArray dl4jLogits;
    private INDArray dl4jLabels;
    private LossMCXENT dl4jLoss;
    private ActivationSoftmax softmax;

    @Setup
    public void setUp() {
        String[] parts = shape.split("x");
        n = Integer.parseInt(parts[0]);
        c = Integer.parseInt(parts[1]);
        int t = threads == 0 ? Runtime.getRuntime().availableProcessors() : threads;
        Random rnd = new Random(1);
        logits = new float[n * c];
        for (int i = 0; i < logits.length; i++) logits[i] = (float) rnd.nextGaussian();
        targets = rnd.ints(n, 0, c).toArray();

        System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(t));
        System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
        djl = NDManager.newBaseManager("PyTorch");
        djlLogits = djl.create(logits, new ai.djl.ndarray.types.Shape(n, c));
        djlLogits.setRequiresGradient(true);
        long[] y = new long[n];
        for (int i = 0; i < n; i++) y[i] = targets[i];
        djlTargets = djl.create(y).toType(DataType.INT64, false);
        djlLoss = Loss.softmaxCrossEntropyLoss();

        Nd4j.getEnvironment().setMaxMasterThreads(t);
        Nd4j.getEnvironment().setMaxThreads(t);
        dl4jLogits = Nd4j.create(logits, new long[] {n, c});
        dl4jLabels = Nd4j.zeros(org.nd4j.linalg.api.buffer.DataType.FLOAT, n, c);
        for (int i = 0; i < n; i++) dl4jLabels.putScalar(i, targets[i], 1f);
        dl4jLoss = new LossMCXENT();
        softmax = new ActivationSoftmax();
    }

    /** DJL + PyTorch: the loss and the logits' gradient through autograd. */
    @Benchmark
    public void djlPyTorch(Blackhole bh) {
        try (NDManager scope = djl.newSubManager()) {
            djlLogits.tempAttach(scope);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray loss = djlLoss.evaluate(new NDList(djlTargets), new NDList(djlLogits));
                gc.backward(loss);
            }
            bh.consume(djlLogits.getGradient().getFloat(0, 0));
        }
    }

    /** Deeplearning4j: LossMCXENT's score and gradient w.r.t. the pre-softmax output. */
    @Benchmark
    public void dl4jLossMcxent(Blackhole bh) {
        bh.consume(dl4jLoss.computeScore(dl4jLabels, dl4jLogits, softmax, null, true));
        bh.consume(dl4jLoss.computeGradient(dl4jLabels, dl4jLogits, softmax, null));
    }

    @TearDown
    public void tearDown() {
        djl.close();
    }
}
