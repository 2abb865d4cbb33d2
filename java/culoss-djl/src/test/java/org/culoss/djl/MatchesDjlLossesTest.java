package org.culoss.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.djl.training.loss.HingeLoss;
import ai.djl.training.loss.L1Loss;
import ai.djl.training.loss.L2Loss;
import ai.djl.training.loss.Loss;
import ai.djl.training.loss.SigmoidBinaryCrossEntropyLoss;
import ai.djl.training.loss.SoftmaxCrossEntropyLoss;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Each culoss DJL loss against DJL's own on PyTorch's CPU engine: the value, the gradient DJL's
 * autograd takes through the surrogate, and a short training run of a linear model.
 */
class MatchesDjlLossesTest {
    static NDManager manager;
    final Random random = new Random(5);

    @BeforeAll
    static void engine() {
        manager = NDManager.newBaseManager("PyTorch");
    }

    @AfterAll
    static void close() {
        manager.close();
    }

    NDArray gaussian(long n, long c, double scale) {
        float[] v = new float[(int) (n * c)];
        for (int i = 0; i < v.length; i++) v[i] = (float) (random.nextGaussian() * scale);
        return manager.create(v, new Shape(n, c));
    }

    /** The loss's value and its gradient with respect to {@code pred}. */
    static float[][] valueAndGradient(Loss loss, NDArray label, NDArray pred) {
        NDArray x = pred.duplicate();
        x.setRequiresGradient(true);
        try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
            NDArray l = loss.evaluate(new NDList(label), new NDList(x));
            gc.backward(l);
            return new float[][] {{l.getFloat()}, x.getGradient().toFloatArray()};
        }
    }

    static void assertSame(Loss theirs, Loss ours, NDArray label, NDArray pred, double tol) {
        float[][] t = valueAndGradient(theirs, label, pred);
        float[][] o = valueAndGradient(ours, label, pred);
        assertEquals(t[0][0], o[0][0], tol * Math.max(1, Math.abs(t[0][0])), ours.getName() + " value");
        double scale = 0;
        for (float v : t[1]) scale = Math.max(scale, Math.abs(v));
        assertEquals(t[1].length, o[1].length);
        for (int i = 0; i < t[1].length; i++)
            assertEquals(t[1][i], o[1][i], tol * Math.max(1e-3, scale), ours.getName() + " gradient " + i);
    }

    @Test
    void softmaxCrossEntropyIsDjls() {
        NDArray pred = gaussian(33, 7, 2);
        int[] k = new int[33];
        for (int i = 0; i < k.length; i++) k[i] = random.nextInt(7);
        NDArray sparse = manager.create(k).toType(DataType.INT64, false);
        assertSame(new SoftmaxCrossEntropyLoss(), new CulossSoftmaxCrossEntropyLoss(), sparse, pred, 2e-6);
        assertSame(new SoftmaxCrossEntropyLoss(), new CulossSoftmaxCrossEntropyLoss(), sparse.toType(DataType.FLOAT32, false),
                pred, 2e-6);
        NDArray soft = gaussian(33, 7, 1).softmax(-1);
        assertSame(new SoftmaxCrossEntropyLoss("ce", 1, -1, false, true), new CulossSoftmaxCrossEntropyLoss(), soft, pred,
                2e-6);
        // a non-contiguous tensor: read through a contiguous copy
        NDArray transposed = gaussian(7, 33, 2).transpose();
        assertSame(new SoftmaxCrossEntropyLoss(), new CulossSoftmaxCrossEntropyLoss(), sparse, transposed, 2e-6);
    }

    @Test
    void elementwiseLossesAreDjls() {
        NDArray pred = gaussian(19, 6, 1.5);
        NDArray values = gaussian(19, 6, 1);
        assertSame(new L1Loss(), CulossElementwiseLoss.l1(1f), values, pred, 2e-6);
        assertSame(new L1Loss("l1", 1), CulossElementwiseLoss.l1(1f), values.reshape(19 * 6), pred, 2e-6);
        assertSame(new L2Loss(), CulossElementwiseLoss.l2(0.5f), values, pred, 2e-6);
        assertSame(new L2Loss("l2", 3f), CulossElementwiseLoss.l2(3f), values, pred, 2e-6);
        NDArray probabilities = manager.randomUniform(0, 1, new Shape(19, 6));
        assertSame(new SigmoidBinaryCrossEntropyLoss(), CulossElementwiseLoss.sigmoidBinaryCrossEntropy(1f, 1f),
                probabilities, pred, 2e-6);
        NDArray signs = values.sign();
        assertSame(new HingeLoss(), CulossElementwiseLoss.hinge(1f, 1f), signs, pred, 2e-6);
        assertSame(new HingeLoss("hinge", 2, 0.5f), CulossElementwiseLoss.hinge(2f, 0.5f), signs, pred, 2e-6);
    }

    /** Focal loss written with DJL's operators: DJL has none of its own. */
    static final class DjlFocal extends Loss {
        DjlFocal() {
            super("focal written in DJL");
        }

        @Override
        public NDArray evaluate(NDList label, NDList prediction) {
            NDArray logp = prediction.singletonOrThrow().logSoftmax(-1);
            NDArray picked = logp.get(new ai.djl.ndarray.index.NDIndex().addAllDim().addPickDim(label.singletonOrThrow()));
            NDArray p = picked.exp();
            return p.neg().add(1f).pow(2f).mul(picked).neg().mul(0.5f).mean();
        }
    }

    @Test
    void softmaxFocalIsTheFormulaInDjl() {
        NDArray pred = gaussian(21, 5, 2);
        int[] k = new int[21];
        for (int i = 0; i < k.length; i++) k[i] = random.nextInt(5);
        assertSame(new DjlFocal(), new CulossSoftmaxFocalLoss(2f, 0.5f), manager.create(k).toType(DataType.INT64, false),
                pred, 5e-6);
    }

    /** Plain gradient descent on a linear model: the loss after each step. */
    static List<Float> train(Loss loss, NDArray x, NDArray y, int classes) {
        NDArray w = manager.zeros(new Shape(x.getShape().get(1), classes));
        w.setRequiresGradient(true);
        List<Float> curve = new ArrayList<>();
        for (int step = 0; step < 20; step++) {
            try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
                NDArray l = loss.evaluate(new NDList(y), new NDList(x.matMul(w)));
                gc.backward(l);
                curve.add(l.getFloat());
            }
            w.subi(w.getGradient().mul(0.5f));
            w.getGradient().subi(w.getGradient());
        }
        return curve;
    }

    @Test
    void aShortTrainingRunFollowsDjlsLoss() {
        NDArray x = gaussian(64, 10, 1);
        int[] k = new int[64];
        for (int i = 0; i < 64; i++) k[i] = Math.floorMod((int) Math.floor(2 * x.getFloat(i, 0) + x.getFloat(i, 1)), 4);
        NDArray y = manager.create(k);
        List<Float> theirs = train(new SoftmaxCrossEntropyLoss(), x, y, 4);
        List<Float> ours = train(new CulossSoftmaxCrossEntropyLoss(), x, y, 4);
        for (int i = 0; i < theirs.size(); i++)
            assertEquals(theirs.get(i), ours.get(i), 1e-5 * Math.max(1, theirs.get(i)), "step " + i + ": " + theirs + " vs " + ours);
        assertTrue(ours.get(ours.size() - 1) < 0.9 * ours.get(0), "did not learn: " + ours);
    }

    /** What the no-copy claim rests on: on the CPU both directions are views of the same memory. */
    @Test
    void cpuTensorsAreReadAndMadeInPlace() {
        NDArray x = gaussian(3, 4, 1);
        java.nio.ByteBuffer view = x.toByteBuffer(true);
        assertTrue(view.isDirect());
        view.order(java.nio.ByteOrder.nativeOrder()).putFloat(4 * 5, 42f);
        assertEquals(42f, x.getFloat(1, 1), "toByteBuffer(true) is a view of the tensor");
        java.nio.ByteBuffer g = manager.allocateDirect(12 * 4).order(java.nio.ByteOrder.nativeOrder());
        NDArray wrapped = manager.create(g, new Shape(3, 4), DataType.FLOAT32);
        g.putFloat(4 * 7, -3f);
        assertEquals(-3f, wrapped.getFloat(1, 3), "create(direct buffer) wraps it");
    }

    @Test
    void refusalsNameWhatIsWrong() {
        NDArray pred = gaussian(4, 3, 1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new CulossSoftmaxCrossEntropyLoss()
                .evaluate(new NDList(manager.create(new int[] {0, 1, 3, 2})), new NDList(pred)));
        assertTrue(e.getMessage().contains("label 2 is 3"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new CulossSoftmaxCrossEntropyLoss()
                .evaluate(new NDList(manager.create(new int[] {0, 1})), new NDList(pred)));
        assertTrue(e.getMessage().contains("one class per example (4)"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> CulossElementwiseLoss.l1(1f)
                .evaluate(new NDList(gaussian(4, 2, 1)), new NDList(pred)));
        assertTrue(e.getMessage().contains("predictions' 12 elements"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new CulossSoftmaxCrossEntropyLoss()
                .evaluate(new NDList(manager.create(new int[] {0, 1, 2, 0})), new NDList(pred.toType(DataType.FLOAT64, false))));
        assertTrue(e.getMessage().contains("float32"), e.getMessage());
    }
}
