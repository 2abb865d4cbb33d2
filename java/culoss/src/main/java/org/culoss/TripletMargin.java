package org.culoss;

import java.nio.FloatBuffer;
import java.util.Map;
import org.culoss.internal.CulossNative;
import org.culoss.internal.JavaTripletMargin;

/**
 * Triplet margin loss with the semantics of {@code torch.nn.functional.triplet_margin_loss}:
 * for rows a, p, n of the anchor, positive and negative [n, d] matrices,
 * {@code loss_i = max(margin + dist(a_i, p_i) - dist(a_i, n_i), 0)} with
 * {@code dist(u, v) = ||u - v + eps||_p} (eps added to every component, as
 * {@code pairwise_distance} does); with {@code swap} the negative distance is
 * {@code min(dist(a_i, n_i), dist(p_i, n_i))}. Reductions {@code none}/{@code sum}/{@code mean}
 * ({@code mean} of no rows is 0, where PyTorch gives NaN).
 *
 * <pre>{@code
 * TripletMargin tm = TripletMargin.builder().margin(0.5f).swap(true).build();
 * TripletMargin.Result r = tm.forwardBackward(anchor, positive, negative, n, d);
 * float loss = r.loss()[0];
 * float[] gradAnchor = r.gradAnchor();
 * }</pre>
 *
 * <p>The gradients follow PyTorch's autograd rules: a row whose {@code margin + d_ap - d_neg} is
 * exactly 0 still passes its gradient (clamp_min's rule); a distance of 0 and a component of 0
 * have gradient 0; p = inf splits the gradient among the largest components; a swap tie splits it
 * half and half. {@code p} is any value above 0 or +inf; PyTorch also accepts p <= 0, which is no
 * distance (and p = 0 has no gradient there), so culoss refuses it.
 *
 * <p>Three ways to call it: {@code float[]} (convenient; a native backend copies them), host
 * {@link FloatBuffer}s, heap or direct (used from their position; the emulated backend reads
 * direct ones in place), and {@link DeviceBuffer}s (the fast path: no copy, no synchronisation,
 * queued on the stream of the anchor buffer, with a caller-owned workspace). Rows are contiguous.
 * Any of the three gradients may be left out of a backward (null), but not all of them; gradient
 * buffers must not overlap the inputs or each other.
 *
 * <p>Every argument is checked before any native call; a bad one throws an
 * {@link IllegalArgumentException} that names it. Instances are immutable and thread-safe; they
 * hold no native resources.
 */
public final class TripletMargin extends LossFunction {
    static final int ANCHOR = 0;
    static final int POSITIVE = 1;
    static final int NEGATIVE = 2;
    static final int GRAD_OUTPUT = 3;
    static final int LOSS = 4;
    static final int GRAD_ANCHOR = 5;
    static final int GRAD_POSITIVE = 6;
    static final int GRAD_NEGATIVE = 7;
    static final int N = 0;
    static final int D = 1;

