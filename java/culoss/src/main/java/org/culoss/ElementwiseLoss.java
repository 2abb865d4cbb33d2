package org.culoss;

import java.nio.FloatBuffer;
import java.util.function.Function;
import org.culoss.internal.ElementwiseChunks;

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
abstract class ElementwiseLoss<R> extends LossFunction {
    // The slots and the size of every elementwise declaration (see declare).
    static final int X = 0;
    static final int T = 1;
    static final int GRAD_OUTPUT = 2;
    static final int LOSS = 3;
    static final int GRAD = 4;
    static final int COUNT = 0;

    private final Op<?> op;
    private final String xName;
    private final String tName;
    private final String gradName;
    /** The values of the loss's float parameters, in the order its C functions take them. */
    private final float[] nativeParams;
    /** Bound on the first native call (a benign race: each thread binds equal handles). */
    private ElementwiseEntryPoints entryPoints;

    ElementwiseLoss(Backend backend, Reduction reduction, Op<?> op, float... nativeParams) {
        super(backend, reduction, null);
        this.op = op;
        this.nativeParams = nativeParams.clone();
        this.xName = op.operands.get(X).name;
        this.tName = op.operands.get(T).name;
        this.gradName = op.operands.get(GRAD).name;
    }

    private ElementwiseEntryPoints entryPoints() {
        ElementwiseEntryPoints e = entryPoints;
        return e != null ? e : (entryPoints = ElementwiseEntryPoints.of(op.nativeName, nativeParams, reduction));
    }

    /**
     * The declaration of an elementwise loss: two inputs of {@code count} floats, the gradient
     * with respect to the first, and the C API's aliasing rule (an output may be exactly an input
     * or a NONE upstream gradient of its length). {@code probabilities}: the targets are in [0, 1].
     * The C functions are those named {@code nativeName...} ({@link ElementwiseEntryPoints}).
     */
    static <L extends ElementwiseLoss<?>> Op<L> declare(String loss, String nativeName, String x, String t,
            boolean probabilities, String grad, Function<L, ElementwiseChunks.Kernel> javaKernel) {
        Op.Builder<L> b = Op.<L>builder(loss, nativeName)
                .size("count", 0)
                .input(x, "count");
        return (probabilities ? b.probabilities(t, "count") : b.input(t, "count"))
                .gradOutput()
                .loss(x, t, "gradOutput")
                .grad(grad, "count", x, t, "gradOutput")
                .nativeKernel((l, c, mode) -> ((ElementwiseLoss<?>) l).entryPoints().call(mode, c),
                        (l, sizes, dtype, bytes) -> ((ElementwiseLoss<?>) l).entryPoints().workspaceSize(sizes[COUNT],
                                dtype, bytes))
                .javaKernel((l, c, threads) -> {
                    ElementwiseChunks.run(javaKernel.apply(l), c.floats(X), c.floats(T), c.intSize(COUNT), l.reduction,
                            c.floats(GRAD_OUTPUT), c.floats(LOSS), c.floats(GRAD), threads);
                    return -1;
                })
                .build()
                .requireSize("count", COUNT)
                .requireSlot(x, X).requireSlot(t, T).requireSlot("gradOutput", GRAD_OUTPUT).requireSlot("loss", LOSS)
                .requireSlot(grad, GRAD);
    }

    abstract R result(float[] loss, float[] grad);

    // ---------------------------------------------------------------- arrays

    /** The loss of {@code x} against {@code t} (same length): one value, or one per element for {@code NONE}. */
    public float[] forward(float[] x, float[] t) {
        Call call = arrays(x, t, null);
        float[] loss = new float[lossLength(x.length)];
        call.host[LOSS] = FloatBuffer.wrap(loss);
        Invoker.host(op, this, call);
        return loss;
    }

    /** The gradient for the upstream gradient {@code gradOutput} (null: 1; one per element for {@code NONE}). */
    public float[] backward(float[] x, float[] t, float[] gradOutput) {
        Call call = arrays(x, t, gradOutput);
        float[] grad = new float[x.length];
        call.host[GRAD] = FloatBuffer.wrap(grad);
        Invoker.host(op, this, call);
        return grad;
    }

    /** Loss and gradient in one pass, for an upstream gradient of 1. */
    public R forwardBackward(float[] x, float[] t) {
        return forwardBackward(x, t, null);
    }

