package org.culoss;

import java.nio.FloatBuffer;
import java.nio.IntBuffer;

/**
 * What the losses over softmax rows ({@link SoftmaxCrossEntropy}, {@link SoftmaxFocal}) share:
 * logits of n rows of c classes with a row stride, one int32 target per row, an optional
 * per-class table, an ignore index, and the three ways of calling: {@code float[]}, host
 * {@link FloatBuffer}s (heap or direct, used from their position) and {@link DeviceBuffer}s (no
 * copy, no synchronisation, queued on the stream of the logits buffer, with a caller-owned
 * workspace whose first 16 bytes are the error word). Every overload is written here once.
 *
 * @param <R> the result of {@code forwardBackward} on arrays
 */
abstract class RowSoftmaxLoss<R> extends LossFunction {
    // The slots and sizes of every row-softmax declaration (see declare).
    static final int LOGITS = 0;
    static final int TARGETS = 1;
    static final int TABLE = 2;
    static final int GRAD_OUTPUT = 3;
    static final int LOSS = 4;
    static final int GRAD = 5;
    static final int N = 0;
    static final int C = 1;

    private final Op<?> op;
    private final boolean hasIgnoreIndex;
    private final int ignoreIndex;

    RowSoftmaxLoss(RowsBuilder<?> b, float[] table, Op<?> op) {
        super(b.backend, b.reduction, table);
        this.op = op;
        this.hasIgnoreIndex = b.hasIgnoreIndex;
        this.ignoreIndex = b.ignoreIndex;
    }

    /** The options both losses over softmax rows have besides their own: the ignore index, the reduction. */
    abstract static class RowsBuilder<B extends RowsBuilder<B>> extends LossBuilder<B> {
        private boolean hasIgnoreIndex = true;
        private int ignoreIndex = SoftmaxCrossEntropy.DEFAULT_IGNORE_INDEX;

        RowsBuilder() {
            super(Reduction.MEAN);
        }

        /** Rows whose target equals {@code index} count for nothing (default -100). */
        public B ignoreIndex(int index) {
            this.hasIgnoreIndex = true;
            this.ignoreIndex = index;
            return self();
        }

        /** No class is ignored: every target must be in [0, C). */
        public B noIgnoreIndex() {
            this.hasIgnoreIndex = false;
            return self();
        }
    }

    /**
     * The declaration of a loss over softmax rows. The gradient may be written over the logits
     * (the same stride); {@code table} names the per-class table.
     */
    static <L extends RowSoftmaxLoss<?>> Op<L> declare(String loss, String nativeName, String table,
            Op.NativeKernel<L> kernel, Op.WorkspaceQuery<L> query, Op.JavaKernel<L> javaKernel) {
        return Op.<L>builder(loss, nativeName)
                .size("n", 0)
                .size("c", 1)
                .stridedInput("logits", "n*c", "logitsStride")
                .labels("targets", "c")
                .table(table, "c")
                .gradOutput()
                .loss()
                .stridedGrad("gradLogits", "n*c", "gradStride", "logits")
                .nativeKernel(kernel, query)
                .javaKernel(javaKernel)
                .build()
                .requireSize("n", N).requireSize("c", C)
                .requireSlot("logits", LOGITS).requireSlot("targets", TARGETS).requireSlot(table, TABLE)
                .requireSlot("gradOutput", GRAD_OUTPUT).requireSlot("loss", LOSS).requireSlot("gradLogits", GRAD);
    }

    abstract R result(float[] loss, float[] gradLogits);

    /** The ignore index as the C API takes it: {@code Long.MIN_VALUE} when no class is ignored. */
    @Override
    public long ignoreIndexValue() {
        return hasIgnoreIndex ? ignoreIndex : Long.MIN_VALUE;
    }

    // ---------------------------------------------------------------- arrays

    /** The loss of {@code logits} (n x c, row-major): one value, or n for {@code none}. */
    public float[] forward(float[] logits, int[] targets, int n, int c) {
        Call call = arrays(logits, targets, n, c, null);
        float[] loss = new float[lossLength(n)];
        call.host[LOSS] = FloatBuffer.wrap(loss);
        Invoker.host(op, this, call);
        return loss;
    }

    /** The gradient for the upstream gradient {@code gradOutput} (null: 1; n values for {@code none}). */
    public float[] backward(float[] logits, int[] targets, int n, int c, float[] gradOutput) {
        Call call = arrays(logits, targets, n, c, gradOutput);
        float[] grad = new float[Checks.arrayLength(n, c, "n * c")];
        call.host[GRAD] = FloatBuffer.wrap(grad);
        Invoker.host(op, this, call);
        return grad;
    }

    /** Loss and gradient in one pass, for an upstream gradient of 1. */
    public R forwardBackward(float[] logits, int[] targets, int n, int c) {
        return forwardBackward(logits, targets, n, c, null);
    }

