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
 * <p>Public so that code over any elementwise loss (an adapter to a trainer) can hold one;
 * only culoss's own losses extend it.
 *
 * @param <R> the result of {@code forwardBackward} on arrays
 */
public abstract class ElementwiseLoss<R> extends LossFunction {
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
        this(backend, reduction, null, op, nativeParams);
    }

    /** {@code table}: a per-class table (checked and copied) that a weighted form reads, or null. */
    ElementwiseLoss(Backend backend, Reduction reduction, float[] table, Op<?> op, float... nativeParams) {
        super(backend, reduction, table);
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
        Op.Builder<L> b = operands(Op.<L>builder(loss, nativeName).size("count", 0), x, t, probabilities, grad)
                .nativeKernel((l, c, mode) -> ((ElementwiseLoss<?>) l).entryPoints().call(mode, c),
                        (l, sizes, dtype, bytes) -> ((ElementwiseLoss<?>) l).entryPoints().workspaceSize(sizes[COUNT],
                                dtype, bytes))
                .javaKernel(javaKernel(javaKernel, -1));
        return requireSlots(b.build(), x, t, grad);
    }

    /**
     * The tensors every elementwise operation begins with, in the slots the typed overloads fill:
     * the input, the target, the upstream gradient, the loss and the gradient. A form adds its own
     * after them (a per-element weight, a per-class table).
     */
    static <L extends ElementwiseLoss<?>> Op.Builder<L> operands(Op.Builder<L> b, String x, String t,
            boolean probabilities, String grad) {
        b.input(x, "count");
        return (probabilities ? b.probabilities(t, "count") : b.input(t, "count"))
                .gradOutput()
                .loss(x, t, "gradOutput")
                .grad(grad, "count", x, t, "gradOutput");
    }

    static <L extends ElementwiseLoss<?>> Op<L> requireSlots(Op<L> op, String x, String t, String grad) {
        return op.requireSize("count", COUNT)
                .requireSlot(x, X).requireSlot(t, T).requireSlot("gradOutput", GRAD_OUTPUT).requireSlot("loss", LOSS)
                .requireSlot(grad, GRAD);
    }

    /** The pure-Java kernel of an elementwise operation; {@code weightSlot}: its per-element weight's, or -1. */
    static <L extends ElementwiseLoss<?>> Op.JavaKernel<L> javaKernel(Function<L, ElementwiseChunks.Kernel> kernel,
            int weightSlot) {
        return (l, c, threads) -> {
            ElementwiseChunks.run(kernel.apply(l), c.floats(X), c.floats(T), weightSlot < 0 ? null : c.floats(weightSlot),
                    c.intSize(COUNT), l.reduction, c.floats(GRAD_OUTPUT), c.floats(LOSS), c.floats(GRAD), threads);
            return -1;
        };
    }

    /**
     * The operation a call runs: the declared one, or a form of it where a loss has one for a
     * per-element weight ({@code weighted}) or for its options.
     */
    Op<?> op(boolean weighted) {
        if (weighted) throw new IllegalStateException(op.loss + " takes no weight");
        return op;
    }

    /** The sizes after the count that a call of {@code op} takes (a per-class table's length). */
    void otherSizes(Op<?> op, Call call) {}

    abstract R result(float[] loss, float[] grad);

    // ---------------------------------------------------------------- arrays

    /** The loss of {@code x} against {@code t} (same length): one value, or one per element for {@code NONE}. */
    public float[] forward(float[] x, float[] t) {
        return forwardWith(x, t, null);
    }

    /** The gradient for the upstream gradient {@code gradOutput} (null: 1; one per element for {@code NONE}). */
    public float[] backward(float[] x, float[] t, float[] gradOutput) {
        return backwardWith(x, t, null, gradOutput);
    }

    /** Loss and gradient in one pass, for an upstream gradient of 1. */
    public R forwardBackward(float[] x, float[] t) {
        return forwardBackwardWith(x, t, null, null);
    }

    /** Loss and gradient in one pass; {@code gradOutput} as in {@link #backward(float[], float[], float[])}. */
    public R forwardBackward(float[] x, float[] t, float[] gradOutput) {
        return forwardBackwardWith(x, t, null, gradOutput);
    }

    /** The array overloads, with a per-element {@code weight} (null: none) where the loss takes one. */
    final float[] forwardWith(float[] x, float[] t, float[] weight) {
        Call call = arrays(x, t, weight, null);
        float[] loss = new float[lossLength(x.length)];
        call.host[LOSS] = FloatBuffer.wrap(loss);
        Invoker.host(call.op, this, call);
        return loss;
    }

    final float[] backwardWith(float[] x, float[] t, float[] weight, float[] gradOutput) {
        Call call = arrays(x, t, weight, gradOutput);
        float[] grad = new float[x.length];
        call.host[GRAD] = FloatBuffer.wrap(grad);
        Invoker.host(call.op, this, call);
        return grad;
    }

    final R forwardBackwardWith(float[] x, float[] t, float[] weight, float[] gradOutput) {
        Call call = arrays(x, t, weight, gradOutput);
        float[] loss = new float[lossLength(x.length)];
        float[] grad = new float[x.length];
        call.host[LOSS] = FloatBuffer.wrap(loss);
        call.host[GRAD] = FloatBuffer.wrap(grad);
        Invoker.host(call.op, this, call);
        return result(loss, grad);
    }

    // ---------------------------------------------------------------- host buffers

    /** {@code count} elements of each input from its position; {@code loss} gets one value, or {@code count} for {@code NONE}. */
    public void forward(FloatBuffer x, FloatBuffer t, int count, FloatBuffer loss) {
        forwardBackwardWith(x, t, null, count, null, Checks.notNull(loss, "loss"), null);
    }

    /** {@code gradOutput}: null (1), {@code count} values for {@code NONE}, else one. */
    public void backward(FloatBuffer x, FloatBuffer t, int count, FloatBuffer gradOutput, FloatBuffer grad) {
        forwardBackwardWith(x, t, null, count, gradOutput, null, Checks.notNull(grad, gradName));
    }

    public void forwardBackward(FloatBuffer x, FloatBuffer t, int count, FloatBuffer gradOutput, FloatBuffer loss,
            FloatBuffer grad) {
        forwardBackwardWith(x, t, null, count, gradOutput, Checks.notNull(loss, "loss"), Checks.notNull(grad, gradName));
    }

    /** A host call of any mode: {@code loss} or {@code grad} may be null (checked by the public overloads). */
    final void forwardBackwardWith(FloatBuffer x, FloatBuffer t, FloatBuffer weight, int count, FloatBuffer gradOutput,
            FloatBuffer loss, FloatBuffer grad) {
        Call call = call(x, t, weight, count, gradOutput).put(LOSS, loss).put(GRAD, grad);
        Invoker.host(call.op, this, call);
    }

    // ---------------------------------------------------------------- device buffers

    /**
     * The workspace bytes a device {@code forward} or {@code forwardBackward} of {@code count}
     * elements needs (0 for {@code NONE}; {@code backward} needs none).
     */
    public long workspaceBytes(long count) {
        Op<?> o = op(false);
        Call sizes = new Call(o);  // not the thread's call: a caller may be filling that one
        sizes.sizes[COUNT] = count;
        otherSizes(o, sizes);
        return Invoker.workspaceBytes(o, this, sizes.sizes);
    }

    /** Allocates a workspace for {@code count} elements. */
    public DeviceBuffer allocateWorkspace(long count) {
        return DeviceBuffer.allocate(backend, workspaceBytes(count));
    }

    /** {@code workspace} may be null when {@link #workspaceBytes} is 0. */
    public void forward(DeviceBuffer x, DeviceBuffer t, long count, DeviceBuffer loss, DeviceBuffer workspace) {
        forwardBackwardWith(x, t, null, count, null, Checks.notNull(loss, "loss"), null, workspace);
    }

    /** Needs no workspace. {@code gradOutput}: null (1), {@code count} values for {@code NONE}, else one. */
    public void backward(DeviceBuffer x, DeviceBuffer t, long count, DeviceBuffer gradOutput, DeviceBuffer grad) {
        forwardBackwardWith(x, t, null, count, gradOutput, null, Checks.notNull(grad, gradName), null);
    }

    /**
     * The fast path: queued on the stream of {@code x}, no copy, no synchronisation. {@code gradOutput}
     * may be null (1); {@code workspace} holds at least {@link #workspaceBytes} (null when that is 0).
     */
    public void forwardBackward(DeviceBuffer x, DeviceBuffer t, long count, DeviceBuffer gradOutput,
            DeviceBuffer loss, DeviceBuffer grad, DeviceBuffer workspace) {
        forwardBackwardWith(x, t, null, count, gradOutput, Checks.notNull(loss, "loss"), Checks.notNull(grad, gradName),
                workspace);
    }

    /** A device call of any mode: {@code loss} or {@code grad} may be null (checked by the public overloads). */
    final void forwardBackwardWith(DeviceBuffer x, DeviceBuffer t, DeviceBuffer weight, long count,
            DeviceBuffer gradOutput, DeviceBuffer loss, DeviceBuffer grad, DeviceBuffer workspace) {
        Call call = call(x, t, weight, count, gradOutput).put(LOSS, loss).put(GRAD, grad);
        Invoker.device(call.op, this, call, workspace);
    }

    // ---------------------------------------------------------------- calls

    /** The call of an array overload, its inputs checked before the outputs are allocated. */
    private Call arrays(float[] x, float[] t, float[] weight, float[] gradOutput) {
        Checks.notNull(x, xName);
        Checks.notNull(t, tName);
        if (t.length != x.length) {
            throw new IllegalArgumentException(tName + " has " + t.length + " elements, " + xName + " has " + x.length);
        }
        if (weight != null && weight.length != x.length) {
            throw new IllegalArgumentException("weight has " + weight.length + " elements, " + xName + " has " + x.length);
        }
        Call call = call(FloatBuffer.wrap(x), FloatBuffer.wrap(t), weight == null ? null : FloatBuffer.wrap(weight),
                x.length, gradOutput == null ? null : FloatBuffer.wrap(gradOutput));
        Invoker.checkInputs(call.op, this, call);
        return call;
    }

    /**
     * The call of any overload: host buffers or backend buffers, by their type, on the operation
     * a weight (or the loss's options) choose, with the loss's table where that operation reads one.
     */
    private Call call(Object x, Object t, Object weight, long count, Object gradOutput) {
        Op<?> o = op(weight != null);
        Call call = o.call();
        call.sizes[COUNT] = count;
        otherSizes(o, call);
        for (Operand operand : o.operands) {
            if (operand.role == Operand.Role.TABLE) putTable(call, operand.slot, x instanceof DeviceBuffer);
            if (operand.role == Operand.Role.INPUT && operand.optional) call.put(operand.slot, weight);
        }
        return call.put(X, x).put(T, t).put(GRAD_OUTPUT, gradOutput);
    }

    private int lossLength(int count) {
        return reduction == Reduction.NONE ? count : 1;
    }
}
