package org.culoss;

import java.nio.FloatBuffer;
import java.util.Map;
import org.culoss.internal.JavaSmoothL1;

/**
 * Huber loss with the semantics of {@code torch.nn.functional.huber_loss}, elementwise over
 * {@code count} inputs x and targets y, d = x - y:
 * <pre>
 *   loss = |d| &lt; delta ? 0.5 d^2 : delta (|d| - 0.5 delta)
 *   d loss / d x = d &lt;= -delta ? -delta : d &gt;= delta ? delta : d
 * </pre>
 * that is, delta times {@link SmoothL1} with beta = delta. delta must be positive. Defaults are
 * PyTorch's: delta 1, reduction {@code MEAN}. Called like {@link SmoothL1} (arrays, host buffers,
 * device buffers); only the gradient with respect to the input is produced, the target's is its
 * negative. Instances are immutable and thread-safe.
 */
public final class Huber extends ElementwiseLoss<Huber.Result> {
    private final float delta;

    private Huber(Builder b) {
        super(b.backend, b.reduction, OP, b.delta);
        this.delta = b.delta;
    }

    public static Builder builder() {
        return new Builder();
    }

    public float delta() {
        return delta;
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

    static final Op<Huber> OP = declare("huber", "culossHuber", "input", "target", false, "gradInput",
            l -> JavaSmoothL1.kernel(true, l.delta));
    static final LossDeclaration<Builder> DECLARATION = LossDeclaration.of(OP, Builder::new, Builder::backend,
                    Builder::build)
            .param(Param.number("delta", "1", Builder::delta))
            .param(Param.reduction("mean", Builder::reduction))
            .bench(Map.of(), "16777216");


    /** The options of a {@link Huber}; defaults are PyTorch's. */
    public static final class Builder extends LossBuilder<Builder> {
        private float delta = 1f;

        private Builder() {
            super(Reduction.MEAN);
        }

        /** Where the loss turns from quadratic to linear: positive (default 1). */
        public Builder delta(float delta) {
            if (!(delta > 0)) throw new IllegalArgumentException("delta (" + delta + ") is not positive");
            this.delta = delta;
            return this;
        }

        public Huber build() {
            return new Huber(this);
        }
    }
}
