package org.culoss.dl4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.bytedeco.javacpp.Loader;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.deeplearning4j.optimize.listeners.ScoreIterationListener;
import org.deeplearning4j.optimize.api.BaseTrainingListener;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.ILossFunction;
import org.nd4j.linalg.lossfunctions.impl.LossBinaryXENT;
import org.nd4j.linalg.lossfunctions.impl.LossHinge;
import org.nd4j.linalg.lossfunctions.impl.LossL1;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;
import org.nd4j.linalg.lossfunctions.impl.LossMSE;
import org.nd4j.linalg.lossfunctions.impl.LossSparseMCXENT;

/**
 * Short deterministic training runs: a network with a culoss loss follows the score curve of the
 * same network with DL4J's loss, step by step; {@link FusedOutputLayer} calls the loss once per
 * step; configurations and trained models survive DL4J's serialisation.
 */
@Tag("training")  // left out of the emulated run (pom.xml): minutes on the emulator
class TrainingTest {
    static final int N = 64;
    static final int IN = 12;
    static final int OUT = 5;
    static final int STEPS = 25;

    /** A fixed classification (or regression) task: labels made from the features by a fixed map. */
    static DataSet task(String kind) {
        Random r = new Random(7);
        float[] x = new float[N * IN];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        INDArray features = Nd4j.create(x, new long[] {N, IN}, 'c');
        INDArray labels = Nd4j.zeros(DataType.FLOAT, N, kind.equals("sparse") ? 1 : OUT);
        for (int i = 0; i < N; i++) {
            int k = Math.floorMod((int) Math.floor(2 * x[i * IN] + x[i * IN + 1]), OUT);
            for (int j = 0; j < OUT; j++) {
                float v = switch (kind) {
                    case "sparse" -> j == 0 ? k : Float.NaN;
                    case "classes" -> j == k ? 1f : 0f;
                    case "binary" -> x[i * IN + j] > 0 ? 1f : 0f;
                    case "signs" -> x[i * IN + j] > 0 ? 1f : -1f;
                    default -> (float) Math.sin(x[i * IN + j] + x[i * IN + j + 1]);
                };
                if (!Float.isNaN(v)) labels.putScalar(i, j, v);
            }
        }
        return new DataSet(features, labels);
    }

    static MultiLayerConfiguration net(Layer output) {
        return new NeuralNetConfiguration.Builder().seed(1234).dataType(DataType.FLOAT).updater(new Sgd(0.1))
                .weightInit(WeightInit.XAVIER).list()
                .layer(new DenseLayer.Builder().nIn(IN).nOut(16).activation(Activation.TANH).build())
                .layer(output).build();
    }

    /** The score after each of STEPS full-batch steps. */
    static List<Double> train(MultiLayerConfiguration conf, DataSet data) {
        return train(new MultiLayerNetwork(conf), data);
    }

    static List<Double> train(MultiLayerNetwork net, DataSet data) {
        net.init();
        List<Double> scores = new ArrayList<>();
        net.setListeners(new BaseTrainingListener() {
            @Override
            public void iterationDone(Model model, int iteration, int epoch) {
                scores.add(model.score());
            }
        });
        for (int s = 0; s < STEPS; s++) net.fit(data);
        return scores;
    }

    static void assertSameCurve(List<Double> expected, List<Double> actual, double tol, String what) {
        assertEquals(expected.size(), actual.size(), what);
        for (int i = 0; i < expected.size(); i++)
            assertEquals(expected.get(i), actual.get(i), tol * Math.max(1, Math.abs(expected.get(i))),
                    what + " step " + i + ": " + expected + " vs " + actual);
        assertTrue(actual.get(actual.size() - 1) < actual.get(0), what + " did not learn: " + actual);
    }

    record Pairing(String task, Function<Boolean, ILossFunction> dl4j, ILossFunction culoss, Activation act) {}

