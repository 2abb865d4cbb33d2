package org.culoss.testing;

/** The float64 softmax pieces the softmax losses' references share. */
public final class SoftmaxReference {
    private SoftmaxReference() {}

    /**
     * log sum_j exp(x_j) over row {@code row} of a row-major array with {@code c} columns, shifted
     * by the row's max so that large logits do not overflow and -inf ones give exp 0.
     */
    public static double logSumExp(double[] x, int row, int c) {
        double m = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < c; j++) {
            m = Math.max(m, x[row * c + j]);
        }
        double s = 0;
        for (int j = 0; j < c; j++) {
            s += Math.exp(x[row * c + j] - m);
        }
        return m + Math.log(s);
    }
}
