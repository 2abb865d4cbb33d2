package org.culoss.dl4j;

import java.util.Arrays;
import org.culoss.Backend;
import org.culoss.DeviceBuffer;
import org.culoss.ElementwiseLoss;
import org.culoss.Reduction;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The losses of one output against its label (MSE, L1, smooth L1, Huber, hinge, logistic,
 * sigmoid focal): labels have the output's shape, and an example's score is the sum of its
 * outputs' losses (times {@link #scale}).
 */
abstract class ElementwiseLossFunction extends CulossLossFunction {
    private static final long serialVersionUID = 1L;

    private transient volatile ElementwiseLoss<?> sum;
    private transient volatile ElementwiseLoss<?> none;

    /** The culoss loss with this adapter's options. */
    abstract ElementwiseLoss<?> build(Backend backend, Reduction reduction);

    /** Each output's share of its example's score: 1, or 1 / outputs for a mean over them (DL4J's MSE). */
    float scale(int outputs) {
        return 1f;
    }

    /** None: any activation, applied around the loss (the sigmoid losses fuse theirs). */
    @Override
    Class<? extends IActivation> fusedActivation() {
        return null;
    }

    @Override
    boolean acceptsPerOutputMask() {
        return true;
    }

    @Override
    void dropLosses() {
        sum = null;
        none = null;
    }

    /** Builds the losses now, so that a bad option fails in the constructor. */
    final void checkOptions() {
        build(backend(), Reduction.SUM);
    }

    private ElementwiseLoss<?> loss(Reduction r) {
        ElementwiseLoss<?> l = r == Reduction.SUM ? sum : none;
        if (l == null) {
            l = build(backend(), r);
            if (r == Reduction.SUM) sum = l;
            else none = l;
        }
        return l;
    }

    @Override
    void run(Batch b) {
        if (b.labels.rank() != 2 || b.labels.size(1) != b.c)
            throw new IllegalArgumentException(describe() + ": labels must have the output's shape [" + b.n + ", " + b.c
                    + "], got " + Arrays.toString(b.labels.shape()));
        int count = Math.multiplyExact(b.n, b.c);
        if (count == 0) return;  // nothing to compute: a zero total, an empty gradient
        INDArray t = NdArrays.rowMajorFloats(b.labels);
        float s = scale(b.c);
        if (!b.wantRows && b.rowWeights == null && b.elementMask == null) {
            // one value and the gradient, in one pass: the reduction is the kernel's
            ElementwiseLoss<?> l = loss(Reduction.SUM);
            INDArray total = Nd4j.createUninitialized(DataType.FLOAT, 1);
            try (DeviceArrays m = DeviceArrays.open(l.backend())) {
                DeviceBuffer x = m.in(b.x), labels = m.in(t), ws = m.workspace(l.workspaceBytes(count));
                if (b.grad == null) l.forward(x, labels, count, m.out(total), ws);
                else l.forwardBackward(x, labels, count, m.in(Nd4j.createFromArray(s)), m.out(total), m.out(b.grad), ws);
            }
            b.total = (double) total.getFloat(0) * s;
            return;
        }
        float[] weights = elementWeights(b, s);
        INDArray loss = Nd4j.createUninitialized(DataType.FLOAT, count);
        ElementwiseLoss<?> l = loss(Reduction.NONE);
        try (DeviceArrays m = DeviceArrays.open(l.backend())) {
            DeviceBuffer x = m.in(b.x), labels = m.in(t);
            if (b.grad == null) l.forward(x, labels, count, m.out(loss), null);
            else l.forwardBackward(x, labels, count, m.in(Nd4j.createFromArray(weights)), m.out(loss), m.out(b.grad), null);
        }
        float[] values = loss.toFloatVector();
        double total = 0;
        for (int i = 0; i < b.n; i++) {
            double row = 0;
            for (int j = i * b.c, end = j + b.c; j < end; j++) row += (double) values[j] * weights[j];
            if (b.rowLoss != null) b.rowLoss[i] = (float) row;
            total += row;
        }
        b.total = total;
    }

    /** Each output's weight: the scale, times its example's and its own mask. */
    private static float[] elementWeights(Batch b, float scale) {
        float[] w = b.elementMask == null ? new float[b.n * b.c] : NdArrays.toFloats(b.elementMask);
        if (b.elementMask == null) Arrays.fill(w, 1f);
        for (int i = 0; i < b.n; i++) {
            float r = b.rowWeight(i) * scale;
            for (int j = i * b.c, end = j + b.c; j < end; j++) w[j] *= r;
        }
        return w;
    }
}
