package org.culoss;

import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.util.Map;
import org.culoss.internal.CulossNative;
import org.culoss.internal.JavaCenterLoss;

/**
 * Center loss (Wen et al., ECCV 2016): {@code loss_i = lambda / 2 * ||x_i - c_{y_i}||^2} for
 * features {@code x} (n x d), labels {@code y} in [0, C) and class centers {@code c} (C x d), with
 * the {@code none}/{@code sum}/{@code mean} reductions ({@code mean} divides by n, the batch size,
 * as the usual PyTorch center-loss modules do; n = 0 gives 0), and the paper's center update
 * {@code c_j -= alpha * sum_{y_i = j} (c_j - x_i) / (1 + n_j)} (independent of lambda and the
 * reduction; classes without samples do not move).
 *
 * <pre>{@code
 * CenterLoss center = CenterLoss.builder().lambda(0.01f).alpha(0.5f).build();
 * CenterLoss.Result r = center.forwardBackward(features, labels, centers, n, d, c);
 * // r.loss()[0], r.gradFeatures(): add to the network's gradient; then move the centers:
 * center.updateCenters(features, labels, centers, n, d, c);
 * }</pre>
 *
 * <p>Gradients: {@code dL/dx_i = lambda (x_i - c_{y_i}) g_i} and, for callers who move the centers
 * with their own optimizer instead of {@link #updateCenters}, {@code dL/dc_j = -lambda sum_{y_i = j}
 * (x_i - c_j) g_i} (both / n for {@code mean}; {@code g} the upstream gradient, 1 unless given).
 * The center gradient is computed only when asked for (a {@code gradCenters} output, or
 * {@code forwardBackward(..., true)} on arrays). The center gradient and the update add each
 * class's samples in a fixed order, never with float atomics, so each backend gives the same bits
 * on every run (the java backend for any thread count; backends agree with each other within
 * float rounding).
 *
 * <p>Three ways to call it, as {@link SoftmaxCrossEntropy}: {@code float[]}, host
 * {@link FloatBuffer}s (used from their position), and {@link DeviceBuffer}s (no copy, no
 * synchronisation, queued on the stream of the features buffer, with a caller-owned workspace from
 * {@link #allocateWorkspace}; the update queued after a loss call on the same stream sees the old
 * centers in the loss). Rows are contiguous.
 *
 * <p>Every argument is checked before any native call; a bad one throws an
 * {@link IllegalArgumentException} that names it. A label outside [0, C) throws a
 * {@link CulossException} with {@link Status#INVALID_TARGET} naming the row after the call (host
 * calls; the outputs are written, that row counting for nothing), or is reported by
 * {@link #checkErrors} (device calls). Instances are immutable and thread-safe.
 */
public final class CenterLoss extends LossFunction {
    static final int FEATURES = 0;
    static final int LABELS = 1;
    static final int CENTERS = 2;
    static final int GRAD_OUTPUT = 3;
    static final int LOSS = 4;
    static final int GRAD_FEATURES = 5;
    static final int GRAD_CENTERS = 6;
    static final int N = 0;
    static final int D = 1;
    static final int C = 2;

    /** The kernels count rows and classes in int32 and sum at most 2^40 elements of a class table. */
    private static final Op.SizeCheck RANGE = sizes -> {
        long n = sizes[N];
        long d = sizes[D];
        long c = sizes[C];
        if (n > Integer.MAX_VALUE) throw new IllegalArgumentException("n (" + n + ") is more than 2^31 - 1");
        if (c > Integer.MAX_VALUE) throw new IllegalArgumentException("c (" + c + ") is more than 2^31 - 1");
        if (d > (1L << 40) / Math.max(Math.max(n, c), 1)) {
            throw new IllegalArgumentException("d (" + d + ") times max(n, c) is more than 2^40 elements");
        }
    };

