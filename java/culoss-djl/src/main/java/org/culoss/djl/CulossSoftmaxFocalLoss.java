package org.culoss.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import org.culoss.Reduction;
import org.culoss.SoftmaxFocal;

/**
 * Softmax focal loss from logits ({@code -alpha_y (1 - p_y)^gamma log p_y}, Lin et al.), the
 * mean over the examples; classes on the last axis, one class index per example.
 */
public final class CulossSoftmaxFocalLoss extends CulossLoss {
    private final float gamma;
    private final float alpha;
    private SoftmaxFocal loss;

    /** gamma 2, alpha 1. */
    public CulossSoftmaxFocalLoss() {
        this(2f, 1f);
    }

    public CulossSoftmaxFocalLoss(float gamma, float alpha) {
        super("CulossSoftmaxFocalLoss");
        this.gamma = gamma;
        this.alpha = alpha;
        rebuild();
    }

    @Override
    void rebuild() {
        loss = SoftmaxFocal.builder().backend(backend()).reduction(Reduction.MEAN).noIgnoreIndex().gamma(gamma)
                .alpha(alpha).build();
    }

    @Override
    double compute(NDArray label, FloatBuffer x, Shape shape, FloatBuffer grad) {
        int c = Math.toIntExact(shape.get(shape.dimension() - 1));
        int n = Math.toIntExact(shape.size() / Math.max(c, 1));
        int[] classes = CulossSoftmaxCrossEntropyLoss.classIndices(this, label, n, c, shape);
        float[] value = new float[1];
        loss.forwardBackward(x, c, IntBuffer.wrap(classes), n, c, null, FloatBuffer.wrap(value), grad, c);
        return value[0];
    }

    @Override
    public String toString() {
        return getName() + "(gamma=" + gamma + ", alpha=" + alpha + ")";
    }
}
