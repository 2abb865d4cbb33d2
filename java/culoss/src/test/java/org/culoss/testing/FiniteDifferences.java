package org.culoss.testing;

import java.util.function.DoubleSupplier;

/**
 * Central differences of a float64 objective: the check on every analytic gradient that does not
 * share a formula with it. The kernel tests differentiate the same scalar (the reference loss
 * weighted by the upstream gradient) in the same way, so the loop lives here once.
 */
public final class FiniteDifferences {
    private FiniteDifferences() {}

    /**
     * d objective / d x_i for every i, as (f(x + h e_i) - f(x - h e_i)) / 2h. The objective reads
     * {@code x} itself: each element is moved in place and put back, so that where a loss has
     * several inputs the others stay fixed while one of them is differentiated.
     */
    public static double[] central(double[] x, double h, DoubleSupplier objective) {
        double[] grad = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            double saved = x[i];
            x[i] = saved + h;
            double up = objective.getAsDouble();
            x[i] = saved - h;
            double down = objective.getAsDouble();
            x[i] = saved;
            grad[i] = (up - down) / (2 * h);
        }
        return grad;
    }
}
