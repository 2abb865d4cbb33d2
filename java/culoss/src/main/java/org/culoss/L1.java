package org.culoss;

import java.util.Map;
import org.culoss.internal.JavaL1;

/**
 * L1 loss with the semantics of {@code torch.nn.functional.l1_loss}, elementwise over
 * {@code count} inputs x and targets y, d = x - y:
 * <pre>
 *   loss = |d|,   d loss / d x = sign(d)
 * </pre>
 * with PyTorch's sign: 0 at d = 0, and 0 where d is NaN (whose loss is NaN). The default reduction
 * is PyTorch's, {@code MEAN}.
 *
 * <pre>{@code
 * L1 loss = L1.builder().build();
 * L1.Result r = loss.forwardBackward(input, target);
 * }</pre>
 *
 * <p>Called like {@link SmoothL1}: {@code float[]}, host buffers, or {@link DeviceBuffer}s (the
 * fast path, with a workspace of {@link #workspaceBytes} bytes for a reduced forward). Only the
 * gradient with respect to the input is produced: the target's is its negative. Every bad
 * argument throws an {@link IllegalArgumentException} naming it, before any native call.
 * Instances are immutable and thread-safe.
 */
public final class L1 extends ElementwiseLoss<L1.Result> {
    static final Op<L1> OP = declare("l1", "culossL1", "input", "target", false, "gradInput",
            l -> JavaL1.KERNEL);
    static final LossDeclaration<Builder> DECLARATION = LossDeclaration.of(OP, Builder::new, Builder::backend,
                    Builder::build)
            .param(Param.reduction("mean", Builder::reduction))
            .bench(Map.of(), "16777216");

    private L1(Builder b) {
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

    /** The options of an {@link L1}: the backend and the reduction (default {@code MEAN}). */
    public static final class Builder extends LossBuilder<Builder> {
        private Builder() {
            super(Reduction.MEAN);
        }

        public L1 build() {
            return new L1(this);
        }
    }
}
