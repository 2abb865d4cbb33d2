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

    static boolean classColumn(Batch b) {
        return ClassLabels.isColumn(b.labels, b.c);
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
        call.run(NdArrays.read(b.x), FloatBuffer.wrap(loss), gradOutput, b.grad == null ? null : b.grad.buffer);
        double total = 0;
        for (int i = 0; i < b.n; i++) {
            float li = b.rowWeights == null ? loss[i] : loss[i] * b.rowWeights[i];
            if (b.rowLoss != null) b.rowLoss[i] = li;
            total += li;
        }
        b.total = total;
    }
}
