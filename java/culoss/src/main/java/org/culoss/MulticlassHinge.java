package org.culoss;

import java.nio.FloatBuffer;
import java.util.Map;
import org.culoss.internal.CulossNative;
import org.culoss.internal.JavaMulticlassHinge;

/**
 * Multi-class hinge loss with the semantics of {@code torch.nn.functional.multi_margin_loss}:
 * for a row {@code x} of c scores, its target class {@code y}, a margin {@code m} and
 * {@code z_j = m - x_y + x_j},
 * {@code loss = w_y / c * sum_{j != y, z_j > 0} z_j^p}, with {@code p} 1 (default) or 2 (the
 * squared hinge) and optional class weights {@code w} (all 1 without them).
 *
 * <ul>
 *   <li>{@code z_j > 0} is strict, as PyTorch's: the kink passes no gradient, and a NaN score adds
 *       nothing to the loss or the gradient.
 *   <li>Reductions: {@code none} (one loss per row), {@code sum}, {@code mean} (default), which
 *       divides the sum by the number of rows, whatever the class weights (as PyTorch's).
 *   <li>There is no ignore index: every target must be in [0, C). A bad one throws a
 *       {@link CulossException} with {@link Status#INVALID_TARGET} after the call (host calls), or is
 *       reported by {@link #checkErrors} (device calls); that row counts for nothing (nor in the
 *       mean's count), and nothing is written out of bounds.
 * </ul>
 *
 * <pre>{@code
 * try (MulticlassHinge hinge = MulticlassHinge.builder().p(2).build()) {
 *     MulticlassHinge.Result r = hinge.forwardBackward(scores, targets, n, c);
 *     float loss = r.loss()[0];
 *     float[] grad = r.gradScores();
 * }
 * }</pre>
 *
 * <p>Three ways to call it, as {@link SoftmaxCrossEntropy}: {@code float[]}, host
 * {@link FloatBuffer}s (heap or direct, used from their position), and {@link DeviceBuffer}s (no
 * copy, no synchronisation, queued on the stream of the scores buffer, with a caller-owned
 * workspace). Scores and gradients may have a row stride larger than C; the gradient may be
 * written over the scores. Every argument is checked before any native call; a bad one throws an
 * {@link IllegalArgumentException} that names it. Instances are immutable and thread-safe.
 */
public final class MulticlassHinge extends RowLoss<MulticlassHinge.Result> {
    static final Op<MulticlassHinge> OP = declare("multiclass_hinge", "culossMulticlassHinge", "scores",
            "gradScores", "classWeights",
            (l, c, mode) -> switch (mode) {
                case FORWARD -> CulossNative.culossMulticlassHingeForward(c.address[LOGITS], c.stride[LOGITS],
                        c.address[TARGETS], c.sizes[N], c.sizes[C], c.dtype, c.address[TABLE], l.margin, l.p,
                        l.reduction.nativeValue(), c.address[LOSS], c.workspace, c.workspaceBytes, c.errorWord,
                        c.stream);
                case BACKWARD -> CulossNative.culossMulticlassHingeBackward(c.address[LOGITS], c.stride[LOGITS],
                        c.address[TARGETS], c.sizes[N], c.sizes[C], c.dtype, c.address[TABLE], l.margin, l.p,
                        l.reduction.nativeValue(), c.address[GRAD_OUTPUT], c.address[GRAD], c.stride[GRAD],
                        c.workspace, c.workspaceBytes, c.errorWord, c.stream);
                case FORWARD_BACKWARD -> CulossNative.culossMulticlassHingeForwardBackward(c.address[LOGITS],
                        c.stride[LOGITS], c.address[TARGETS], c.sizes[N], c.sizes[C], c.dtype, c.address[TABLE],
                        l.margin, l.p, l.reduction.nativeValue(), c.address[GRAD_OUTPUT], c.address[LOSS],
                        c.address[GRAD], c.stride[GRAD], c.workspace, c.workspaceBytes, c.errorWord, c.stream);
            },
            (l, sizes, dtype, bytes) -> CulossNative.culossMulticlassHingeWorkspaceSize(sizes[N], sizes[C], dtype,
                    l.reduction.nativeValue(), bytes),
            (l, c, threads) -> JavaMulticlassHinge.run(c.floats(LOGITS), c.stride[LOGITS], c.ints(TARGETS),
                    c.intSize(N), c.intSize(C), c.floats(TABLE), l.margin, l.p, l.reduction, c.floats(GRAD_OUTPUT),
                    c.floats(LOSS), c.floats(GRAD), c.stride[GRAD], threads));
    static final LossDeclaration<Builder> DECLARATION = LossDeclaration.of(OP, Builder::new, Builder::backend,
                    Builder::build)
            .param(Param.number("margin", "1", Builder::margin))
            .param(Param.integer("p", "1", Builder::p, null, null))
            .param(Param.reduction("mean", Builder::reduction))
            .table(Builder::classWeights)
            .bench(Map.of(), "4096x10", "4096x1000", "512x32000");

    private final float margin;
    private final int p;

    private MulticlassHinge(Builder b) {
        super(b, b.classWeights, OP);
        this.margin = b.margin;
        this.p = b.p;
    }

    public static Builder builder() {
        return new Builder();
    }

    public float margin() {
        return margin;
    }

    /** 1 (the hinge) or 2 (the squared hinge). */
    public int p() {
        return p;
    }

    /** A copy of the class weights, or null. */
    public float[] classWeights() {
        return table() == null ? null : table().clone();
    }

    /**
     * The loss and the gradient of one {@code forwardBackward} on arrays.
     *
     * @param loss       one value for {@code sum}/{@code mean}, n for {@code none}
     * @param gradScores n x c, row-major
     */
    public record Result(float[] loss, float[] gradScores) {}

    @Override
    Result result(float[] loss, float[] gradScores) {
        return new Result(loss, gradScores);
    }

    /** The options of a {@link MulticlassHinge}; defaults are PyTorch's (margin 1, p 1, mean). */
    public static final class Builder extends LossBuilder<Builder> {
        private float margin = 1f;
        private int p = 1;
        private float[] classWeights;

        private Builder() {
            super(Reduction.MEAN);
        }

        /** The margin m, finite, any sign (default 1). */
        public Builder margin(float margin) {
            this.margin = Checks.finite(margin, "margin");
            return this;
        }

        /** 1 (default): the hinge; 2: the squared hinge. */
        public Builder p(int p) {
            if (p != 1 && p != 2) throw new IllegalArgumentException("p (" + p + ") is not 1 or 2");
            this.p = p;
            return this;
        }

        /** One weight per class (copied), or null for none: row i's terms are weighted by w[y_i]. */
        public Builder classWeights(float[] weights) {
            this.classWeights = Checks.finiteCopy(weights, "classWeights");
            return this;
        }

        public MulticlassHinge build() {
            return new MulticlassHinge(this);
        }
    }
}
