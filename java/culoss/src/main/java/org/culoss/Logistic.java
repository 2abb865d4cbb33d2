package org.culoss;

import java.nio.FloatBuffer;
import java.util.Map;
import org.culoss.internal.CulossNative;
import org.culoss.internal.JavaLogistic;

/**
 * The logistic loss, binary cross-entropy with logits, with the semantics of
 * {@code torch.nn.functional.binary_cross_entropy_with_logits}: elementwise over {@code count}
 * logits x and targets t (any real; probabilities in practice), with a pos_weight p (default 1:
 * none; a scalar, or one per class over the last dimension: element i takes {@code p[i % C]}) and
 * an optional per-element weight w (default 1), lw = (p - 1) t + 1:
 * <pre>
 *   loss = w ((1 - t) x + lw (log(1 + exp(-|x|)) + max(-x, 0))),   d loss / d x = w (lw sigmoid(x) - p t)
 * </pre>
 * computed without cancellation, so confident logits (|x| = 30 and more) keep the digits of their
 * small loss and gradient. The default reduction is PyTorch's, {@code MEAN}, which divides by the
 * count whatever the weights.
 *
 * <pre>{@code
 * Logistic loss = Logistic.builder().posWeights(new float[] {3f, 1f, 0.5f}).build();  // [N, 3] logits
 * Logistic.Result r = loss.forwardBackward(logits, targets, weight, null);
 * }</pre>
 *
 * <p>Called like {@link SmoothL1}: {@code float[]}, host buffers, or {@link DeviceBuffer}s (the
 * fast path, with a workspace of {@link #workspaceBytes} bytes for a reduced forward), each with or
 * without a weight of {@code count} values. With per-class pos_weights the count must be a
 * multiple of their number. Only the gradient with respect to the logits is produced. Every bad
 * argument throws an {@link IllegalArgumentException} naming it, before any native call.
 * Instances are immutable and thread-safe; {@link #close} frees the per-class table's copy in
 * backend memory.
 */
public final class Logistic extends ElementwiseLoss<Logistic.Result> {
    // The weighted form's slots after the elementwise ones, and its second size.
    static final int WEIGHT = 5;
    static final int POS_WEIGHT = 6;
    static final int CLASSES = 1;

    private final float posWeight;
    private final boolean perClass;

