package org.culoss;

import java.nio.FloatBuffer;
import java.nio.IntBuffer;

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
public final class CenterLoss implements AutoCloseable {
    private final Backend backend;
    private final float lambda;
    private final float alpha;
    private final Reduction reduction;

    private CenterLoss(Builder b) {
        this.backend = b.backend != null ? b.backend : Culoss.fastest();
        this.lambda = b.lambda;
        this.alpha = b.alpha;
        this.reduction = b.reduction;
    }

    public static Builder builder() {
        return new Builder();
    }

    public Backend backend() {
        return backend;
    }

    /** The weight of the loss (default 1). */
    public float lambda() {
        return lambda;
    }

    /** The center update's rate (default 0.5). */
    public float alpha() {
        return alpha;
    }

    public Reduction reduction() {
        return reduction;
    }

    /** What one {@code forwardBackward} on arrays returns. */
    public static final class Result {
        private final float[] loss;
        private final float[] gradFeatures;
        private final float[] gradCenters;

        Result(float[] loss, float[] gradFeatures, float[] gradCenters) {
            this.loss = loss;
            this.gradFeatures = gradFeatures;
            this.gradCenters = gradCenters;
        }

        /** One value for {@code sum}/{@code mean}, n for {@code none}. */
        public float[] loss() {
            return loss;
        }

        /** n x d, row-major. */
        public float[] gradFeatures() {
            return gradFeatures;
        }

        /** C x d, row-major; null unless it was asked for. */
        public float[] gradCenters() {
            return gradCenters;
        }
    }

    // ---------------------------------------------------------------- arrays

    /** The loss: one value, or n for {@code none}. */
    public float[] forward(float[] features, int[] labels, float[] centers, int n, int d, int c) {
        checkArrays(features, labels, centers, n, d, c);
        float[] loss = new float[lossLength(n)];
        forward(FloatBuffer.wrap(features), IntBuffer.wrap(labels), FloatBuffer.wrap(centers), n, d, c,
                FloatBuffer.wrap(loss));
        return loss;
    }

    /** The feature gradient for the upstream gradient {@code gradOutput} (null: 1; n values for {@code none}). */
    public float[] backward(float[] features, int[] labels, float[] centers, int n, int d, int c, float[] gradOutput) {
        checkArrays(features, labels, centers, n, d, c);
        float[] gradFeatures = new float[Checks.arrayLength(n, d, "n * d")];
        backward(FloatBuffer.wrap(features), IntBuffer.wrap(labels), FloatBuffer.wrap(centers), n, d, c,
                wrapOrNull(gradOutput), FloatBuffer.wrap(gradFeatures), null);
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
        checkArrays(features, labels, centers, n, d, c);
        float[] loss = new float[lossLength(n)];
        float[] gradFeatures = new float[Checks.arrayLength(n, d, "n * d")];
        float[] gradC = gradCenters ? new float[Checks.arrayLength(c, d, "c * d")] : null;
        forwardBackward(FloatBuffer.wrap(features), IntBuffer.wrap(labels), FloatBuffer.wrap(centers), n, d, c,
                wrapOrNull(gradOutput), FloatBuffer.wrap(loss), FloatBuffer.wrap(gradFeatures), wrapOrNull(gradC));
        return new Result(loss, gradFeatures, gradC);
    }

    /** The center update, in place in {@code centers} (C x d). */
    public void updateCenters(float[] features, int[] labels, float[] centers, int n, int d, int c) {
        checkArrays(features, labels, centers, n, d, c);
        updateCenters(FloatBuffer.wrap(features), IntBuffer.wrap(labels), FloatBuffer.wrap(centers), n, d, c);
    }

    // ---------------------------------------------------------------- host buffers

    public void forward(FloatBuffer features, IntBuffer labels, FloatBuffer centers, int n, int d, int c,
            FloatBuffer loss) {
        Checks.notNull(loss, "loss");
        host(features, labels, centers, n, d, c, null, loss, null, null);
    }

