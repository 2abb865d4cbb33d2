package org.culoss;

import java.nio.FloatBuffer;
import java.util.Map;
import org.culoss.internal.CulossNative;
import org.culoss.internal.JavaSoftmaxCrossEntropy;

/**
 * Class-distance weighted cross-entropy, for ordinal labels (grades, ages, severities): a
 * prediction far from the true class on the label scale costs more than a near miss. For a row
 * of logits {@code x}, its target {@code y} and {@code a = argmax_j x_j}:
 * {@code loss = w * -log softmax(x)_y} with {@code w = (|a - y| + 1) / M_y},
 * {@code M_y = sum_k (|y - k| + 1)} over the c classes.
 *
 * <ul>
 *   <li>The weight is held constant in the gradient (the argmax has none):
 *       {@code d loss / d x_j = w (p_j - [j == y])}.
 *   <li>The argmax is {@code torch.argmax}'s: the first index of the largest logit.
 *   <li>Reductions: {@code none} (one loss per row), {@code sum}, {@code mean} (default), which
 *       divides the sum by the number of rows.
 *   <li>There is no ignore index: every target must be in [0, C). A bad one throws a
 *       {@link CulossException} with {@link Status#INVALID_TARGET} after the call (host calls), or is
 *       reported by {@link #checkErrors} (device calls); that row counts for nothing (nor in the
 *       mean's count), and nothing is written out of bounds.
 * </ul>
 *
 * <pre>{@code
 * try (InterclassDistance loss = InterclassDistance.builder().build()) {
 *     InterclassDistance.Result r = loss.forwardBackward(logits, targets, n, c);
 * }
 * }</pre>
 *
 * <p>Three ways to call it, as {@link SoftmaxCrossEntropy}: {@code float[]}, host
 * {@link FloatBuffer}s (heap or direct, used from their position), and {@link DeviceBuffer}s (no
 * copy, no synchronisation, queued on the stream of the logits buffer, with a caller-owned
 * workspace). Logits and gradients may have a row stride larger than C; the gradient may be
 * written over the logits. Every argument is checked before any native call; a bad one throws an
 * {@link IllegalArgumentException} that names it. Instances are immutable and thread-safe.
 */
public final class InterclassDistance extends RowLoss<InterclassDistance.Result> {
    static final Op<InterclassDistance> OP = declare("interclass_distance", "culossInterclassDistance", "logits",
            "gradLogits", null,
            (l, c, mode) -> switch (mode) {
                case FORWARD -> CulossNative.culossInterclassDistanceForward(c.address[LOGITS], c.stride[LOGITS],
                        c.address[TARGETS], c.sizes[N], c.sizes[C], c.dtype, l.reduction.nativeValue(),
                        c.address[LOSS], c.workspace, c.workspaceBytes, c.errorWord, c.stream);
                case BACKWARD -> CulossNative.culossInterclassDistanceBackward(c.address[LOGITS], c.stride[LOGITS],
                        c.address[TARGETS], c.sizes[N], c.sizes[C], c.dtype, l.reduction.nativeValue(),
                        c.address[GRAD_OUTPUT], c.address[GRAD], c.stride[GRAD], c.workspace, c.workspaceBytes,
                        c.errorWord, c.stream);
                case FORWARD_BACKWARD -> CulossNative.culossInterclassDistanceForwardBackward(c.address[LOGITS],
                        c.stride[LOGITS], c.address[TARGETS], c.sizes[N], c.sizes[C], c.dtype,
                        l.reduction.nativeValue(), c.address[GRAD_OUTPUT], c.address[LOSS], c.address[GRAD],
                        c.stride[GRAD], c.workspace, c.workspaceBytes, c.errorWord, c.stream);
            },
            (l, sizes, dtype, bytes) -> CulossNative.culossInterclassDistanceWorkspaceSize(sizes[N], sizes[C], dtype,
                    l.reduction.nativeValue(), bytes),
            (l, c, threads) -> JavaSoftmaxCrossEntropy.runDistanceWeighted(c.floats(LOGITS), c.stride[LOGITS],
                    c.ints(TARGETS), c.intSize(N), c.intSize(C), l.reduction, c.floats(GRAD_OUTPUT), c.floats(LOSS),
                    c.floats(GRAD), c.stride[GRAD], threads));
    static final LossDeclaration<Builder> DECLARATION = LossDeclaration.of(OP, Builder::new, Builder::backend,
                    Builder::build)
            .param(Param.reduction("mean", Builder::reduction))
            .bench(Map.of(), "4096x10", "4096x1000", "512x32000");

    private InterclassDistance(Builder b) {
        super(b, null, OP);
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * The loss and the gradient of one {@code forwardBackward} on arrays.
     *
     * @param loss       one value for {@code sum}/{@code mean}, n for {@code none}
     * @param gradLogits n x c, row-major
     */
    public record Result(float[] loss, float[] gradLogits) {}

    @Override
    Result result(float[] loss, float[] gradLogits) {
        return new Result(loss, gradLogits);
    }

    /** The options of an {@link InterclassDistance}: the backend and the reduction (default {@code MEAN}). */
    public static final class Builder extends LossBuilder<Builder> {
        private Builder() {
            super(Reduction.MEAN);
        }

        public InterclassDistance build() {
            return new InterclassDistance(this);
        }
    }
}