    private static final Op.WorkspaceQuery<CenterLoss> QUERY = (l, sizes, dtype, bytes) ->
            CulossNative.culossCenterLossWorkspaceSize(sizes[N], sizes[D], sizes[C], dtype, l.reduction.nativeValue(),
                    bytes);

    /** What the loss and the update share: the sizes, the features and the labels, in the same slots. */
    private static Op.Builder<CenterLoss> shared(Op.Builder<CenterLoss> b) {
        return b.size("n", 0).size("d", 1).size("c", 1).check(RANGE).input("features", "n*d").labels("labels", "c");
    }

    private static Op<CenterLoss> requireShared(Op<CenterLoss> op) {
        return op.requireSize("n", N).requireSize("d", D).requireSize("c", C)
                .requireSlot("features", FEATURES).requireSlot("labels", LABELS).requireSlot("centers", CENTERS);
    }

    static final Op<CenterLoss> OP = requireShared(shared(Op.<CenterLoss>builder("center", "culossCenterLoss"))
            .input("centers", "c*d")
            .gradOutput()
            .loss()
            .grad("gradFeatures", "n*d", "features")
            .gradOnRequest("gradCenters", "c*d")
            .nativeKernel((l, c, mode) -> switch (mode) {
                case FORWARD -> CulossNative.culossCenterLossForward(c.address[FEATURES], c.address[LABELS],
                        c.address[CENTERS], c.sizes[N], c.sizes[D], c.sizes[C], c.dtype, l.lambda,
                        l.reduction.nativeValue(),
                        c.address[LOSS], c.workspace, c.workspaceBytes, c.errorWord, c.stream);
                case BACKWARD -> CulossNative.culossCenterLossBackward(c.address[FEATURES], c.address[LABELS],
                        c.address[CENTERS], c.sizes[N], c.sizes[D], c.sizes[C], c.dtype, l.lambda,
                        l.reduction.nativeValue(),
                        c.address[GRAD_OUTPUT], c.address[GRAD_FEATURES], c.address[GRAD_CENTERS], c.workspace,
                        c.workspaceBytes, c.errorWord, c.stream);
                case FORWARD_BACKWARD -> CulossNative.culossCenterLossForwardBackward(c.address[FEATURES],
                        c.address[LABELS], c.address[CENTERS], c.sizes[N], c.sizes[D], c.sizes[C], c.dtype, l.lambda,
                        l.reduction.nativeValue(), c.address[GRAD_OUTPUT], c.address[LOSS], c.address[GRAD_FEATURES],
                        c.address[GRAD_CENTERS], c.workspace, c.workspaceBytes, c.errorWord, c.stream);
            }, QUERY)
            .javaKernel((l, c, threads) -> JavaCenterLoss.run(c.floats(FEATURES), c.ints(LABELS), c.floats(CENTERS),
                    c.intSize(N), c.intSize(D), c.intSize(C), l.lambda, l.reduction, c.floats(GRAD_OUTPUT),
                    c.floats(LOSS), c.floats(GRAD_FEATURES), c.floats(GRAD_CENTERS), threads))
            .build())
            .requireSlot("gradOutput", GRAD_OUTPUT).requireSlot("loss", LOSS).requireSlot("gradFeatures", GRAD_FEATURES)
            .requireSlot("gradCenters", GRAD_CENTERS);