    /** Loss and gradient in one pass; {@code gradOutput} as in {@link #backward(float[], float[], float[])}. */
    public R forwardBackward(float[] x, float[] t, float[] gradOutput) {
        Call call = arrays(x, t, gradOutput);
        float[] loss = new float[lossLength(x.length)];
        float[] grad = new float[x.length];
        call.host[LOSS] = FloatBuffer.wrap(loss);
        call.host[GRAD] = FloatBuffer.wrap(grad);
        Invoker.host(op, this, call);
        return result(loss, grad);
    }

    // ---------------------------------------------------------------- host buffers

    /** {@code count} elements of each input from its position; {@code loss} gets one value, or {@code count} for {@code NONE}. */
    public void forward(FloatBuffer x, FloatBuffer t, int count, FloatBuffer loss) {
        Invoker.host(op, this, call(x, t, count, null).put(LOSS, Checks.notNull(loss, "loss")));
    }

    /** {@code gradOutput}: null (1), {@code count} values for {@code NONE}, else one. */
    public void backward(FloatBuffer x, FloatBuffer t, int count, FloatBuffer gradOutput, FloatBuffer grad) {
        Invoker.host(op, this, call(x, t, count, gradOutput).put(GRAD, Checks.notNull(grad, gradName)));
    }

    public void forwardBackward(FloatBuffer x, FloatBuffer t, int count, FloatBuffer gradOutput, FloatBuffer loss,
            FloatBuffer grad) {
        Invoker.host(op, this, call(x, t, count, gradOutput).put(LOSS, Checks.notNull(loss, "loss"))
                .put(GRAD, Checks.notNull(grad, gradName)));
    }

    // ---------------------------------------------------------------- device buffers

    /**
     * The workspace bytes a device {@code forward} or {@code forwardBackward} of {@code count}
     * elements needs (0 for {@code NONE}; {@code backward} needs none).
     */
    public long workspaceBytes(long count) {
        return Invoker.workspaceBytes(op, this, count);
    }

    /** Allocates a workspace for {@code count} elements. */
    public DeviceBuffer allocateWorkspace(long count) {
        return DeviceBuffer.allocate(backend, workspaceBytes(count));
    }

    /** {@code workspace} may be null when {@link #workspaceBytes} is 0. */
    public void forward(DeviceBuffer x, DeviceBuffer t, long count, DeviceBuffer loss, DeviceBuffer workspace) {
        Invoker.device(op, this, call(x, t, count, null).put(LOSS, Checks.notNull(loss, "loss")), workspace);
    }

    /** Needs no workspace. {@code gradOutput}: null (1), {@code count} values for {@code NONE}, else one. */
    public void backward(DeviceBuffer x, DeviceBuffer t, long count, DeviceBuffer gradOutput, DeviceBuffer grad) {
        Invoker.device(op, this, call(x, t, count, gradOutput).put(GRAD, Checks.notNull(grad, gradName)), null);
    }

    /**
     * The fast path: queued on the stream of {@code x}, no copy, no synchronisation. {@code gradOutput}
     * may be null (1); {@code workspace} holds at least {@link #workspaceBytes} (null when that is 0).
     */
    public void forwardBackward(DeviceBuffer x, DeviceBuffer t, long count, DeviceBuffer gradOutput,
            DeviceBuffer loss, DeviceBuffer grad, DeviceBuffer workspace) {
        Invoker.device(op, this, call(x, t, count, gradOutput).put(LOSS, Checks.notNull(loss, "loss"))
                .put(GRAD, Checks.notNull(grad, gradName)), workspace);
    }

    // ---------------------------------------------------------------- calls

    /** The call of an array overload, its inputs checked before the outputs are allocated. */
    private Call arrays(float[] x, float[] t, float[] gradOutput) {
        Checks.notNull(x, xName);
        Checks.notNull(t, tName);
        if (t.length != x.length) {
            throw new IllegalArgumentException(tName + " has " + t.length + " elements, " + xName + " has " + x.length);
        }
        Call call = call(FloatBuffer.wrap(x), FloatBuffer.wrap(t), x.length,
                gradOutput == null ? null : FloatBuffer.wrap(gradOutput));
        Invoker.checkInputs(op, this, call);
        return call;
    }

    /** The call of any overload: host buffers or backend buffers, by their type. */
    private Call call(Object x, Object t, long count, Object gradOutput) {
        Call call = op.call();
        call.sizes[COUNT] = count;
        return call.put(X, x).put(T, t).put(GRAD_OUTPUT, gradOutput);
    }

    private int lossLength(int count) {
        return reduction == Reduction.NONE ? count : 1;
    }
}
