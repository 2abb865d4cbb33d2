package org.culoss;

import java.nio.FloatBuffer;
import java.util.Map;
import org.culoss.internal.JavaSigmoidFocal;

/**
 * Sigmoid focal loss with the semantics of {@code torchvision.ops.sigmoid_focal_loss}, elementwise
 * over logits x and targets t in [0, 1] (soft labels allowed), both [N, C] flattened to
 * {@code count = N * C} elements:
 * <pre>
 *   p = sigmoid(x),  ce = -t log p - (1 - t) log(1 - p),  p_t = p t + (1 - p)(1 - t)
 *   loss = a_t ce (1 - p_t)^gamma,  a_t = alpha t + (1 - alpha)(1 - t), or 1 when alpha &lt; 0
 * </pre>
 * computed without cancellation, so saturated logits (|x| = 1e4) and gamma in [0, 1) give a
 * finite loss and gradient (torchvision's own formula gives NaN gradients there). A target
 * outside [0, 1] is not refused: as in torchvision it enters the formula as it is (1 - p_t may then
 * be negative, NaN under a non-integer gamma). Defaults are torchvision's: alpha 0.25, gamma 2,
 * reduction {@code NONE}.
 *
 * <pre>{@code
 * SigmoidFocal focal = SigmoidFocal.builder().reduction(Reduction.MEAN).build();
 * SigmoidFocal.Result r = focal.forwardBackward(logits, targets);  // float[n * c] each
 * }</pre>
 *
 * <p>Three ways to call it: {@code float[]} (the count is the array length), host
 * {@link FloatBuffer}s, heap or direct (used from their position; the emulated backend reads
 * direct ones in place), and {@link DeviceBuffer}s (the fast path: no copy, no synchronisation,
 * queued on the stream of the logits buffer; {@code forward}/{@code forwardBackward} with {@code SUM}
 * or {@code MEAN} take a workspace of {@link #workspaceBytes} bytes). {@code NONE} takes one upstream
 * gradient per element, {@code SUM}/{@code MEAN} one scalar; the {@code MEAN} of no elements is 0
 * (PyTorch: NaN). Only the gradient with respect to the logits is produced. Every bad argument
 * throws an {@link IllegalArgumentException} naming it, before any native call. Instances are
 * immutable and thread-safe.
 */
public final class SigmoidFocal extends ElementwiseLoss<SigmoidFocal.Result> {
    private final float alpha;
    private final float gamma;

    private SigmoidFocal(Builder b) {
        super(b.backend, b.reduction, OP, b.alpha, b.gamma);
        this.alpha = b.alpha;
        this.gamma = b.gamma;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Negative: no class weighting. */
    public float alpha() {
        return alpha;
    }

    public float gamma() {
        return gamma;
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

    static final Op<SigmoidFocal> OP = declare("sigmoid_focal", "culossSigmoidFocal", "logits", "targets", true,
            "gradLogits",
            l -> JavaSigmoidFocal.kernel(l.alpha, l.gamma));
    static final LossDeclaration<Builder> DECLARATION = LossDeclaration.of(OP, Builder::new, Builder::backend,
                    Builder::build)
            .param(Param.number("alpha", "0.25", Builder::alpha))
            .param(Param.number("gamma", "2", Builder::gamma))
            .param(Param.reduction("none", Builder::reduction))
            .bench(Map.of("reduction", "mean"), "4096x10", "4096x1000", "512x32000", "64x131072");


    /** The options of a {@link SigmoidFocal}; defaults are torchvision's. */
    public static final class Builder extends LossBuilder<Builder> {
        private float alpha = 0.25f;
        private float gamma = 2f;

        private Builder() {
            super(Reduction.NONE);
        }

        /** The weight of the positive class, finite; negative turns the weighting off (default 0.25). */
        public Builder alpha(float alpha) {
            this.alpha = Checks.finite(alpha, "alpha");
            return this;
        }

        /** The focusing exponent, finite and at least 0 (default 2). */
        public Builder gamma(float gamma) {
            Checks.finite(gamma, "gamma");
            if (gamma < 0) throw new IllegalArgumentException("gamma (" + gamma + ") is negative");
            this.gamma = gamma;
            return this;
        }

        public SigmoidFocal build() {
            return new SigmoidFocal(this);
        }
    }
}