    @Test
    void eachAdapterFollowsItsDl4jLoss() {
        List<Pairing> pairs = List.of(
                new Pairing("classes", x -> new LossMCXENT(), new CulossSoftmaxCrossEntropy(), Activation.SOFTMAX),
                new Pairing("sparse", x -> new LossSparseMCXENT(), new CulossSoftmaxCrossEntropy(), Activation.SOFTMAX),
                new Pairing("values", x -> new LossMSE(), new CulossMSE(), Activation.TANH),
                new Pairing("values", x -> new LossL1(), new CulossL1(), Activation.IDENTITY),
                new Pairing("signs", x -> new LossHinge(), new CulossHinge(), Activation.IDENTITY),
                new Pairing("binary", x -> new LossBinaryXENT(), new CulossLogistic(), Activation.SIGMOID));
        for (Pairing p : pairs) {
            DataSet data = task(p.task());
            List<Double> theirs = train(net(new OutputLayer.Builder(p.dl4j().apply(true)).nIn(16).nOut(OUT)
                    .activation(p.act()).build()), data);
            List<Double> ours = train(net(new OutputLayer.Builder(p.culoss()).nIn(16).nOut(OUT).activation(p.act())
                    .build()), data);
            List<Double> fused = train(net(new FusedOutputLayer.Builder(p.culoss()).nIn(16).nOut(OUT)
                    .activation(p.act()).build()), data);
            assertSameCurve(theirs, ours, 1e-4, p.culoss() + " in OutputLayer");
            assertSameCurve(theirs, fused, 1e-4, p.culoss() + " in FusedOutputLayer");
        }
    }

    @Test
    void centerLossLayerFollowsDl4jsCenterLossOutputLayer() {
        DataSet data = task("classes");
        DataSet sparse = task("sparse");
        for (boolean gradientCheck : new boolean[] {false, true}) {
            MultiLayerNetwork theirNet = new MultiLayerNetwork(net(
                    new org.deeplearning4j.nn.conf.layers.CenterLossOutputLayer.Builder(new LossMCXENT()).nIn(16)
                            .nOut(OUT).activation(Activation.SOFTMAX).lambda(0.5).alpha(0.3)
                            .gradientCheck(gradientCheck).build()));
            MultiLayerNetwork ourNet = new MultiLayerNetwork(net(new CenterLossLayer.Builder().nIn(16).nOut(OUT)
                    .lambda(0.5).alpha(0.3).gradientCheck(gradientCheck).build()));
            List<Double> theirs = train(theirNet, data);
            List<Double> ours = train(ourNet, data);
            assertSameCurve(theirs, ours, 1e-4, "CenterLossLayer, gradientCheck " + gradientCheck);
            INDArray theirCenters = theirNet.getParam("1_cL");
            assertTrue(theirCenters.norm2Number().doubleValue() > 1e-3, "the centers moved");
            MatchesDl4jLossesTest.assertClose(theirCenters, ourNet.getParam("1_cL"), 1e-4, "centers after training");
            List<Double> indices = train(net(new CenterLossLayer.Builder().nIn(16).nOut(OUT).lambda(0.5).alpha(0.3)
                    .gradientCheck(gradientCheck).build()), sparse);
            assertSameCurve(ours, indices, 1e-5, "CenterLossLayer with class indices");
        }
        MultiLayerConfiguration conf = net(new CenterLossLayer.Builder().nIn(16).nOut(OUT).lambda(0.25).alpha(0.1).build());
        assertEquals(conf, MultiLayerConfiguration.fromJson(conf.toJson()));
    }

    /** The score after each of STEPS full-batch steps of a one-hidden-layer ComputationGraph. */
    static List<Double> trainGraph(Layer output, DataSet data) {
        ComputationGraphConfiguration conf = new NeuralNetConfiguration.Builder().seed(1234).dataType(DataType.FLOAT)
                .updater(new Sgd(0.1)).weightInit(WeightInit.XAVIER).graphBuilder().addInputs("in")
                .addLayer("hidden", new DenseLayer.Builder().nIn(IN).nOut(16).activation(Activation.TANH).build(), "in")
                .addLayer("out", output, "hidden").setOutputs("out").build();
        ComputationGraph graph = new ComputationGraph(conf);
        graph.init();
        List<Double> scores = new ArrayList<>();
        for (int s = 0; s < STEPS; s++) {
            graph.fit(data);
            scores.add(graph.score());
        }
        return scores;
    }

    @Test
    void fusedOutputLayerWorksInAComputationGraph() {
        DataSet data = task("classes");
        List<Double> theirs = trainGraph(new OutputLayer.Builder(new LossMCXENT()).nIn(16).nOut(OUT)
                .activation(Activation.SOFTMAX).build(), data);
        List<Double> fused = trainGraph(new FusedOutputLayer.Builder(new CulossSoftmaxCrossEntropy()).nIn(16).nOut(OUT)
                .build(), data);
        assertSameCurve(theirs, fused, 1e-4, "FusedOutputLayer in a ComputationGraph");
    }

    /** Counts the calls a layer makes to its loss. */
    static final class CountingLoss extends LossMCXENT {
        static final AtomicInteger score = new AtomicInteger();
        static final AtomicInteger gradient = new AtomicInteger();
        static final AtomicInteger both = new AtomicInteger();
        final ILossFunction inner = new CulossSoftmaxCrossEntropy();

