package org.culoss.testing;

import org.culoss.Reduction;

/**
 * The float64 reference of an elementwise loss (sigmoid focal, smooth L1, Huber) built from one
 * element's {loss, d loss / dx}: the loss output, the objective the backward differentiates, and
 * its gradient. Such losses differ only in the element; the mean is over every element.
 *
 * @param element element i at input x: {loss, d loss / dx}
 * @param reduction how the element losses are combined
 * @param gradOut the upstream gradient, or null for ones
 */
public record ElementwiseReference(Element element, Reduction reduction, float[] gradOut) {
    /** One element of the loss. */
    @FunctionalInterface
    public interface Element {
        /** {loss, d loss / dx} of element i at input x. */
        double[] at(int i, double x);
    }

    /** The loss output at inputs {@code x}: per element for NONE, else reduced. */
    public double[] loss(double[] x) {
        double[] per = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            per[i] = element.at(i, x[i])[0];
        }
        return ReductionReference.reduce(per, reduction, x.length);
    }

    /** sum_i gradOut_i loss_i (NONE) or gradOut * loss. */
    public double objective(double[] x) {
        return ReductionReference.objective(loss(x), gradOut);
    }

    /** The analytic gradient of {@link #objective}. */
    public double[] grad(double[] x) {
        double[] grad = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            grad[i] = ReductionReference.upstream(reduction, gradOut, i, x.length) * element.at(i, x[i])[1];
        }
        return grad;
    }
}
