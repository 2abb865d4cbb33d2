package org.culoss;

import java.nio.Buffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;

/**
 * The losses over softmax rows ({@link SoftmaxCrossEntropy}, {@link SoftmaxFocal}): a
 * {@link RowLoss} whose rows may be ignored, by an ignore index as PyTorch's.
 *
 * @param <R> the result of {@code forwardBackward} on arrays
 */
abstract class RowSoftmaxLoss<R> extends RowLoss<R> {
    /** The size the spatial form's classes are apart: d1 * ... * dk of [N, C, d1..dk] logits. */
    static final int INNER = 2;

    private final boolean hasIgnoreIndex;
    private final int ignoreIndex;
    /** The form over [N, C, d1..dk] logits. */
    private final Op<?> spatialOp;

    RowSoftmaxLoss(RowsBuilder<?> b, float[] table, Op<?> op, Op<?> spatialOp) {
        super(b, table, op);
        this.hasIgnoreIndex = b.hasIgnoreIndex;
        this.ignoreIndex = b.ignoreIndex;
        this.spatialOp = spatialOp;
    }

    /**
     * The form over logits [N, C, d1..dk], the class dimension second (PyTorch's, per pixel or per
     * token): the classes {@code inner = d1 * ... * dk} apart, targets and a {@code none} loss
     * [N, d1..dk], the gradient in the logits' layout (it may be written over them); the C entry
     * points {@code nativeName...}. The slots are the row form's; a case's trailing axes fold into
     * {@code inner}, and its logits' rank chooses this form.
     */
    static <L extends RowSoftmaxLoss<?>> Op<L> declareSpatial(String loss, String nativeName, String table,
            Op.NativeKernel<L> kernel, Op.WorkspaceQuery<L> query, Op.JavaKernel<L> javaKernel) {
        return declareSpatial(loss, false, nativeName, table, kernel, query, javaKernel);
    }

    /**
     * As above; {@code softTargets}: per-class target probabilities in the logits' layout
     * ({@code targetProbs} [N, C, d1..dk], in the targets' slot) instead of class indices.
     */
    static <L extends RowSoftmaxLoss<?>> Op<L> declareSpatial(String loss, boolean softTargets, String nativeName,
            String table, Op.NativeKernel<L> kernel, Op.WorkspaceQuery<L> query, Op.JavaKernel<L> javaKernel) {
        Op.Builder<L> b = Op.<L>form(loss, softTargets ? "probs_spatial" : "spatial", nativeName)
                .size("n", 0).size("c", 1).size("inner", 0).samples("n", "inner").folds("inner")
                .input("logits", "n*c*inner");
        String targets = softTargets ? "targetProbs" : "targets";
        if (softTargets) b.input(targets, "n*c*inner");
        else b.labels(targets, "c", "n*inner");
        return b.gradOutput()
                .loss()
                .grad("gradLogits", "n*c*inner", "logits")
                .table(table, "c")
                .nativeKernel(kernel, query)
                .javaKernel(javaKernel)
                .build()
                .requireSize("n", N).requireSize("c", C).requireSize("inner", INNER)
                .requireSlot("logits", LOGITS).requireSlot(targets, TARGETS).requireSlot("gradOutput", GRAD_OUTPUT)
                .requireSlot("loss", LOSS).requireSlot("gradLogits", GRAD).requireSlot(table, TABLE);
    }

    // ---------------------------------------------------------------- [N, C, d1..dk] logits

    /**
     * The loss of {@code logits} [N, C, d1..dk] (row-major, {@code inner = d1 * ... * dk}) against
     * {@code targets} [N, d1..dk]: one value, or n * inner for {@code none}.
     */
    public float[] forwardSpatial(float[] logits, int[] targets, int n, int c, int inner) {
        Call call = spatialArrays(spatialOp, logits, IntBuffer.wrap(Checks.notNull(targets, "targets")), n, c, inner,
                null);
        float[] loss = new float[reduction == Reduction.NONE ? Checks.arrayLength(n, inner, "n * inner") : 1];
        call.host[LOSS] = FloatBuffer.wrap(loss);
        Invoker.host(spatialOp, this, call);
        return loss;
    }

    /**
     * Loss and gradient (in the logits' layout) in one pass; {@code gradOutput} null means 1
     * (n * inner values for {@code none}).
     */
    public R forwardBackwardSpatial(float[] logits, int[] targets, int n, int c, int inner, float[] gradOutput) {
        return forwardBackwardSpatial(spatialOp, logits, IntBuffer.wrap(Checks.notNull(targets, "targets")), n, c,
                inner, gradOutput);
    }

    /** The workspace a spatial device call needs (error word included). */
    public long workspaceBytesSpatial(long n, long c, long inner) {
        return Invoker.workspaceBytes(spatialOp, this, n, c, inner);
    }

    /**
     * The fast path over [N, C, d1..dk] logits in backend memory, in their own layout (no
     * transpose, no copy), queued on the stream of {@code logits}; {@code gradOutput} may be null;
     * {@code loss} or {@code gradLogits} may be null, not both; {@code gradLogits} may be
     * {@code logits} itself.
     */
    public void forwardBackwardSpatial(DeviceBuffer logits, DeviceBuffer targets, long n, long c, long inner,
            DeviceBuffer gradOutput, DeviceBuffer loss, DeviceBuffer gradLogits, DeviceBuffer workspace) {
        forwardBackwardSpatial(spatialOp, logits, targets, n, c, inner, gradOutput, loss, gradLogits, workspace);
    }

    /** The fused array call of a spatial form {@code op} (class indices, or soft targets in {@code targets}). */
    final R forwardBackwardSpatial(Op<?> op, float[] logits, Buffer targets, int n, int c, int inner,
            float[] gradOutput) {
        Call call = spatialArrays(op, logits, targets, n, c, inner, gradOutput);
        float[] loss = new float[reduction == Reduction.NONE ? Checks.arrayLength(n, inner, "n * inner") : 1];
        float[] grad = new float[Checks.arrayLength(Checks.arrayLength(n, c, "n * c"), inner, "n * c * inner")];
        call.host[LOSS] = FloatBuffer.wrap(loss);
        call.host[GRAD] = FloatBuffer.wrap(grad);
        Invoker.host(op, this, call);
        return result(loss, grad);
    }

    /** The device call of a spatial form {@code op}. */
    final void forwardBackwardSpatial(Op<?> op, DeviceBuffer logits, DeviceBuffer targets, long n, long c, long inner,
            DeviceBuffer gradOutput, DeviceBuffer loss, DeviceBuffer gradLogits, DeviceBuffer workspace) {
        if (loss == null && gradLogits == null) throw new IllegalArgumentException("loss and gradLogits are both null");
        Call call = call(op, logits, 0, targets, n, c, gradOutput, loss, gradLogits, 0);
        call.sizes[INNER] = inner;
        Invoker.device(op, this, call, workspace);
    }

    private Call spatialArrays(Op<?> op, float[] logits, Buffer targets, int n, int c, int inner, float[] gradOutput) {
        Call call = call(op, FloatBuffer.wrap(Checks.notNull(logits, "logits")), 0, targets, n, c,
                gradOutput == null ? null : FloatBuffer.wrap(gradOutput), null, null, 0);
        call.sizes[INNER] = inner;
        Invoker.checkInputs(op, this, call);
        return call;
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

    /** The ignore index as the C API takes it: {@code Long.MIN_VALUE} when no class is ignored. */
    @Override
    public long ignoreIndexValue() {
        return hasIgnoreIndex ? ignoreIndex : Long.MIN_VALUE;
    }
}
