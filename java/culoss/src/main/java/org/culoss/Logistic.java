package org.culoss;

import java.util.Map;
import org.culoss.internal.JavaLogistic;

/**
 * The logistic loss, binary cross-entropy with logits, with the semantics of
 * {@code torch.nn.functional.binary_cross_entropy_with_logits} and a scalar {@code pos_weight} p
 * (default 1: none), elementwise over {@code count} logits x and targets t (any real; probabilities
 * in practice), lw = (p - 1) t + 1:
 * <pre>
 *   loss = (1 - t) x + lw (log(1 + exp(-|x|)) + max(-x, 0)),   d loss / d x = lw sigmoid(x) - p t
 * </pre>
 * computed without cancellation, so confident logits (|x| = 30 and more) keep the digits of their
 * small loss and gradient. The default reduction is PyTorch's, {@code MEAN}. A per-element
 * {@code weight} or a per-class {@code pos_weight} tensor are not taken yet.
 *
 * <pre>{@code
 * Logistic loss = Logistic.builder().posWeight(3f).build();
 * Logistic.Result r = loss.forwardBackward(logits, targets);
 * }</pre>
 *
 * <p>Called like {@link SmoothL1}: {@code float[]}, host buffers, or {@link DeviceBuffer}s (the
 * fast path, with a workspace of {@link #workspaceBytes} bytes for a reduced forward). Only the
 * gradient with respect to the logits is produced. Every bad argument throws an
 * {@link IllegalArgumentException} naming it, before any native call. Instances are immutable
 * and thread-safe.
 */
public final class Logistic extends ElementwiseLoss<Logistic.Result> {
    private final float posWeight;

    private Logistic(Builder b) {
        super(b.backend, b.reduction, OP, b.posWeight);
        this.posWeight = b.posWeight;
    }

    public static Builder builder() {
        return new Builder();
    }

    public float posWeight() {
        return posWeight;
    }

    /**
     * The loss and the gradient of one {@code forwardBackward} on arrays.
     *
     * @param loss       one value for {@code SUM}/{@code MEAN}, one per element for {@code NONE}
     * @param gradLogits one per element
     */
    public record Result(float[] loss, float[] gradLogits) {}

    @Override
    Result result(float[] loss, float[] grad) {
        return new Result(loss, grad);
    }

    static final Op<Logistic> OP = declare("logistic", "culossLogistic", "logits", "targets", false, "gradLogits",
            l -> JavaLogistic.kernel(l.posWeight));
    static final LossDeclaration<Builder> DECLARATION = LossDeclaration.of(OP, Builder::new, Builder::backend,
                    Builder::build)
            .param(Param.numberOrNull("pos_weight", "1", Builder::posWeight))
            .param(Param.reduction("mean", Builder::reduction))
            .bench(Map.of(), "16777216");

    /** The options of a {@link Logistic}: pos_weight (default 1), the backend and the reduction (default {@code MEAN}). */
    public static final class Builder extends LossBuilder<Builder> {
        private float posWeight = 1f;

        private Builder() {
            super(Reduction.MEAN);
        }

        /** The weight of the positive term, p: any finite float (1: none). */
        public Builder posWeight(float posWeight) {
            if (!Float.isFinite(posWeight)) {
                throw new IllegalArgumentException("posWeight (" + posWeight + ") is not finite");
            }
            this.posWeight = posWeight;
            return this;
        }

        public Logistic build() {
            return new Logistic(this);
        }
    }
}
