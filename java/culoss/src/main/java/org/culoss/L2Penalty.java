package org.culoss;

import java.util.Map;
import org.culoss.internal.CulossNative;
import org.culoss.internal.JavaPenalties;

/**
 * The L2 penalty (weight decay) of a training objective, its structural-risk term over a parameter buffer w:
 * <pre>
 *   loss = lambda / 2 * sum_i w_i^2,   d loss / d w_i = lambda * w_i
 * </pre>
 * Each parameter's term is squared in double: a large w whose penalty fits a float does not
 * overflow. Added to a loss, it shrinks the parameters toward zero (weight decay).
 *
 * <pre>{@code
 * try (L2Penalty l2 = L2Penalty.builder().lambda(1e-4f).build()) {
 *     L2Penalty.Result r = l2.forwardBackward(weights);
 * }
 * }</pre>
 *
 * <p>Called on {@code float[]}, host buffers, or {@link DeviceBuffer}s (the fast path, with a
 * workspace of {@link #workspaceBytes} bytes for a forward); the sum is in double, in a fixed order.
 * Every bad argument throws an {@link IllegalArgumentException} naming it, before any native call.
 * Instances are immutable and thread-safe.
 */
public final class L2Penalty extends Penalty<L2Penalty.Result> {
    static final Op<L2Penalty> OP = declare("l2_penalty", "culossL2Penalty",
            (params, count, dtype, lambda, gradOutput, loss, grad, ws, wsBytes, stream, mode) -> switch (mode) {
                case FORWARD -> CulossNative.culossL2PenaltyForward(params, count, dtype, lambda, loss, ws, wsBytes,
                        stream);
                case BACKWARD -> CulossNative.culossL2PenaltyBackward(params, count, dtype, lambda, gradOutput, grad,
                        ws, wsBytes, stream);
                case FORWARD_BACKWARD -> CulossNative.culossL2PenaltyForwardBackward(params, count, dtype, lambda,
                        gradOutput, loss, grad, ws, wsBytes, stream);
            },
            (l, sizes, dtype, bytes) -> CulossNative.culossL2PenaltyWorkspaceSize(sizes[COUNT], dtype, bytes),
            l -> JavaPenalties.l2(l.lambda));
    static final LossDeclaration<Builder> DECLARATION = LossDeclaration.of(OP, Builder::new, Builder::backend,
                    Builder::build)
            .param(Param.number("lambda", "1", Builder::lambda))
            .bench(Map.of(), "16777216");

    private L2Penalty(Builder b) {
        super(b.backend, b.lambda, OP);
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * The penalty and its gradient of one {@code forwardBackward} on arrays.
     *
     * @param loss       lambda / 2 * sum w^2
     * @param gradParams one per parameter
     */
    public record Result(float loss, float[] gradParams) {}

    @Override
    Result result(float loss, float[] grad) {
        return new Result(loss, grad);
    }

    /** The options of an {@link L2Penalty}: the backend and lambda (default 1). */
    public static final class Builder extends PenaltyBuilder<Builder> {
        private Builder() {
            super(1f);
        }

        public L2Penalty build() {
            return new L2Penalty(this);
        }
    }
}