        @Override
        public double computeScore(INDArray l, INDArray p, IActivation a, INDArray m, boolean avg) {
            score.incrementAndGet();
            return inner.computeScore(l, p, a, m, avg);
        }

        @Override
        public INDArray computeGradient(INDArray l, INDArray p, IActivation a, INDArray m) {
            gradient.incrementAndGet();
            return inner.computeGradient(l, p, a, m);
        }

        @Override
        public Pair<Double, INDArray> computeGradientAndScore(INDArray l, INDArray p, IActivation a, INDArray m,
                boolean avg) {
            both.incrementAndGet();
            return inner.computeGradientAndScore(l, p, a, m, avg);
        }
    }

    @Test
    void fusedOutputLayerCallsTheLossOncePerStep() {
        CountingLoss.both.set(0);
        CountingLoss.gradient.set(0);
        CountingLoss.score.set(0);
        DataSet data = task("classes");
        train(net(new FusedOutputLayer.Builder(new CountingLoss()).nIn(16).nOut(OUT).build()), data);
        assertEquals(STEPS, CountingLoss.both.get(), "fused calls");
        assertEquals(0, CountingLoss.gradient.get(), "separate gradient calls");
        assertEquals(0, CountingLoss.score.get(), "separate score calls");
        // a score asked for outside a step is computed, not taken from the last step
        MultiLayerNetwork net = new MultiLayerNetwork(net(new FusedOutputLayer.Builder(new CulossSoftmaxCrossEntropy())
                .nIn(16).nOut(OUT).build()));
        net.init();
        net.fit(data);
        MultiLayerNetwork plain = new MultiLayerNetwork(net(new OutputLayer.Builder(new LossMCXENT()).nIn(16).nOut(OUT)
                .activation(Activation.SOFTMAX).build()));
        plain.init();
        plain.setParams(net.params());
        assertEquals(plain.score(data), net.score(data), 1e-5);
        assertEquals(net.score(data), net.score(data), 0);
    }

    @Test
    void configurationsAndModelsSurviveSerialisation(@TempDir Path dir) throws Exception {
        for (ILossFunction loss : List.of(new CulossSoftmaxCrossEntropy(new float[] {1, 2, 0.5f, 1, 1}, 0.1f),
                new CulossSoftmaxFocal(1.5f, new float[] {1, 2, 0.5f, 1, 1}), new CulossSoftmaxFocal(0.5f, 0.25f),
                new CulossMSE(), new CulossL1(), new CulossSmoothL1(0.5f), new CulossHuber(2f), new CulossHinge(0.5f),
                new CulossLogistic(3f), new CulossSigmoidFocal(-1f, 1f),
                new CulossSoftmaxCrossEntropy().onBackend("java"), new CulossMSE().withThreads(1))) {
            MultiLayerConfiguration conf = net(new FusedOutputLayer.Builder(loss).nIn(16).nOut(OUT).build());
            MultiLayerConfiguration back = MultiLayerConfiguration.fromJson(conf.toJson());
            assertEquals(conf, back, loss + " through JSON");
            assertEquals(loss, ((OutputLayer) back.getConf(1).getLayer()).getLossFn());
            assertEquals(conf, MultiLayerConfiguration.fromYaml(conf.toYaml()), loss + " through YAML");
        }
        DataSet data = task("classes");
        MultiLayerNetwork net = new MultiLayerNetwork(net(new FusedOutputLayer.Builder(
                new CulossSoftmaxCrossEntropy(null, 0.05f)).nIn(16).nOut(OUT).build()));
        net.init();
        for (int s = 0; s < 5; s++) net.fit(data);
        File file = dir.resolve("model.zip").toFile();
        ModelSerializer.writeModel(net, file, true);
        MultiLayerNetwork restored = ModelSerializer.restoreMultiLayerNetwork(file, true);
        assertEquals(net.getLayerWiseConfigurations(), restored.getLayerWiseConfigurations());
        assertTrue(restored.getLayer(1) instanceof FusedOutputLayerImpl);
        assertEquals(net.params(), restored.params());
        assertEquals(net.score(data), restored.score(data), 0);
        restored.fit(data);
        net.fit(data);
        assertEquals(net.score(), restored.score(), 0, "a restored model trains on as the original");
    }

    @Test
    void javacppVersionsAgree() {
        Nd4j.create(1);  // loads nd4j-native and its OpenBLAS
        assertTrue(Loader.checkVersion("org.bytedeco", "openblas"),
                "the OpenBLAS preset on the class path is built for another JavaCPP than the one loaded");
    }
}
