package org.culoss.dl4j;

import org.culoss.DeviceBuffer;
import org.culoss.Reduction;
import org.culoss.SoftmaxCrossEntropy;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * Softmax cross-entropy, fused: DL4J's {@code LossMCXENT} (one-hot or soft labels {@code [N, C]},
 * read as they are) and {@code LossSparseMCXENT} (a column of class indices {@code [N, 1]}) in
 * one loss, with optional class weights and label smoothing ({@code F.cross_entropy}'s). Its layer's
 * activation is SOFTMAX (the network outputs probabilities) or IDENTITY (logits); the loss reads
 * the pre-activation scores either way. Unlike {@code LossMCXENT} it does not clip the
 * probabilities at 1e-10: the log-softmax is exact.
 */
public final class CulossSoftmaxCrossEntropy extends RowLossFunction {
    private static final long serialVersionUID = 1L;

    @JsonProperty("classWeights")
    private float[] classWeights;
    @JsonProperty("labelSmoothing")
    private float labelSmoothing;

    private transient volatile SoftmaxCrossEntropy loss;

    public CulossSoftmaxCrossEntropy() {}

    /** {@code classWeights}: one per class, or null; {@code labelSmoothing} in [0, 1]. */
    public CulossSoftmaxCrossEntropy(float[] classWeights, float labelSmoothing) {
        this.classWeights = classWeights == null ? null : classWeights.clone();
        this.labelSmoothing = labelSmoothing;
        loss();  // checks the options now
    }

    private SoftmaxCrossEntropy loss() {
        SoftmaxCrossEntropy l = loss;
        if (l == null) {
            l = SoftmaxCrossEntropy.builder().backend(backend()).reduction(Reduction.NONE).noIgnoreIndex()
                    .classWeights(classWeights).labelSmoothing(labelSmoothing).build();
            loss = l;
        }
        return l;
    }

    @Override
    void dropLosses() {
        loss = null;
    }

    @Override
    void run(Batch b) {
        SoftmaxCrossEntropy l = loss();
        if (classColumn(b)) {
            runRows(b, l, withClasses(l, ClassLabels.fromColumn(b.labels, b.c, describe()), b.n, b.c));
            return;
        }
        ClassLabels.checkRows(b.labels, b.c, describe());
        INDArray probs = NdArrays.rowMajorFloats(b.labels);
        int n = b.n, c = b.c;
        runRows(b, l, (m, x, ls, go, g) -> {
            DeviceBuffer p = m.in(probs);
            DeviceBuffer ws = m.workspace(l.workspaceBytesProbs(n, c));
            if (g == null) l.forwardProbs(x, c, p, n, c, ls, ws);
            else l.forwardBackwardProbs(x, c, p, n, c, go, ls, g, c, ws);
        });
    }

    @Override
    Object[] options() {
        return new Object[] {"classWeights", classWeights, "labelSmoothing", labelSmoothing};
    }
}
