package org.culoss;

import java.nio.Buffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;

/**
 * What the losses over rows of class scores share ({@link SoftmaxCrossEntropy},
 * {@link SoftmaxFocal}, {@link MulticlassHinge}): scores of n rows of c classes with a row stride,
 * one int32 target per row, an optional per-class table, and the three ways of calling:
 * {@code float[]}, host {@link FloatBuffer}s (heap or direct, used from their position) and
 * {@link DeviceBuffer}s (no copy, no synchronisation, queued on the stream of the scores buffer,
 * with a caller-owned workspace whose first 16 bytes are the error word). Every overload is
 * written here once; the messages name the tensors as the loss's declaration does.
 *
 * <p>Public so that code over any row loss (an adapter to a trainer) can hold one; only
 * culoss's own losses extend it.
 *
 * @param <R> the result of {@code forwardBackward} on arrays
 */
public abstract class RowLoss<R> extends LossFunction {
    // The slots and sizes of every row-loss declaration (see declare). The per-class table comes
    // last: a loss without one (InterclassDistance) has the same slots for the rest.
    static final int LOGITS = 0;
    static final int TARGETS = 1;
    static final int GRAD_OUTPUT = 2;
    static final int LOSS = 3;
    static final int GRAD = 4;
    static final int TABLE = 5;
    static final int N = 0;
    static final int C = 1;

    private final Op<?> op;
    /** The scores' name as the loss declares it ("logits", "scores"), for the messages. */
    private final String input;
    /** Their gradient's name ("gradLogits"). */
    private final String grad;

    RowLoss(LossBuilder<?> b, float[] table, Op<?> op) {
        super(b.backend, b.reduction, table);
        this.op = op;
        this.input = op.operands.get(LOGITS).name;
        this.grad = op.operands.get(GRAD).name;
    }

    /**
     * The declaration of a loss over rows of class scores: the scores are called {@code input}
     * ({@code logits}, {@code scores}), their gradient {@code grad} ({@code gradLogits}), which may
     * be written over them (the same stride); {@code table} names the per-class table (null: the
     * loss takes none).
     */
    static <L extends RowLoss<?>> Op<L> declare(String loss, String nativeName, String input, String grad,
            String table, Op.NativeKernel<L> kernel, Op.WorkspaceQuery<L> query, Op.JavaKernel<L> javaKernel) {
        return declare(Op.<L>builder(loss, nativeName), false, input, grad, table, kernel, query, javaKernel);
    }

    /**
     * As above, for an operation started by {@code start} ({@link Op#builder} or {@link Op#form});
     * {@code softTargets}: it takes per-class target probabilities ({@code targetProbs}, n rows of
     * c, contiguous, in the targets' slot), not class indices.
     */
    static <L extends RowLoss<?>> Op<L> declare(Op.Builder<L> start, boolean softTargets, String input, String grad,
            String table, Op.NativeKernel<L> kernel, Op.WorkspaceQuery<L> query, Op.JavaKernel<L> javaKernel) {
        Op.Builder<L> b = start
                .size("n", 0)
                .size("c", 1)
                .stridedInput(input, "n*c", input + "Stride");
        String targets = softTargets ? "targetProbs" : "targets";
        if (softTargets) b.input(targets, "n*c");
        else b.labels(targets, "c");
        b.gradOutput()
                .loss()
                .stridedGrad(grad, "n*c", "gradStride", input);
        if (table != null) b.table(table, "c");
        Op<L> op = b.nativeKernel(kernel, query)
                .javaKernel(javaKernel)
                .build()
                .requireSize("n", N).requireSize("c", C)
                .requireSlot(input, LOGITS).requireSlot(targets, TARGETS)
                .requireSlot("gradOutput", GRAD_OUTPUT).requireSlot("loss", LOSS).requireSlot(grad, GRAD);
        return table == null ? op : op.requireSlot(table, TABLE);
    }

    abstract R result(float[] loss, float[] gradScores);

    // ---------------------------------------------------------------- arrays

    /** The loss of {@code scores} (n x c, row-major): one value, or n for {@code none}. */
    public float[] forward(float[] scores, int[] targets, int n, int c) {
        return forward(op, scores, IntBuffer.wrap(Checks.notNull(targets, "targets")), n, c);
    }

    /** The gradient for the upstream gradient {@code gradOutput} (null: 1; n values for {@code none}). */
    public float[] backward(float[] scores, int[] targets, int n, int c, float[] gradOutput) {
        return backward(op, scores, IntBuffer.wrap(Checks.notNull(targets, "targets")), n, c, gradOutput);
    }

    /** Loss and gradient in one pass, for an upstream gradient of 1. */
    public R forwardBackward(float[] scores, int[] targets, int n, int c) {
        return forwardBackward(scores, targets, n, c, null);
    }

    /** Loss and gradient in one pass; {@code gradOutput} as in {@link #backward}. */
    public R forwardBackward(float[] scores, int[] targets, int n, int c, float[] gradOutput) {
        return forwardBackward(op, scores, IntBuffer.wrap(Checks.notNull(targets, "targets")), n, c, gradOutput);
    }

    // The array overloads of operation `op` of this loss (class indices, or another kind of targets).

    final float[] forward(Op<?> op, float[] scores, Buffer targets, int n, int c) {
        Call call = arrays(op, scores, targets, n, c, null);
        float[] loss = new float[lossLength(n)];
        call.host[LOSS] = FloatBuffer.wrap(loss);
        Invoker.host(op, this, call);
        return loss;
    }