    /** Loss and gradient in one pass; {@code gradOutput} as in {@link #backward}. */
    public R forwardBackward(float[] logits, int[] targets, int n, int c, float[] gradOutput) {
        Call call = arrays(logits, targets, n, c, gradOutput);
        float[] grad = new float[Checks.arrayLength(n, c, "n * c")];
        float[] loss = new float[lossLength(n)];
        call.host[LOSS] = FloatBuffer.wrap(loss);
        call.host[GRAD] = FloatBuffer.wrap(grad);
        Invoker.host(op, this, call);
        return result(loss, grad);
    }

    // ---------------------------------------------------------------- host buffers

    public void forward(FloatBuffer logits, int logitsStride, IntBuffer targets, int n, int c, FloatBuffer loss) {
        Invoker.host(op, this, call(logits, logitsStride, targets, n, c, null, Checks.notNull(loss, "loss"), null, 0));
    }

    public void backward(FloatBuffer logits, int logitsStride, IntBuffer targets, int n, int c,
            FloatBuffer gradOutput, FloatBuffer gradLogits, int gradStride) {
        Invoker.host(op, this, call(logits, logitsStride, targets, n, c, gradOutput, null,
                Checks.notNull(gradLogits, "gradLogits"), gradStride));
    }

    public void forwardBackward(FloatBuffer logits, int logitsStride, IntBuffer targets, int n, int c,
            FloatBuffer gradOutput, FloatBuffer loss, FloatBuffer gradLogits, int gradStride) {
        Invoker.host(op, this, call(logits, logitsStride, targets, n, c, gradOutput, Checks.notNull(loss, "loss"),
                Checks.notNull(gradLogits, "gradLogits"), gradStride));
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

    public void forward(DeviceBuffer logits, long logitsStride, DeviceBuffer targets, long n, long c,
            DeviceBuffer loss, DeviceBuffer workspace) {
        Invoker.device(op, this, call(logits, logitsStride, targets, n, c, null, Checks.notNull(loss, "loss"), null, 0),
                workspace);
    }

    public void backward(DeviceBuffer logits, long logitsStride, DeviceBuffer targets, long n, long c,
            DeviceBuffer gradOutput, DeviceBuffer gradLogits, long gradStride, DeviceBuffer workspace) {
        Invoker.device(op, this, call(logits, logitsStride, targets, n, c, gradOutput, null,
                Checks.notNull(gradLogits, "gradLogits"), gradStride), workspace);
    }

    /**
     * The fast path: queued on the stream of {@code logits}, no copy, no synchronisation.
     * {@code gradOutput} may be null (1). {@code workspace} comes from {@link #allocateWorkspace}
     * (or is at least {@link #workspaceBytes} long, with its first 16 bytes zeroed).
     */
    public void forwardBackward(DeviceBuffer logits, long logitsStride, DeviceBuffer targets, long n, long c,
            DeviceBuffer gradOutput, DeviceBuffer loss, DeviceBuffer gradLogits, long gradStride,
            DeviceBuffer workspace) {
        Invoker.device(op, this, call(logits, logitsStride, targets, n, c, gradOutput, Checks.notNull(loss, "loss"),
                Checks.notNull(gradLogits, "gradLogits"), gradStride), workspace);
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
    private Call arrays(float[] logits, int[] targets, int n, int c, float[] gradOutput) {
        Call call = call(FloatBuffer.wrap(Checks.notNull(logits, "logits")), c,
                IntBuffer.wrap(Checks.notNull(targets, "targets")), n, c,
                gradOutput == null ? null : FloatBuffer.wrap(gradOutput), null, null, c);
        Invoker.checkInputs(op, this, call);
        return call;
    }

    /**
     * The call of any overload: host buffers or backend buffers, by their type. A backend call
     * takes the table in backend memory when there is one; a host call takes it as an array.
     */
    private Call call(Object logits, long logitsStride, Object targets, long n, long c, Object gradOutput, Object loss,
            Object gradLogits, long gradStride) {
        Call call = op.call();
        call.sizes[N] = n;
        call.sizes[C] = c;
        call.stride[LOGITS] = logitsStride;
        boolean hostTable = table() != null && (!(logits instanceof DeviceBuffer) || deviceTable() == null);
        call.host[TABLE] = hostTable ? FloatBuffer.wrap(table()) : null;
        call.device[TABLE] = deviceTable();
        call.stride[GRAD] = gradStride;
        return call.put(LOGITS, logits).put(TARGETS, targets).put(GRAD_OUTPUT, gradOutput).put(LOSS, loss)
                .put(GRAD, gradLogits);
    }

    private int lossLength(int n) {
        return reduction == Reduction.NONE ? n : 1;
    }
}
