package org.culoss.tools;

import java.util.Set;
import org.culoss.Backend;
import org.culoss.Reduction;
import org.culoss.SmoothL1;

/**
 * {@code smooth_l1}: params {@code beta} (default 1), {@code reduction} (default mean); inputs
 * {@code input}, {@code target} of one shape, {@code grad_output}? (reduction none only);
 * expected {@code loss} and {@code grad_input}.
 */
final class SmoothL1Case extends ElementwiseCase {
    SmoothL1Case() {
        super("input", "target", "grad_input", Set.of("beta", "reduction"));
    }

    @Override
    public String loss() {
        return "smooth_l1";
    }

    @Override
    String defaultReduction() {
        return "mean";
    }

    @Override
    float[][] compute(Case c, Backend backend, Reduction reduction, float[] x, float[] t, float[] gradOutput) {
        try (SmoothL1 loss = SmoothL1.builder().backend(backend).reduction(reduction).beta(option(c, "beta", 1))
                .build()) {
            SmoothL1.Result r = loss.forwardBackward(x, t, gradOutput);
            return new float[][] {r.loss(), r.gradInput()};
        }
    }
}
