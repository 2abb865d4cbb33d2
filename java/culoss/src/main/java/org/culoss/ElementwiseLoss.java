package org.culoss;

import java.nio.FloatBuffer;

/**
 * What the elementwise losses ({@link SigmoidFocal}, {@link SmoothL1}, {@link Huber}) share: two
 * flat float inputs of {@code count} elements (a [N, C] tensor is N * C elements, row-major), a
 * reduction, and the three ways of calling of {@link SoftmaxCrossEntropy}: {@code float[]},
 * host {@link FloatBuffer}s (heap or direct, used from their position), and {@link DeviceBuffer}s
 * (no copy, no synchronisation, queued on the stream of the first input). Only the gradient with
 * respect to the first input is produced.
 *
 * <p>Reductions: {@code NONE} gives {@code count} losses and takes {@code count} upstream
 * gradients; {@code SUM} and {@code MEAN} (the sum over {@code count}) give one value and take one.
 * The {@code MEAN} of no elements is 0, where PyTorch gives NaN.
 *
 * @param <R> the result of {@code forwardBackward} on arrays
 */
abstract class ElementwiseLoss<R> implements AutoCloseable {
    final Backend backend;
    final Reduction reduction;
    private final String xName;
    private final String tName;
    private final String gradName;

    ElementwiseLoss(Backend backend, Reduction reduction, String xName, String tName, String gradName) {
        this.backend = backend != null ? backend : Culoss.fastest();
        this.reduction = reduction;
        this.xName = xName;
        this.tName = tName;
        this.gradName = gradName;
    }

    public Backend backend() {
        return backend;
    }

    public Reduction reduction() {
        return reduction;
    }

    // ---- what each loss provides ----

    abstract R result(float[] loss, float[] grad);

    /** Host buffers (slices, checked), synchronous. */
    abstract void runHost(FloatBuffer x, FloatBuffer t, int count, FloatBuffer gradOutput, FloatBuffer loss,
            FloatBuffer grad);

    /** Backend memory (checked), queued on {@code stream}. Null outputs are 0. */
    abstract void runDevice(long x, long t, long count, long gradOutput, long loss, long grad, long workspace,
            long workspaceBytes, long stream);

    abstract long backendWorkspaceBytes(long count);

    // ---------------------------------------------------------------- arrays

    /** The loss of {@code x} against {@code t} (same length): one value, or one per element for {@code NONE}. */
    public float[] forward(float[] x, float[] t) {
        int count = checkArrays(x, t);
        float[] loss = new float[lossLength(count)];
        forward(FloatBuffer.wrap(x), FloatBuffer.wrap(t), count, FloatBuffer.wrap(loss));
        return loss;
    }

    /** The gradient for the upstream gradient {@code gradOutput} (null: 1; one per element for {@code NONE}). */
    public float[] backward(float[] x, float[] t, float[] gradOutput) {
        int count = checkArrays(x, t);
        float[] grad = new float[count];
        backward(FloatBuffer.wrap(x), FloatBuffer.wrap(t), count, wrapOrNull(gradOutput), FloatBuffer.wrap(grad));
        return grad;
    }

    /** Loss and gradient in one pass, for an upstream gradient of 1. */
    public R forwardBackward(float[] x, float[] t) {
        return forwardBackward(x, t, null);
    }

    /** Loss and gradient in one pass; {@code gradOutput} as in {@link #backward(float[], float[], float[])}. */
    public R forwardBackward(float[] x, float[] t, float[] gradOutput) {
        int count = checkArrays(x, t);
        float[] loss = new float[lossLength(count)];
        float[] grad = new float[count];
        forwardBackward(FloatBuffer.wrap(x), FloatBuffer.wrap(t), count, wrapOrNull(gradOutput),
                FloatBuffer.wrap(loss), FloatBuffer.wrap(grad));
        return result(loss, grad);
    }

    // ---------------------------------------------------------------- host buffers

    /** {@code count} elements of each input from its position; {@code loss} gets one value, or {@code count} for {@code NONE}. */
    public void forward(FloatBuffer x, FloatBuffer t, int count, FloatBuffer loss) {
        Checks.notNull(loss, "loss");
        host(x, t, count, null, loss, null);
    }

    /** {@code gradOutput}: null (1), {@code count} values for {@code NONE}, else one. */
    public void backward(FloatBuffer x, FloatBuffer t, int count, FloatBuffer gradOutput, FloatBuffer grad) {
        Checks.notNull(grad, gradName);
        host(x, t, count, gradOutput, null, grad);
    }

    public void forwardBackward(FloatBuffer x, FloatBuffer t, int count, FloatBuffer gradOutput, FloatBuffer loss,
            FloatBuffer grad) {
        Checks.notNull(loss, "loss");
        Checks.notNull(grad, gradName);
        host(x, t, count, gradOutput, loss, grad);
    }

