package org.culoss.dl4j;

import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.util.Arrays;
import org.culoss.RowLoss;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The losses over a row of class scores (softmax cross-entropy, softmax focal): labels are a
 * column of class indices ({@code [N, 1]}, as DL4J's {@code LossSparseMCXENT} takes them), used
 * as they are, or rows over the classes ({@code [N, C]}, one-hot or soft).
 */
abstract class RowLossFunction extends CulossLossFunction {
    private static final long serialVersionUID = 1L;

    @Override
    Class<? extends IActivation> fusedActivation() {
        return ActivationSoftmax.class;
    }

    /** The labels are a column of class indices rather than one value per class. */
    static boolean classColumn(Batch b) {
        return b.labels.size(1) == 1 && b.c != 1;
    }

    /** A column of class indices as ints, each checked to name a class. */
    int[] classIndices(Batch b) {
        float[] column = NdArrays.toFloats(b.labels);
        int[] classes = new int[b.n];
        for (int i = 0; i < b.n; i++) {
            float v = column[i];
            if (!(v >= 0 && v < b.c) || v != Math.rint(v))
                throw new IllegalArgumentException(describe() + ": labels row " + i + " is " + v
                        + ", not a class index in [0, " + b.c + ")");
            classes[i] = (int) v;
        }
        return classes;
    }

    /** One-hot rows [N, C] as class indices; any other row is refused, naming it. */
    int[] oneHotClasses(Batch b) {
        checkDenseShape(b);
        float[] rows = NdArrays.toFloats(b.labels);
        int[] classes = new int[b.n];
        for (int i = 0; i < b.n; i++) {
            int hot = -1;
            for (int j = 0; j < b.c; j++) {
                float v = rows[i * b.c + j];
                if (v == 1f && hot < 0) hot = j;
                else if (v != 0f) { hot = -2; break; }
            }
            if (hot < 0)
                throw new IllegalArgumentException(describe() + ": labels row " + i + " is not one-hot: this loss"
                        + " takes classes, as one-hot rows or a column of class indices [minibatch, 1]");
            classes[i] = hot;
        }
        return classes;
    }

    void checkDenseShape(Batch b) {
        if (b.labels.size(1) != b.c)
            throw new IllegalArgumentException(describe() + ": labels must be [minibatch, 1] class indices or ["
                    + b.n + ", " + b.c + "] rows over the classes, got shape " + Arrays.toString(b.labels.shape()));
    }

    /** One culoss row call (reduction NONE): losses into {@code loss}, gradient into {@code grad} if not null. */
    interface RowCall {
        void run(FloatBuffer x, FloatBuffer loss, FloatBuffer gradOutput, FloatBuffer grad);
    }

    /** The class-index call of a row loss. */
    static RowCall withClasses(RowLoss<?> loss, int[] classes, int n, int c) {
        IntBuffer targets = IntBuffer.wrap(classes);
        return (x, l, go, g) -> {
            if (g == null) loss.forward(x, c, targets, n, c, l);
            else loss.forwardBackward(x, c, targets, n, c, go, l, g, c);
        };
    }

    /** Runs one call, each row's loss and gradient scaled by its weight, and sums the weighted losses. */
    static void runRows(Batch b, RowCall call) {
        float[] loss = new float[b.n];
        FloatBuffer gradOutput = null;
        if (b.grad != null) {
            float[] w = b.rowWeights;
            if (w == null) {
                w = new float[b.n];
                Arrays.fill(w, 1f);
            }
            gradOutput = FloatBuffer.wrap(w);
        }
        call.run(NdArrays.view(b.x), FloatBuffer.wrap(loss), gradOutput, b.grad == null ? null : NdArrays.view(b.grad));
        double total = 0;
        for (int i = 0; i < b.n; i++) {
            float li = b.rowWeights == null ? loss[i] : loss[i] * b.rowWeights[i];
            if (b.rowLoss != null) b.rowLoss[i] = li;
            total += li;
        }
        b.total = total;
    }
}
