package org.culoss.demo;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Consumer;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.schedule.ExponentialSchedule;
import org.nd4j.linalg.schedule.ScheduleType;

/** Builds the demo's networks and trains one, epoch by epoch, timing the steps and the loss. */
final class Training {
    private Training() {}

    /** One epoch's numbers. */
    record Epoch(int epoch, double trainLoss, double testAccuracy, double samplesPerSecond, double lossShare) {}

    /**
     * An MLP: 784 inputs, ReLU hidden layers, then (when {@code features} > 0) a linear layer of
     * that many units whose output is the features the plots show, then {@code output}.
     */
    static MultiLayerNetwork mlp(int[] hidden, int features, Layer output, long seed, double learningRate,
            double decay) {
        // Adam, its rate multiplied by `decay` after each epoch
        NeuralNetConfiguration.ListBuilder b = new NeuralNetConfiguration.Builder().seed(seed).dataType(DataType.FLOAT)
                .updater(new Adam(new ExponentialSchedule(ScheduleType.EPOCH, learningRate, decay)))
                .weightInit(WeightInit.RELU).list();
        int in = Dataset.PIXELS;
        for (int h : hidden) {
            b.layer(new DenseLayer.Builder().nIn(in).nOut(h).activation(Activation.RELU).build());
            in = h;
        }
        if (features > 0) {
            b.layer(new DenseLayer.Builder().nIn(in).nOut(features).activation(Activation.IDENTITY)
                    .weightInit(WeightInit.XAVIER).build());
        }
        b.layer(output);
        MultiLayerNetwork net = new MultiLayerNetwork(b.build());
        net.init();
        return net;
    }

    /** A batch of rows of {@code images} with one-hot labels. */
    static DataSet batch(float[] images, int[] labels, int[] order, int from, int to) {
        int n = to - from;
        float[] x = new float[n * Dataset.PIXELS];
        float[] y = new float[n * Dataset.CLASSES];
        for (int i = 0; i < n; i++) {
            int k = order[from + i];
            System.arraycopy(images, k * Dataset.PIXELS, x, i * Dataset.PIXELS, Dataset.PIXELS);
            y[i * Dataset.CLASSES + labels[k]] = 1f;
        }
        return new DataSet(Nd4j.create(x, new long[] {n, Dataset.PIXELS}, 'c'),
                Nd4j.create(y, new long[] {n, Dataset.CLASSES}, 'c'));
    }

    /** Trains {@code net} for {@code epochs}, the same shuffles for the same seed; reports each epoch. */
    static List<Epoch> train(String name, MultiLayerNetwork net, TimedLoss loss, Dataset data, int epochs, int batchSize,
            long seed, boolean progress, Consumer<Epoch> report) {
        List<Epoch> out = new ArrayList<>();
        int n = data.trainSize();
        int[] order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        for (int e = 1; e <= epochs; e++) {
            shuffle(order, new Random(seed * 31 + e));
            double lossSum = 0;
            int batches = 0;
            long stepNanos = 0;
            loss.takeNanos();
            ProgressBar bar = progress && System.console() != null ? new ProgressBarBuilder().setTaskName(name + ", epoch " + e).setInitialMax(n)
                    .setStyle(ProgressBarStyle.ASCII).setUnit(" images", 1).setUpdateIntervalMillis(500)
                    .setConsumer(new ConsoleProgressBarConsumer(System.out, 110)).showSpeed().build() : null;
            try {
                for (int from = 0; from < n; from += batchSize) {
                    int to = Math.min(n, from + batchSize);
                    DataSet b = batch(data.trainImages(), data.trainLabels(), order, from, to);
                    long t = System.nanoTime();
                    net.fit(b);
                    stepNanos += System.nanoTime() - t;
                    lossSum += net.score();
                    batches++;
                    if (bar != null) bar.stepBy(to - from);
                }
            } finally {
                if (bar != null) bar.close();
            }
            net.incrementEpochCount();  // the learning-rate schedule counts epochs
            long lossNanos = loss.takeNanos();
            Epoch epoch = new Epoch(e, lossSum / batches, accuracy(net, data), n / (stepNanos / 1e9),
                    (double) lossNanos / stepNanos);
            out.add(epoch);
            report.accept(epoch);
        }
        return out;
    }

    /** The share of the test set whose largest output is its class. */
    static double accuracy(MultiLayerNetwork net, Dataset data) {
        int n = data.testSize();
        int correct = 0;
        for (int from = 0; from < n; from += 2000) {
            int to = Math.min(n, from + 2000);
            INDArray x = Nd4j.create(java.util.Arrays.copyOfRange(data.testImages(), from * Dataset.PIXELS,
                    to * Dataset.PIXELS), new long[] {to - from, Dataset.PIXELS}, 'c');
            INDArray predicted = net.output(x, false).argMax(1);
            for (int i = 0; i < to - from; i++) if (predicted.getInt(i) == data.testLabels()[from + i]) correct++;
        }
        return (double) correct / n;
    }

    /** The test images' features: the output of layer {@code layer} (the feature layer). */
    static float[][] features(MultiLayerNetwork net, int layer, Dataset data) {
        int n = data.testSize();
        float[][] out = new float[n][];
        for (int from = 0; from < n; from += 2000) {
            int to = Math.min(n, from + 2000);
            INDArray x = Nd4j.create(java.util.Arrays.copyOfRange(data.testImages(), from * Dataset.PIXELS,
                    to * Dataset.PIXELS), new long[] {to - from, Dataset.PIXELS}, 'c');
            INDArray f = net.feedForwardToLayer(layer, x, false).get(layer + 1);
            for (int i = 0; i < to - from; i++) out[from + i] = f.getRow(i).toFloatVector();
        }
        return out;
    }

    private static void shuffle(int[] a, Random r) {
        for (int i = a.length - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }
}
