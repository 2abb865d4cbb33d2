package org.culoss;

import java.util.Map;
import org.culoss.internal.JavaExponential;

/**
 * The exponential loss of AdaBoost, elementwise over {@code count} scores s and targets y in
 * {-1, 1}:
 * <pre>
 *   loss = exp(-y s),   d loss / d s = -y exp(-y s)
 * </pre>
 * The loss overflows to infinity where -y s passes 88.72, as a float exponential does; wherever
 * the loss is finite, so is the gradient. Targets are not checked: another value enters the
 * formula as it is. The default reduction is {@code MEAN}.
 *
 * <pre>{@code
 * Exponential loss = Exponential.builder().build();
 * Exponential.Result r = loss.forwardBackward(scores, targets);
 * }</pre>
 *
 * <p>Called like {@link SmoothL1}: {@code float[]}, host buffers, or {@link DeviceBuffer}s (the
 * fast path, with a workspace of {@link #workspaceBytes} bytes for a reduced forward). Only the
 * gradient with respect to the scores is produced. Every bad argument throws an
 * {@link IllegalArgumentException} naming it, before any native call. Instances are immutable
 * and thread-safe.
 */
public final class Exponential extends ElementwiseLoss<Exponential.Result> {
    static final Op<Exponential> OP = declare("exponential", "culossExponential", "scores", "targets", false,
            "gradScores", l -> JavaExponential.KERNEL);
    static final LossDeclaration<Builder> DECLARATION = LossDeclaration.of(OP, Builder::new, Builder::backend,
                    Builder::build)
            .param(Param.reduction("mean", Builder::reduction))
            .bench(Map.of(), "16777216");

    private Exponential(Builder b) {
        super(b.backend, b.reduction, OP);
    }

    public static Builder builder() {
        return new Builder();
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

    /** The options of an {@link Exponential}: the backend and the reduction (default {@code MEAN}). */
    public static final class Builder extends LossBuilder<Builder> {
        private Builder() {
            super(Reduction.MEAN);
        }

        public Exponential build() {
            return new Exponential(this);
        }
    }
}
