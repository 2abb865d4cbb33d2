package org.culoss;

import java.nio.FloatBuffer;

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
public final class TripletMargin implements AutoCloseable {
    private final Backend backend;
    private final Reduction reduction;
    private final float margin;
    private final float p;
    private final float eps;
    private final boolean swap;

    private TripletMargin(Builder b) {
        this.backend = b.backend != null ? b.backend : Culoss.fastest();
        this.reduction = b.reduction;
        this.margin = b.margin;
        this.p = b.p;
        this.eps = b.eps;
        this.swap = b.swap;
    }

    public static Builder builder() {
        return new Builder();
    }

    public Backend backend() {
        return backend;
    }

    public Reduction reduction() {
        return reduction;
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

    /** The loss and the gradients of one call on arrays. */
    public static final class Result {
        private final float[] loss;
        private final float[] gradAnchor;
        private final float[] gradPositive;
        private final float[] gradNegative;

        Result(float[] loss, float[] gradAnchor, float[] gradPositive, float[] gradNegative) {
            this.loss = loss;
            this.gradAnchor = gradAnchor;
            this.gradPositive = gradPositive;
            this.gradNegative = gradNegative;
        }

        /** One value for {@code sum}/{@code mean}, n for {@code none}; null after {@code backward}. */
        public float[] loss() {
            return loss;
        }

        /** n x d, row-major. */
        public float[] gradAnchor() {
            return gradAnchor;
        }

        /** n x d, row-major. */
        public float[] gradPositive() {
            return gradPositive;
        }

        /** n x d, row-major. */
        public float[] gradNegative() {
            return gradNegative;
        }
    }

    // ---------------------------------------------------------------- arrays

    /** The loss of n triplets of d features (row-major): one value, or n for {@code none}. */
    public float[] forward(float[] anchor, float[] positive, float[] negative, int n, int d) {
        checkArrays(anchor, positive, negative, n, d);
        float[] loss = new float[lossLength(n)];
        forward(FloatBuffer.wrap(anchor), FloatBuffer.wrap(positive), FloatBuffer.wrap(negative), n, d,
                FloatBuffer.wrap(loss));
        return loss;
    }

    /**
     * The three gradients for the upstream gradient {@code gradOutput} (null: 1; n values for
     * {@code none}); the result's {@link Result#loss} is null.
     */
    public Result backward(float[] anchor, float[] positive, float[] negative, int n, int d, float[] gradOutput) {
        checkArrays(anchor, positive, negative, n, d);
        int len = Checks.arrayLength(n, d, "n * d");
        float[] ga = new float[len];
        float[] gp = new float[len];
        float[] gn = new float[len];
        backward(FloatBuffer.wrap(anchor), FloatBuffer.wrap(positive), FloatBuffer.wrap(negative), n, d,
                wrapOrNull(gradOutput), FloatBuffer.wrap(ga), FloatBuffer.wrap(gp), FloatBuffer.wrap(gn));
        return new Result(null, ga, gp, gn);
    }

    /** Loss and gradients in one pass, for an upstream gradient of 1. */
    public Result forwardBackward(float[] anchor, float[] positive, float[] negative, int n, int d) {
        return forwardBackward(anchor, positive, negative, n, d, null);
    }

    /** Loss and gradients in one pass; {@code gradOutput} as in {@link #backward}. */
    public Result forwardBackward(float[] anchor, float[] positive, float[] negative, int n, int d,
            float[] gradOutput) {
        checkArrays(anchor, positive, negative, n, d);
        int len = Checks.arrayLength(n, d, "n * d");
        float[] loss = new float[lossLength(n)];
        float[] ga = new float[len];
        float[] gp = new float[len];
        float[] gn = new float[len];
        forwardBackward(FloatBuffer.wrap(anchor), FloatBuffer.wrap(positive), FloatBuffer.wrap(negative), n, d,
                wrapOrNull(gradOutput), FloatBuffer.wrap(loss), FloatBuffer.wrap(ga), FloatBuffer.wrap(gp),
                FloatBuffer.wrap(gn));
        return new Result(loss, ga, gp, gn);
    }

    // ---------------------------------------------------------------- host buffers

    public void forward(FloatBuffer anchor, FloatBuffer positive, FloatBuffer negative, int n, int d,
            FloatBuffer loss) {
        Checks.notNull(loss, "loss");
        host(anchor, positive, negative, n, d, null, loss, null, null, null);
    }

    /** Any of the three gradients may be null (not computed), but not all. */
    public void backward(FloatBuffer anchor, FloatBuffer positive, FloatBuffer negative, int n, int d,
            FloatBuffer gradOutput, FloatBuffer gradAnchor, FloatBuffer gradPositive, FloatBuffer gradNegative) {
        checkSomeGradient(gradAnchor, gradPositive, gradNegative);
        host(anchor, positive, negative, n, d, gradOutput, null, gradAnchor, gradPositive, gradNegative);
    }

    /** Any of the three gradients may be null (not computed), but not all. */
    public void forwardBackward(FloatBuffer anchor, FloatBuffer positive, FloatBuffer negative, int n, int d,
            FloatBuffer gradOutput, FloatBuffer loss, FloatBuffer gradAnchor, FloatBuffer gradPositive,
            FloatBuffer gradNegative) {
        Checks.notNull(loss, "loss");
        checkSomeGradient(gradAnchor, gradPositive, gradNegative);
        host(anchor, positive, negative, n, d, gradOutput, loss, gradAnchor, gradPositive, gradNegative);
    }

    private void host(FloatBuffer anchor, FloatBuffer positive, FloatBuffer negative, int n, int d,
            FloatBuffer gradOutput, FloatBuffer loss, FloatBuffer gradAnchor, FloatBuffer gradPositive,
            FloatBuffer gradNegative) {
        checkShape(n, d);
        long count = (long) n * d;
        Checks.remaining(Checks.notNull(anchor, "anchor").remaining(), count, "anchor");
        Checks.remaining(Checks.notNull(positive, "positive").remaining(), count, "positive");
        Checks.remaining(Checks.notNull(negative, "negative").remaining(), count, "negative");
        if (gradOutput != null) Checks.remaining(gradOutput.remaining(), lossLength(n), "gradOutput");
        if (loss != null) Checks.output(loss, lossLength(n), "loss");
        if (gradAnchor != null) Checks.output(gradAnchor, count, "gradAnchor");
        if (gradPositive != null) Checks.output(gradPositive, count, "gradPositive");
        if (gradNegative != null) Checks.output(gradNegative, count, "gradNegative");
        Span[] in = {Span.of(anchor, count), Span.of(positive, count), Span.of(negative, count)};
        Span[] out = {Span.of(gradAnchor, count), Span.of(gradPositive, count), Span.of(gradNegative, count)};
        checkNoOverlap(in, out);
        backend.tripletMargin(this, anchor.slice(), positive.slice(), negative.slice(), n, d, slice(gradOutput),
                slice(loss), slice(gradAnchor), slice(gradPositive), slice(gradNegative));
    }

    // ---------------------------------------------------------------- device buffers

    /** The workspace a device {@code forward} or {@code forwardBackward} needs for n rows of d. */
    public long workspaceBytes(long n, long d) {
        checkShape(n, d);
        return backend.tripletMarginWorkspaceBytes(n, d, reduction);
    }

    /** Allocates a workspace for n rows of d. */
    public DeviceBuffer allocateWorkspace(long n, long d) {
        return DeviceBuffer.allocate(backend, workspaceBytes(n, d));
    }

    public void forward(DeviceBuffer anchor, DeviceBuffer positive, DeviceBuffer negative, long n, long d,
            DeviceBuffer loss, DeviceBuffer workspace) {
        Checks.notNull(loss, "loss");
        Checks.notNull(workspace, "workspace");
        device(anchor, positive, negative, n, d, null, loss, null, null, null, workspace);
    }

    /**
     * Any of the three gradients may be null (not computed), but not all. The backward needs no
     * workspace: {@code workspace} may be null.
     */
    public void backward(DeviceBuffer anchor, DeviceBuffer positive, DeviceBuffer negative, long n, long d,
            DeviceBuffer gradOutput, DeviceBuffer gradAnchor, DeviceBuffer gradPositive, DeviceBuffer gradNegative,
            DeviceBuffer workspace) {
        checkSomeGradient(gradAnchor, gradPositive, gradNegative);
        device(anchor, positive, negative, n, d, gradOutput, null, gradAnchor, gradPositive, gradNegative, workspace);
    }

    /**
     * The fast path: queued on the stream of {@code anchor}, no copy, no synchronisation.
     * {@code gradOutput} may be null (1); any of the three gradients may be null, but not all.
     * {@code workspace} comes from {@link #allocateWorkspace} (or is at least
     * {@link #workspaceBytes} long).
     */
    public void forwardBackward(DeviceBuffer anchor, DeviceBuffer positive, DeviceBuffer negative, long n, long d,
            DeviceBuffer gradOutput, DeviceBuffer loss, DeviceBuffer gradAnchor, DeviceBuffer gradPositive,
            DeviceBuffer gradNegative, DeviceBuffer workspace) {
        Checks.notNull(loss, "loss");
        checkSomeGradient(gradAnchor, gradPositive, gradNegative);
        Checks.notNull(workspace, "workspace");
        device(anchor, positive, negative, n, d, gradOutput, loss, gradAnchor, gradPositive, gradNegative, workspace);
    }

    private void device(DeviceBuffer anchor, DeviceBuffer positive, DeviceBuffer negative, long n, long d,
            DeviceBuffer gradOutput, DeviceBuffer loss, DeviceBuffer gradAnchor, DeviceBuffer gradPositive,
            DeviceBuffer gradNegative, DeviceBuffer workspace) {
        checkShape(n, d);
        long bytes = n * d * Float.BYTES;
        long lossBytes = lossLength(n) * Float.BYTES;
        Checks.device(anchor, backend, bytes, "anchor");
        Checks.device(positive, backend, bytes, "positive");
        Checks.device(negative, backend, bytes, "negative");
        if (gradOutput != null) Checks.device(gradOutput, backend, lossBytes, "gradOutput");
        if (loss != null) Checks.device(loss, backend, lossBytes, "loss");
        if (gradAnchor != null) Checks.device(gradAnchor, backend, bytes, "gradAnchor");
        if (gradPositive != null) Checks.device(gradPositive, backend, bytes, "gradPositive");
        if (gradNegative != null) Checks.device(gradNegative, backend, bytes, "gradNegative");
        long wsBytes = loss != null ? workspaceBytes(n, d) : 0;
        if (workspace != null) Checks.device(workspace, backend, wsBytes, "workspace");
        try (HeldBuffers held = HeldBuffers.of(anchor, positive, negative, gradOutput, loss, gradAnchor, gradPositive,
                gradNegative, workspace)) {
            Span[] in = {Span.of(anchor, bytes), Span.of(positive, bytes), Span.of(negative, bytes)};
            Span[] out = {Span.of(gradAnchor, bytes), Span.of(gradPositive, bytes), Span.of(gradNegative, bytes)};
            checkNoOverlap(in, out);
            backend.tripletMargin(this, anchor.address(), positive.address(), negative.address(), n, d,
                    HeldBuffers.address(gradOutput), HeldBuffers.address(loss), HeldBuffers.address(gradAnchor),
                    HeldBuffers.address(gradPositive), HeldBuffers.address(gradNegative),
                    HeldBuffers.address(workspace), workspace == null ? 0 : workspace.bytes(), anchor.stream());
        }
    }

    // ---------------------------------------------------------------- checks

    private long lossLength(long n) {
        return reduction == Reduction.NONE ? n : 1;
    }

    private int lossLength(int n) {
        return reduction == Reduction.NONE ? n : 1;
    }

    private static void checkShape(long n, long d) {
        Checks.nonNegative(n, "n");
        Checks.positive(d, "d");
        if (n > 0 && d > Long.MAX_VALUE / Float.BYTES / n) {
            throw new IllegalArgumentException("n * d (" + n + " * " + d + ") is too large");
        }
    }

    private static void checkArrays(float[] anchor, float[] positive, float[] negative, int n, int d) {
        Checks.notNull(anchor, "anchor");
        Checks.notNull(positive, "positive");
        Checks.notNull(negative, "negative");
        checkShape(n, d);
    }

    private static void checkSomeGradient(Object gradAnchor, Object gradPositive, Object gradNegative) {
        if (gradAnchor == null && gradPositive == null && gradNegative == null) {
            throw new IllegalArgumentException("gradAnchor, gradPositive and gradNegative are all null");
        }
    }

    private static final String[] INPUT_NAMES = {"anchor", "positive", "negative"};
    private static final String[] GRAD_NAMES = {"gradAnchor", "gradPositive", "gradNegative"};

    /** No gradient shares an element with an input or another gradient. */
    private static void checkNoOverlap(Span[] inputs, Span[] grads) {
        for (int g = 0; g < grads.length; g++) {
            for (int i = 0; i < inputs.length; i++) {
                if (Span.overlap(grads[g], inputs[i])) {
                    throw new IllegalArgumentException(GRAD_NAMES[g] + " overlaps " + INPUT_NAMES[i]);
                }
            }
            for (int h = g + 1; h < grads.length; h++) {
                if (Span.overlap(grads[g], grads[h])) {
                    throw new IllegalArgumentException(GRAD_NAMES[g] + " overlaps " + GRAD_NAMES[h]);
                }
            }
        }
    }

    /**
     * Where a buffer's elements lie, in bytes: in native memory (base {@code NATIVE}) or in a Java
     * array (the array is the base). A read-only heap buffer hides its array: no span, unchecked.
     */
    private record Span(Object base, long start, long end) {
        private static final Object NATIVE = new Object();

        static Span of(FloatBuffer b, long count) {
            if (b == null || count == 0) return null;
            if (b.isDirect()) {
                long start = OffHeap.address(b);
                return new Span(NATIVE, start, start + count * Float.BYTES);
            }
            if (!b.hasArray()) return null;
            long start = (long) (b.arrayOffset() + b.position()) * Float.BYTES;
            return new Span(b.array(), start, start + count * Float.BYTES);
        }

        static Span of(DeviceBuffer b, long bytes) {
            if (b == null || bytes == 0) return null;
            return new Span(NATIVE, b.address(), b.address() + bytes);
        }

        static boolean overlap(Span x, Span y) {
            return x != null && y != null && x.base == y.base && x.start < y.end && y.start < x.end;
        }
    }

    private static FloatBuffer wrapOrNull(float[] values) {
        return values == null ? null : FloatBuffer.wrap(values);
    }

    private static FloatBuffer slice(FloatBuffer b) {
        return b == null ? null : b.slice();
    }

    /** Holds no native resources: nothing to free. Here so that every loss is used the same way. */
    @Override
    public void close() {}

    /** The options of a {@link TripletMargin}; defaults are PyTorch's. */
    public static final class Builder {
        private Backend backend;
        private Reduction reduction = Reduction.MEAN;
        private float margin = 1f;
        private float p = 2f;
        private float eps = 1e-6f;
        private boolean swap;

        private Builder() {}

        /** The backend to run on; default {@link Culoss#fastest()}. */
        public Builder backend(Backend backend) {
            this.backend = Checks.notNull(backend, "backend");
            return this;
        }

        public Builder reduction(Reduction reduction) {
            this.reduction = Checks.notNull(reduction, "reduction");
            return this;
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
