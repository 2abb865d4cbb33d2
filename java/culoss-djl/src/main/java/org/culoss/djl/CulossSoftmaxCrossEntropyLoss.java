package org.culoss.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.util.Arrays;
import org.culoss.Reduction;
import org.culoss.SoftmaxCrossEntropy;

/**
 * Softmax cross-entropy from logits, DJL's {@code SoftmaxCrossEntropyLoss} (classes on the last
 * axis, the mean over the examples) in one culoss pass: labels are class indices (one per
 * example, any integer or float type) or, when they have the predictions' shape, probabilities
 * per class (one-hot or soft). Optional class weights and label smoothing are
 * {@code F.cross_entropy}'s (the mean is then PyTorch's: over the summed weights).
 */
public final class CulossSoftmaxCrossEntropyLoss extends CulossLoss {
    private final float[] classWeights;
    private final float labelSmoothing;
    private SoftmaxCrossEntropy loss;

    public CulossSoftmaxCrossEntropyLoss() {
        this(null, 0f);
    }

    public CulossSoftmaxCrossEntropyLoss(float[] classWeights, float labelSmoothing) {
        super("CulossSoftmaxCrossEntropyLoss");
        this.classWeights = classWeights == null ? null : classWeights.clone();
        this.labelSmoothing = labelSmoothing;
        rebuild();
    }

    @Override
    void rebuild() {
        loss = SoftmaxCrossEntropy.builder().backend(backend()).reduction(Reduction.MEAN).noIgnoreIndex()
                .classWeights(classWeights).labelSmoothing(labelSmoothing).build();
    }

    @Override
    double compute(NDArray label, FloatBuffer x, Shape shape, FloatBuffer grad) {
        int c = Math.toIntExact(shape.get(shape.dimension() - 1));
        int n = Math.toIntExact(shape.size() / Math.max(c, 1));
        float[] value = new float[1];
        if (label.getShape().equals(shape)) {
            loss.forwardBackwardProbs(x, c, floats(label), n, c, null, FloatBuffer.wrap(value), grad, c);
        } else {
            int[] classes = classIndices(this, label, n, c, shape);
            loss.forwardBackward(x, c, IntBuffer.wrap(classes), n, c, null, FloatBuffer.wrap(value), grad, c);
        }
        return value[0];
    }

    /** One class index per example, each checked to name a class. */
    static int[] classIndices(CulossLoss who, NDArray label, int n, int c, Shape shape) {
        if (label.size() != n)
            throw new IllegalArgumentException(who.getName() + ": labels must be one class per example (" + n
                    + ") or probabilities of the predictions' shape " + shape + ", got " + label.getShape());
        int[] classes = label.toType(DataType.INT32, false).toIntArray();
        for (int i = 0; i < n; i++) {
            if (classes[i] < 0 || classes[i] >= c)
                throw new IllegalArgumentException(who.getName() + ": label " + i + " is " + classes[i]
                        + ", not a class in [0, " + c + ")");
        }
        return classes;
    }

    @Override
    public String toString() {
        return getName() + "(" + (classWeights == null ? "" : "classWeights=" + Arrays.toString(classWeights) + ", ")
                + "labelSmoothing=" + labelSmoothing + ")";
    }
}
