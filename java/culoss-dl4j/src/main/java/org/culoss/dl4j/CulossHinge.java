package org.culoss.dl4j;

import org.culoss.Backend;
import org.culoss.ElementwiseLoss;
import org.culoss.Hinge;
import org.culoss.Reduction;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * Hinge, as DL4J's {@code LossHinge} for the default margin 1: labels in {-1, 1}, an example's
 * score {@code sum max(margin - label * output, 0)} over its outputs (the gradient {@code -label}
 * where the hinge is active, its kink included). Any activation.
 */
public final class CulossHinge extends ElementwiseLossFunction {
    private static final long serialVersionUID = 1L;

    @JsonProperty("margin")
    private float margin = 1f;

    /** The defaults: margin 1f. */
    public CulossHinge() {}

    public CulossHinge(float margin) {
        this.margin = margin;
        checkOptions();
    }

    @Override
    ElementwiseLoss<?> build(Backend backend, Reduction reduction) {
        return Hinge.builder().backend(backend).reduction(reduction).margin(margin).build();
    }

    @Override
    Object[] options() {
        return new Object[] {"margin", margin};
    }
}
