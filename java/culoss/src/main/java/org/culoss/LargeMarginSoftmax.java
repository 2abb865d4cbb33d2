package org.culoss;

import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.util.Map;
import org.culoss.internal.CulossNative;
import org.culoss.internal.JavaLargeMarginSoftmax;

/**
 * Large-margin softmax (L-Softmax, Liu et al., ICML 2016): the last fully connected layer and
 * softmax cross-entropy in one, with the target class's logit made harder to win by an integer
 * margin m. For features {@code x} (n x d), class weights {@code W} (d x c, column j class j's
 * weight vector) and targets {@code y} in [0, c):
 * <pre>
 *   f_ij = x_i . W_j;   cos(theta_i) = f_iy / (|x_i| |W_y|)
 *   psi(theta) = (-1)^k cos(m theta) - 2k   for theta in [k pi/m, (k+1) pi/m]
 *   f'_iy = (lambda f_iy + |x_i| |W_y| psi(theta_i)) / (1 + lambda),  the other f'_ij = f_ij
 *   loss_i = -log softmax(f'_i)[y_i]
 * </pre>
 * {@code lambda} is the paper's annealing weight (0 by default: the pure margin form; trainers
 * start it large and lower it). psi comes from cos(theta) by the Chebyshev polynomials, so there
 * is no acos on the gradient path, and it is smooth across the boundaries k pi/m. A row whose
 * feature or target weight vector is zero has no angle: its target logit is 0 and the psi term
 * adds no gradient. Reductions {@code none}, {@code sum}, {@code mean} (over n; 0 for no rows).
 *
 * <pre>{@code
 * LargeMarginSoftmax lsm = LargeMarginSoftmax.builder().margin(4).lambda(100f).build();
 * LargeMarginSoftmax.Result r = lsm.forwardBackward(features, weights, labels, n, d, c);
 * // r.gradFeatures() back into the network, r.gradWeights() to the layer's optimizer
 * }</pre>
 *
 * <p>Outputs: the loss, the modified logits f' (n x c, the layer's output, for accuracy), the
 * feature gradient (n x d) and the weight gradient (d x c). Every product is summed in double in
 * a fixed order, so each backend gives the same bits on every run. No output may overlap an
 * input (both products read both inputs whole).
 *
 * <p>Three ways to call it, as {@link CenterLoss}: {@code float[]}, host {@link FloatBuffer}s,
 * and {@link DeviceBuffer}s with a workspace from {@link #allocateWorkspace}. A target outside
 * [0, c) throws a {@link CulossException} naming the row after a host call (that row counts for
 * nothing), or is reported by {@link #checkErrors} after device calls. Instances are immutable
 * and thread-safe.
 */
public final class LargeMarginSoftmax extends LossFunction {
    static final int FEATURES = 0;
    static final int WEIGHTS = 1;
    static final int TARGETS = 2;
    static final int GRAD_OUTPUT = 3;
    static final int LOSS = 4;
    static final int MODIFIED_LOGITS = 5;
    static final int GRAD_FEATURES = 6;
    static final int GRAD_WEIGHTS = 7;
    static final int N = 0;
    static final int D = 1;
    static final int C = 2;
    /** The largest margin: psi's polynomial has degree m, and the paper's margins are 1 to 4. */
    public static final int MAX_MARGIN = 16;

    /** The kernels count rows and classes in int32. */
    private static final Op.SizeCheck RANGE = sizes -> {
        if (sizes[N] > Integer.MAX_VALUE) throw new IllegalArgumentException("n (" + sizes[N] + ") is more than 2^31 - 1");
        if (sizes[C] > Integer.MAX_VALUE) throw new IllegalArgumentException("c (" + sizes[C] + ") is more than 2^31 - 1");
        if (sizes[D] > Integer.MAX_VALUE) throw new IllegalArgumentException("d (" + sizes[D] + ") is more than 2^31 - 1");
    };