    static final Op<TripletMargin> OP = Op.<TripletMargin>builder("triplet_margin", "culossTripletMargin")
            .size("n", 0)
            .size("d", 1)
            .input("anchor", "n*d")
            .input("positive", "n*d")
            .input("negative", "n*d")
            .gradOutput()
            .loss()
            .grad("gradAnchor", "n*d")
            .grad("gradPositive", "n*d")
            .grad("gradNegative", "n*d")
            .nativeKernel((l, c, mode) -> switch (mode) {
                case FORWARD -> CulossNative.culossTripletMarginForward(c.address[ANCHOR], c.address[POSITIVE],
                        c.address[NEGATIVE], c.sizes[N], c.sizes[D], c.dtype, l.margin, l.p, l.eps, l.swap ? 1 : 0,
                        l.reduction.nativeValue(), c.address[LOSS], c.workspace, c.workspaceBytes, c.stream);
                case BACKWARD -> CulossNative.culossTripletMarginBackward(c.address[ANCHOR], c.address[POSITIVE],
                        c.address[NEGATIVE], c.sizes[N], c.sizes[D], c.dtype, l.margin, l.p, l.eps, l.swap ? 1 : 0,
                        l.reduction.nativeValue(), c.address[GRAD_OUTPUT], c.address[GRAD_ANCHOR],
                        c.address[GRAD_POSITIVE], c.address[GRAD_NEGATIVE], c.workspace, c.workspaceBytes, c.stream);
                case FORWARD_BACKWARD -> CulossNative.culossTripletMarginForwardBackward(c.address[ANCHOR],
                        c.address[POSITIVE], c.address[NEGATIVE], c.sizes[N], c.sizes[D], c.dtype, l.margin, l.p, l.eps,
                        l.swap ? 1 : 0, l.reduction.nativeValue(), c.address[GRAD_OUTPUT], c.address[LOSS],
                        c.address[GRAD_ANCHOR], c.address[GRAD_POSITIVE], c.address[GRAD_NEGATIVE], c.workspace,
                        c.workspaceBytes, c.stream);
            }, (l, sizes, dtype, bytes) -> CulossNative.culossTripletMarginWorkspaceSize(sizes[N], sizes[D], dtype,
                    l.reduction.nativeValue(), bytes))
            .javaKernel((l, c, threads) -> {
                JavaTripletMargin.run(c.floats(ANCHOR), c.floats(POSITIVE), c.floats(NEGATIVE), c.intSize(N),
                        c.intSize(D), l.margin, l.p, l.eps, l.swap, l.reduction, c.floats(GRAD_OUTPUT),
                        c.floats(LOSS), c.floats(GRAD_ANCHOR), c.floats(GRAD_POSITIVE), c.floats(GRAD_NEGATIVE),
                        threads);
                return -1;
            })
            .build()
            .requireSize("n", N).requireSize("d", D)
            .requireSlot("anchor", ANCHOR).requireSlot("positive", POSITIVE).requireSlot("negative", NEGATIVE)
            .requireSlot("gradOutput", GRAD_OUTPUT).requireSlot("loss", LOSS).requireSlot("gradAnchor", GRAD_ANCHOR)
            .requireSlot("gradPositive", GRAD_POSITIVE).requireSlot("gradNegative", GRAD_NEGATIVE);
    static final LossDeclaration<Builder> DECLARATION = LossDeclaration.of(OP, Builder::new, Builder::backend,
                    Builder::build)
            .param(Param.number("margin", "1", Builder::margin))
            .param(Param.number("p", "2", Builder::p))
            .param(Param.number("eps", "1e-6", Builder::eps))
            .param(Param.bool("swap", "false", Builder::swap))
            .param(Param.reduction("mean", Builder::reduction))
            .bench(Map.of(), "4096x512");


    private final float margin;
    private final float p;
    private final float eps;
    private final boolean swap;

    private TripletMargin(Builder b) {
        super(b.backend, b.reduction, null);
        this.margin = b.margin;
        this.p = b.p;
        this.eps = b.eps;
        this.swap = b.swap;
    }

    public static Builder builder() {
        return new Builder();
    }

    public float margin() {
        return margin;
    }

    public float p() {
        return p;
    }

    public float eps() {
        return eps;
    }

    public boolean swap() {
        return swap;
    }

    /**
     * The loss and the gradients of one call on arrays, each gradient n x d, row-major.
     *
     * @param loss one value for {@code sum}/{@code mean}, n for {@code none}; null after {@code backward}
     */
    public record Result(float[] loss, float[] gradAnchor, float[] gradPositive, float[] gradNegative) {}

    // ---------------------------------------------------------------- arrays

    /** The loss of n triplets of d features (row-major): one value, or n for {@code none}. */
    public float[] forward(float[] anchor, float[] positive, float[] negative, int n, int d) {
        Call call = arrays(anchor, positive, negative, n, d, null);
        float[] loss = new float[lossLength(n)];
        call.host[LOSS] = FloatBuffer.wrap(loss);
        Invoker.host(OP, this, call);
        return loss;
    }

    /**
     * The three gradients for the upstream gradient {@code gradOutput} (null: 1; n values for
     * {@code none}); the result's loss is null.
     */
    public Result backward(float[] anchor, float[] positive, float[] negative, int n, int d, float[] gradOutput) {
        return arrayCall(anchor, positive, negative, n, d, gradOutput, false);
    }

