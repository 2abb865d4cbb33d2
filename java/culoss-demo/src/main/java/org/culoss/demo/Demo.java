package org.culoss.demo;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.culoss.Culoss;
import org.culoss.dl4j.CenterLossLayer;
import org.culoss.dl4j.CulossLossFunction;
import org.culoss.dl4j.CulossSoftmaxCrossEntropy;
import org.culoss.dl4j.CulossSoftmaxFocal;
import org.culoss.dl4j.FusedOutputLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.lossfunctions.ILossFunction;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ./culoss demo}: a Deeplearning4j MLP trained on Fashion-MNIST twice from the same seed,
 * with DL4J's own loss and with culoss's, side by side; then a network with a two-unit feature
 * layer trained with cross-entropy, focal loss and center loss, its test features plotted.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Trains a Deeplearning4j MLP on Fashion-MNIST with DL4J's loss and with culoss's, side by side,",
                "then plots the two-dimensional features that cross-entropy, focal and center loss learn."})
public final class Demo implements Callable<Integer> {
    /** The losses of the side-by-side run. */
    enum Loss { ce, focal, center }

    @Option(names = "--loss", paramLabel = "ce|focal|center",
            description = "The loss of the side-by-side run (default: ${DEFAULT-VALUE}); DL4J's peer: LossMCXENT, none, "
                    + "CenterLossOutputLayer.")
    Loss loss = Loss.ce;

    @Option(names = "--epochs", description = "Epochs of the side-by-side run (default: ${DEFAULT-VALUE}).")
    int epochs = 6;

    @Option(names = "--feature-epochs", description = "Epochs of each feature run; 0 skips the plots (default: ${DEFAULT-VALUE}).")
    int featureEpochs = 2;

    @Option(names = "--batch", description = "Minibatch size (default: ${DEFAULT-VALUE}).")
    int batch = 256;

    @Option(names = "--backend", paramLabel = "java|cuda|emulated",
            description = "culoss's backend for its losses (default: ${DEFAULT-VALUE}; nd4j-native's arrays are host "
                    + "memory, so cuda copies them to the GPU and back).")
    String backend = "java";

    @Option(names = "--data", paramLabel = "DIR",
            description = "The Fashion-MNIST IDX files (default: " + "/usr/share/datasets/fashion-mnist, Debian's "
                    + "dataset-fashion-mnist); without them, a small built-in task.")
    Path data;

    @Option(names = "--out", paramLabel = "DIR", description = "Where the plots go (default: ${DEFAULT-VALUE}).")
    Path out = Path.of("demo-output");

    @Option(names = "--hidden", split = ",", description = "Hidden layer sizes (default: 256,128).")
    int[] hidden = {256, 128};

    @Option(names = "--center-lambda", description = "Center loss's weight lambda (default: ${DEFAULT-VALUE}).")
    double centerLambda = 1.0;

    @Option(names = "--center-alpha", description = "Center loss's center step alpha (default: ${DEFAULT-VALUE}).")
    double centerAlpha = 0.5;

    @Option(names = "--seed", description = "The seed of the weights and the shuffles (default: ${DEFAULT-VALUE}).")
    long seed = 12345;

    @Option(names = "--learning-rate", description = "Adam's learning rate (default: ${DEFAULT-VALUE}).")
    double learningRate = 2e-3;

    @Option(names = "--decay", description = "The learning rate's factor after each epoch (default: ${DEFAULT-VALUE}).")
    double decay = 0.7;

    @Option(names = "--no-progress", description = "No progress bars (there are none when the output is not a terminal).")
    boolean noProgress;

    /** The Fashion-MNIST benchmark's MLP (256-128-100), the anchor the cross-entropy run is set beside. */
    static final double BENCHMARK_MLP = 0.8833;

