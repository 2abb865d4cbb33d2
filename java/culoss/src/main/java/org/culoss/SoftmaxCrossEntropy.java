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
    /** Bytes at the start of a workspace that hold the kernel's error word. */
    static final long ERROR_WORD_BYTES = 16;
    /** CULOSS_DEVICE_ERROR_BAD_TARGET: the bit the kernels set in the error word. */
    static final int BAD_TARGET_BIT = 1;

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
        this.classWeights = b.classWeights == null ? null : b.classWeights.clone();
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
        checkNotNull(loss, "loss");
        host(logits, logitsStride, targets, n, c, null, loss, null, c);
    }

    public void backward(FloatBuffer logits, int logitsStride, IntBuffer targets, int n, int c,
            FloatBuffer gradOutput, FloatBuffer gradLogits, int gradStride) {
        checkNotNull(gradLogits, "gradLogits");
        host(logits, logitsStride, targets, n, c, gradOutput, null, gradLogits, gradStride);
    }

    public void forwardBackward(FloatBuffer logits, int logitsStride, IntBuffer targets, int n, int c,
            FloatBuffer gradOutput, FloatBuffer loss, FloatBuffer gradLogits, int gradStride) {
        checkNotNull(loss, "loss");
        checkNotNull(gradLogits, "gradLogits");
        host(logits, logitsStride, targets, n, c, gradOutput, loss, gradLogits, gradStride);
    }

    private void host(FloatBuffer logits, int logitsStride, IntBuffer targets, int n, int c, FloatBuffer gradOutput,
            FloatBuffer loss, FloatBuffer gradLogits, int gradStride) {
        checkShape(n, c, logitsStride, gradLogits != null ? gradStride : c);
        checkNotNull(logits, "logits");
        checkNotNull(targets, "targets");
        checkRemaining(logits.remaining(), matrixLength(n, c, logitsStride), "logits");
        checkRemaining(targets.remaining(), n, "targets");
        if (gradOutput != null) checkRemaining(gradOutput.remaining(), lossLength(n), "gradOutput");
        if (loss != null) {
            checkWritable(loss, "loss");
            checkRemaining(loss.remaining(), lossLength(n), "loss");
        }
        if (gradLogits != null) {
            checkWritable(gradLogits, "gradLogits");
            checkRemaining(gradLogits.remaining(), matrixLength(n, c, gradStride), "gradLogits");
        }
        long bad = backend.softmaxCrossEntropy(this, logits.slice(), logitsStride, targets.slice(), n, c,
                gradOutput == null ? null : gradOutput.slice(), loss == null ? null : loss.slice(),
                gradLogits == null ? null : gradLogits.slice(), gradStride);
        if (bad != -1) throw invalidTarget(targets.slice(), n, c);
    }

    // ---------------------------------------------------------------- device buffers

    /** The workspace a device call needs for n rows of c classes (error word included). */
    public long workspaceBytes(long n, long c) {
        checkShape(n, c, c, c);
        return ERROR_WORD_BYTES + backend.softmaxCrossEntropyWorkspaceBytes(n, c, reduction);
    }

    /** Allocates a workspace for n rows of c classes, with its error word cleared. */
    public DeviceBuffer allocateWorkspace(long n, long c) {
        long bytes = workspaceBytes(n, c);
        DeviceBuffer ws = DeviceBuffer.allocate(backend, bytes);
        backend.fill(ws.address(), 0, bytes, 0);
        backend.synchronize(0);
        return ws;
    }

    public void forward(DeviceBuffer logits, long logitsStride, DeviceBuffer targets, long n, long c,
            DeviceBuffer loss, DeviceBuffer workspace) {
        checkNotNull(loss, "loss");
        device(logits, logitsStride, targets, n, c, null, loss, null, c, workspace);
    }

    public void backward(DeviceBuffer logits, long logitsStride, DeviceBuffer targets, long n, long c,
            DeviceBuffer gradOutput, DeviceBuffer gradLogits, long gradStride, DeviceBuffer workspace) {
        checkNotNull(gradLogits, "gradLogits");
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
        checkNotNull(loss, "loss");
        checkNotNull(gradLogits, "gradLogits");
        device(logits, logitsStride, targets, n, c, gradOutput, loss, gradLogits, gradStride, workspace);
    }

    /**
     * Waits for the work queued on the workspace's stream, reads the error word the kernels set
     * for invalid targets, clears it, and throws {@link CulossException} if it was set.
     */
    public void checkErrors(DeviceBuffer workspace, long stream) {
        checkNotNull(workspace, "workspace");
        checkBackend(workspace, "workspace");
        int[] word = new int[1];
        workspace.acquire();
        try {
            backend.synchronize(stream);
            workspace.copyTo(word);
            backend.fill(workspace.address(), 0, Integer.BYTES, stream);
            backend.synchronize(stream);
        } finally {
            workspace.release();
        }
        if (word[0] != 0) {
            throw new CulossException(Status.INVALID_TARGET,
                    "a target is outside [0, C) and is not the ignore index; its row counted for nothing");
        }
    }

    private void device(DeviceBuffer logits, long logitsStride, DeviceBuffer targets, long n, long c,
            DeviceBuffer gradOutput, DeviceBuffer loss, DeviceBuffer gradLogits, long gradStride,
            DeviceBuffer workspace) {
        checkShape(n, c, logitsStride, gradLogits != null ? gradStride : c);
        checkNotNull(logits, "logits");
        checkNotNull(targets, "targets");
        checkNotNull(workspace, "workspace");
        DeviceBuffer[] all = {logits, targets, gradOutput, loss, gradLogits, workspace};
        String[] names = {"logits", "targets", "gradOutput", "loss", "gradLogits", "workspace"};
        for (int i = 0; i < all.length; i++) {
            if (all[i] != null) checkBackend(all[i], names[i]);
        }
        checkBytes(logits, matrixLength(n, c, logitsStride) * Float.BYTES, "logits");
        checkBytes(targets, n * Integer.BYTES, "targets");
        if (gradOutput != null) checkBytes(gradOutput, lossLength(n) * Float.BYTES, "gradOutput");
        if (loss != null) checkBytes(loss, lossLength(n) * Float.BYTES, "loss");
        if (gradLogits != null) checkBytes(gradLogits, matrixLength(n, c, gradStride) * Float.BYTES, "gradLogits");
        checkBytes(workspace, workspaceBytes(n, c), "workspace");
        int held = 0;
        try {
            for (DeviceBuffer b : all) {
                if (b != null) {
                    b.acquire();
                    held++;
                }
            }
            long ws = workspace.address();
            backend.softmaxCrossEntropy(this, logits.address(), logitsStride, targets.address(), n, c,
                    deviceWeightsAddress(), gradOutput == null ? 0 : gradOutput.address(),
                    loss == null ? 0 : loss.address(), gradLogits == null ? 0 : gradLogits.address(), gradStride,
                    ws + ERROR_WORD_BYTES, workspace.bytes() - ERROR_WORD_BYTES, ws, logits.stream());
        } finally {
            for (DeviceBuffer b : all) {
                if (b != null && held-- > 0) b.release();
            }
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
        long len = (long) n * c;
        if (len > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("n * c (" + len + ") is too large for a Java array; use buffers");
        }
        return (int) len;
    }

    static long matrixLength(long n, long c, long stride) {
        return n == 0 ? 0 : (n - 1) * stride + c;
    }

    private void checkShape(long n, long c, long logitsStride, long gradStride) {
        if (n < 0) throw new IllegalArgumentException("n (" + n + ") is negative");
        if (c < 1) throw new IllegalArgumentException("c (" + c + ") must be at least 1");
        if (classWeights != null && classWeights.length != c) {
            throw new IllegalArgumentException("c (" + c + ") differs from the number of class weights ("
                    + classWeights.length + ")");
        }
        if (logitsStride < c) {
            throw new IllegalArgumentException("logitsStride (" + logitsStride + ") is less than c (" + c + ")");
        }
        if (gradStride < c) {
            throw new IllegalArgumentException("gradStride (" + gradStride + ") is less than c (" + c + ")");
        }
    }

    private void checkArray(Object array, String name, int n, int c) {
        checkNotNull(array, name);
        checkShape(n, c, c, c);
    }

    private static void checkNotNull(Object value, String name) {
        if (value == null) throw new IllegalArgumentException(name + " is null");
    }

    private static void checkRemaining(long remaining, long needed, String name) {
        if (remaining < needed) {
            throw new IllegalArgumentException(name + " has " + remaining + " elements, needs " + needed);
        }
    }

    private static void checkWritable(FloatBuffer buffer, String name) {
        if (buffer.isReadOnly()) throw new IllegalArgumentException(name + " is read-only");
    }

    private void checkBackend(DeviceBuffer buffer, String name) {
        if (buffer.backend() != backend) {
            throw new IllegalArgumentException(name + " is memory of backend " + buffer.backend()
                    + ", this loss runs on " + backend);
        }
    }

    private static void checkBytes(DeviceBuffer buffer, long needed, String name) {
        if (buffer.bytes() < needed) {
            throw new IllegalArgumentException(name + " has " + buffer.bytes() + " bytes, needs " + needed);
        }
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
            checkNotNull(backend, "backend");
            this.backend = backend;
            return this;
        }

        public Builder reduction(Reduction reduction) {
            checkNotNull(reduction, "reduction");
            this.reduction = reduction;
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
            if (weights != null) {
                if (weights.length == 0) throw new IllegalArgumentException("classWeights is empty");
                for (int i = 0; i < weights.length; i++) {
                    if (!Float.isFinite(weights[i])) {
                        throw new IllegalArgumentException("classWeights[" + i + "] (" + weights[i] + ") is not finite");
                    }
                }
            }
            this.classWeights = weights == null ? null : weights.clone();
            return this;
        }

        public SoftmaxCrossEntropy build() {
            return new SoftmaxCrossEntropy(this);
        }
    }
}
