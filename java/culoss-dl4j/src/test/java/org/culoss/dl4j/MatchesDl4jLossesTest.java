package org.culoss.dl4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.activations.impl.ActivationSigmoid;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.activations.impl.ActivationTanH;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.lossfunctions.ILossFunction;
import org.nd4j.linalg.lossfunctions.impl.LossBinaryXENT;
import org.nd4j.linalg.lossfunctions.impl.LossHinge;
import org.nd4j.linalg.lossfunctions.impl.LossL1;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;
import org.nd4j.linalg.lossfunctions.impl.LossMSE;
import org.nd4j.linalg.lossfunctions.impl.LossSparseMCXENT;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Each adapter against the DL4J loss it stands in for, on the four entry points: the score
 * (summed and averaged), the per-example scores and the gradient with respect to the
 * pre-activation output, with and without masks, on arrays DL4J's way and on views.
 */
class MatchesDl4jLossesTest {
    static final int N = 37;
    static final int C = 11;
    final Random random = new Random(42);

    INDArray gaussian(long n, long c, double scale) {
        float[] v = new float[(int) (n * c)];
        for (int i = 0; i < v.length; i++) v[i] = (float) (random.nextGaussian() * scale);
        return Nd4j.create(v, new long[] {n, c}, 'c');
    }

    INDArray oneHot(int n, int c, int[] classes) {
        INDArray y = Nd4j.zeros(DataType.FLOAT, n, c);
        for (int i = 0; i < n; i++) y.putScalar(i, classes[i], 1f);
        return y;
    }

    int[] classes(int n, int c) {
        int[] k = new int[n];
        for (int i = 0; i < n; i++) k[i] = random.nextInt(c);
        return k;
    }

    /** Class indices as DL4J's sparse labels: a float column [n, 1]. */
    static INDArray classColumn(int[] k) {
        INDArray column = Nd4j.create(DataType.FLOAT, k.length, 1);
        for (int i = 0; i < k.length; i++) column.putScalar(i, k[i]);
        return column;
    }

    INDArray softLabels(int n, int c) {
        INDArray e = Transforms.exp(gaussian(n, c, 1.5), false);
        return e.diviColumnVector(e.sum(true, 1));
    }

    INDArray mask(int n, int c) {
        INDArray m = Nd4j.zeros(DataType.FLOAT, n, c);
        for (int i = 0; i < n * c; i++) m.putScalar(i, random.nextInt(4) == 0 ? 0f : 1f);
        return m;
    }

    /** The four entry points of {@code ours} against {@code theirs}, to {@code tol} relative. */
    static void assertSame(ILossFunction theirs, ILossFunction ours, INDArray labels, INDArray pre, IActivation act,
            INDArray mask, double tol) {
        String what = ours + " vs " + theirs + " with " + act + (mask == null ? "" : " masked");
        for (boolean average : new boolean[] {false, true}) {
            double expected = theirs.computeScore(labels, pre.dup(), act, mask, average);
            assertEquals(expected, ours.computeScore(labels, pre, act, mask, average),
                    tol * Math.max(1, Math.abs(expected)), what + " score");
            assertEquals(expected, ours.computeGradientAndScore(labels, pre, act, mask, average).getFirst(),
                    tol * Math.max(1, Math.abs(expected)), what + " fused score");
        }
        assertClose(theirs.computeScoreArray(labels, pre.dup(), act, mask), ours.computeScoreArray(labels, pre, act, mask),
                tol, what + " score array");
        INDArray g = theirs.computeGradient(labels, pre.dup(), act, mask);
        assertClose(g, ours.computeGradient(labels, pre, act, mask), tol, what + " gradient");
        assertClose(g, ours.computeGradientAndScore(labels, pre, act, mask, true).getSecond(), tol, what + " fused gradient");
    }

    static void assertClose(INDArray expected, INDArray actual, double tol, String what) {
        assertTrue(java.util.Arrays.equals(expected.shape(), actual.shape()),
                what + ": shape " + java.util.Arrays.toString(actual.shape()));
        double[] e = expected.castTo(DataType.DOUBLE).dup('c').data().asDouble();
        double[] a = actual.castTo(DataType.DOUBLE).dup('c').data().asDouble();
        double scale = 0;
        for (double v : e) scale = Math.max(scale, Math.abs(v));
        for (int i = 0; i < e.length; i++)
            assertEquals(e[i], a[i], tol * Math.max(1e-3, scale), what + " element " + i);
    }

