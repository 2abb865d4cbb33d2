package org.culoss.tools;

import java.util.Locale;
import java.util.Set;
import org.culoss.Backend;
import org.culoss.Reduction;
import org.culoss.SoftmaxCrossEntropy;

/**
 * {@code softmax_cross_entropy}: params {@code reduction} (default mean), {@code label_smoothing}
 * (default 0), {@code ignore_index} (default -100; null: none); inputs {@code logits} [N,C],
 * {@code targets} [N], {@code class_weights} [C]?, {@code grad_output} [N]? (reduction none only);
 * expected {@code loss} and {@code grad_logits}.
 */
final class SoftmaxCrossEntropyCase implements LossCase {
    @Override
    public String loss() {
        return "softmax_cross_entropy";
    }

    @Override
    public Set<String> params() {
        return Set.of("reduction", "label_smoothing", "ignore_index");
    }

    @Override
    public Set<String> inputs() {
        return Set.of("logits", "targets", "class_weights", "grad_output");
    }

    @Override
    public Set<String> requiredExpected() {
        return Set.of("loss", "grad_logits");
    }

    @Override
    public Outputs run(Case c, Backend backend) {
        Reduction reduction = reduction(c.params().string("reduction", "mean"));
        double smoothing = c.params().number("label_smoothing", 0);
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
        Tensor weights = c.optionalInput("class_weights");
        if (weights != null && !weights.hasShape(cls)) {
            throw new CaseException("inputs.class_weights has shape " + Tensor.shapeString(weights.shape())
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

        SoftmaxCrossEntropy.Builder b = SoftmaxCrossEntropy.builder()
                .backend(backend)
                .reduction(reduction)
                .labelSmoothing((float) smoothing);
        if (c.params().isNull("ignore_index")) {
            b.noIgnoreIndex();
        } else {
            b.ignoreIndex(c.params().integer("ignore_index", SoftmaxCrossEntropy.DEFAULT_IGNORE_INDEX));
        }
        if (weights != null) b.classWeights(weights.toFloats());
        try (SoftmaxCrossEntropy ce = b.build()) {
            SoftmaxCrossEntropy.Result r = ce.forwardBackward(logits.toFloats(), targets.toInts("inputs.targets"),
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
