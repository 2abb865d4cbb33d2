package org.culoss.dl4j;

import java.util.Arrays;
import org.culoss.Reduction;
import org.culoss.SoftmaxFocal;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * Softmax focal loss, fused: {@code -alpha_y (1 - p_y)^gamma log p_y} over softmax {@code p}
 * (Lin et al.), with a scalar or per-class alpha. Labels: a column of class indices
 * {@code [N, 1]} or one-hot rows {@code [N, C]} (soft labels have no focal loss). Its layer's
 * activation is SOFTMAX or IDENTITY, as for {@link CulossSoftmaxCrossEntropy}.
 */
public final class CulossSoftmaxFocal extends RowLossFunction {
    private static final long serialVersionUID = 1L;

    @JsonProperty("gamma")
    private float gamma = 2f;
    @JsonProperty("alpha")
    private float alpha = 1f;
    @JsonProperty("classAlpha")
    private float[] classAlpha;

    private transient volatile SoftmaxFocal loss;

    /** gamma 2, alpha 1. */
    public CulossSoftmaxFocal() {}

    public CulossSoftmaxFocal(float gamma, float alpha) {
        this.gamma = gamma;
        this.alpha = alpha;
        loss();
    }

    /** {@code classAlpha}: one weight per class. */
    public CulossSoftmaxFocal(float gamma, float[] classAlpha) {
        this.gamma = gamma;
        this.classAlpha = classAlpha.clone();
        loss();
    }

    private SoftmaxFocal loss() {
        SoftmaxFocal l = loss;
        if (l == null) {
            SoftmaxFocal.Builder b = SoftmaxFocal.builder().backend(backend()).reduction(Reduction.NONE).noIgnoreIndex()
                    .gamma(gamma).alpha(alpha);
            if (classAlpha != null) b.classAlpha(classAlpha);
            l = b.build();
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
        int[] classes = ClassLabels.of(b.labels, b.c, describe());
        SoftmaxFocal l = loss();
        runRows(b, l, withClasses(l, classes, b.n, b.c));
    }

    @Override
    Object[] options() {
        return new Object[] {"gamma", gamma, "alpha", classAlpha == null ? alpha : null, "classAlpha", classAlpha};
    }
}
