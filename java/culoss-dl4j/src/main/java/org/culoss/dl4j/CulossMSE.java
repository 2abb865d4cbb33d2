package org.culoss.dl4j;

import org.culoss.Backend;
import org.culoss.ElementwiseLoss;
import org.culoss.Mse;
import org.culoss.Reduction;

/**
 * Mean squared error, as DL4J's {@code LossMSE}: an example's score is the mean over its outputs of
 * {@code (output - label)^2}, the gradient {@code 2 (output - label) / outputs}. Any activation.
 */
public final class CulossMSE extends ElementwiseLossFunction {
    private static final long serialVersionUID = 1L;

    /** No options. */
    public CulossMSE() {}

    @Override
    ElementwiseLoss<?> build(Backend backend, Reduction reduction) {
        return Mse.builder().backend(backend).reduction(reduction).build();
    }

    /** DL4J's MSE is a mean over the outputs. */
    @Override
    float scale(int outputs) {
        return 1f / outputs;
    }

    @Override
    Object[] options() {
        return new Object[] {};
    }
}
