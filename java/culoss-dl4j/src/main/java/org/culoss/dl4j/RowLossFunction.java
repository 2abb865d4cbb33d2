package org.culoss.dl4j;

import org.culoss.DeviceBuffer;
import org.culoss.LossFunction;
import org.culoss.RowLoss;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

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

    /**
     * One culoss row call (reduction NONE) on device buffers: losses into {@code loss}, and the
     * gradient into {@code grad} when it is not null, each row's scaled by {@code gradOutput}.
     */
    interface RowCall {
        void run(DeviceArrays m, DeviceBuffer x, DeviceBuffer loss, DeviceBuffer gradOutput, DeviceBuffer grad);
    }

    /** The class-index call of a row loss. */
    static RowCall withClasses(RowLoss<?> loss, int[] classes, int n, int c) {
        INDArray targets = Nd4j.createFromArray(classes);
        return (m, x, l, go, g) -> {
            DeviceBuffer t = m.in(targets);
            DeviceBuffer ws = m.workspace(loss.workspaceBytes(n, c));
            if (g == null) loss.forward(x, c, t, n, c, l, ws);
            else loss.forwardBackward(x, c, t, n, c, go, l, g, c, ws);
        };
    }

    /**
     * Runs one call of {@code loss} (whose backend the arrays are given to), each row's loss and
     * gradient scaled by its weight, and sums the weighted losses.
     */
    static void runRows(Batch b, LossFunction loss, RowCall call) {
        if (b.n == 0) return;  // nothing to compute: a zero total, an empty gradient
        INDArray losses = Nd4j.createUninitialized(DataType.FLOAT, b.n);
        try (DeviceArrays m = DeviceArrays.open(loss.backend())) {
            DeviceBuffer gradOutput = null;
            if (b.grad != null)
                gradOutput = m.in(b.rowWeights == null ? Nd4j.ones(DataType.FLOAT, b.n) : Nd4j.createFromArray(b.rowWeights));
            call.run(m, m.in(b.x), m.out(losses), gradOutput, b.grad == null ? null : m.out(b.grad));
        }
        float[] l = losses.toFloatVector();
        double total = 0;
        for (int i = 0; i < b.n; i++) {
            float li = b.rowWeights == null ? l[i] : l[i] * b.rowWeights[i];
            if (b.rowLoss != null) b.rowLoss[i] = li;
            total += li;
        }
        b.total = total;
    }
}
