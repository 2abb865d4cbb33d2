package org.culoss;

import java.util.Map;
import org.culoss.internal.CulossNative;
import org.culoss.internal.JavaPenalties;

/**
 * The L1 penalty of a training objective, its structural-risk term over a parameter buffer w:
 * <pre>
 *   loss = lambda * sum_i |w_i|,   d loss / d w_i = lambda * sign(w_i)
 * </pre>
 * with torch.sign's sign: 0 at 0, and 0 for a NaN parameter (whose loss is NaN). Add it to a
 * loss to push parameters to exactly zero (a sparse model).
 *
 * <pre>{@code
 * try (L1Penalty l1 = L1Penalty.builder().lambda(1e-4f).build()) {
 *     L1Penalty.Result r = l1.forwardBackward(weights);
 * }
 * }</pre>
 *
 * <p>Called on {@code float[]}, host buffers, or {@link DeviceBuffer}s (the fast path, with a
 * workspace of {@link #workspaceBytes} bytes for a forward); the sum is in double, in a fixed order.
 * Every bad argument throws an {@link IllegalArgumentException} naming it, before any native call.
 * Instances are immutable and thread-safe.
 */
public final class L1Penalty extends Penalty<L1Penalty.Result> {
    static final Op<L1Penalty> OP = declare("l1_penalty", "culossL1Penalty",
            (params, count, dtype, lambda, gradOutput, loss, grad, ws, wsBytes, stream, mode) -> switch (mode) {
                case FORWARD -> CulossNative.culossL1PenaltyForward(params, count, dtype, lambda, loss, ws, wsBytes,
                        stream);
                case BACKWARD -> CulossNative.culossL1PenaltyBackward(params, count, dtype, lambda, gradOutput, grad,
                        ws, wsBytes, stream);
                case FORWARD_BACKWARD -> CulossNative.culossL1PenaltyForwardBackward(params, count, dtype, lambda,
                        gradOutput, loss, grad, ws, wsBytes, stream);
            },
            (l, sizes, dtype, bytes) -> CulossNative.culossL1PenaltyWorkspaceSize(sizes[COUNT], dtype, bytes),
            l -> JavaPenalties.l1(l.lambda));
    static final LossDeclaration<Builder> DECLARATION = LossDeclaration.of(OP, Builder::new, Builder::backend,
                    Builder::build)
            .param(Param.number("lambda", "1", Builder::lambda))
            .bench(Map.of(), "16777216");

    private L1Penalty(Builder b) {
        super(b.backend, b.lambda, OP);
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * The penalty and its gradient of one {@code forwardBackward} on arrays.
     *
     * @param loss       lambda * sum |w|
     * @param gradParams one per parameter
     */
    public record Result(float loss, float[] gradParams) {}

    @Override
    Result result(float loss, float[] grad) {
        return new Result(loss, grad);
    }

    /** The options of an {@link L1Penalty}: the backend and lambda (default 1). */
    public static final class Builder extends PenaltyBuilder<Builder> {
        private Builder() {
            super(1f);
        }

        public L1Penalty build() {
            return new L1Penalty(this);
        }
    }
}
