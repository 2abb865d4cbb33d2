package org.culoss;

import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.util.Map;
import org.culoss.internal.CulossNative;
import org.culoss.internal.JavaSoftmaxCrossEntropy;

/**
 * Softmax cross-entropy with the semantics of {@code torch.nn.functional.cross_entropy}: class
 * weights, {@code ignore_index}, label smoothing and the {@code none}/{@code sum}/{@code mean}
 * reductions ({@code mean} divides by the summed weights of the rows that count; when none
 * counts the loss is 0 with a zero gradient, where PyTorch gives NaN).
 *
 * <pre>{@code
 * try (SoftmaxCrossEntropy ce = SoftmaxCrossEntropy.builder().labelSmoothing(0.1f).build()) {
 *     SoftmaxCrossEntropy.Result r = ce.forwardBackward(logits, targets, n, c);
 *     float loss = r.loss()[0];
 *     float[] grad = r.gradLogits();
 * }
 * }</pre>
 *
 * <p>Three ways to call it: {@code float[]} (convenient; a native backend copies them), host
 * {@link FloatBuffer}s, heap or direct (used from their position; the emulated backend reads
 * direct ones in place), and {@link DeviceBuffer}s (the fast path: no copy, no synchronisation,
 * queued on the stream of the logits buffer, with a caller-owned workspace). Logits and
 * gradients may have a row stride larger than C, so a slice of a bigger matrix works.
 *
 * <p>Every argument is checked before any native call; a bad one throws an
 * {@link IllegalArgumentException} that names it. A target outside [0, C) that is not the
 * ignore index throws a {@link CulossException} with {@link Status#INVALID_TARGET} after the
 * call (host calls), or is reported by {@link #checkErrors} (device calls); the row itself counts
 * for nothing and nothing is written out of bounds. Instances are immutable and thread-safe.
 *
 * <p>Soft targets: the {@code ...Probs} methods take per-class target probabilities (n rows of c,
 * contiguous) instead of class indices, as {@code F.cross_entropy} does: row i's loss is
 * {@code -sum_j a_ij log p_ij} with {@code a_ij = w_j ((1 - e) t_ij + e / C)}, its gradient
 * {@code p_ij sum_j a_ij - a_ij} (the rows need not sum to 1: one-hot labels, mixup,
 * distillation). Every row counts, and {@code mean} divides by n whatever the weights, as
 * PyTorch's; the ignore index plays no part.
 */
public final class SoftmaxCrossEntropy extends RowSoftmaxLoss<SoftmaxCrossEntropy.Result> {
    /** PyTorch's default ignore index. */
    public static final int DEFAULT_IGNORE_INDEX = -100;

