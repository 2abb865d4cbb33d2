package org.culoss;

import java.util.Map;
import org.culoss.internal.JavaMse;

/**
 * Mean squared error with the semantics of {@code torch.nn.functional.mse_loss}, elementwise over
 * {@code count} inputs x and targets y, d = x - y:
 * <pre>
 *   loss = d^2,   d loss / d x = 2 d
 * </pre>
 * Like PyTorch's float loss, it overflows to infinity where |d| passes 1.8e19; the gradient stays
 * finite. The default reduction is PyTorch's, {@code MEAN}.
 *
 * <pre>{@code
 * Mse loss = Mse.builder().build();
 * Mse.Result r = loss.forwardBackward(input, target);
 * }</pre>
 *
 * <p>Called like {@link SmoothL1}: {@code float[]}, host buffers, or {@link DeviceBuffer}s (the
 * fast path, with a workspace of {@link #workspaceBytes} bytes for a reduced forward). Only the
 * gradient with respect to the input is produced: the target's is its negative. Every bad
 * argument throws an {@link IllegalArgumentException} naming it, before any native call.
 * Instances are immutable and thread-safe.
 */
public final class Mse extends ElementwiseLoss<Mse.Result> {
    static final Op<Mse> OP = declare("mse", "culossMse", "input", "target", false, "gradInput",
            l -> JavaMse.KERNEL);
    static final LossDeclaration<Builder> DECLARATION = LossDeclaration.of(OP, Builder::new, Builder::backend,
                    Builder::build)
            .param(Param.reduction("mean", Builder::reduction))
            .bench(Map.of(), "16777216");

    private Mse(Builder b) {
        super(b.backend, b.reduction, OP);
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * The loss and the gradient of one {@code forwardBackward} on arrays.
     *
     * @param loss      one value for {@code SUM}/{@code MEAN}, one per element for {@code NONE}
     * @param gradInput one per element; the target's gradient is its negative
     */
    public record Result(float[] loss, float[] gradInput) {}

    @Override
    Result result(float[] loss, float[] grad) {
        return new Result(loss, grad);
    }

    /** The options of an {@link Mse}: the backend and the reduction (default {@code MEAN}). */
    public static final class Builder extends LossBuilder<Builder> {
        private Builder() {
            super(Reduction.MEAN);
        }

        public Mse build() {
            return new Mse(this);
        }
    }
}
