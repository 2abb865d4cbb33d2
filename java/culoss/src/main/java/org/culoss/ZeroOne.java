package org.culoss;

import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.util.Map;
import org.culoss.internal.CulossNative;
import org.culoss.internal.JavaZeroOne;

/**
 * The 0-1 loss, a metric: a row's loss is 1 where its predicted class, the argmax of its scores,
 * is not its target, else 0. Forward only: it has no gradient (it is piecewise constant), so it
 * measures a classifier; it does not train one.
 *
 * <ul>
 *   <li>The argmax is {@code torch.argmax}'s: the first index of the largest score, a NaN counting
 *       as larger than any number.
 *   <li>Reductions: {@code none} (one 0 or 1 per row), {@code sum} (the number of errors),
 *       {@code mean} (default: the error rate; 0 for no rows).
 *   <li>Every target must be in [0, C). A bad one throws a {@link CulossException} with
 *       {@link Status#INVALID_TARGET} after the call (host calls), or is reported by
 *       {@link #checkErrors} (device calls); that row counts for nothing, nor in the mean's count.
 * </ul>
 *
 * <pre>{@code
 * try (ZeroOne errors = ZeroOne.builder().build()) {
 *     float errorRate = errors.forward(scores, targets, n, c)[0];
 * }
 * }</pre>
 *
 * <p>Three ways to call it, as the other losses: {@code float[]}, host {@link FloatBuffer}s (heap
 * or direct, used from their position) and {@link DeviceBuffer}s (no copy, no synchronisation,
 * queued on the stream of the scores buffer, with a caller-owned workspace whose first 16 bytes
 * are the error word). The scores may have a row stride larger than C. Instances are immutable
 * and thread-safe.
 */
public final class ZeroOne extends LossFunction {
    static final int SCORES = 0;
    static final int TARGETS = 1;
    static final int LOSS = 2;
    static final int N = 0;
    static final int C = 1;

    static final Op<ZeroOne> OP = Op.<ZeroOne>builder("zero_one", "culossZeroOne")
            .size("n", 0)
            .size("c", 1)
            .stridedInput("scores", "n*c", "scoresStride")
            .labels("targets", "c")
            .loss()
            .nativeKernel((l, c, mode) -> CulossNative.culossZeroOneForward(c.address[SCORES], c.stride[SCORES],
                            c.address[TARGETS], c.sizes[N], c.sizes[C], c.dtype, l.reduction.nativeValue(),
                            c.address[LOSS], c.workspace, c.workspaceBytes, c.errorWord, c.stream),
                    (l, sizes, dtype, bytes) -> CulossNative.culossZeroOneWorkspaceSize(sizes[N], sizes[C], dtype,
                            l.reduction.nativeValue(), bytes))
            .javaKernel((l, c, threads) -> JavaZeroOne.run(c.floats(SCORES), c.stride[SCORES], c.ints(TARGETS),
                    c.intSize(N), c.intSize(C), l.reduction, c.floats(LOSS), threads))
            .build()
            .requireSize("n", N).requireSize("c", C)
            .requireSlot("scores", SCORES).requireSlot("targets", TARGETS).requireSlot("loss", LOSS);
    static final LossDeclaration<Builder> DECLARATION = LossDeclaration.of(OP, Builder::new, Builder::backend,
                    Builder::build)
            .param(Param.reduction("mean", Builder::reduction))
            .bench(Map.of(), "4096x1000", "512x32000");

    private ZeroOne(Builder b) {
        super(b.backend, b.reduction, null);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The loss of {@code scores} (n x c, row-major): one value, or n for {@code none}. */
    public float[] forward(float[] scores, int[] targets, int n, int c) {
        Call call = call(FloatBuffer.wrap(Checks.notNull(scores, "scores")), c,
                IntBuffer.wrap(Checks.notNull(targets, "targets")), n, c, null);
        Invoker.checkInputs(OP, this, call);
        float[] loss = new float[reduction == Reduction.NONE ? n : 1];
        call.host[LOSS] = FloatBuffer.wrap(loss);
        Invoker.host(OP, this, call);
        return loss;
    }

    public void forward(FloatBuffer scores, int scoresStride, IntBuffer targets, int n, int c, FloatBuffer loss) {
        Invoker.host(OP, this, call(scores, scoresStride, targets, n, c, Checks.notNull(loss, "loss")));
    }

    /** The workspace a device call needs for n rows of c classes (error word included). */
    public long workspaceBytes(long n, long c) {
        return Invoker.workspaceBytes(OP, this, n, c);
    }

    /** Allocates a workspace for n rows of c classes, with its error word cleared. */
    public DeviceBuffer allocateWorkspace(long n, long c) {
        return ErrorWord.allocateWorkspace(backend, workspaceBytes(n, c));
    }

    /** Queued on the stream of {@code scores}: no copy, no synchronisation. */
    public void forward(DeviceBuffer scores, long scoresStride, DeviceBuffer targets, long n, long c,
            DeviceBuffer loss, DeviceBuffer workspace) {
        Invoker.device(OP, this, call(scores, scoresStride, targets, n, c, Checks.notNull(loss, "loss")), workspace);
    }

    /**
     * Waits for the work queued on {@code stream}, reads the error word the kernel set for
     * invalid targets, clears it, and throws {@link CulossException} if it was set.
     */
    public void checkErrors(DeviceBuffer workspace, long stream) {
        ErrorWord.check(backend, workspace, stream, Invoker.badLabelMessage(OP, this));
    }

    private Call call(Object scores, long scoresStride, Object targets, long n, long c, Object loss) {
        Call call = OP.call();
        call.sizes[N] = n;
        call.sizes[C] = c;
        call.stride[SCORES] = scoresStride;
        return call.put(SCORES, scores).put(TARGETS, targets).put(LOSS, loss);
    }

    /** The options of a {@link ZeroOne}: the backend and the reduction (default {@code MEAN}). */
    public static final class Builder extends LossBuilder<Builder> {
        private Builder() {
            super(Reduction.MEAN);
        }

        public ZeroOne build() {
            return new ZeroOne(this);
        }
    }
}