    /** Loss and gradients in one pass, for an upstream gradient of 1. */
    public Result forwardBackward(float[] anchor, float[] positive, float[] negative, int n, int d) {
        return forwardBackward(anchor, positive, negative, n, d, null);
    }

    /** Loss and gradients in one pass; {@code gradOutput} as in {@link #backward}. */
    public Result forwardBackward(float[] anchor, float[] positive, float[] negative, int n, int d,
            float[] gradOutput) {
        return arrayCall(anchor, positive, negative, n, d, gradOutput, true);
    }

    private Result arrayCall(float[] anchor, float[] positive, float[] negative, int n, int d, float[] gradOutput,
            boolean forward) {
        Call call = arrays(anchor, positive, negative, n, d, gradOutput);
        int len = Checks.arrayLength(n, d, "n * d");
        float[] loss = forward ? new float[lossLength(n)] : null;
        float[] ga = new float[len];
        float[] gp = new float[len];
        float[] gn = new float[len];
        if (forward) call.host[LOSS] = FloatBuffer.wrap(loss);
        call.host[GRAD_ANCHOR] = FloatBuffer.wrap(ga);
        call.host[GRAD_POSITIVE] = FloatBuffer.wrap(gp);
        call.host[GRAD_NEGATIVE] = FloatBuffer.wrap(gn);
        Invoker.host(OP, this, call);
        return new Result(loss, ga, gp, gn);
    }

    // ---------------------------------------------------------------- host buffers

    public void forward(FloatBuffer anchor, FloatBuffer positive, FloatBuffer negative, int n, int d,
            FloatBuffer loss) {
        Invoker.host(OP, this, call(anchor, positive, negative, n, d, null).put(LOSS, Checks.notNull(loss, "loss")));
    }

    /** Any of the three gradients may be null (not computed), but not all. */
    public void backward(FloatBuffer anchor, FloatBuffer positive, FloatBuffer negative, int n, int d,
            FloatBuffer gradOutput, FloatBuffer gradAnchor, FloatBuffer gradPositive, FloatBuffer gradNegative) {
        checkSomeGradient(gradAnchor, gradPositive, gradNegative);
        Invoker.host(OP, this, call(anchor, positive, negative, n, d, gradOutput).put(GRAD_ANCHOR, gradAnchor)
                .put(GRAD_POSITIVE, gradPositive).put(GRAD_NEGATIVE, gradNegative));
    }

    /** Any of the three gradients may be null (not computed), but not all. */
    public void forwardBackward(FloatBuffer anchor, FloatBuffer positive, FloatBuffer negative, int n, int d,
            FloatBuffer gradOutput, FloatBuffer loss, FloatBuffer gradAnchor, FloatBuffer gradPositive,
            FloatBuffer gradNegative) {
        Checks.notNull(loss, "loss");
        checkSomeGradient(gradAnchor, gradPositive, gradNegative);
        Invoker.host(OP, this, call(anchor, positive, negative, n, d, gradOutput).put(LOSS, loss)
                .put(GRAD_ANCHOR, gradAnchor).put(GRAD_POSITIVE, gradPositive).put(GRAD_NEGATIVE, gradNegative));
    }

    // ---------------------------------------------------------------- device buffers

    /** The workspace a device {@code forward} or {@code forwardBackward} needs for n rows of d. */
    public long workspaceBytes(long n, long d) {
        return Invoker.workspaceBytes(OP, this, n, d);
    }

    /** Allocates a workspace for n rows of d. */
    public DeviceBuffer allocateWorkspace(long n, long d) {
        return DeviceBuffer.allocate(backend, workspaceBytes(n, d));
    }

    /** {@code workspace} may be null when {@link #workspaceBytes} is 0. */
    public void forward(DeviceBuffer anchor, DeviceBuffer positive, DeviceBuffer negative, long n, long d,
            DeviceBuffer loss, DeviceBuffer workspace) {
        Invoker.device(OP, this, call(anchor, positive, negative, n, d, null).put(LOSS, Checks.notNull(loss, "loss")),
                workspace);
    }