    static final Op<SoftmaxCrossEntropy> OP = declare("softmax_cross_entropy", "culossSoftmaxCrossEntropy",
            "logits", "gradLogits", "classWeights",
            (l, c, mode) -> switch (mode) {
                case FORWARD -> CulossNative.culossSoftmaxCrossEntropyForward(c.address[LOGITS], c.stride[LOGITS],
                        c.address[TARGETS], c.sizes[N], c.sizes[C], c.dtype, c.address[TABLE], l.ignoreIndexValue(),
                        l.labelSmoothing, l.reduction.nativeValue(), c.address[LOSS], c.workspace, c.workspaceBytes,
                        c.errorWord, c.stream);
                case BACKWARD -> CulossNative.culossSoftmaxCrossEntropyBackward(c.address[LOGITS], c.stride[LOGITS],
                        c.address[TARGETS], c.sizes[N], c.sizes[C], c.dtype, c.address[TABLE], l.ignoreIndexValue(),
                        l.labelSmoothing, l.reduction.nativeValue(), c.address[GRAD_OUTPUT], c.address[GRAD],
                        c.stride[GRAD], c.workspace, c.workspaceBytes, c.errorWord, c.stream);
                case FORWARD_BACKWARD -> CulossNative.culossSoftmaxCrossEntropyForwardBackward(c.address[LOGITS],
                        c.stride[LOGITS], c.address[TARGETS], c.sizes[N], c.sizes[C], c.dtype, c.address[TABLE],
                        l.ignoreIndexValue(), l.labelSmoothing, l.reduction.nativeValue(), c.address[GRAD_OUTPUT],
                        c.address[LOSS], c.address[GRAD], c.stride[GRAD], c.workspace, c.workspaceBytes,
                        c.errorWord, c.stream);
            },
            (l, sizes, dtype, bytes) -> CulossNative.culossSoftmaxCrossEntropyWorkspaceSize(sizes[N], sizes[C], dtype,
                    l.reduction.nativeValue(), bytes),
            (l, c, threads) -> JavaSoftmaxCrossEntropy.run(c.floats(LOGITS), c.stride[LOGITS], c.ints(TARGETS),
                    c.intSize(N), c.intSize(C), c.floats(TABLE), l.ignoreIndexValue(), l.labelSmoothing, l.reduction,
                    c.floats(GRAD_OUTPUT), c.floats(LOSS), c.floats(GRAD), c.stride[GRAD], threads));
    /** The soft-target form: {@code targetProbs} in the targets' slot, no error word. */
    static final Op<SoftmaxCrossEntropy> PROBS_OP = declare(Op.<SoftmaxCrossEntropy>form("softmax_cross_entropy", "probs",
                    "culossSoftmaxCrossEntropyProbs"), true, "logits", "gradLogits", "classWeights",
            (l, c, mode) -> switch (mode) {
                case FORWARD -> CulossNative.culossSoftmaxCrossEntropyProbsForward(c.address[LOGITS],
                        c.stride[LOGITS], c.address[TARGETS], c.sizes[N], c.sizes[C], c.dtype, c.address[TABLE],
                        l.labelSmoothing, l.reduction.nativeValue(), c.address[LOSS], c.workspace, c.workspaceBytes,
                        c.stream);
                case BACKWARD -> CulossNative.culossSoftmaxCrossEntropyProbsBackward(c.address[LOGITS],
                        c.stride[LOGITS], c.address[TARGETS], c.sizes[N], c.sizes[C], c.dtype, c.address[TABLE],
                        l.labelSmoothing, l.reduction.nativeValue(), c.address[GRAD_OUTPUT], c.address[GRAD],
                        c.stride[GRAD], c.workspace, c.workspaceBytes, c.stream);
                case FORWARD_BACKWARD -> CulossNative.culossSoftmaxCrossEntropyProbsForwardBackward(
                        c.address[LOGITS], c.stride[LOGITS], c.address[TARGETS], c.sizes[N], c.sizes[C], c.dtype,
                        c.address[TABLE], l.labelSmoothing, l.reduction.nativeValue(), c.address[GRAD_OUTPUT],
                        c.address[LOSS], c.address[GRAD], c.stride[GRAD], c.workspace, c.workspaceBytes, c.stream);
            },
            (l, sizes, dtype, bytes) -> CulossNative.culossSoftmaxCrossEntropyProbsWorkspaceSize(sizes[N], sizes[C],
                    dtype, l.reduction.nativeValue(), bytes),
            (l, c, threads) -> {
                JavaSoftmaxCrossEntropy.runProbs(c.floats(LOGITS), c.stride[LOGITS], c.floats(TARGETS), c.intSize(N),
                        c.intSize(C), c.floats(TABLE), l.labelSmoothing, l.reduction, c.floats(GRAD_OUTPUT),
                        c.floats(LOSS), c.floats(GRAD), c.stride[GRAD], threads);
                return -1;
            });
    /** Logits [N, C, d1..dk] ({@link RowSoftmaxLoss#declareSpatial}). */
    static final Op<SoftmaxCrossEntropy> SPATIAL_OP = declareSpatial("softmax_cross_entropy",
            "culossSoftmaxCrossEntropySpatial", "classWeights",
            (l, c, mode) -> switch (mode) {
                case FORWARD -> CulossNative.culossSoftmaxCrossEntropySpatialForward(c.address[LOGITS],
                        c.address[TARGETS], c.sizes[N], c.sizes[C], c.sizes[INNER], c.dtype, c.address[TABLE],
                        l.ignoreIndexValue(), l.labelSmoothing, l.reduction.nativeValue(), c.address[LOSS], c.workspace,
                        c.workspaceBytes, c.errorWord, c.stream);
                case BACKWARD -> CulossNative.culossSoftmaxCrossEntropySpatialBackward(c.address[LOGITS],
                        c.address[TARGETS], c.sizes[N], c.sizes[C], c.sizes[INNER], c.dtype, c.address[TABLE],
                        l.ignoreIndexValue(), l.labelSmoothing, l.reduction.nativeValue(), c.address[GRAD_OUTPUT],
                        c.address[GRAD], c.workspace, c.workspaceBytes, c.errorWord, c.stream);
                case FORWARD_BACKWARD -> CulossNative.culossSoftmaxCrossEntropySpatialForwardBackward(
                        c.address[LOGITS], c.address[TARGETS], c.sizes[N], c.sizes[C], c.sizes[INNER], c.dtype,
                        c.address[TABLE], l.ignoreIndexValue(), l.labelSmoothing, l.reduction.nativeValue(),
                        c.address[GRAD_OUTPUT], c.address[LOSS], c.address[GRAD], c.workspace, c.workspaceBytes,
                        c.errorWord, c.stream);
            }, (l, sizes, dtype, bytes) -> CulossNative.culossSoftmaxCrossEntropySpatialWorkspaceSize(sizes[N],
                    sizes[C], sizes[INNER], dtype, l.reduction.nativeValue(), bytes),
            (l, c, threads) -> JavaSoftmaxCrossEntropy.runSpatial(c.floats(LOGITS), c.ints(TARGETS),
                    c.intSize(N), c.intSize(C), c.intSize(INNER), c.floats(TABLE), l.ignoreIndexValue(),
                    l.labelSmoothing, l.reduction, c.floats(GRAD_OUTPUT), c.floats(LOSS), c.floats(GRAD), threads));
    /** Soft targets over logits [N, C, d1..dk], the probabilities in the logits' layout. */
    static final Op<SoftmaxCrossEntropy> PROBS_SPATIAL_OP = declareSpatial("softmax_cross_entropy", true,
            "culossSoftmaxCrossEntropyProbsSpatial", "classWeights",
            (l, c, mode) -> switch (mode) {
                case FORWARD -> CulossNative.culossSoftmaxCrossEntropyProbsSpatialForward(c.address[LOGITS],
                        c.address[TARGETS], c.sizes[N], c.sizes[C], c.sizes[INNER], c.dtype, c.address[TABLE],
                        l.labelSmoothing, l.reduction.nativeValue(), c.address[LOSS], c.workspace, c.workspaceBytes,
                        c.stream);
                case BACKWARD -> CulossNative.culossSoftmaxCrossEntropyProbsSpatialBackward(c.address[LOGITS],
                        c.address[TARGETS], c.sizes[N], c.sizes[C], c.sizes[INNER], c.dtype, c.address[TABLE],
                        l.labelSmoothing, l.reduction.nativeValue(), c.address[GRAD_OUTPUT], c.address[GRAD],
                        c.workspace, c.workspaceBytes, c.stream);
                case FORWARD_BACKWARD -> CulossNative.culossSoftmaxCrossEntropyProbsSpatialForwardBackward(
                        c.address[LOGITS], c.address[TARGETS], c.sizes[N], c.sizes[C], c.sizes[INNER], c.dtype,
                        c.address[TABLE], l.labelSmoothing, l.reduction.nativeValue(), c.address[GRAD_OUTPUT],
                        c.address[LOSS], c.address[GRAD], c.workspace, c.workspaceBytes, c.stream);
            }, (l, sizes, dtype, bytes) -> CulossNative.culossSoftmaxCrossEntropyProbsSpatialWorkspaceSize(sizes[N],
                    sizes[C], sizes[INNER], dtype, l.reduction.nativeValue(), bytes),
            (l, c, threads) -> {
                JavaSoftmaxCrossEntropy.runProbsSpatial(c.floats(LOGITS), c.floats(TARGETS), c.intSize(N),
                        c.intSize(C), c.intSize(INNER), c.floats(TABLE), l.labelSmoothing, l.reduction,
                        c.floats(GRAD_OUTPUT), c.floats(LOSS), c.floats(GRAD), threads);
                return -1;
            });
    static final LossDeclaration<Builder> DECLARATION = LossDeclaration.of(OP, Builder::new, Builder::backend,
                    Builder::build)
            .form(PROBS_OP)
            .form(SPATIAL_OP)
            .form(PROBS_SPATIAL_OP)
            .param(Param.reduction("mean", Builder::reduction))
            .param(Param.number("label_smoothing", "0", Builder::labelSmoothing))
            .param(Param.integer("ignore_index", "-100", Builder::ignoreIndex, Builder::noIgnoreIndex, null))
            .table(Builder::classWeights)
            .bench(Map.of(), "4096x10", "4096x1000", "512x32000", "64x131072");