    @Test
    void softmaxCrossEntropyIsLossMcxentWithOneHotOrSoftLabels() {
        INDArray pre = gaussian(N, C, 2);
        INDArray oneHot = oneHot(N, C, classes(N, C));
        INDArray soft = softLabels(N, C);
        INDArray rowMask = mask(N, 1);
        for (INDArray y : new INDArray[] {oneHot, soft}) {
            assertSame(new LossMCXENT(), new CulossSoftmaxCrossEntropy(), y, pre, new ActivationSoftmax(), null, 2e-5);
            assertSame(new LossMCXENT(), new CulossSoftmaxCrossEntropy(), y, pre, new ActivationSoftmax(), rowMask, 2e-5);
        }
        float[] w = new float[C];
        for (int j = 0; j < C; j++) w[j] = 0.25f + j * 0.2f;
        assertSame(new LossMCXENT(Nd4j.create(w, 1, C)), new CulossSoftmaxCrossEntropy(w, 0f), oneHot, pre,
                new ActivationSoftmax(), null, 2e-5);
        assertSame(new LossMCXENT(Nd4j.create(w, 1, C)), new CulossSoftmaxCrossEntropy(w, 0f), soft, pre,
                new ActivationSoftmax(), rowMask, 2e-5);
    }

    @Test
    void classIndexLabelsAreLossSparseMcxent() {
        INDArray pre = gaussian(N, C, 2);
        int[] k = classes(N, C);
        INDArray column = classColumn(k);
        assertSame(new LossSparseMCXENT(), new CulossSoftmaxCrossEntropy(), column, pre, new ActivationSoftmax(), null,
                2e-5);
        assertSame(new LossSparseMCXENT(), new CulossSoftmaxCrossEntropy(), column, pre, new ActivationSoftmax(),
                mask(N, 1), 2e-5);
        // the same loss as its one-hot rows (the soft-target kernel's arithmetic)
        CulossSoftmaxCrossEntropy ce = new CulossSoftmaxCrossEntropy();
        assertClose(ce.computeGradient(oneHot(N, C, k), pre, new ActivationSoftmax(), null),
                ce.computeGradient(column, pre, new ActivationSoftmax(), null), 1e-6, "indices vs one-hot");
    }

    @Test
    void aThreadCountOfItsOwnComputesTheSame() {
        // Culoss.java(n) is a backend of its own: each path must hand its arrays to the loss's backend.
        INDArray pre = gaussian(N, C, 2);
        int[] k = classes(N, C);
        INDArray column = classColumn(k);
        INDArray y = gaussian(N, C, 1);
        for (int threads : new int[] {1, 2}) {
            assertSame(new LossMCXENT(), new CulossSoftmaxCrossEntropy().withThreads(threads), softLabels(N, C), pre,
                    new ActivationSoftmax(), null, 2e-5);
            assertSame(new LossSparseMCXENT(), new CulossSoftmaxCrossEntropy().withThreads(threads), column, pre,
                    new ActivationSoftmax(), mask(N, 1), 2e-5);
            assertClose(new CulossSoftmaxFocal().computeGradient(column, pre, new ActivationSoftmax(), null),
                    new CulossSoftmaxFocal().withThreads(threads).computeGradient(column, pre, new ActivationSoftmax(), null),
                    1e-6, "focal on " + threads + " threads");
            for (INDArray m : new INDArray[] {null, mask(N, C)})
                assertSame(new LossMSE(), new CulossMSE().withThreads(threads), y, pre, new ActivationIdentity(), m, 2e-5);
        }
    }

    @Test
    void identityActivationReadsTheSameLogits() {
        INDArray pre = gaussian(N, C, 3);
        INDArray y = softLabels(N, C);
        CulossSoftmaxCrossEntropy ce = new CulossSoftmaxCrossEntropy();
        assertSame(new LossMCXENT(), ce, y, pre, new ActivationSoftmax(), null, 2e-5);
        assertEquals(ce.computeScore(y, pre, new ActivationSoftmax(), null, true),
                ce.computeScore(y, pre, new ActivationIdentity(), null, true));
    }

