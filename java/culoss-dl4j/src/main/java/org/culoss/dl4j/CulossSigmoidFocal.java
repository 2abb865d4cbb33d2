package org.culoss.dl4j;

import org.culoss.Backend;
import org.culoss.ElementwiseLoss;
import org.culoss.Reduction;
import org.culoss.SigmoidFocal;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationSigmoid;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * Sigmoid focal loss, fused ({@code torchvision.ops.sigmoid_focal_loss}): labels in [0, 1],
 * {@code a_t ce (1 - p_t)^gamma}; {@code alpha} negative turns the weighting off. Its layer's
 * activation is SIGMOID or IDENTITY.
 */
public final class CulossSigmoidFocal extends ElementwiseLossFunction {
    private static final long serialVersionUID = 1L;

    @JsonProperty("alpha")
    private float alpha = 0.25f;
    @JsonProperty("gamma")
    private float gamma = 2f;

    /** The defaults: alpha 0.25f, gamma 2f. */
    public CulossSigmoidFocal() {}

    public CulossSigmoidFocal(float alpha, float gamma) {
        this.alpha = alpha;
        this.gamma = gamma;
        checkOptions();
    }

    @Override
    ElementwiseLoss<?> build(Backend backend, Reduction reduction) {
        return SigmoidFocal.builder().backend(backend).reduction(reduction).alpha(alpha).gamma(gamma).build();
    }

    @Override
    Class<? extends IActivation> fusedActivation() {
        return ActivationSigmoid.class;
    }

    @Override
    Object[] options() {
        return new Object[] {"alpha", alpha, "gamma", gamma};
    }
}
