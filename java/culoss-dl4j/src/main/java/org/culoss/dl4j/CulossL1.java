package org.culoss.dl4j;

import org.culoss.Backend;
import org.culoss.ElementwiseLoss;
import org.culoss.L1;
import org.culoss.Reduction;

/**
 * L1, as DL4J's {@code LossL1}: an example's score is the sum over its outputs of
 * {@code |output - label|}, the gradient {@code sign(output - label)} (0 at 0). Any activation.
 */
public final class CulossL1 extends ElementwiseLossFunction {
    private static final long serialVersionUID = 1L;

    /** No options. */
    public CulossL1() {}

    @Override
    ElementwiseLoss<?> build(Backend backend, Reduction reduction) {
        return L1.builder().backend(backend).reduction(reduction).build();
    }

    @Override
    Object[] options() {
        return new Object[] {};
    }
}