    public static void main(String[] args) {
        System.exit(new CommandLine(new Demo()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        Dataset d;
        try {
            Culoss.backend(backend);  // an unknown or unavailable backend fails here, with its reason
            d = load();
        } catch (java.io.IOException | IllegalArgumentException | IllegalStateException e) {
            System.err.println("culoss demo: " + e.getMessage());
            return 1;
        }
        System.out.println("data: " + d.description());
        System.out.println("network: MLP 784-" + join(hidden) + "-10, ReLU, Adam(" + learningRate + ", x" + decay + " per epoch), minibatch " + batch
                + ", seed " + seed + "; culoss backend: " + backend + "; " + Runtime.getRuntime().availableProcessors()
                + " cores");
        sideBySide(d);
        if (featureEpochs > 0) featurePlots(d);
        return 0;
    }

    private Dataset load() throws java.io.IOException {
        if (data != null) return Dataset.fashionMnist(data);  // asked for: a missing or bad file is an error
        if (Dataset.present(Dataset.DEBIAN)) return Dataset.fashionMnist(Dataset.DEBIAN);
        System.out.println("no Fashion-MNIST in " + Dataset.DEBIAN + " (apt-get install dataset-fashion-mnist) and no "
                + "--data DIR: running on the built-in task instead, which shows the demo working and nothing more");
        return Dataset.builtIn(6000, 1000, seed);
    }

    private <T extends CulossLossFunction> T onBackend(T loss) {
        return loss.onBackend(backend);
    }

    /** The culoss loss of the side-by-side run and its output layer; DL4J's peer layer, or null. */
    private Layer culossLayer(TimedLoss timed, int nIn) {
        return switch (loss) {
            case center -> new CenterLossLayer.Builder(timed).nIn(nIn).nOut(Dataset.CLASSES).lambda(centerLambda)
                    .alpha(centerAlpha).build();
            default -> new FusedOutputLayer.Builder(timed).nIn(nIn).nOut(Dataset.CLASSES).activation(Activation.SOFTMAX)
                    .build();
        };
    }

    private Layer dl4jLayer(TimedLoss timed, int nIn) {
        return switch (loss) {
            case ce -> new OutputLayer.Builder(timed).nIn(nIn).nOut(Dataset.CLASSES).activation(Activation.SOFTMAX).build();
            case center -> new org.deeplearning4j.nn.conf.layers.CenterLossOutputLayer.Builder(timed).nIn(nIn)
                    .nOut(Dataset.CLASSES).activation(Activation.SOFTMAX).lambda(centerLambda).alpha(centerAlpha).build();
            default -> null;
        };
    }

    private ILossFunction culossLoss() {
        return loss == Loss.focal ? onBackend(new CulossSoftmaxFocal()) : onBackend(new CulossSoftmaxCrossEntropy());
    }

    private void sideBySide(Dataset d) {
        int last = hidden[hidden.length - 1];
        TimedLoss theirs = new TimedLoss(new LossMCXENT());
        TimedLoss ours = new TimedLoss(culossLoss());
        Layer dl4j = dl4jLayer(theirs, last);
        String what = switch (loss) {
            case ce -> "softmax cross-entropy: DL4J's LossMCXENT in OutputLayer against culoss's in FusedOutputLayer";
            case center -> "center loss + cross-entropy: DL4J's CenterLossOutputLayer against culoss's CenterLossLayer";
            default -> "softmax focal loss (gamma 2): culoss's only (DL4J has no focal loss)";
        };
        System.out.println();
        System.out.println("== " + what + ", " + epochs + " epochs, the same seed");
        List<Training.Epoch> dl4jEpochs = new ArrayList<>();
        if (dl4j != null) {
            MultiLayerNetwork net = Training.mlp(hidden, 0, dl4j, seed, learningRate, decay);
            dl4jEpochs = Training.train("DL4J  ", net, theirs, d, epochs, batch, seed, !noProgress, e -> {});
        }
        MultiLayerNetwork net = Training.mlp(hidden, 0, culossLayer(ours, last), seed, learningRate, decay);
        List<Training.Epoch> culossEpochs = Training.train("culoss", net, ours, d, epochs, batch, seed, !noProgress,
                e -> {});
        System.out.println();
        System.out.printf("%-6s %-7s %11s %9s %11s %11s%n", "epoch", "loss", "train loss", "test acc", "images/s",
                "loss share");
        for (int e = 0; e < epochs; e++) {
            if (!dl4jEpochs.isEmpty()) row("DL4J", dl4jEpochs.get(e));
            row("culoss", culossEpochs.get(e));
        }
        double accuracy = culossEpochs.get(epochs - 1).testAccuracy();
        System.out.println();
        System.out.printf("test accuracy after %d epochs: culoss %.4f%s%n", epochs, accuracy, dl4jEpochs.isEmpty() ? ""
                : String.format(", DL4J %.4f", dl4jEpochs.get(epochs - 1).testAccuracy()));
        System.out.printf("anchor: the Fashion-MNIST benchmark's MLP 256-128-100, %.4f (the dataset's README); the"
                + " dataset paper's scikit-learn MLPClassifier rows are in arXiv:1708.07747, Table 3%n", BENCHMARK_MLP);
        System.out.println("loss share: the loss's calls as a share of the training step's time (fit on one minibatch)");
    }

    private static void row(String who, Training.Epoch e) {
        System.out.printf("%-6d %-7s %11.4f %9.4f %11.0f %10.1f%%%n", e.epoch(), who, e.trainLoss(), e.testAccuracy(),
                e.samplesPerSecond(), 100 * e.lossShare());
    }

    /** Cross-entropy, focal and center loss with a two-unit feature layer; a scatter plot of each. */
    private void featurePlots(Dataset d) throws java.io.IOException {
        System.out.println();
        System.out.println("== two-dimensional features (784-" + join(hidden) + "-2-10), " + featureEpochs
                + " epochs each: cross-entropy, focal, center loss + cross-entropy");
        record Run(String name, String file, Layer layer, TimedLoss timed) {}
        TimedLoss ce = new TimedLoss(onBackend(new CulossSoftmaxCrossEntropy()));
        TimedLoss focal = new TimedLoss(onBackend(new CulossSoftmaxFocal()));
        TimedLoss center = new TimedLoss(onBackend(new CulossSoftmaxCrossEntropy()));
        List<Run> runs = List.of(
                new Run("cross-entropy", "features-cross-entropy.png",
                        new FusedOutputLayer.Builder(ce).nIn(2).nOut(Dataset.CLASSES).build(), ce),
                new Run("focal loss (gamma 2)", "features-focal.png",
                        new FusedOutputLayer.Builder(focal).nIn(2).nOut(Dataset.CLASSES).build(), focal),
                new Run("center loss (lambda " + centerLambda + ") + cross-entropy", "features-center.png",
                        new CenterLossLayer.Builder(center).nIn(2).nOut(Dataset.CLASSES).lambda(centerLambda)
                                .alpha(centerAlpha).build(), center));
        String[] names = d.description().startsWith("Fashion") ? Dataset.FASHION_CLASSES
                : new String[] {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};
        for (Run r : runs) {
            MultiLayerNetwork net = Training.mlp(hidden, 2, r.layer(), seed, learningRate, decay);
            List<Training.Epoch> epochs = Training.train(r.name(), net, r.timed(), d, featureEpochs, batch, seed,
                    !noProgress, e -> {});
            Training.Epoch lastEpoch = epochs.get(epochs.size() - 1);
            Path png = FeaturePlot.write(out, r.file(), String.format("%s: test accuracy %.3f", r.name(),
                    lastEpoch.testAccuracy()), Training.features(net, hidden.length, d), d.testLabels(), names);
            System.out.printf("%-42s test accuracy %.4f, train loss %.4f -> %s%n", r.name(), lastEpoch.testAccuracy(),
                    lastEpoch.trainLoss(), png);
        }
    }

    private static String join(int[] sizes) {
        StringBuilder s = new StringBuilder();
        for (int h : sizes) s.append(s.length() == 0 ? "" : "-").append(h);
        return s.toString();
    }
}
