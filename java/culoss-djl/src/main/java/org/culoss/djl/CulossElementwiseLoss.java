package org.culoss.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import java.nio.FloatBuffer;
import java.util.function.BiFunction;
import org.culoss.Backend;
import org.culoss.ElementwiseLoss;
import org.culoss.Reduction;

/**
 * The losses of each prediction against its label, as DJL's {@code L1Loss}, {@code L2Loss},
 * {@code SigmoidBinaryCrossEntropyLoss} and {@code HingeLoss} give them: labels reshaped to the
 * predictions' shape, the mean over every element, times a weight. Each named loss is a factory
 * method here: {@link #l1}, {@link #l2}, {@link #sigmoidBinaryCrossEntropy}, {@link #hinge},
 * {@link #smoothL1}, {@link #huber}, {@link #sigmoidFocal}.
 */
public final class CulossElementwiseLoss extends CulossLoss {
    private final BiFunction<Backend, Reduction, ElementwiseLoss<?>> factory;
    private final float weight;
    private ElementwiseLoss<?> loss;

    private CulossElementwiseLoss(String name, float weight, BiFunction<Backend, Reduction, ElementwiseLoss<?>> factory) {
        super(name);
        this.factory = factory;
        this.weight = weight;
        rebuild();
    }

    /** {@code weight * mean |label - prediction|} (DJL's {@code L1Loss}, weight 1). */
    public static CulossElementwiseLoss l1(float weight) {
        return new CulossElementwiseLoss("CulossL1Loss", weight,
                (b, r) -> org.culoss.L1.builder().backend(b).reduction(r).build());
    }

    /** {@code weight * mean (label - prediction)^2} (DJL's {@code L2Loss}, weight 1/2). */
    public static CulossElementwiseLoss l2(float weight) {
        return new CulossElementwiseLoss("CulossL2Loss", weight,
                (b, r) -> org.culoss.Mse.builder().backend(b).reduction(r).build());
    }

    /** Binary cross-entropy from logits with {@code pos_weight} (DJL's {@code SigmoidBinaryCrossEntropyLoss}: 1, 1). */
    public static CulossElementwiseLoss sigmoidBinaryCrossEntropy(float weight, float posWeight) {
        return new CulossElementwiseLoss("CulossSigmoidBinaryCrossEntropyLoss", weight,
                (b, r) -> org.culoss.Logistic.builder().backend(b).reduction(r).posWeight(posWeight).build());
    }

    /** {@code weight * mean max(margin - label * prediction, 0)}, labels in {-1, 1} (DJL's {@code HingeLoss}). */
    public static CulossElementwiseLoss hinge(float margin, float weight) {
        return new CulossElementwiseLoss("CulossHingeLoss", weight,
                (b, r) -> org.culoss.Hinge.builder().backend(b).reduction(r).margin(margin).build());
    }

    /** {@code F.smooth_l1_loss}'s mean. */
    public static CulossElementwiseLoss smoothL1(float beta) {
        return new CulossElementwiseLoss("CulossSmoothL1Loss", 1f,
                (b, r) -> org.culoss.SmoothL1.builder().backend(b).reduction(r).beta(beta).build());
    }

    /** {@code F.huber_loss}'s mean. */
    public static CulossElementwiseLoss huber(float delta) {
        return new CulossElementwiseLoss("CulossHuberLoss", 1f,
                (b, r) -> org.culoss.Huber.builder().backend(b).reduction(r).delta(delta).build());
    }

    /** {@code torchvision.ops.sigmoid_focal_loss}'s mean, from logits. */
    public static CulossElementwiseLoss sigmoidFocal(float alpha, float gamma) {
        return new CulossElementwiseLoss("CulossSigmoidFocalLoss", 1f,
                (b, r) -> org.culoss.SigmoidFocal.builder().backend(b).reduction(r).alpha(alpha).gamma(gamma).build());
    }

    @Override
    void rebuild() {
        loss = factory.apply(backend(), Reduction.MEAN);
    }

    @Override
    double compute(NDArray label, FloatBuffer x, Shape shape, FloatBuffer grad) {
        if (label.size() != shape.size())
            throw new IllegalArgumentException(getName() + ": labels must have the predictions' " + shape.size()
                    + " elements (shape " + shape + "), got shape " + label.getShape());
        int count = Math.toIntExact(shape.size());
        float[] value = new float[1];
        loss.forwardBackward(x, floats(label), count, FloatBuffer.wrap(new float[] {weight}), FloatBuffer.wrap(value),
                grad);
        return (double) value[0] * weight;
    }
}
