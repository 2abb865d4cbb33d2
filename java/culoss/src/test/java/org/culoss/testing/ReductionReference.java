package org.culoss.testing;

import org.culoss.Reduction;

/**
 * The float64 references' side of {@link Reduction}: how row losses are combined, which upstream
 * factor each row's gradient takes, and the scalar whose gradient the backward computes. Every
 * loss has the same three rules (PyTorch's), so a reference states only its own row loss and
 * divisor.
 */
public final class ReductionReference {
    private ReductionReference() {}

    /**
     * The loss output from the row losses: the rows for NONE, their total for SUM, the total over
     * {@code divisor} for MEAN (0 when the divisor is 0: nothing counted, as the kernels give).
     */
    public static double[] reduce(double[] rows, Reduction reduction, double divisor) {
        double total = 0;
        for (double r : rows) {
            total += r;
        }
        switch (reduction) {
            case NONE:
                return rows;
            case SUM:
                return new double[] {total};
            default:
                return new double[] {divisor == 0 ? 0 : total / divisor};
        }
    }

    /**
     * d objective / d (loss of row {@code row}): gradOut_row for NONE, the scalar gradOut for SUM and
     * that over {@code divisor} for MEAN; gradOut null stands for ones.
     */
    public static double upstream(Reduction reduction, float[] gradOut, int row, double divisor) {
        if (reduction == Reduction.NONE) {
            return gradOut == null ? 1 : gradOut[row];
        }
        double g = gradOut == null ? 1 : gradOut[0];
        if (reduction == Reduction.MEAN) {
            g = divisor == 0 ? 0 : g / divisor;
        }
        return g;
    }

    /** sum_i gradOut_i loss_i (gradOut null stands for ones): the scalar the backward differentiates. */
    public static double objective(double[] loss, float[] gradOut) {
        double s = 0;
        for (int i = 0; i < loss.length; i++) {
            s += (gradOut == null ? 1 : gradOut[i]) * loss[i];
        }
        return s;
    }
}
