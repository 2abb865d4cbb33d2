package org.culoss;

import java.util.Map;
import org.culoss.internal.JavaHinge;

/**
 * The binary hinge loss, elementwise over {@code count} scores s and targets y in {-1, 1}, with a
 * margin m (default 1), z = m - y s:
 * <pre>
 *   loss = max(z, 0),   d loss / d s = -y where z >= 0, else 0
 * </pre>
 * as {@code torch.clamp(m - y * s, min=0)} computes it: a NaN score gives a NaN loss and a 0
 * gradient, and the kink z = 0 takes the gradient -y. Targets are not checked: another value
 * enters the formula as it is. The default reduction is {@code MEAN}.
 *
 * <pre>{@code
 * Hinge loss = Hinge.builder().margin(1f).build();
 * Hinge.Result r = loss.forwardBackward(scores, targets);
 * }</pre>
 *
 * <p>Called like {@link SmoothL1}: {@code float[]}, host buffers, or {@link DeviceBuffer}s (the
 * fast path, with a workspace of {@link #workspaceBytes} bytes for a reduced forward). Only the
 * gradient with respect to the scores is produced. Every bad argument throws an
 * {@link IllegalArgumentException} naming it, before any native call. Instances are immutable
 * and thread-safe.
 */
public final class Hinge extends ElementwiseLoss<Hinge.Result> {
    private final float margin;

    private Hinge(Builder b) {
        super(b.backend, b.reduction, OP, b.margin);
        this.margin = b.margin;
    }

    public static Builder builder() {
        return new Builder();
    }

    public float margin() {
        return margin;
    }

    /**
     * The loss and the gradient of one {@code forwardBackward} on arrays.
     *
     * @param loss       one value for {@code SUM}/{@code MEAN}, one per element for {@code NONE}
     * @param gradScores one per element
     */
    public record Result(float[] loss, float[] gradScores) {}

    @Override
    Result result(float[] loss, float[] grad) {
        return new Result(loss, grad);
    }

    static final Op<Hinge> OP = declare("hinge", "culossHinge", "scores", "targets", false, "gradScores",
            l -> JavaHinge.kernel(l.margin));
    static final LossDeclaration<Builder> DECLARATION = LossDeclaration.of(OP, Builder::new, Builder::backend,
                    Builder::build)
            .param(Param.number("margin", "1", Builder::margin))
            .param(Param.reduction("mean", Builder::reduction))
            .bench(Map.of(), "16777216");

    /** The options of a {@link Hinge}: the margin (default 1), the backend and the reduction (default {@code MEAN}). */
    public static final class Builder extends LossBuilder<Builder> {
        private float margin = 1f;

        private Builder() {
            super(Reduction.MEAN);
        }

        /** The margin m: any finite float. */
        public Builder margin(float margin) {
            if (!Float.isFinite(margin)) throw new IllegalArgumentException("margin (" + margin + ") is not finite");
            this.margin = margin;
            return this;
        }

        public Hinge build() {
            return new Hinge(this);
        }
    }
}
