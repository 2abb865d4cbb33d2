package org.culoss.tools;

import java.util.Locale;
import java.util.Set;
import org.culoss.Backend;
import org.culoss.Reduction;
import org.culoss.SoftmaxFocal;

/**
 * {@code softmax_focal}: params {@code gamma} (default 2), {@code reduction} (default mean),
 * {@code alpha} (a number, default 1; null: per class, from {@code class_alpha}), and the optional
 * extra {@code ignore_index} (int, or null / absent: no class is ignored); inputs {@code logits}
 * [N,C], {@code targets} [N], {@code class_alpha} [C] (exactly when alpha is null),
 * {@code grad_output} [N]? (reduction none only); expected {@code loss} and {@code grad_logits}.
 */
final class SoftmaxFocalCase implements LossCase {
    @Override
    public String loss() {
        return "softmax_focal";
    }

    @Override
    public Set<String> params() {
        return Set.of("gamma", "reduction", "alpha", "ignore_index");
    }

    @Override
    public Set<String> inputs() {
        return Set.of("logits", "targets", "class_alpha", "grad_output");
    }

    @Override
    public Set<String> requiredExpected() {
        return Set.of("loss", "grad_logits");
    }

    @Override
    public Outputs run(Case c, Backend backend) {
        Reduction reduction = reduction(c.params().string("reduction", "mean"));
        double gamma = c.params().number("gamma", SoftmaxFocal.DEFAULT_GAMMA);
        if (!(gamma >= 0) || Double.isInfinite(gamma)) {
            throw new CaseException("params.gamma (" + gamma + ") is negative or not finite");
        }
        Tensor logits = c.input("logits");
        if (logits.rank() != 2) {
            throw new CaseException("inputs.logits has shape " + Tensor.shapeString(logits.shape()) + ", not [N, C]");
        }
        int n = logits.dim(0);
        int cls = logits.dim(1);
        Tensor targets = c.input("targets");
        if (!targets.hasShape(n)) {
            throw new CaseException("inputs.targets has shape " + Tensor.shapeString(targets.shape())
                    + ", not [" + n + "]");
        }
        Tensor classAlpha = c.optionalInput("class_alpha");
        boolean alphaNull = c.params().isNull("alpha");
        if (alphaNull && classAlpha == null) {
            throw new CaseException("params.alpha is null but inputs.class_alpha is missing");
        }
        if (!alphaNull && classAlpha != null) {
            throw new CaseException("inputs.class_alpha is given but params.alpha is not null");
        }
        if (classAlpha != null && !classAlpha.hasShape(cls)) {
            throw new CaseException("inputs.class_alpha has shape " + Tensor.shapeString(classAlpha.shape())
                    + ", not [" + cls + "]");
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

        SoftmaxFocal.Builder b = SoftmaxFocal.builder()
                .backend(backend)
                .reduction(reduction)
                .gamma((float) gamma);
        if (alphaNull) {
            b.classAlpha(classAlpha.toFloats());
        } else {
            b.alpha((float) c.params().number("alpha", 1));
        }
        if (c.params().has("ignore_index") && !c.params().isNull("ignore_index")) {
            b.ignoreIndex(c.params().integer("ignore_index", SoftmaxFocal.DEFAULT_IGNORE_INDEX));
        } else {
            b.noIgnoreIndex();
        }
        try (SoftmaxFocal focal = b.build()) {
            SoftmaxFocal.Result r = focal.forwardBackward(logits.toFloats(), targets.toInts("inputs.targets"),
                    n, cls, gradOutput == null ? null : gradOutput.toFloats());
            int[] lossShape = reduction == Reduction.NONE ? new int[] {n} : new int[0];
            return new Outputs((long) n * cls)
                    .put("loss", lossShape, r.loss())
                    .put("grad_logits", new int[] {n, cls}, r.gradLogits());
        }
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