    private Logistic(Builder b) {
        super(b.backend, b.reduction, b.table(), OP, b.posWeight);
        this.posWeight = b.posWeight;
        this.perClass = b.posWeights != null;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The scalar pos_weight (1 when the loss has one per class). */
    public float posWeight() {
        return posWeight;
    }

    /** A copy of the per-class pos_weights, or null when the loss has a scalar one. */
    public float[] posWeights() {
        return perClass ? table().clone() : null;
    }

    /**
     * The loss and the gradient of one {@code forwardBackward} on arrays.
     *
     * @param loss       one value for {@code SUM}/{@code MEAN}, one per element for {@code NONE}
     * @param gradLogits one per element
     */
    public record Result(float[] loss, float[] gradLogits) {}

    @Override
    Result result(float[] loss, float[] grad) {
        return new Result(loss, grad);
    }

    /** A weight or per-class pos_weights run the weighted form; a scalar pos_weight's table is one class. */
    @Override
    Op<?> op(boolean weighted) {
        return weighted || perClass ? WEIGHTED : OP;
    }

    @Override
    void otherSizes(Op<?> op, Call call) {
        if (op == WEIGHTED) call.sizes[CLASSES] = table() == null ? 1 : table().length;
    }

    // ---------------------------------------------------------------- with a per-element weight

    /** The loss with a per-element {@code weight} (as long as the logits; null: none). */
    public float[] forward(float[] logits, float[] targets, float[] weight) {
        return forwardWith(logits, targets, weight);
    }

    /** The gradient with a per-element {@code weight}; {@code gradOutput} null means 1. */
    public float[] backward(float[] logits, float[] targets, float[] weight, float[] gradOutput) {
        return backwardWith(logits, targets, weight, gradOutput);
    }

    /** Loss and gradient in one pass with a per-element {@code weight}; {@code gradOutput} null means 1. */
    public Result forwardBackward(float[] logits, float[] targets, float[] weight, float[] gradOutput) {
        return forwardBackwardWith(logits, targets, weight, gradOutput);
    }

    /** Host buffers with a per-element {@code weight} of {@code count} values from its position. */
    public void forwardBackward(FloatBuffer logits, FloatBuffer targets, FloatBuffer weight, int count,
            FloatBuffer gradOutput, FloatBuffer loss, FloatBuffer gradLogits) {
        forwardBackwardWith(logits, targets, weight, count, gradOutput, Checks.notNull(loss, "loss"),
                Checks.notNull(gradLogits, "gradLogits"));
    }

    /** The fast path with a per-element {@code weight} in backend memory (null: none). */
    public void forwardBackward(DeviceBuffer logits, DeviceBuffer targets, DeviceBuffer weight, long count,
            DeviceBuffer gradOutput, DeviceBuffer loss, DeviceBuffer gradLogits, DeviceBuffer workspace) {
        forwardBackwardWith(logits, targets, weight, count, gradOutput, Checks.notNull(loss, "loss"),
                Checks.notNull(gradLogits, "gradLogits"), workspace);
    }

    // ---------------------------------------------------------------- declarations

    static final Op<Logistic> OP = declare("logistic", "culossLogistic", "logits", "targets", false, "gradLogits",
            l -> JavaLogistic.kernel(l.posWeight));

    /** count a multiple of the classes (the C API's rule: element i takes pos_weight[i % classes]). */
    private static final Op.SizeCheck WHOLE_ROWS = sizes -> {
        if (sizes[CLASSES] > 0 && sizes[COUNT] % sizes[CLASSES] != 0) {
            throw new IllegalArgumentException("count (" + sizes[COUNT] + ") is not a multiple of the classes ("
                    + sizes[CLASSES] + ") of posWeight");
        }
    };

    /**
     * The form with PyTorch's tensors: a per-element weight and a pos_weight per class of the last
     * dimension (a scalar pos_weight is a table of one class).
     */
    static final Op<Logistic> WEIGHTED = requireSlots(operands(Op.<Logistic>form("logistic", "weighted",
                    "culossLogisticWeighted").size("count", 0).size("classes", 1).lastAxis("classes")
                    .check(WHOLE_ROWS), "logits", "targets", false, "gradLogits")
            .optionalInput("weight", "count")
            .table("posWeight", "classes")
            .nativeKernel((l, c, mode) -> switch (mode) {
                case FORWARD -> CulossNative.culossLogisticWeightedForward(c.address[X], c.address[T],
                        c.address[WEIGHT], c.address[POS_WEIGHT], c.sizes[COUNT], c.sizes[CLASSES], c.dtype,
                        l.reduction.nativeValue(), c.address[LOSS], c.workspace, c.workspaceBytes, c.stream);
                case BACKWARD -> CulossNative.culossLogisticWeightedBackward(c.address[X], c.address[T],
                        c.address[WEIGHT], c.address[POS_WEIGHT], c.sizes[COUNT], c.sizes[CLASSES], c.dtype,
                        l.reduction.nativeValue(), c.address[GRAD_OUTPUT], c.address[GRAD], c.workspace,
                        c.workspaceBytes, c.stream);
                case FORWARD_BACKWARD -> CulossNative.culossLogisticWeightedForwardBackward(c.address[X],
                        c.address[T], c.address[WEIGHT], c.address[POS_WEIGHT], c.sizes[COUNT], c.sizes[CLASSES],
                        c.dtype, l.reduction.nativeValue(), c.address[GRAD_OUTPUT], c.address[LOSS], c.address[GRAD],
                        c.workspace, c.workspaceBytes, c.stream);
            }, (l, sizes, dtype, bytes) -> CulossNative.culossLogisticWeightedWorkspaceSize(sizes[COUNT], dtype,
                    l.reduction.nativeValue(), bytes))
            .javaKernel(javaKernel(l -> JavaLogistic.kernel(l.table() == null ? new float[] {1f} : l.table()), WEIGHT))
            .build(), "logits", "targets", "gradLogits")
            .requireSize("classes", CLASSES).requireSlot("weight", WEIGHT).requireSlot("posWeight", POS_WEIGHT);

    static final LossDeclaration<Builder> DECLARATION = LossDeclaration.of(OP, Builder::new, Builder::backend,
                    Builder::build)
            .form(WEIGHTED)
            .param(Param.numberNullOrTable("pos_weight", "1", Builder::posWeight, "pos_weight"))
            .param(Param.reduction("mean", Builder::reduction))
            .table(Builder::posWeights)
            .bench(Map.of(), "16777216");

    /**
     * The options of a {@link Logistic}: pos_weight (default 1; a scalar or one per class), the
     * backend and the reduction (default {@code MEAN}).
     */
    public static final class Builder extends LossBuilder<Builder> {
        private float posWeight = 1f;
        private float[] posWeights;

        private Builder() {
            super(Reduction.MEAN);
        }

        /** The weight of the positive term, p, for every element: any finite float (1: none). */
        public Builder posWeight(float posWeight) {
            if (!Float.isFinite(posWeight)) {
                throw new IllegalArgumentException("posWeight (" + posWeight + ") is not finite");
            }
            this.posWeight = posWeight;
            this.posWeights = null;
            return this;
        }

        /**
         * A pos_weight per class of the last dimension (C values, finite; copied): element i takes
         * {@code posWeights[i % C]}. Replaces a scalar pos_weight.
         */
        public Builder posWeights(float[] posWeights) {
            Checks.notNull(posWeights, "posWeights");
            if (posWeights.length == 0) throw new IllegalArgumentException("posWeights is empty");
            for (int i = 0; i < posWeights.length; i++) {
                if (!Float.isFinite(posWeights[i])) {
                    throw new IllegalArgumentException("posWeights[" + i + "] (" + posWeights[i] + ") is not finite");
                }
            }
            this.posWeights = posWeights.clone();
            this.posWeight = 1f;
            return this;
        }

        /** The table the weighted form reads: the per-class values, or the scalar as one class (none for 1). */
        private float[] table() {
            return posWeights != null ? posWeights : posWeight != 1f ? new float[] {posWeight} : null;
        }

        public Logistic build() {
            return new Logistic(this);
        }
    }
}
