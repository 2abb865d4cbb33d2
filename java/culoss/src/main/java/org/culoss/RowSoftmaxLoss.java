package org.culoss;

/**
 * The losses over softmax rows ({@link SoftmaxCrossEntropy}, {@link SoftmaxFocal}): a
 * {@link RowLoss} whose rows may be ignored, by an ignore index as PyTorch's.
 *
 * @param <R> the result of {@code forwardBackward} on arrays
 */
abstract class RowSoftmaxLoss<R> extends RowLoss<R> {
    private final boolean hasIgnoreIndex;
    private final int ignoreIndex;

    RowSoftmaxLoss(RowsBuilder<?> b, float[] table, Op<?> op) {
        super(b, table, op);
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

    /** The ignore index as the C API takes it: {@code Long.MIN_VALUE} when no class is ignored. */
    @Override
    public long ignoreIndexValue() {
        return hasIgnoreIndex ? ignoreIndex : Long.MIN_VALUE;
    }
}