    /** {@code gradFeatures} (n x d) or {@code gradCenters} (C x d) may be null, not both. */
    public void backward(FloatBuffer features, IntBuffer labels, FloatBuffer centers, int n, int d, int c,
            FloatBuffer gradOutput, FloatBuffer gradFeatures, FloatBuffer gradCenters) {
        checkGradients(gradFeatures, gradCenters);
        host(features, labels, centers, n, d, c, gradOutput, null, gradFeatures, gradCenters);
    }

    /** Loss and gradients in one pass; {@code gradFeatures} or {@code gradCenters} may be null, not both. */
    public void forwardBackward(FloatBuffer features, IntBuffer labels, FloatBuffer centers, int n, int d, int c,
            FloatBuffer gradOutput, FloatBuffer loss, FloatBuffer gradFeatures, FloatBuffer gradCenters) {
        Checks.notNull(loss, "loss");
        checkGradients(gradFeatures, gradCenters);
        host(features, labels, centers, n, d, c, gradOutput, loss, gradFeatures, gradCenters);
    }

    /** The center update, in place in {@code centers} (C x d from its position). */
    public void updateCenters(FloatBuffer features, IntBuffer labels, FloatBuffer centers, int n, int d, int c) {
        checkShape(n, d, c);
        checkInputs(features, labels, n, d);
        Checks.output(centers, (long) c * d, "centers");
        long bad = backend.centerLossUpdate(this, features.slice(), labels.slice(), centers.slice(), n, d, c);
        if (bad != -1) throw invalidLabel(labels.slice(), n, c);
    }

    private void host(FloatBuffer features, IntBuffer labels, FloatBuffer centers, int n, int d, int c,
            FloatBuffer gradOutput, FloatBuffer loss, FloatBuffer gradFeatures, FloatBuffer gradCenters) {
        checkShape(n, d, c);
        checkInputs(features, labels, n, d);
        Checks.remaining(Checks.notNull(centers, "centers").remaining(), (long) c * d, "centers");
        if (gradOutput != null) Checks.remaining(gradOutput.remaining(), lossLength(n), "gradOutput");
        if (loss != null) Checks.output(loss, lossLength(n), "loss");
        if (gradFeatures != null) Checks.output(gradFeatures, (long) n * d, "gradFeatures");
        if (gradCenters != null) Checks.output(gradCenters, (long) c * d, "gradCenters");
        long bad = backend.centerLoss(this, features.slice(), labels.slice(), centers.slice(), n, d, c,
                slice(gradOutput), slice(loss), slice(gradFeatures), slice(gradCenters));
        if (bad != -1) throw invalidLabel(labels.slice(), n, c);
    }

    // ---------------------------------------------------------------- device buffers

    /** The workspace a device call (any of them, the update included) needs for this shape, error word included. */
    public long workspaceBytes(long n, long d, long c) {
        checkShape(n, d, c);
        return ErrorWord.BYTES + backend.centerLossWorkspaceBytes(n, d, c, reduction);
    }

    /** Allocates a workspace for this shape, with its error word cleared. */
    public DeviceBuffer allocateWorkspace(long n, long d, long c) {
        return ErrorWord.allocateWorkspace(backend, workspaceBytes(n, d, c));
    }

    public void forward(DeviceBuffer features, DeviceBuffer labels, DeviceBuffer centers, long n, long d, long c,
            DeviceBuffer loss, DeviceBuffer workspace) {
        Checks.notNull(loss, "loss");
        device(features, labels, centers, n, d, c, null, loss, null, null, workspace);
    }

    /** {@code gradFeatures} or {@code gradCenters} may be null, not both. */
    public void backward(DeviceBuffer features, DeviceBuffer labels, DeviceBuffer centers, long n, long d, long c,
            DeviceBuffer gradOutput, DeviceBuffer gradFeatures, DeviceBuffer gradCenters, DeviceBuffer workspace) {
        checkGradients(gradFeatures, gradCenters);
        device(features, labels, centers, n, d, c, gradOutput, null, gradFeatures, gradCenters, workspace);
    }