    @Test
    void regressionLossesMatchAroundAnyActivation() {
        INDArray pre = gaussian(N, C, 1.5);
        INDArray y = gaussian(N, C, 1);
        for (IActivation act : new IActivation[] {new ActivationIdentity(), new ActivationTanH(), new ActivationReLU()}) {
            for (INDArray m : new INDArray[] {null, mask(N, 1), mask(N, C)}) {
                assertSame(new LossMSE(), new CulossMSE(), y, pre, act, m, 2e-5);
                assertSame(new LossL1(), new CulossL1(), y, pre, act, m, 2e-5);
            }
        }
    }

    @Test
    void hingeIsLossHinge() {
        INDArray pre = gaussian(N, C, 1.5);
        INDArray y = gaussian(N, C, 1);
        y = Transforms.sign(y, false);
        for (INDArray m : new INDArray[] {null, mask(N, 1), mask(N, C)})
            assertSame(new LossHinge(), new CulossHinge(), y, pre, new ActivationIdentity(), m, 2e-5);
    }

    @Test
    void logisticIsLossBinaryXentWithASigmoid() {
        INDArray pre = gaussian(N, C, 2);
        INDArray y = Nd4j.rand(DataType.FLOAT, N, C);
        for (INDArray m : new INDArray[] {null, mask(N, 1), mask(N, C)})
            assertSame(new LossBinaryXENT(), new CulossLogistic(), y, pre, new ActivationSigmoid(), m, 5e-5);
    }

    @Test
    void viewsAndColumnMajorArraysAreRead() {
        INDArray big = gaussian(N + 9, C + 4, 2);
        INDArray pre = big.get(NDArrayIndex.interval(3, 3 + N), NDArrayIndex.interval(2, 2 + C));
        INDArray y = softLabels(N, C);
        assertSame(new LossMCXENT(), new CulossSoftmaxCrossEntropy(), y, pre, new ActivationSoftmax(), null, 2e-5);
        assertSame(new LossMCXENT(), new CulossSoftmaxCrossEntropy(), y.dup('f'), pre.dup('f'), new ActivationSoftmax(),
                null, 2e-5);
        INDArray rowsView = big.get(NDArrayIndex.interval(5, 5 + N), NDArrayIndex.all());
        INDArray ry = gaussian(N, C + 4, 1);
        assertSame(new LossMSE(), new CulossMSE(), ry, rowsView, new ActivationIdentity(), null, 2e-5);
        assertSame(new LossMSE(), new CulossMSE(), ry, rowsView.castTo(DataType.DOUBLE), new ActivationIdentity(), null,
                2e-5);
    }

    @Test
    void refusalsNameWhatIsWrong() {
        INDArray pre = gaussian(4, 3, 1);
        INDArray y = oneHot(4, 3, new int[] {0, 1, 2, 0});
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new CulossSoftmaxCrossEntropy().computeScore(y, pre, new ActivationTanH(), null, true));
        assertTrue(e.getMessage().contains("SOFTMAX") && e.getMessage().contains("tanh"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new CulossLogistic().computeScore(y, pre, new ActivationSoftmax(), null, true));
        assertTrue(e.getMessage().contains("SIGMOID"), e.getMessage());
        INDArray column = Nd4j.create(new float[] {0, 1, 3, 2}, 4, 1);
        e = assertThrows(IllegalArgumentException.class,
                () -> new CulossSoftmaxCrossEntropy().computeGradient(column, pre, new ActivationSoftmax(), null));
        assertTrue(e.getMessage().contains("labels row 2 is 3.0"), e.getMessage());
        INDArray notOneHot = y.dup();
        notOneHot.putScalar(1, 0, 0.5f);
        e = assertThrows(IllegalArgumentException.class,
                () -> new CulossSoftmaxFocal().computeScore(notOneHot, pre, new ActivationSoftmax(), null, false));
        assertTrue(e.getMessage().contains("labels row 1 is not one-hot"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new CulossMSE().computeScore(gaussian(4, 2, 1), pre, new ActivationIdentity(), null, false));
        assertTrue(e.getMessage().contains("labels must have the output's shape [4, 3]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new CulossMSE().computeScore(y, pre, new ActivationIdentity(), gaussian(4, 2, 1), false));
        assertTrue(e.getMessage().contains("mask must be"), e.getMessage());
        UnsupportedOperationException u = assertThrows(UnsupportedOperationException.class,
                () -> new CulossSoftmaxCrossEntropy().computeGradient(y, pre, new ActivationSoftmax(), mask(4, 3)));
        assertTrue(u.getMessage().contains("per output"), u.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new CulossSmoothL1(-1f));
    }
}