    static final Op<LargeMarginSoftmax> OP = Op.<LargeMarginSoftmax>builder("large_margin_softmax",
                    "culossLargeMarginSoftmax")
            .size("n", 0).size("d", 1).size("c", 1).check(RANGE)
            .input("features", "n*d")
            .input("weights", "d*c")
            .labels("targets", "c")
            .gradOutput()
            .loss()
            .output("modifiedLogits", "n*c")
            .grad("gradFeatures", "n*d")
            .grad("gradWeights", "d*c")
            .nativeKernel((l, c, mode) -> switch (mode) {
                case FORWARD -> CulossNative.culossLargeMarginSoftmaxForward(c.address[FEATURES], c.address[WEIGHTS],
                        c.address[TARGETS], c.sizes[N], c.sizes[D], c.sizes[C], c.dtype, l.margin, l.lambda,
                        l.reduction.nativeValue(), c.address[LOSS], c.address[MODIFIED_LOGITS], c.workspace,
                        c.workspaceBytes, c.errorWord, c.stream);
                case BACKWARD -> CulossNative.culossLargeMarginSoftmaxBackward(c.address[FEATURES], c.address[WEIGHTS],
                        c.address[TARGETS], c.sizes[N], c.sizes[D], c.sizes[C], c.dtype, l.margin, l.lambda,
                        l.reduction.nativeValue(), c.address[GRAD_OUTPUT], c.address[MODIFIED_LOGITS],
                        c.address[GRAD_FEATURES], c.address[GRAD_WEIGHTS], c.workspace, c.workspaceBytes, c.errorWord,
                        c.stream);
                case FORWARD_BACKWARD -> CulossNative.culossLargeMarginSoftmaxForwardBackward(c.address[FEATURES],
                        c.address[WEIGHTS], c.address[TARGETS], c.sizes[N], c.sizes[D], c.sizes[C], c.dtype, l.margin,
                        l.lambda, l.reduction.nativeValue(), c.address[GRAD_OUTPUT], c.address[LOSS],
                        c.address[MODIFIED_LOGITS], c.address[GRAD_FEATURES], c.address[GRAD_WEIGHTS], c.workspace,
                        c.workspaceBytes, c.errorWord, c.stream);
            }, (l, sizes, dtype, bytes) -> CulossNative.culossLargeMarginSoftmaxWorkspaceSize(sizes[N], sizes[D],
                    sizes[C], dtype, l.reduction.nativeValue(), bytes))
            .javaKernel((l, c, threads) -> JavaLargeMarginSoftmax.run(c.floats(FEATURES), c.floats(WEIGHTS),
                    c.ints(TARGETS), c.intSize(N), c.intSize(D), c.intSize(C), l.margin, l.lambda, l.reduction,
                    c.floats(GRAD_OUTPUT), c.floats(LOSS), c.floats(MODIFIED_LOGITS), c.floats(GRAD_FEATURES),
                    c.floats(GRAD_WEIGHTS), threads))
            .build()
            .requireSize("n", N).requireSize("d", D).requireSize("c", C)
            .requireSlot("features", FEATURES).requireSlot("weights", WEIGHTS).requireSlot("targets", TARGETS)
            .requireSlot("gradOutput", GRAD_OUTPUT).requireSlot("loss", LOSS)
            .requireSlot("modifiedLogits", MODIFIED_LOGITS).requireSlot("gradFeatures", GRAD_FEATURES)
            .requireSlot("gradWeights", GRAD_WEIGHTS);

    static final LossDeclaration<Builder> DECLARATION = LossDeclaration.of(OP, Builder::new, Builder::backend,
                    Builder::build)
            .param(Param.integer("margin", "2", Builder::margin, null, null))
            .param(Param.number("lambda", "0", Builder::lambda))
            .param(Param.reduction("mean", Builder::reduction))
            .bench(Map.of("margin", 4), "1024x512x1000");

    private final int margin;
    private final float lambda;

