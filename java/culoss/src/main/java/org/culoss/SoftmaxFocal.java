package org.culoss;

import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.util.Map;
import org.culoss.internal.CulossNative;
import org.culoss.internal.JavaSoftmaxFocal;

/**
 * Softmax focal loss (Lin et al., "Focal Loss for Dense Object Detection", in its multi-class
 * form): {@code loss_i = -alpha_y (1 - p_y)^gamma log p_y} with {@code p = softmax(logits row)}
 * and {@code y} the row's target class.
 *
 * <ul>
 *   <li>{@code alpha_y}: one scalar {@link Builder#alpha alpha} for every class (default 1), or
 *       one weight per class ({@link Builder#classAlpha classAlpha}).
 *   <li>{@code gamma >= 0} (default 2). {@code gamma = 0} is cross-entropy weighted by
 *       {@code alpha_y}, row by row.
 *   <li>Rows whose target equals the ignore index (default -100, as PyTorch's) count for nothing.
 *   <li>Reductions: {@code none} (one loss per row), {@code sum}, {@code mean} (default). The mean
 *       divides the sum by the <em>number</em> of rows that count, not by the sum of their
 *       {@code alpha_y}, as the common PyTorch implementation does ({@code NLLLoss(weight=alpha,
 *       reduction='none')} times {@code (1 - p_y)^gamma}, then {@code .mean()} over the rows that
 *       are not ignored). When no row counts the loss is 0 with a zero gradient.
 * </ul>
 *
 * <p>The gradient is {@code d loss / d x_k = F (p_k - [k == y])} with
 * {@code F = alpha_y (q^gamma - gamma p_y q^(gamma-1) log p_y)}, {@code q = 1 - p_y}. It is
 * computed so that it stays finite where that formula is {@code 0 * inf}: {@code gamma} in (0, 1)
 * with {@code p_y -> 1} (F tends to 0), {@code p_y = 0} (a {@code -inf} target logit), logits of
 * magnitude 1e4; {@code 1 - p_y} keeps its digits when {@code p_y} is within 1e-7 of 1.
 *
 * <pre>{@code
 * try (SoftmaxFocal focal = SoftmaxFocal.builder().gamma(2f).classAlpha(alphas).build()) {
 *     SoftmaxFocal.Result r = focal.forwardBackward(logits, targets, n, c);
 *     float loss = r.loss()[0];
 *     float[] grad = r.gradLogits();
 * }
 * }</pre>
 *
 * <p>Three ways to call it, as {@link SoftmaxCrossEntropy}: {@code float[]}, host
 * {@link FloatBuffer}s (heap or direct, used from their position), and {@link DeviceBuffer}s (no
 * copy, no synchronisation, queued on the stream of the logits buffer, with a caller-owned
 * workspace). Logits and gradients may have a row stride larger than C.
 *
 * <p>Every argument is checked before any native call; a bad one throws an
 * {@link IllegalArgumentException} that names it. A target outside [0, C) that is not the
 * ignore index throws a {@link CulossException} with {@link Status#INVALID_TARGET} after the
 * call (host calls), or is reported by {@link #checkErrors} (device calls); that row counts for
 * nothing (nor in the mean's count) and nothing is written out of bounds. Instances are immutable
 * and thread-safe.
 */
public final class SoftmaxFocal extends RowSoftmaxLoss<SoftmaxFocal.Result> {
    /** PyTorch's default ignore index. */
    public static final int DEFAULT_IGNORE_INDEX = -100;
    /** The focusing exponent of the paper's experiments. */
    public static final float DEFAULT_GAMMA = 2f;