    /** The center update: the centers are read and written in place. */
    static final Op<CenterLoss> UPDATE = requireShared(shared(Op.<CenterLoss>single("center", "update",
                    "culossCenterLossUpdateCenters", "culossCenterLossWorkspaceSize"))
            .inOut("centers", "c*d")
            .nativeKernel((l, c, mode) -> CulossNative.culossCenterLossUpdateCenters(c.address[FEATURES],
                    c.address[LABELS], c.address[CENTERS], c.sizes[N], c.sizes[D], c.sizes[C], c.dtype, l.alpha,
                    c.workspace,
                    c.workspaceBytes, c.errorWord, c.stream), QUERY)
            .javaKernel((l, c, threads) -> JavaCenterLoss.updateCenters(c.floats(FEATURES), c.ints(LABELS),
                    c.floats(CENTERS), c.intSize(N), c.intSize(D), c.intSize(C), l.alpha, threads))
            .build());
    static final LossDeclaration<Builder> DECLARATION = LossDeclaration.of(OP, Builder::new, Builder::backend,
                    Builder::build)
            .param(Param.number("lambda", "1", Builder::lambda))
            .param(Param.number("alpha", "0.5", Builder::alpha))
            .param(Param.reduction("mean", Builder::reduction))
            .inPlace(UPDATE)
            .bench(Map.of(), "4096x512x10000");


    private final float lambda;
    private final float alpha;

