package org.culoss.dl4j;

import java.nio.FloatBuffer;
import java.util.Arrays;
import org.culoss.Backend;
import org.culoss.ElementwiseLoss;
import org.culoss.Reduction;
import org.nd4j.linalg.activations.IActivation;

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
        FloatBuffer x = NdArrays.read(b.x);
        FloatBuffer t = NdArrays.read(b.labels);
        FloatBuffer grad = b.grad == null ? null : b.grad.buffer;
        float s = scale(b.c);
        if (!b.wantRows && b.rowWeights == null && b.elementMask == null) {
            // one value and the gradient, in one pass: the reduction is the kernel's
            float[] total = new float[1];
            ElementwiseLoss<?> l = loss(Reduction.SUM);
            if (grad == null) l.forward(x, t, count, FloatBuffer.wrap(total));
            else l.forwardBackward(x, t, count, FloatBuffer.wrap(new float[] {s}), FloatBuffer.wrap(total), grad);
            b.total = (double) total[0] * s;
            return;
        }
        float[] weights = elementWeights(b, s);
        float[] loss = new float[count];
        ElementwiseLoss<?> l = loss(Reduction.NONE);
        if (grad == null) l.forward(x, t, count, FloatBuffer.wrap(loss));
        else l.forwardBackward(x, t, count, FloatBuffer.wrap(weights), FloatBuffer.wrap(loss), grad);
        double total = 0;
        for (int i = 0; i < b.n; i++) {
            double row = 0;
            for (int j = i * b.c, end = j + b.c; j < end; j++) row += (double) loss[j] * weights[j];
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