    static final Op<SoftmaxFocal> OP = declare("softmax_focal", "culossSoftmaxFocal", "logits", "gradLogits",
            "classAlpha",
            (l, c, mode) -> switch (mode) {
                case FORWARD -> CulossNative.culossSoftmaxFocalForward(c.address[LOGITS], c.stride[LOGITS],
                        c.address[TARGETS], c.sizes[N], c.sizes[C], c.dtype, c.address[TABLE], l.alpha, l.gamma,
                        l.ignoreIndexValue(), l.reduction.nativeValue(), c.address[LOSS], c.workspace,
                        c.workspaceBytes, c.errorWord, c.stream);
                case BACKWARD -> CulossNative.culossSoftmaxFocalBackward(c.address[LOGITS], c.stride[LOGITS],
                        c.address[TARGETS], c.sizes[N], c.sizes[C], c.dtype, c.address[TABLE], l.alpha, l.gamma,
                        l.ignoreIndexValue(), l.reduction.nativeValue(), c.address[GRAD_OUTPUT], c.address[GRAD],
                        c.stride[GRAD], c.workspace, c.workspaceBytes, c.errorWord, c.stream);
                case FORWARD_BACKWARD -> CulossNative.culossSoftmaxFocalForwardBackward(c.address[LOGITS],
                        c.stride[LOGITS], c.address[TARGETS], c.sizes[N], c.sizes[C], c.dtype, c.address[TABLE],
                        l.alpha,
                        l.gamma, l.ignoreIndexValue(), l.reduction.nativeValue(), c.address[GRAD_OUTPUT],
                        c.address[LOSS], c.address[GRAD], c.stride[GRAD], c.workspace, c.workspaceBytes,
                        c.errorWord, c.stream);
            },
            (l, sizes, dtype, bytes) -> CulossNative.culossSoftmaxFocalWorkspaceSize(sizes[N], sizes[C], dtype,
                    l.reduction.nativeValue(), bytes),
            (l, c, threads) -> JavaSoftmaxFocal.run(c.floats(LOGITS), c.stride[LOGITS], c.ints(TARGETS), c.intSize(N),
                    c.intSize(C), c.floats(TABLE), l.alpha, l.gamma, l.ignoreIndexValue(), l.reduction,
                    c.floats(GRAD_OUTPUT), c.floats(LOSS), c.floats(GRAD), c.stride[GRAD], threads));
    /** Logits [N, C, d1..dk] ({@link RowSoftmaxLoss#declareSpatial}). */
    static final Op<SoftmaxFocal> SPATIAL_OP = declareSpatial("softmax_focal", "culossSoftmaxFocalSpatial", "classAlpha",
            (l, c, mode) -> switch (mode) {
                case FORWARD -> CulossNative.culossSoftmaxFocalSpatialForward(c.address[LOGITS], c.address[TARGETS],
                        c.sizes[N], c.sizes[C], c.sizes[INNER], c.dtype, c.address[TABLE], l.alpha, l.gamma,
                        l.ignoreIndexValue(), l.reduction.nativeValue(), c.address[LOSS], c.workspace,
                        c.workspaceBytes, c.errorWord, c.stream);
                case BACKWARD -> CulossNative.culossSoftmaxFocalSpatialBackward(c.address[LOGITS], c.address[TARGETS],
                        c.sizes[N], c.sizes[C], c.sizes[INNER], c.dtype, c.address[TABLE], l.alpha, l.gamma,
                        l.ignoreIndexValue(), l.reduction.nativeValue(), c.address[GRAD_OUTPUT], c.address[GRAD],
                        c.workspace, c.workspaceBytes, c.errorWord, c.stream);
                case FORWARD_BACKWARD -> CulossNative.culossSoftmaxFocalSpatialForwardBackward(c.address[LOGITS],
                        c.address[TARGETS], c.sizes[N], c.sizes[C], c.sizes[INNER], c.dtype, c.address[TABLE], l.alpha,
                        l.gamma, l.ignoreIndexValue(), l.reduction.nativeValue(), c.address[GRAD_OUTPUT],
                        c.address[LOSS], c.address[GRAD], c.workspace, c.workspaceBytes, c.errorWord, c.stream);
            },
            (l, sizes, dtype, bytes) -> CulossNative.culossSoftmaxFocalSpatialWorkspaceSize(sizes[N], sizes[C],
                    sizes[INNER], dtype, l.reduction.nativeValue(), bytes),
            (l, c, threads) -> JavaSoftmaxFocal.runSpatial(c.floats(LOGITS), c.ints(TARGETS), c.intSize(N),
                    c.intSize(C), c.intSize(INNER), c.floats(TABLE), l.alpha, l.gamma, l.ignoreIndexValue(),
                    l.reduction, c.floats(GRAD_OUTPUT), c.floats(LOSS), c.floats(GRAD), threads));
    static final LossDeclaration<Builder> DECLARATION = LossDeclaration.of(OP, Builder::new, Builder::backend,
                    Builder::build)
            .form(SPATIAL_OP)
            .param(Param.number("gamma", "2", Builder::gamma))
            .param(Param.reduction("mean", Builder::reduction))
            .param(Param.numberOrTable("alpha", "1", Builder::alpha, "class_alpha"))
            .param(Param.integer("ignore_index", "null", Builder::ignoreIndex, Builder::noIgnoreIndex,
                    Builder::noIgnoreIndex))
            .table(Builder::classAlpha)
            .bench(Map.of(), "4096x10", "4096x1000", "512x32000", "64x131072");


    private final float gamma;
    private final float alpha;

    private SoftmaxFocal(Builder b) {
        super(b, b.classAlpha, OP, SPATIAL_OP);
        this.gamma = b.gamma;
        this.alpha = b.alpha;
    }

    public static Builder builder() {
        return new Builder();
    }

    public float gamma() {
        return gamma;
    }

    /** The scalar alpha of every class; unused when {@link #classAlpha()} is not null. */
    public float alpha() {
        return alpha;
    }

    /** A copy of the per-class alpha, or null (the scalar {@link #alpha()} for every class). */
    public float[] classAlpha() {
        return table() == null ? null : table().clone();
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

    /** The options of a {@link SoftmaxFocal}: alpha 1, gamma 2, ignore index -100, mean. */
    public static final class Builder extends RowsBuilder<Builder> {
        private float gamma = DEFAULT_GAMMA;
        private float alpha = 1f;
        private float[] classAlpha;

        private Builder() {}

        /** The focusing exponent, finite and >= 0 (default 2); 0 is alpha-weighted cross-entropy. */
        public Builder gamma(float gamma) {
            if (!(gamma >= 0f) || !Float.isFinite(gamma)) {
                throw new IllegalArgumentException("gamma (" + gamma + ") is negative or not finite");
            }
            this.gamma = gamma;
            return this;
        }

        /** One weight for every class (default 1); replaces a {@link #classAlpha} set before. */
        public Builder alpha(float alpha) {
            this.alpha = Checks.finite(alpha, "alpha");
            this.classAlpha = null;
            return this;
        }

        /**
         * One weight per class (copied, each finite), used as {@code alpha_y} instead of the scalar
         * alpha; null goes back to the scalar.
         */
        public Builder classAlpha(float[] classAlpha) {
            this.classAlpha = Checks.finiteCopy(classAlpha, "classAlpha");
            return this;
        }

        public SoftmaxFocal build() {
            return new SoftmaxFocal(this);
        }
    }
}
