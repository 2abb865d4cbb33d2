package org.culoss.dl4j;

import org.culoss.Backend;
import org.culoss.ElementwiseLoss;
import org.culoss.Huber;
import org.culoss.Reduction;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * Huber ({@code F.huber_loss}): {@code 0.5 d^2} where {@code |d| <= delta}, else
 * {@code delta (|d| - 0.5 delta)}, summed over an example's outputs. Any activation.
 */
public final class CulossHuber extends ElementwiseLossFunction {
    private static final long serialVersionUID = 1L;

    @JsonProperty("delta")
    private float delta = 1f;

    /** The defaults: delta 1f. */
    public CulossHuber() {}

    public CulossHuber(float delta) {
        this.delta = delta;
        checkOptions();
    }

    @Override
    ElementwiseLoss<?> build(Backend backend, Reduction reduction) {
        return Huber.builder().backend(backend).reduction(reduction).delta(delta).build();
    }

    @Override
    Object[] options() {
        return new Object[] {"delta", delta};
    }
}
