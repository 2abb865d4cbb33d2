package org.culoss;

import java.nio.FloatBuffer;
import java.util.Map;
import org.culoss.internal.JavaSmoothL1;

/**
 * Smooth L1 loss with the semantics of {@code torch.nn.functional.smooth_l1_loss}, elementwise
 * over {@code count} inputs x and targets y, d = x - y:
 * <pre>
 *   loss = |d| &lt; beta ? 0.5 d^2 / beta : |d| - 0.5 beta
 *   d loss / d x = d &lt;= -beta ? -1 : d &gt;= beta ? 1 : d / beta
 * </pre>
 * beta = 0 is the L1 loss with gradient sign(d), sign(0) = 0 (as PyTorch 2.1 and later; 1.13
 * gives -1 at d = 0). Defaults are PyTorch's: beta 1, reduction {@code MEAN}.
 *
 * <pre>{@code
 * SmoothL1 loss = SmoothL1.builder().beta(0.5f).build();
 * SmoothL1.Result r = loss.forwardBackward(input, target);
 * }</pre>
 *
 * <p>Three ways to call it: {@code float[]} (the count is the array length), host
 * {@link FloatBuffer}s, heap or direct (used from their position; the emulated backend reads
 * direct ones in place), and {@link DeviceBuffer}s (the fast path: no copy, no synchronisation,
 * queued on the stream of the input buffer; {@code forward}/{@code forwardBackward} with {@code SUM}
 * or {@code MEAN} take a workspace of {@link #workspaceBytes} bytes). {@code NONE} takes one upstream
 * gradient per element, {@code SUM}/{@code MEAN} one scalar; the {@code MEAN} of no elements is 0
 * (PyTorch: NaN). Only the gradient with respect to the input is produced: the gradient with
 * respect to the target is its negative. Every bad argument throws an
 * {@link IllegalArgumentException} naming it, before any native call. Instances are immutable and
 * thread-safe.
 */
public final class SmoothL1 extends ElementwiseLoss<SmoothL1.Result> {
    private final float beta;

    private SmoothL1(Builder b) {
        super(b.backend, b.reduction, OP, b.beta);
        this.beta = b.beta;
    }

    public static Builder builder() {
        return new Builder();
    }

    public float beta() {
        return beta;
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

    static final Op<SmoothL1> OP = declare("smooth_l1", "culossSmoothL1", "input", "target", false, "gradInput",
            l -> JavaSmoothL1.kernel(false, l.beta));
    static final LossDeclaration<Builder> DECLARATION = LossDeclaration.of(OP, Builder::new, Builder::backend,
                    Builder::build)
            .param(Param.number("beta", "1", Builder::beta))
            .param(Param.reduction("mean", Builder::reduction))
            .bench(Map.of(), "16777216");


    /** The options of a {@link SmoothL1}; defaults are PyTorch's. */
    public static final class Builder extends LossBuilder<Builder> {
        private float beta = 1f;

        private Builder() {
            super(Reduction.MEAN);
        }

        /** Where the loss turns from quadratic to linear: at least 0 (0: the L1 loss; default 1). */
        public Builder beta(float beta) {
            if (!(beta >= 0)) throw new IllegalArgumentException("beta (" + beta + ") is negative or NaN");
            this.beta = beta;
            return this;
        }

        public SmoothL1 build() {
            return new SmoothL1(this);
        }
    }
}
