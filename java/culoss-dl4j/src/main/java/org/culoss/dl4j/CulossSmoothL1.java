package org.culoss.dl4j;

import org.culoss.Backend;
import org.culoss.ElementwiseLoss;
import org.culoss.Reduction;
import org.culoss.SmoothL1;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * Smooth L1 ({@code F.smooth_l1_loss}): {@code 0.5 d^2 / beta} where {@code |d| < beta}, else
 * {@code |d| - 0.5 beta}, summed over an example's outputs. Any activation.
 */
public final class CulossSmoothL1 extends ElementwiseLossFunction {
    private static final long serialVersionUID = 1L;

    @JsonProperty("beta")
    private float beta = 1f;

    /** The defaults: beta 1f. */
    public CulossSmoothL1() {}

    public CulossSmoothL1(float beta) {
        this.beta = beta;
        checkOptions();
    }

    @Override
    ElementwiseLoss<?> build(Backend backend, Reduction reduction) {
        return SmoothL1.builder().backend(backend).reduction(reduction).beta(beta).build();
    }

    @Override
    Object[] options() {
        return new Object[] {"beta", beta};
    }
}
