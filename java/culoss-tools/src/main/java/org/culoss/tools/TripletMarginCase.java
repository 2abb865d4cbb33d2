package org.culoss.tools;

import java.util.Locale;
import java.util.Set;
import org.culoss.Backend;
import org.culoss.Reduction;
import org.culoss.TripletMargin;

/**
 * {@code triplet_margin}: params {@code margin} (default 1), {@code p} (default 2; "inf" for the
 * max norm), {@code eps} (default 1e-6), {@code swap} (default false), {@code reduction} (default
 * mean); inputs {@code anchor}, {@code positive}, {@code negative} [N,D], {@code grad_output} [N]?
 * (reduction none only); expected {@code loss}, {@code grad_anchor}, {@code grad_positive},
 * {@code grad_negative}.
 */
final class TripletMarginCase implements LossCase {
    @Override
    public String loss() {
        return "triplet_margin";
    }

    @Override
    public Set<String> params() {
        return Set.of("margin", "p", "eps", "swap", "reduction");
    }

    @Override
    public Set<String> inputs() {
        return Set.of("anchor", "positive", "negative", "grad_output");
    }

    @Override
    public Set<String> requiredExpected() {
        return Set.of("loss", "grad_anchor", "grad_positive", "grad_negative");
    }

    @Override
    public Outputs run(Case c, Backend backend) {
        Reduction reduction = reduction(c.params().string("reduction", "mean"));
        Tensor anchor = c.input("anchor");
        if (anchor.rank() != 2) {
            throw new CaseException("inputs.anchor has shape " + Tensor.shapeString(anchor.shape()) + ", not [N, D]");
        }
        int n = anchor.dim(0);
        int d = anchor.dim(1);
        Tensor positive = c.input("positive");
        Tensor negative = c.input("negative");
        for (String name : new String[] {"positive", "negative"}) {
            Tensor t = name.equals("positive") ? positive : negative;
            if (!t.hasShape(n, d)) {
                throw new CaseException("inputs." + name + " has shape " + Tensor.shapeString(t.shape()) + ", not ["
                        + n + ", " + d + "]");
            }
        }
        Tensor gradOutput = c.optionalInput("grad_output");
        if (gradOutput != null) {
            if (reduction != Reduction.NONE) {
                throw new CaseException("inputs.grad_output is only for reduction none (sum and mean use 1)");
            }
            if (!gradOutput.hasShape(n)) {
                throw new CaseException("inputs.grad_output has shape " + Tensor.shapeString(gradOutput.shape())
                        + ", not [" + n + "]");
            }
        }
        TripletMargin tm = TripletMargin.builder()
                .backend(backend)
                .reduction(reduction)
                .margin((float) c.params().number("margin", 1))
                .p((float) c.params().number("p", 2))
                .eps((float) c.params().number("eps", 1e-6))
                .swap(c.params().bool("swap", false))
                .build();
        TripletMargin.Result r = tm.forwardBackward(anchor.toFloats(), positive.toFloats(), negative.toFloats(), n, d,
                gradOutput == null ? null : gradOutput.toFloats());
        int[] lossShape = reduction == Reduction.NONE ? new int[] {n} : new int[0];
        int[] shape = {n, d};
        return new Outputs((long) n * d)
                .put("loss", lossShape, r.loss())
                .put("grad_anchor", shape, r.gradAnchor())
                .put("grad_positive", shape, r.gradPositive())
                .put("grad_negative", shape, r.gradNegative());
    }

    private static Reduction reduction(String name) {
        switch (name) {
            case "none": case "sum": case "mean":
                return Reduction.valueOf(name.toUpperCase(Locale.ROOT));
            default:
                throw new CaseException("params.reduction \"" + name + "\" is not none, sum or mean");
        }
    }
}