    private void host(FloatBuffer x, FloatBuffer t, int count, FloatBuffer gradOutput, FloatBuffer loss,
            FloatBuffer grad) {
        Checks.nonNegative(count, "count");
        Checks.remaining(Checks.notNull(x, xName).remaining(), count, xName);
        Checks.remaining(Checks.notNull(t, tName).remaining(), count, tName);
        if (gradOutput != null) Checks.remaining(gradOutput.remaining(), lossLength(count), "gradOutput");
        if (loss != null) Checks.output(loss, lossLength(count), "loss");
        if (grad != null) Checks.output(grad, count, gradName);
        runHost(x.slice(), t.slice(), count, gradOutput == null ? null : gradOutput.slice(),
                loss == null ? null : loss.slice(), grad == null ? null : grad.slice());
    }

    // ---------------------------------------------------------------- device buffers

    /**
     * The workspace bytes a device {@code forward} or {@code forwardBackward} of {@code count}
     * elements needs (0 for {@code NONE}; {@code backward} needs none).
     */
    public long workspaceBytes(long count) {
        Checks.nonNegative(count, "count");
        return backendWorkspaceBytes(count);
    }

    /** Allocates a workspace for {@code count} elements. */
    public DeviceBuffer allocateWorkspace(long count) {
        return DeviceBuffer.allocate(backend, workspaceBytes(count));
    }

    /** {@code workspace} may be null when {@link #workspaceBytes} is 0. */
    public void forward(DeviceBuffer x, DeviceBuffer t, long count, DeviceBuffer loss, DeviceBuffer workspace) {
        Checks.notNull(loss, "loss");
        device(x, t, count, null, loss, null, workspace);
    }

    /** Needs no workspace. {@code gradOutput}: null (1), {@code count} values for {@code NONE}, else one. */
    public void backward(DeviceBuffer x, DeviceBuffer t, long count, DeviceBuffer gradOutput, DeviceBuffer grad) {
        Checks.notNull(grad, gradName);
        device(x, t, count, gradOutput, null, grad, null);
    }

    /**
     * The fast path: queued on the stream of {@code x}, no copy, no synchronisation. {@code gradOutput}
     * may be null (1); {@code workspace} holds at least {@link #workspaceBytes} (null when that is 0).
     */
    public void forwardBackward(DeviceBuffer x, DeviceBuffer t, long count, DeviceBuffer gradOutput,
            DeviceBuffer loss, DeviceBuffer grad, DeviceBuffer workspace) {
        Checks.notNull(loss, "loss");
        Checks.notNull(grad, gradName);
        device(x, t, count, gradOutput, loss, grad, workspace);
    }

    private void device(DeviceBuffer x, DeviceBuffer t, long count, DeviceBuffer gradOutput, DeviceBuffer loss,
            DeviceBuffer grad, DeviceBuffer workspace) {
        Checks.nonNegative(count, "count");
        Checks.device(x, backend, count * Float.BYTES, xName);
        Checks.device(t, backend, count * Float.BYTES, tName);
        long lossLength = reduction == Reduction.NONE ? count : 1;
        if (gradOutput != null) Checks.device(gradOutput, backend, lossLength * Float.BYTES, "gradOutput");
        if (loss != null) Checks.device(loss, backend, lossLength * Float.BYTES, "loss");
        if (grad != null) Checks.device(grad, backend, count * Float.BYTES, gradName);
        long needed = loss != null ? backendWorkspaceBytes(count) : 0;
        if (workspace != null || needed > 0) Checks.device(workspace, backend, needed, "workspace");
        try (HeldBuffers held = HeldBuffers.of(x, t, gradOutput, loss, grad, workspace)) {
            runDevice(x.address(), t.address(), count, HeldBuffers.address(gradOutput), HeldBuffers.address(loss),
                    HeldBuffers.address(grad), HeldBuffers.address(workspace),
                    workspace == null ? 0 : workspace.bytes(), x.stream());
        }
    }

    /** Holds no native resources: nothing to free. Here so that every loss is used the same way. */
    @Override
    public void close() {}

    // ---------------------------------------------------------------- checks

    private int lossLength(int count) {
        return reduction == Reduction.NONE ? count : 1;
    }

    private int checkArrays(float[] x, float[] t) {
        Checks.notNull(x, xName);
        Checks.notNull(t, tName);
        if (t.length != x.length) {
            throw new IllegalArgumentException(tName + " has " + t.length + " elements, " + xName + " has " + x.length);
        }
        return x.length;
    }

    private static FloatBuffer wrapOrNull(float[] values) {
        return values == null ? null : FloatBuffer.wrap(values);
    }
}
