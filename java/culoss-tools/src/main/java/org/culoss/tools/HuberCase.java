package org.culoss.tools;

import java.util.Set;
import org.culoss.Backend;
import org.culoss.Huber;
import org.culoss.Reduction;

/**
 * {@code huber}: params {@code delta} (default 1), {@code reduction} (default mean); inputs
 * {@code input}, {@code target} of one shape, {@code grad_output}? (reduction none only);
 * expected {@code loss} and {@code grad_input}.
 */
final class HuberCase extends ElementwiseCase {
    HuberCase() {
        super("input", "target", "grad_input", Set.of("delta", "reduction"));
    }

    @Override
    public String loss() {
        return "huber";
    }

    @Override
    String defaultReduction() {
        return "mean";
    }

    @Override
    float[][] compute(Case c, Backend backend, Reduction reduction, float[] x, float[] t, float[] gradOutput) {
        try (Huber loss = Huber.builder().backend(backend).reduction(reduction).delta(option(c, "delta", 1)).build()) {
            Huber.Result r = loss.forwardBackward(x, t, gradOutput);
            return new float[][] {r.loss(), r.gradInput()};
        }
    }
}
