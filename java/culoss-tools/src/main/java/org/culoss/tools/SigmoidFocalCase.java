package org.culoss.tools;

import java.util.Set;
import org.culoss.Backend;
import org.culoss.Reduction;
import org.culoss.SigmoidFocal;

/**
 * {@code sigmoid_focal}: params {@code alpha} (default 0.25; negative: off), {@code gamma} (default
 * 2), {@code reduction} (default none, as torchvision's); inputs {@code logits}, {@code targets} of
 * one shape, {@code grad_output}? (reduction none only); expected {@code loss} and
 * {@code grad_logits}.
 */
final class SigmoidFocalCase extends ElementwiseCase {
    SigmoidFocalCase() {
        super("logits", "targets", "grad_logits", Set.of("alpha", "gamma", "reduction"));
    }

    @Override
    public String loss() {
        return "sigmoid_focal";
    }

    @Override
    String defaultReduction() {
        return "none";
    }

    @Override
    float[][] compute(Case c, Backend backend, Reduction reduction, float[] x, float[] t, float[] gradOutput) {
        try (SigmoidFocal loss = SigmoidFocal.builder().backend(backend).reduction(reduction)
                .alpha(option(c, "alpha", 0.25)).gamma(option(c, "gamma", 2)).build()) {
            SigmoidFocal.Result r = loss.forwardBackward(x, t, gradOutput);
            return new float[][] {r.loss(), r.gradLogits()};
        }
    }
}