    private CenterLoss(Builder b) {
        super(b.backend, b.reduction, null);
        this.lambda = b.lambda;
        this.alpha = b.alpha;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The weight of the loss (default 1). */
    public float lambda() {
        return lambda;
    }

    /** The center update's rate (default 0.5). */
    public float alpha() {
        return alpha;
    }

    /**
     * What one {@code forwardBackward} on arrays returns.
     *
     * @param loss         one value for {@code sum}/{@code mean}, n for {@code none}
     * @param gradFeatures n x d, row-major
     * @param gradCenters  C x d, row-major; null unless it was asked for
     */
    public record Result(float[] loss, float[] gradFeatures, float[] gradCenters) {}

    // ---------------------------------------------------------------- arrays

    /** The loss: one value, or n for {@code none}. */
    public float[] forward(float[] features, int[] labels, float[] centers, int n, int d, int c) {
        Call call = arrays(OP, features, labels, centers, n, d, c, null);
        float[] loss = new float[lossLength(n)];
        call.host[LOSS] = FloatBuffer.wrap(loss);
        Invoker.host(OP, this, call);
        return loss;
    }

    /** The feature gradient for the upstream gradient {@code gradOutput} (null: 1; n values for {@code none}). */
    public float[] backward(float[] features, int[] labels, float[] centers, int n, int d, int c, float[] gradOutput) {
        Call call = arrays(OP, features, labels, centers, n, d, c, gradOutput);
        float[] gradFeatures = new float[Checks.arrayLength(n, d, "n * d")];
        call.host[GRAD_FEATURES] = FloatBuffer.wrap(gradFeatures);
        Invoker.host(OP, this, call);
        return gradFeatures;
    }

    /** Loss and feature gradient in one pass, for an upstream gradient of 1. */
    public Result forwardBackward(float[] features, int[] labels, float[] centers, int n, int d, int c) {
        return forwardBackward(features, labels, centers, n, d, c, null, false);
    }

    /** Loss and feature gradient in one pass; {@code gradOutput} as in {@link #backward}. */
    public Result forwardBackward(float[] features, int[] labels, float[] centers, int n, int d, int c,
            float[] gradOutput) {
        return forwardBackward(features, labels, centers, n, d, c, gradOutput, false);
    }

    /** Loss, feature gradient and, when {@code gradCenters} is true, the center gradient (C x d). */
    public Result forwardBackward(float[] features, int[] labels, float[] centers, int n, int d, int c,
            float[] gradOutput, boolean gradCenters) {
        Call call = arrays(OP, features, labels, centers, n, d, c, gradOutput);
        float[] gradFeatures = new float[Checks.arrayLength(n, d, "n * d")];
        float[] gradC = gradCenters ? new float[Checks.arrayLength(c, d, "c * d")] : null;
        float[] loss = new float[lossLength(n)];
        call.host[LOSS] = FloatBuffer.wrap(loss);
        call.host[GRAD_FEATURES] = FloatBuffer.wrap(gradFeatures);
        call.host[GRAD_CENTERS] = gradC == null ? null : FloatBuffer.wrap(gradC);
        Invoker.host(OP, this, call);
        return new Result(loss, gradFeatures, gradC);
    }

    /** The center update, in place in {@code centers} (C x d). */
    public void updateCenters(float[] features, int[] labels, float[] centers, int n, int d, int c) {
        Invoker.host(UPDATE, this, arrays(UPDATE, features, labels, centers, n, d, c, null));
    }

    // ---------------------------------------------------------------- host buffers

    public void forward(FloatBuffer features, IntBuffer labels, FloatBuffer centers, int n, int d, int c,
            FloatBuffer loss) {
        Invoker.host(OP, this, call(OP, features, labels, centers, n, d, c, null)
                .put(LOSS, Checks.notNull(loss, "loss")));
    }

    /** {@code gradFeatures} (n x d) or {@code gradCenters} (C x d) may be null, not both. */
    public void backward(FloatBuffer features, IntBuffer labels, FloatBuffer centers, int n, int d, int c,
            FloatBuffer gradOutput, FloatBuffer gradFeatures, FloatBuffer gradCenters) {
        checkGradients(gradFeatures, gradCenters);
        Invoker.host(OP, this, call(OP, features, labels, centers, n, d, c, gradOutput).put(GRAD_FEATURES, gradFeatures)
                .put(GRAD_CENTERS, gradCenters));
    }

    /** Loss and gradients in one pass; {@code gradFeatures} or {@code gradCenters} may be null, not both. */
    public void forwardBackward(FloatBuffer features, IntBuffer labels, FloatBuffer centers, int n, int d, int c,
            FloatBuffer gradOutput, FloatBuffer loss, FloatBuffer gradFeatures, FloatBuffer gradCenters) {
        Checks.notNull(loss, "loss");
        checkGradients(gradFeatures, gradCenters);
        Invoker.host(OP, this, call(OP, features, labels, centers, n, d, c, gradOutput).put(LOSS, loss)
                .put(GRAD_FEATURES, gradFeatures).put(GRAD_CENTERS, gradCenters));
    }

    /** The center update, in place in {@code centers} (C x d from its position). */
    public void updateCenters(FloatBuffer features, IntBuffer labels, FloatBuffer centers, int n, int d, int c) {
        Invoker.host(UPDATE, this, call(UPDATE, features, labels, centers, n, d, c, null));
    }

    // ---------------------------------------------------------------- device buffers

    /** The workspace a device call (any of them, the update included) needs for this shape, error word included. */
    public long workspaceBytes(long n, long d, long c) {
        return Invoker.workspaceBytes(OP, this, n, d, c);
    }

    /** Allocates a workspace for this shape, with its error word cleared. */
    public DeviceBuffer allocateWorkspace(long n, long d, long c) {
        return ErrorWord.allocateWorkspace(backend, workspaceBytes(n, d, c));
    }

    public void forward(DeviceBuffer features, DeviceBuffer labels, DeviceBuffer centers, long n, long d, long c,
            DeviceBuffer loss, DeviceBuffer workspace) {
        Invoker.device(OP, this, call(OP, features, labels, centers, n, d, c, null)
                .put(LOSS, Checks.notNull(loss, "loss")), workspace);
    }

    /** {@code gradFeatures} or {@code gradCenters} may be null, not both. */
    public void backward(DeviceBuffer features, DeviceBuffer labels, DeviceBuffer centers, long n, long d, long c,
            DeviceBuffer gradOutput, DeviceBuffer gradFeatures, DeviceBuffer gradCenters, DeviceBuffer workspace) {
        checkGradients(gradFeatures, gradCenters);
        Invoker.device(OP, this, call(OP, features, labels, centers, n, d, c, gradOutput)
                .put(GRAD_FEATURES, gradFeatures).put(GRAD_CENTERS, gradCenters), workspace);
    }

    /**
     * The fast path: queued on the stream of {@code features}, no copy, no synchronisation.
     * {@code gradOutput} may be null (1); {@code gradFeatures} or {@code gradCenters} may be null,
     * not both. {@code workspace} comes from {@link #allocateWorkspace}.
     */
    public void forwardBackward(DeviceBuffer features, DeviceBuffer labels, DeviceBuffer centers, long n, long d,
            long c, DeviceBuffer gradOutput, DeviceBuffer loss, DeviceBuffer gradFeatures, DeviceBuffer gradCenters,
            DeviceBuffer workspace) {
        Checks.notNull(loss, "loss");
        checkGradients(gradFeatures, gradCenters);
        Invoker.device(OP, this, call(OP, features, labels, centers, n, d, c, gradOutput).put(LOSS, loss)
                .put(GRAD_FEATURES, gradFeatures).put(GRAD_CENTERS, gradCenters), workspace);
    }

    /** The center update in place, queued on the stream of {@code features} after any earlier call there. */
    public void updateCenters(DeviceBuffer features, DeviceBuffer labels, DeviceBuffer centers, long n, long d, long c,
            DeviceBuffer workspace) {
        Invoker.device(UPDATE, this, call(UPDATE, features, labels, centers, n, d, c, null), workspace);
    }

    /**
     * Waits for the work queued on {@code stream}, reads the error word the kernels set for bad
     * labels, clears it, and throws {@link CulossException} if it was set.
     */
    public void checkErrors(DeviceBuffer workspace, long stream) {
        ErrorWord.check(backend, workspace, stream, Invoker.badLabelMessage(OP, this));
    }

    // ---------------------------------------------------------------- calls

    /** The call of an array overload, its inputs checked before the outputs are allocated. */
    private Call arrays(Op<CenterLoss> op, float[] features, int[] labels, float[] centers, int n, int d, int c,
            float[] gradOutput) {
        Call call = call(op, FloatBuffer.wrap(Checks.notNull(features, "features")),
                IntBuffer.wrap(Checks.notNull(labels, "labels")), FloatBuffer.wrap(Checks.notNull(centers, "centers")),
                n, d, c, gradOutput == null ? null : FloatBuffer.wrap(gradOutput));
        Invoker.checkInputs(op, this, call);
        return call;
    }

    /**
     * The call of any overload, host buffers or backend buffers by their type. The slots both
     * operations share come first, in the same order; the update has no upstream gradient.
     */
    private static Call call(Op<CenterLoss> op, Object features, Object labels, Object centers, long n, long d,
            long c, Object gradOutput) {
        Call call = op.call();
        call.sizes[N] = n;
        call.sizes[D] = d;
        call.sizes[C] = c;
        call.put(FEATURES, features).put(LABELS, labels).put(CENTERS, centers);
        return gradOutput == null ? call : call.put(GRAD_OUTPUT, gradOutput);
    }

    private int lossLength(int n) {
        return reduction == Reduction.NONE ? n : 1;
    }

    private static void checkGradients(Object gradFeatures, Object gradCenters) {
        if (gradFeatures == null && gradCenters == null) {
            throw new IllegalArgumentException("gradFeatures and gradCenters are both null");
        }
    }

    /** The options of a {@link CenterLoss}; the defaults are lambda 1, alpha 0.5, mean. */
    public static final class Builder extends LossBuilder<Builder> {
        private float lambda = 1f;
        private float alpha = 0.5f;

        private Builder() {
            super(Reduction.MEAN);
        }

        /** The loss weight (finite; default 1). */
        public Builder lambda(float lambda) {
            this.lambda = Checks.finite(lambda, "lambda");
            return this;
        }

        /** The center update's rate (finite; default 0.5; the paper uses [0, 1]). */
        public Builder alpha(float alpha) {
            this.alpha = Checks.finite(alpha, "alpha");
            return this;
        }

        public CenterLoss build() {
            return new CenterLoss(this);
        }
    }
}
