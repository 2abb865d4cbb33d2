package org.culoss.dl4j;

import org.culoss.Backend;
import org.culoss.ElementwiseLoss;
import org.culoss.Logistic;
import org.culoss.Reduction;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationSigmoid;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * Binary cross-entropy with logits, fused ({@code F.binary_cross_entropy_with_logits}): labels in
 * [0, 1], stable for any logit, with an optional {@code pos_weight}. DL4J's {@code LossBinaryXENT}
 * with a sigmoid output, without its clipping of the probabilities at 1e-5. Its layer's activation
 * is SIGMOID (the network outputs probabilities) or IDENTITY (logits).
 */
public final class CulossLogistic extends ElementwiseLossFunction {
    private static final long serialVersionUID = 1L;

    @JsonProperty("posWeight")
    private float posWeight = 1f;

    /** The defaults: posWeight 1f. */
    public CulossLogistic() {}

    public CulossLogistic(float posWeight) {
        this.posWeight = posWeight;
        checkOptions();
    }

    @Override
    ElementwiseLoss<?> build(Backend backend, Reduction reduction) {
        return Logistic.builder().backend(backend).reduction(reduction).posWeight(posWeight).build();
    }

    @Override
    Class<? extends IActivation> fusedActivation() {
        return ActivationSigmoid.class;
    }

    @Override
    Object[] options() {
        return new Object[] {"posWeight", posWeight};
    }
}