    /**
     * The fast path: queued on the stream of {@code features}, no copy, no synchronisation.
     * {@code gradOutput} may be null (1); {@code gradFeatures} or {@code gradCenters} may be null,
     * not both. {@code workspace} comes from {@link #allocateWorkspace} (or is at least
     * {@link #workspaceBytes} long, with its first 16 bytes zeroed).
     */
    public void forwardBackward(DeviceBuffer features, DeviceBuffer labels, DeviceBuffer centers, long n, long d,
            long c, DeviceBuffer gradOutput, DeviceBuffer loss, DeviceBuffer gradFeatures, DeviceBuffer gradCenters,
            DeviceBuffer workspace) {
        Checks.notNull(loss, "loss");
        checkGradients(gradFeatures, gradCenters);
        device(features, labels, centers, n, d, c, gradOutput, loss, gradFeatures, gradCenters, workspace);
    }

    /** The center update in place, queued on the stream of {@code features} after any earlier call there. */
    public void updateCenters(DeviceBuffer features, DeviceBuffer labels, DeviceBuffer centers, long n, long d, long c,
            DeviceBuffer workspace) {
        checkShape(n, d, c);
        Checks.device(features, backend, n * d * Float.BYTES, "features");
        Checks.device(labels, backend, n * Integer.BYTES, "labels");
        Checks.device(centers, backend, c * d * Float.BYTES, "centers");
        Checks.device(workspace, backend, workspaceBytes(n, d, c), "workspace");
        if (n > 0 && centers.address() == features.address()) {
            throw new IllegalArgumentException("centers is the features buffer");
        }
        try (HeldBuffers held = HeldBuffers.of(features, labels, centers, workspace)) {
            long ws = workspace.address();
            backend.centerLossUpdate(this, features.address(), labels.address(), centers.address(), n, d, c,
                    ws + ErrorWord.BYTES, workspace.bytes() - ErrorWord.BYTES, ws, features.stream());
        }
    }

    /**
     * Waits for the work queued on {@code stream}, reads the error word the kernels set for labels
     * outside [0, C), clears it, and throws {@link CulossException} if it was set.
     */
    public void checkErrors(DeviceBuffer workspace, long stream) {
        ErrorWord.check(backend, workspace, stream, "a label is outside [0, C); its row counted for nothing");
    }

    private void device(DeviceBuffer features, DeviceBuffer labels, DeviceBuffer centers, long n, long d, long c,
            DeviceBuffer gradOutput, DeviceBuffer loss, DeviceBuffer gradFeatures, DeviceBuffer gradCenters,
            DeviceBuffer workspace) {
        checkShape(n, d, c);
        Checks.device(features, backend, n * d * Float.BYTES, "features");
        Checks.device(labels, backend, n * Integer.BYTES, "labels");
        Checks.device(centers, backend, c * d * Float.BYTES, "centers");
        if (gradOutput != null) Checks.device(gradOutput, backend, lossLength(n) * Float.BYTES, "gradOutput");
        if (loss != null) Checks.device(loss, backend, lossLength(n) * Float.BYTES, "loss");
        if (gradFeatures != null) Checks.device(gradFeatures, backend, n * d * Float.BYTES, "gradFeatures");
        if (gradCenters != null) {
            Checks.device(gradCenters, backend, c * d * Float.BYTES, "gradCenters");
            long g = gradCenters.address();
            if (g == centers.address() || g == features.address()
                    || (gradFeatures != null && g == gradFeatures.address())) {
                throw new IllegalArgumentException("gradCenters is the same memory as an input or gradFeatures");
            }
        }
        if (gradFeatures != null && gradFeatures.address() == centers.address()) {
            throw new IllegalArgumentException("gradFeatures is the centers buffer");
        }
        Checks.device(workspace, backend, workspaceBytes(n, d, c), "workspace");
        try (HeldBuffers held = HeldBuffers.of(features, labels, centers, gradOutput, loss, gradFeatures, gradCenters,
                workspace)) {
            long ws = workspace.address();
            backend.centerLoss(this, features.address(), labels.address(), centers.address(), n, d, c,
                    HeldBuffers.address(gradOutput), HeldBuffers.address(loss), HeldBuffers.address(gradFeatures),
                    HeldBuffers.address(gradCenters), ws + ErrorWord.BYTES, workspace.bytes() - ErrorWord.BYTES, ws,
                    features.stream());
        }
    }