    private LargeMarginSoftmax(Builder b) {
        super(b.backend, b.reduction, null);
        this.margin = b.margin;
        this.lambda = b.lambda;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The integer margin m (default 2). */
    public int margin() {
        return margin;
    }

    /** The annealing weight lambda (default 0). */
    public float lambda() {
        return lambda;
    }

    /**
     * What one {@code forwardBackward} on arrays returns.
     *
     * @param loss           one value for {@code sum}/{@code mean}, n for {@code none}
     * @param modifiedLogits n x c, row-major: the logits with each target's replaced
     * @param gradFeatures   n x d, row-major
     * @param gradWeights    d x c, row-major
     */
    public record Result(float[] loss, float[] modifiedLogits, float[] gradFeatures, float[] gradWeights) {}

    // ---------------------------------------------------------------- arrays

    /** The loss: one value, or n for {@code none}. */
    public float[] forward(float[] features, float[] weights, int[] targets, int n, int d, int c) {
        Call call = arrays(features, weights, targets, n, d, c, null);
        float[] loss = new float[reduction == Reduction.NONE ? n : 1];
        call.host[LOSS] = FloatBuffer.wrap(loss);
        Invoker.host(OP, this, call);
        return loss;
    }

    /** Everything in one pass, for an upstream gradient of 1. */
    public Result forwardBackward(float[] features, float[] weights, int[] targets, int n, int d, int c) {
        return forwardBackward(features, weights, targets, n, d, c, null);
    }

    /** Everything in one pass; {@code gradOutput} null means 1 (n values for {@code none}, else 1). */
    public Result forwardBackward(float[] features, float[] weights, int[] targets, int n, int d, int c,
            float[] gradOutput) {
        Call call = arrays(features, weights, targets, n, d, c, gradOutput);
        float[] loss = new float[reduction == Reduction.NONE ? n : 1];
        float[] logits = new float[Checks.arrayLength(n, c, "n * c")];
        float[] gradFeatures = new float[Checks.arrayLength(n, d, "n * d")];
        float[] gradWeights = new float[Checks.arrayLength(d, c, "d * c")];
        call.host[LOSS] = FloatBuffer.wrap(loss);
        call.host[MODIFIED_LOGITS] = FloatBuffer.wrap(logits);
        call.host[GRAD_FEATURES] = FloatBuffer.wrap(gradFeatures);
        call.host[GRAD_WEIGHTS] = FloatBuffer.wrap(gradWeights);
        Invoker.host(OP, this, call);
        return new Result(loss, logits, gradFeatures, gradWeights);
    }

    // ---------------------------------------------------------------- host buffers

    /** The loss, and the modified logits when {@code modifiedLogits} (n x c) is not null. */
    public void forward(FloatBuffer features, FloatBuffer weights, IntBuffer targets, int n, int d, int c,
            FloatBuffer loss, FloatBuffer modifiedLogits) {
        Invoker.host(OP, this, call(features, weights, targets, n, d, c, null).put(LOSS, Checks.notNull(loss, "loss"))
                .put(MODIFIED_LOGITS, modifiedLogits));
    }

    /** {@code gradFeatures} (n x d) or {@code gradWeights} (d x c) may be null, not both. */
    public void backward(FloatBuffer features, FloatBuffer weights, IntBuffer targets, int n, int d, int c,
            FloatBuffer gradOutput, FloatBuffer gradFeatures, FloatBuffer gradWeights) {
        checkGradients(gradFeatures, gradWeights);
        Invoker.host(OP, this, call(features, weights, targets, n, d, c, gradOutput).put(GRAD_FEATURES, gradFeatures)
                .put(GRAD_WEIGHTS, gradWeights));
    }

    /** Everything in one pass; {@code modifiedLogits} may be null, one gradient may be null. */
    public void forwardBackward(FloatBuffer features, FloatBuffer weights, IntBuffer targets, int n, int d, int c,
            FloatBuffer gradOutput, FloatBuffer loss, FloatBuffer modifiedLogits, FloatBuffer gradFeatures,
            FloatBuffer gradWeights) {
        Checks.notNull(loss, "loss");
        checkGradients(gradFeatures, gradWeights);
        Invoker.host(OP, this, call(features, weights, targets, n, d, c, gradOutput).put(LOSS, loss)
                .put(MODIFIED_LOGITS, modifiedLogits).put(GRAD_FEATURES, gradFeatures).put(GRAD_WEIGHTS, gradWeights));
    }

    // ---------------------------------------------------------------- device buffers

    /** The workspace a device call needs for this shape, error word included. */
    public long workspaceBytes(long n, long d, long c) {
        return Invoker.workspaceBytes(OP, this, n, d, c);
    }

    /** Allocates a workspace for this shape, with its error word cleared. */
    public DeviceBuffer allocateWorkspace(long n, long d, long c) {
        return ErrorWord.allocateWorkspace(backend, workspaceBytes(n, d, c));
    }

    public void forward(DeviceBuffer features, DeviceBuffer weights, DeviceBuffer targets, long n, long d, long c,
            DeviceBuffer loss, DeviceBuffer modifiedLogits, DeviceBuffer workspace) {
        Invoker.device(OP, this, call(features, weights, targets, n, d, c, null).put(LOSS, Checks.notNull(loss, "loss"))
                .put(MODIFIED_LOGITS, modifiedLogits), workspace);
    }

    public void backward(DeviceBuffer features, DeviceBuffer weights, DeviceBuffer targets, long n, long d, long c,
            DeviceBuffer gradOutput, DeviceBuffer gradFeatures, DeviceBuffer gradWeights, DeviceBuffer workspace) {
        checkGradients(gradFeatures, gradWeights);
        Invoker.device(OP, this, call(features, weights, targets, n, d, c, gradOutput).put(GRAD_FEATURES, gradFeatures)
                .put(GRAD_WEIGHTS, gradWeights), workspace);
    }

    /**
     * The fast path: queued on the stream of {@code features}, no copy, no synchronisation.
     * {@code gradOutput} and {@code modifiedLogits} may be null; one gradient may be null.
     */
    public void forwardBackward(DeviceBuffer features, DeviceBuffer weights, DeviceBuffer targets, long n, long d,
            long c, DeviceBuffer gradOutput, DeviceBuffer loss, DeviceBuffer modifiedLogits, DeviceBuffer gradFeatures,
            DeviceBuffer gradWeights, DeviceBuffer workspace) {
        Checks.notNull(loss, "loss");
        checkGradients(gradFeatures, gradWeights);
        Invoker.device(OP, this, call(features, weights, targets, n, d, c, gradOutput).put(LOSS, loss)
                .put(MODIFIED_LOGITS, modifiedLogits).put(GRAD_FEATURES, gradFeatures).put(GRAD_WEIGHTS, gradWeights),
                workspace);
    }

    /**
     * Waits for the work queued on {@code stream}, reads the error word the kernels set for bad
     * targets, clears it, and throws {@link CulossException} if it was set.
     */
    public void checkErrors(DeviceBuffer workspace, long stream) {
        ErrorWord.check(backend, workspace, stream, Invoker.badLabelMessage(OP, this));
    }

    // ---------------------------------------------------------------- calls

    private Call arrays(float[] features, float[] weights, int[] targets, int n, int d, int c, float[] gradOutput) {
        Call call = call(FloatBuffer.wrap(Checks.notNull(features, "features")),
                FloatBuffer.wrap(Checks.notNull(weights, "weights")), IntBuffer.wrap(Checks.notNull(targets, "targets")),
                n, d, c, gradOutput == null ? null : FloatBuffer.wrap(gradOutput));
        Invoker.checkInputs(OP, this, call);
        return call;
    }

    private static Call call(Object features, Object weights, Object targets, long n, long d, long c,
            Object gradOutput) {
        Call call = OP.call();
        call.sizes[N] = n;
        call.sizes[D] = d;
        call.sizes[C] = c;
        call.put(FEATURES, features).put(WEIGHTS, weights).put(TARGETS, targets);
        return gradOutput == null ? call : call.put(GRAD_OUTPUT, gradOutput);
    }

    private static void checkGradients(Object gradFeatures, Object gradWeights) {
        if (gradFeatures == null && gradWeights == null) {
            throw new IllegalArgumentException("gradFeatures and gradWeights are both null");
        }
    }

    /** The options of a {@link LargeMarginSoftmax}; the defaults are margin 2, lambda 0, mean. */
    public static final class Builder extends LossBuilder<Builder> {
        private int margin = 2;
        private float lambda = 0f;

        private Builder() {
            super(Reduction.MEAN);
        }

        /** The integer margin m, 1 (plain softmax) to {@link #MAX_MARGIN}; default 2. */
        public Builder margin(int margin) {
            if (margin < 1 || margin > MAX_MARGIN) {
                throw new IllegalArgumentException("margin (" + margin + ") is not in [1, " + MAX_MARGIN + "]");
            }
            this.margin = margin;
            return this;
        }

        /** The annealing weight, finite and at least 0; default 0. */
        public Builder lambda(float lambda) {
            if (!(Checks.finite(lambda, "lambda") >= 0)) {
                throw new IllegalArgumentException("lambda (" + lambda + ") is negative");
            }
            this.lambda = lambda;
            return this;
        }

        public LargeMarginSoftmax build() {
            return new LargeMarginSoftmax(this);
        }
    }
}