    final float[] backward(Op<?> op, float[] scores, Buffer targets, int n, int c, float[] gradOutput) {
        Call call = arrays(op, scores, targets, n, c, gradOutput);
        float[] grad = new float[Checks.arrayLength(n, c, "n * c")];
        call.host[GRAD] = FloatBuffer.wrap(grad);
        Invoker.host(op, this, call);
        return grad;
    }

    final R forwardBackward(Op<?> op, float[] scores, Buffer targets, int n, int c, float[] gradOutput) {
        Call call = arrays(op, scores, targets, n, c, gradOutput);
        float[] grad = new float[Checks.arrayLength(n, c, "n * c")];
        float[] loss = new float[lossLength(n)];
        call.host[LOSS] = FloatBuffer.wrap(loss);
        call.host[GRAD] = FloatBuffer.wrap(grad);
        Invoker.host(op, this, call);
        return result(loss, grad);
    }

    // ---------------------------------------------------------------- host buffers

    public void forward(FloatBuffer scores, int scoresStride, IntBuffer targets, int n, int c, FloatBuffer loss) {
        Invoker.host(op, this, call(op, scores, scoresStride, targets, n, c, null, Checks.notNull(loss, "loss"), null, 0));
    }

    public void backward(FloatBuffer scores, int scoresStride, IntBuffer targets, int n, int c,
            FloatBuffer gradOutput, FloatBuffer gradScores, int gradStride) {
        Invoker.host(op, this, call(op, scores, scoresStride, targets, n, c, gradOutput, null,
                Checks.notNull(gradScores, grad), gradStride));
    }

    public void forwardBackward(FloatBuffer scores, int scoresStride, IntBuffer targets, int n, int c,
            FloatBuffer gradOutput, FloatBuffer loss, FloatBuffer gradScores, int gradStride) {
        Invoker.host(op, this, call(op, scores, scoresStride, targets, n, c, gradOutput, Checks.notNull(loss, "loss"),
                Checks.notNull(gradScores, grad), gradStride));
    }

    // ---------------------------------------------------------------- device buffers

    /** The workspace a device call needs for n rows of c classes (error word included). */
    public long workspaceBytes(long n, long c) {
        return Invoker.workspaceBytes(op, this, n, c);
    }

    /** Allocates a workspace for n rows of c classes, with its error word cleared. */
    public DeviceBuffer allocateWorkspace(long n, long c) {
        return ErrorWord.allocateWorkspace(backend, workspaceBytes(n, c));
    }

    public void forward(DeviceBuffer scores, long scoresStride, DeviceBuffer targets, long n, long c,
            DeviceBuffer loss, DeviceBuffer workspace) {
        Invoker.device(op, this, call(op, scores, scoresStride, targets, n, c, null, Checks.notNull(loss, "loss"), null, 0),
                workspace);
    }

    public void backward(DeviceBuffer scores, long scoresStride, DeviceBuffer targets, long n, long c,
            DeviceBuffer gradOutput, DeviceBuffer gradScores, long gradStride, DeviceBuffer workspace) {
        Invoker.device(op, this, call(op, scores, scoresStride, targets, n, c, gradOutput, null,
                Checks.notNull(gradScores, grad), gradStride), workspace);
    }

    /**
     * The fast path: queued on the stream of {@code scores}, no copy, no synchronisation.
     * {@code gradOutput} may be null (1). {@code workspace} comes from {@link #allocateWorkspace}
     * (or is at least {@link #workspaceBytes} long, with its first 16 bytes zeroed).
     */
    public void forwardBackward(DeviceBuffer scores, long scoresStride, DeviceBuffer targets, long n, long c,
            DeviceBuffer gradOutput, DeviceBuffer loss, DeviceBuffer gradScores, long gradStride,
            DeviceBuffer workspace) {
        Invoker.device(op, this, call(op, scores, scoresStride, targets, n, c, gradOutput, Checks.notNull(loss, "loss"),
                Checks.notNull(gradScores, grad), gradStride), workspace);
    }

    /**
     * Waits for the work queued on {@code stream}, reads the error word the kernels set for
     * invalid targets, clears it, and throws {@link CulossException} if it was set.
     */
    public void checkErrors(DeviceBuffer workspace, long stream) {
        ErrorWord.check(backend, workspace, stream, Invoker.badLabelMessage(op, this));
    }

    // ---------------------------------------------------------------- calls

    /** The call of an array overload, its inputs checked before the outputs are allocated. */
    private Call arrays(Op<?> op, float[] scores, Buffer targets, int n, int c, float[] gradOutput) {
        Call call = call(op, FloatBuffer.wrap(Checks.notNull(scores, input)), c, targets, n, c,
                gradOutput == null ? null : FloatBuffer.wrap(gradOutput), null, null, c);
        Invoker.checkInputs(op, this, call);
        return call;
    }

    /**
     * The call of any overload: host buffers or backend buffers, by their type. A backend call
     * takes the table in backend memory when there is one; a host call takes it as an array.
     */
    final Call call(Op<?> op, Object scores, long scoresStride, Object targets, long n, long c, Object gradOutput, Object loss,
            Object gradScores, long gradStride) {
        Call call = op.call();
        call.sizes[N] = n;
        call.sizes[C] = c;
        call.stride[LOGITS] = scoresStride;
        if (op.operands.size() > TABLE) putTable(call, TABLE, scores instanceof DeviceBuffer);
        call.stride[GRAD] = gradStride;
        return call.put(LOGITS, scores).put(TARGETS, targets).put(GRAD_OUTPUT, gradOutput).put(LOSS, loss)
                .put(GRAD, gradScores);
    }

    private int lossLength(int n) {
        return reduction == Reduction.NONE ? n : 1;
    }
}