    // ---------------------------------------------------------------- checks

    private long lossLength(long n) {
        return reduction == Reduction.NONE ? n : 1;
    }

    private int lossLength(int n) {
        return reduction == Reduction.NONE ? n : 1;
    }

    private static void checkShape(long n, long d, long c) {
        Checks.nonNegative(n, "n");
        Checks.positive(d, "d");
        Checks.positive(c, "c");
        if (n > Integer.MAX_VALUE) throw new IllegalArgumentException("n (" + n + ") is more than 2^31 - 1");
        if (c > Integer.MAX_VALUE) throw new IllegalArgumentException("c (" + c + ") is more than 2^31 - 1");
        if (d > (1L << 40) / Math.max(Math.max(n, c), 1)) {
            throw new IllegalArgumentException("d (" + d + ") times max(n, c) is more than 2^40 elements");
        }
    }

    private static void checkInputs(FloatBuffer features, IntBuffer labels, int n, int d) {
        Checks.remaining(Checks.notNull(features, "features").remaining(), (long) n * d, "features");
        Checks.remaining(Checks.notNull(labels, "labels").remaining(), n, "labels");
    }

    private static void checkArrays(float[] features, int[] labels, float[] centers, int n, int d, int c) {
        Checks.notNull(features, "features");
        Checks.notNull(labels, "labels");
        Checks.notNull(centers, "centers");
        checkShape(n, d, c);
    }

    private static void checkGradients(Object gradFeatures, Object gradCenters) {
        if (gradFeatures == null && gradCenters == null) {
            throw new IllegalArgumentException("gradFeatures and gradCenters are both null");
        }
    }

    private static FloatBuffer wrapOrNull(float[] values) {
        return values == null ? null : FloatBuffer.wrap(values);
    }

    private static FloatBuffer slice(FloatBuffer buffer) {
        return buffer == null ? null : buffer.slice();
    }

    private static CulossException invalidLabel(IntBuffer labels, int n, int c) {
        for (int i = 0; i < n; i++) {
            int y = labels.get(i);
            if (y < 0 || y >= c) {
                return new CulossException(Status.INVALID_TARGET, "labels[" + i + "] = " + y + " is outside [0, " + c
                        + "); that row counted for nothing");
            }
        }
        return new CulossException(Status.INVALID_TARGET, "a label is outside [0, " + c + ")");
    }

    /** Holds no native resources: nothing to free. Here so that every loss is used the same way. */
    @Override
    public void close() {}

    /** The options of a {@link CenterLoss}; the defaults are lambda 1, alpha 0.5, mean. */
    public static final class Builder {
        private Backend backend;
        private float lambda = 1f;
        private float alpha = 0.5f;
        private Reduction reduction = Reduction.MEAN;

        private Builder() {}

        /** The backend to run on; default {@link Culoss#fastest()}. */
        public Builder backend(Backend backend) {
            this.backend = Checks.notNull(backend, "backend");
            return this;
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

        public Builder reduction(Reduction reduction) {
            this.reduction = Checks.notNull(reduction, "reduction");
            return this;
        }

        public CenterLoss build() {
            return new CenterLoss(this);
        }
    }
}