    private final float labelSmoothing;

    private SoftmaxCrossEntropy(Builder b) {
        super(b, b.classWeights, OP, SPATIAL_OP);
        this.labelSmoothing = b.labelSmoothing;
    }

    public static Builder builder() {
        return new Builder();
    }

    public float labelSmoothing() {
        return labelSmoothing;
    }

    /** A copy of the class weights, or null. */
    public float[] classWeights() {
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

    // ---------------------------------------------------------------- soft targets

    /** The loss of {@code logits} (n x c) against target probabilities (n x c): one value, or n for {@code none}. */
    public float[] forwardProbs(float[] logits, float[] targetProbs, int n, int c) {
        return forward(PROBS_OP, logits, FloatBuffer.wrap(Checks.notNull(targetProbs, "targetProbs")), n, c);
    }

    /** The gradient for the upstream gradient {@code gradOutput} (null: 1; n values for {@code none}). */
    public float[] backwardProbs(float[] logits, float[] targetProbs, int n, int c, float[] gradOutput) {
        return backward(PROBS_OP, logits, FloatBuffer.wrap(Checks.notNull(targetProbs, "targetProbs")), n, c,
                gradOutput);
    }

    /** Loss and gradient in one pass, for an upstream gradient of 1. */
    public Result forwardBackwardProbs(float[] logits, float[] targetProbs, int n, int c) {
        return forwardBackwardProbs(logits, targetProbs, n, c, null);
    }

    /** Loss and gradient in one pass; {@code gradOutput} as in {@link #backwardProbs}. */
    public Result forwardBackwardProbs(float[] logits, float[] targetProbs, int n, int c, float[] gradOutput) {
        return forwardBackward(PROBS_OP, logits, FloatBuffer.wrap(Checks.notNull(targetProbs, "targetProbs")), n, c,
                gradOutput);
    }

    public void forwardProbs(FloatBuffer logits, int logitsStride, FloatBuffer targetProbs, int n, int c,
            FloatBuffer loss) {
        Invoker.host(PROBS_OP, this, call(PROBS_OP, logits, logitsStride, targetProbs, n, c, null,
                Checks.notNull(loss, "loss"), null, 0));
    }

    public void backwardProbs(FloatBuffer logits, int logitsStride, FloatBuffer targetProbs, int n, int c,
            FloatBuffer gradOutput, FloatBuffer gradLogits, int gradStride) {
        Invoker.host(PROBS_OP, this, call(PROBS_OP, logits, logitsStride, targetProbs, n, c, gradOutput, null,
                Checks.notNull(gradLogits, "gradLogits"), gradStride));
    }

    public void forwardBackwardProbs(FloatBuffer logits, int logitsStride, FloatBuffer targetProbs, int n, int c,
            FloatBuffer gradOutput, FloatBuffer loss, FloatBuffer gradLogits, int gradStride) {
        Invoker.host(PROBS_OP, this, call(PROBS_OP, logits, logitsStride, targetProbs, n, c, gradOutput,
                Checks.notNull(loss, "loss"), Checks.notNull(gradLogits, "gradLogits"), gradStride));
    }

    /** The workspace a soft-target device call needs (no error word; {@link #allocateWorkspace}'s serves too). */
    public long workspaceBytesProbs(long n, long c) {
        return Invoker.workspaceBytes(PROBS_OP, this, n, c);
    }

    public void forwardProbs(DeviceBuffer logits, long logitsStride, DeviceBuffer targetProbs, long n, long c,
            DeviceBuffer loss, DeviceBuffer workspace) {
        Invoker.device(PROBS_OP, this, call(PROBS_OP, logits, logitsStride, targetProbs, n, c, null,
                Checks.notNull(loss, "loss"), null, 0), workspace);
    }

    public void backwardProbs(DeviceBuffer logits, long logitsStride, DeviceBuffer targetProbs, long n, long c,
            DeviceBuffer gradOutput, DeviceBuffer gradLogits, long gradStride, DeviceBuffer workspace) {
        Invoker.device(PROBS_OP, this, call(PROBS_OP, logits, logitsStride, targetProbs, n, c, gradOutput, null,
                Checks.notNull(gradLogits, "gradLogits"), gradStride), workspace);
    }

    /** As {@link #forwardBackward(DeviceBuffer, long, DeviceBuffer, long, long, DeviceBuffer, DeviceBuffer, DeviceBuffer, long, DeviceBuffer)}, with target probabilities. */
    public void forwardBackwardProbs(DeviceBuffer logits, long logitsStride, DeviceBuffer targetProbs, long n, long c,
            DeviceBuffer gradOutput, DeviceBuffer loss, DeviceBuffer gradLogits, long gradStride,
            DeviceBuffer workspace) {
        Invoker.device(PROBS_OP, this, call(PROBS_OP, logits, logitsStride, targetProbs, n, c, gradOutput,
                Checks.notNull(loss, "loss"), Checks.notNull(gradLogits, "gradLogits"), gradStride), workspace);
    }

    // ---------------------------------------------------------------- soft targets over [N, C, d1..dk]

    /**
     * Soft targets over logits [N, C, d1..dk] ({@code inner = d1 * ... * dk}), {@code targetProbs}
     * in the same layout: loss and gradient (in the logits' layout) in one pass; one loss value,
     * or n * inner for {@code none}; {@code gradOutput} null means 1.
     */
    public Result forwardBackwardProbsSpatial(float[] logits, float[] targetProbs, int n, int c, int inner,
            float[] gradOutput) {
        return forwardBackwardSpatial(PROBS_SPATIAL_OP, logits, FloatBuffer.wrap(Checks.notNull(targetProbs,
                "targetProbs")), n, c, inner, gradOutput);
    }

    /** The workspace a soft-target device call over [N, C, d1..dk] needs. */
    public long workspaceBytesProbsSpatial(long n, long c, long inner) {
        return Invoker.workspaceBytes(PROBS_SPATIAL_OP, this, n, c, inner);
    }

    /**
     * The fast path of soft targets over [N, C, d1..dk] logits in backend memory, in their own
     * layout (no transpose, no copy), queued on the stream of {@code logits}; {@code loss} or
     * {@code gradLogits} may be null, not both; {@code gradLogits} may be {@code logits} itself.
     */
    public void forwardBackwardProbsSpatial(DeviceBuffer logits, DeviceBuffer targetProbs, long n, long c, long inner,
            DeviceBuffer gradOutput, DeviceBuffer loss, DeviceBuffer gradLogits, DeviceBuffer workspace) {
        forwardBackwardSpatial(PROBS_SPATIAL_OP, logits, targetProbs, n, c, inner, gradOutput, loss, gradLogits,
                workspace);
    }

    /** The options of a {@link SoftmaxCrossEntropy}; defaults are PyTorch's. */
    public static final class Builder extends RowsBuilder<Builder> {
        private float labelSmoothing;
        private float[] classWeights;

        private Builder() {}

        /** e in [0, 1]: the target distribution is (1 - e) one-hot + e / C uniform. */
        public Builder labelSmoothing(float e) {
            if (!(e >= 0f && e <= 1f)) throw new IllegalArgumentException("labelSmoothing (" + e + ") is not in [0, 1]");
            this.labelSmoothing = e;
            return this;
        }

        /** One weight per class (copied), or null for none. */
        public Builder classWeights(float[] weights) {
            this.classWeights = Checks.finiteCopy(weights, "classWeights");
            return this;
        }

        public SoftmaxCrossEntropy build() {
            return new SoftmaxCrossEntropy(this);
        }
    }
}