    /**
     * Any of the three gradients may be null (not computed), but not all. The backward needs no
     * workspace: {@code workspace} may be null.
     */
    public void backward(DeviceBuffer anchor, DeviceBuffer positive, DeviceBuffer negative, long n, long d,
            DeviceBuffer gradOutput, DeviceBuffer gradAnchor, DeviceBuffer gradPositive, DeviceBuffer gradNegative,
            DeviceBuffer workspace) {
        checkSomeGradient(gradAnchor, gradPositive, gradNegative);
        Invoker.device(OP, this, call(anchor, positive, negative, n, d, gradOutput).put(GRAD_ANCHOR, gradAnchor)
                .put(GRAD_POSITIVE, gradPositive).put(GRAD_NEGATIVE, gradNegative), workspace);
    }

    /**
     * The fast path: queued on the stream of {@code anchor}, no copy, no synchronisation.
     * {@code gradOutput} may be null (1); any of the three gradients may be null, but not all.
     * {@code workspace} comes from {@link #allocateWorkspace} (or is at least
     * {@link #workspaceBytes} long; null when that is 0).
     */
    public void forwardBackward(DeviceBuffer anchor, DeviceBuffer positive, DeviceBuffer negative, long n, long d,
            DeviceBuffer gradOutput, DeviceBuffer loss, DeviceBuffer gradAnchor, DeviceBuffer gradPositive,
            DeviceBuffer gradNegative, DeviceBuffer workspace) {
        Checks.notNull(loss, "loss");
        checkSomeGradient(gradAnchor, gradPositive, gradNegative);
        Invoker.device(OP, this, call(anchor, positive, negative, n, d, gradOutput).put(LOSS, loss)
                .put(GRAD_ANCHOR, gradAnchor).put(GRAD_POSITIVE, gradPositive).put(GRAD_NEGATIVE, gradNegative),
                workspace);
    }

    // ---------------------------------------------------------------- calls

    private Call arrays(float[] anchor, float[] positive, float[] negative, int n, int d, float[] gradOutput) {
        Call call = call(FloatBuffer.wrap(Checks.notNull(anchor, "anchor")),
                FloatBuffer.wrap(Checks.notNull(positive, "positive")),
                FloatBuffer.wrap(Checks.notNull(negative, "negative")), n, d,
                gradOutput == null ? null : FloatBuffer.wrap(gradOutput));
        Invoker.checkInputs(OP, this, call);
        return call;
    }

    /** The call of any overload: host buffers or backend buffers, by their type. */
    private static Call call(Object anchor, Object positive, Object negative, long n, long d, Object gradOutput) {
        Call call = OP.call();
        call.sizes[N] = n;
        call.sizes[D] = d;
        return call.put(ANCHOR, anchor).put(POSITIVE, positive).put(NEGATIVE, negative).put(GRAD_OUTPUT, gradOutput);
    }

    private int lossLength(int n) {
        return reduction == Reduction.NONE ? n : 1;
    }

    private static void checkSomeGradient(Object gradAnchor, Object gradPositive, Object gradNegative) {
        if (gradAnchor == null && gradPositive == null && gradNegative == null) {
            throw new IllegalArgumentException("gradAnchor, gradPositive and gradNegative are all null");
        }
    }

    /** The options of a {@link TripletMargin}; defaults are PyTorch's. */
    public static final class Builder extends LossBuilder<Builder> {
        private float margin = 1f;
        private float p = 2f;
        private float eps = 1e-6f;
        private boolean swap;

        private Builder() {
            super(Reduction.MEAN);
        }

        /** Any finite value (default 1). */
        public Builder margin(float margin) {
            this.margin = Checks.finite(margin, "margin");
            return this;
        }

        /** The norm's p: above 0, or {@link Float#POSITIVE_INFINITY} (default 2). */
        public Builder p(float p) {
            if (!(p > 0f)) throw new IllegalArgumentException("p (" + p + ") is not positive");
            this.p = p;
            return this;
        }

        /** Added to every component of u - v before the norm; any finite value (default 1e-6). */
        public Builder eps(float eps) {
            this.eps = Checks.finite(eps, "eps");
            return this;
        }

        /** Use min(dist(a, n), dist(p, n)) as the negative distance (default false). */
        public Builder swap(boolean swap) {
            this.swap = swap;
            return this;
        }

        public TripletMargin build() {
            return new TripletMargin(this);
        }
    }
}
