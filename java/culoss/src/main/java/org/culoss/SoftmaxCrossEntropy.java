package org.culoss;

import java.nio.FloatBuffer;
import java.nio.IntBuffer;

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
 */
public final class SoftmaxCrossEntropy implements AutoCloseable {
    /** PyTorch's default ignore index. */
    public static final int DEFAULT_IGNORE_INDEX = -100;
    private final Backend backend;
    private final Reduction reduction;
    private final boolean hasIgnoreIndex;
    private final int ignoreIndex;
    private final float labelSmoothing;
    private final float[] classWeights;
    private final DeviceBuffer deviceWeights;  // the weights in backend memory, for native backends

    private SoftmaxCrossEntropy(Builder b) {
        this.backend = b.backend != null ? b.backend : Culoss.fastest();
        this.reduction = b.reduction;
        this.hasIgnoreIndex = b.hasIgnoreIndex;
        this.ignoreIndex = b.ignoreIndex;
        this.labelSmoothing = b.labelSmoothing;
        this.classWeights = b.classWeights;
        if (classWeights != null && !(backend instanceof JavaBackend)) {
            deviceWeights = backend.allocateFloats(classWeights.length);
            deviceWeights.copyFrom(classWeights);
        } else {
            deviceWeights = null;
        }
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

    public float labelSmoothing() {
        return labelSmoothing;
    }

    /** The ignore index as the C API takes it: {@code Long.MIN_VALUE} when no class is ignored. */
    public long ignoreIndexValue() {
        return hasIgnoreIndex ? ignoreIndex : Long.MIN_VALUE;
    }

    /** A copy of the class weights, or null. */
    public float[] classWeights() {
        return classWeights == null ? null : classWeights.clone();
    }

    float[] weightsNoCopy() {
        return classWeights;
    }

    long deviceWeightsAddress() {
        return deviceWeights == null ? 0 : deviceWeights.address();
    }

    /** The loss and the gradient of one {@code forwardBackward} on arrays. */
    public static final class Result {
        private final float[] loss;
        private final float[] gradLogits;

        Result(float[] loss, float[] gradLogits) {
            this.loss = loss;
            this.gradLogits = gradLogits;
        }

        /** One value for {@code sum}/{@code mean}, n for {@code none}. */
        public float[] loss() {
            return loss;
        }

        /** n x c, row-major. */
        public float[] gradLogits() {
            return gradLogits;
        }
    }

    // ---------------------------------------------------------------- arrays

    /** The loss of {@code logits} (n x c, row-major): one value, or n for {@code none}. */
    public float[] forward(float[] logits, int[] targets, int n, int c) {
        checkArray(logits, "logits", n, c);
        checkArray(targets, "targets", n, c);
        float[] loss = new float[lossLength(n)];
        forward(FloatBuffer.wrap(logits), c, IntBuffer.wrap(targets), n, c, FloatBuffer.wrap(loss));
        return loss;
    }

    /** The gradient for the upstream gradient {@code gradOutput} (null: 1; n values for {@code none}). */
    public float[] backward(float[] logits, int[] targets, int n, int c, float[] gradOutput) {
        checkArray(logits, "logits", n, c);
        checkArray(targets, "targets", n, c);
        float[] grad = new float[gradLength(n, c)];
        backward(FloatBuffer.wrap(logits), c, IntBuffer.wrap(targets), n, c, wrapOrNull(gradOutput),
                FloatBuffer.wrap(grad), c);
        return grad;
    }

    /** Loss and gradient in one pass, for an upstream gradient of 1. */
    public Result forwardBackward(float[] logits, int[] targets, int n, int c) {
        return forwardBackward(logits, targets, n, c, null);
    }

    /** Loss and gradient in one pass; {@code gradOutput} as in {@link #backward}. */
    public Result forwardBackward(float[] logits, int[] targets, int n, int c, float[] gradOutput) {
        checkArray(logits, "logits", n, c);
        checkArray(targets, "targets", n, c);
        float[] loss = new float[lossLength(n)];
        float[] grad = new float[gradLength(n, c)];
        forwardBackward(FloatBuffer.wrap(logits), c, IntBuffer.wrap(targets), n, c, wrapOrNull(gradOutput),
                FloatBuffer.wrap(loss), FloatBuffer.wrap(grad), c);
        return new Result(loss, grad);
    }

    // ---------------------------------------------------------------- host buffers

    public void forward(FloatBuffer logits, int logitsStride, IntBuffer targets, int n, int c, FloatBuffer loss) {
        Checks.notNull(loss, "loss");
        host(logits, logitsStride, targets, n, c, null, loss, null, c);
    }

    public void backward(FloatBuffer logits, int logitsStride, IntBuffer targets, int n, int c,
            FloatBuffer gradOutput, FloatBuffer gradLogits, int gradStride) {
        Checks.notNull(gradLogits, "gradLogits");
        host(logits, logitsStride, targets, n, c, gradOutput, null, gradLogits, gradStride);
    }

    public void forwardBackward(FloatBuffer logits, int logitsStride, IntBuffer targets, int n, int c,
            FloatBuffer gradOutput, FloatBuffer loss, FloatBuffer gradLogits, int gradStride) {
        Checks.notNull(loss, "loss");
        Checks.notNull(gradLogits, "gradLogits");
        host(logits, logitsStride, targets, n, c, gradOutput, loss, gradLogits, gradStride);
    }

    private void host(FloatBuffer logits, int logitsStride, IntBuffer targets, int n, int c, FloatBuffer gradOutput,
            FloatBuffer loss, FloatBuffer gradLogits, int gradStride) {
        checkShape(n, c, logitsStride, gradLogits != null ? gradStride : c);
        Checks.remaining(Checks.notNull(logits, "logits").remaining(), Checks.matrixLength(n, c, logitsStride), "logits");
        Checks.remaining(Checks.notNull(targets, "targets").remaining(), n, "targets");
        if (gradOutput != null) Checks.remaining(gradOutput.remaining(), lossLength(n), "gradOutput");
        if (loss != null) Checks.output(loss, lossLength(n), "loss");
        if (gradLogits != null) Checks.output(gradLogits, Checks.matrixLength(n, c, gradStride), "gradLogits");
        long bad = backend.softmaxCrossEntropy(this, logits.slice(), logitsStride, targets.slice(), n, c,
                gradOutput == null ? null : gradOutput.slice(), loss == null ? null : loss.slice(),
                gradLogits == null ? null : gradLogits.slice(), gradStride);
        if (bad != -1) throw invalidTarget(targets.slice(), n, c);
    }

    // ---------------------------------------------------------------- device buffers

    /** The workspace a device call needs for n rows of c classes (error word included). */
    public long workspaceBytes(long n, long c) {
        checkShape(n, c, c, c);
        return ErrorWord.BYTES + backend.softmaxCrossEntropyWorkspaceBytes(n, c, reduction);
    }

    /** Allocates a workspace for n rows of c classes, with its error word cleared. */
    public DeviceBuffer allocateWorkspace(long n, long c) {
        return ErrorWord.allocateWorkspace(backend, workspaceBytes(n, c));
    }

    public void forward(DeviceBuffer logits, long logitsStride, DeviceBuffer targets, long n, long c,
            DeviceBuffer loss, DeviceBuffer workspace) {
        Checks.notNull(loss, "loss");
        device(logits, logitsStride, targets, n, c, null, loss, null, c, workspace);
    }

    public void backward(DeviceBuffer logits, long logitsStride, DeviceBuffer targets, long n, long c,
            DeviceBuffer gradOutput, DeviceBuffer gradLogits, long gradStride, DeviceBuffer workspace) {
        Checks.notNull(gradLogits, "gradLogits");
        device(logits, logitsStride, targets, n, c, gradOutput, null, gradLogits, gradStride, workspace);
    }

    /**
     * The fast path: queued on the stream of {@code logits}, no copy, no synchronisation.
     * {@code gradOutput} may be null (1). {@code workspace} comes from {@link #allocateWorkspace}
     * (or is at least {@link #workspaceBytes} long, with its first 16 bytes zeroed).
     */
    public void forwardBackward(DeviceBuffer logits, long logitsStride, DeviceBuffer targets, long n, long c,
            DeviceBuffer gradOutput, DeviceBuffer loss, DeviceBuffer gradLogits, long gradStride,
            DeviceBuffer workspace) {
        Checks.notNull(loss, "loss");
        Checks.notNull(gradLogits, "gradLogits");
        device(logits, logitsStride, targets, n, c, gradOutput, loss, gradLogits, gradStride, workspace);
    }

    /**
     * Waits for the work queued on the workspace's stream, reads the error word the kernels set
     * for invalid targets, clears it, and throws {@link CulossException} if it was set.
     */
    public void checkErrors(DeviceBuffer workspace, long stream) {
        ErrorWord.check(backend, workspace, stream,
                "a target is outside [0, C) and is not the ignore index; its row counted for nothing");
    }

    private void device(DeviceBuffer logits, long logitsStride, DeviceBuffer targets, long n, long c,
            DeviceBuffer gradOutput, DeviceBuffer loss, DeviceBuffer gradLogits, long gradStride,
            DeviceBuffer workspace) {
        checkShape(n, c, logitsStride, gradLogits != null ? gradStride : c);
        Checks.device(logits, backend, Checks.matrixLength(n, c, logitsStride) * Float.BYTES, "logits");
        Checks.device(targets, backend, n * Integer.BYTES, "targets");
        if (gradOutput != null) Checks.device(gradOutput, backend, lossLength(n) * Float.BYTES, "gradOutput");
        if (loss != null) Checks.device(loss, backend, lossLength(n) * Float.BYTES, "loss");
        if (gradLogits != null) {
            Checks.device(gradLogits, backend, Checks.matrixLength(n, c, gradStride) * Float.BYTES, "gradLogits");
        }
        Checks.device(workspace, backend, workspaceBytes(n, c), "workspace");
        try (HeldBuffers held = HeldBuffers.of(logits, targets, gradOutput, loss, gradLogits, workspace)) {
            long ws = workspace.address();
            backend.softmaxCrossEntropy(this, logits.address(), logitsStride, targets.address(), n, c,
                    deviceWeightsAddress(), HeldBuffers.address(gradOutput), HeldBuffers.address(loss),
                    HeldBuffers.address(gradLogits), gradStride, ws + ErrorWord.BYTES,
                    workspace.bytes() - ErrorWord.BYTES, ws, logits.stream());
        }
    }

    /** Frees the copy of the class weights a native backend holds. */
    @Override
    public void close() {
        if (deviceWeights != null) deviceWeights.close();
    }

    // ---------------------------------------------------------------- checks

    private long lossLength(long n) {
        return reduction == Reduction.NONE ? n : 1;
    }

    private int lossLength(int n) {
        return reduction == Reduction.NONE ? n : 1;
    }

    private static int gradLength(int n, int c) {
        return Checks.arrayLength(n, c, "n * c");
    }

    private void checkShape(long n, long c, long logitsStride, long gradStride) {
        Checks.nonNegative(n, "n");
        Checks.positive(c, "c");
        if (classWeights != null && classWeights.length != c) {
            throw new IllegalArgumentException("c (" + c + ") differs from the number of class weights ("
                    + classWeights.length + ")");
        }
        Checks.stride(logitsStride, c, "logitsStride", "c");
        Checks.stride(gradStride, c, "gradStride", "c");
    }

    private void checkArray(Object array, String name, int n, int c) {
        Checks.notNull(array, name);
        checkShape(n, c, c, c);
    }

    private static FloatBuffer wrapOrNull(float[] values) {
        return values == null ? null : FloatBuffer.wrap(values);
    }

    private CulossException invalidTarget(IntBuffer targets, int n, int c) {
        for (int i = 0; i < n; i++) {
            int t = targets.get(i);
            if ((t < 0 || t >= c) && !(hasIgnoreIndex && t == ignoreIndex)) {
                return new CulossException(Status.INVALID_TARGET, "targets[" + i + "] = " + t + " is outside [0, " + c
                        + ") and is not the ignore index; that row counted for nothing");
            }
        }
        return new CulossException(Status.INVALID_TARGET, "a target is outside [0, " + c + ")");
    }

    /** The options of a {@link SoftmaxCrossEntropy}; defaults are PyTorch's. */
    public static final class Builder {
        private Backend backend;
        private Reduction reduction = Reduction.MEAN;
        private boolean hasIgnoreIndex = true;
        private int ignoreIndex = DEFAULT_IGNORE_INDEX;
        private float labelSmoothing;
        private float[] classWeights;

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

        /** Rows whose target equals {@code index} count for nothing (default -100). */
        public Builder ignoreIndex(int index) {
            this.hasIgnoreIndex = true;
            this.ignoreIndex = index;
            return this;
        }

        /** No class is ignored: every target must be in [0, C). */
        public Builder noIgnoreIndex() {
            this.hasIgnoreIndex = false;
            return this;
        }

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
