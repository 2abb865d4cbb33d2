package org.culoss.tools;

import java.util.Locale;
import java.util.Set;
import org.culoss.Backend;
import org.culoss.CenterLoss;
import org.culoss.Reduction;

/**
 * {@code center}: params {@code lambda} (default 1), {@code alpha} (default 0.5), {@code reduction}
 * (default mean); inputs {@code features} [N,D], {@code labels} [N], {@code centers} [C,D],
 * {@code grad_output} [N]? (reduction none only); expected {@code loss}, {@code grad_features},
 * {@code centers_after_update}, and optionally {@code grad_centers}. Runs forward+backward with
 * the center gradient, then the update on a copy of the centers.
 */
final class CenterLossCase implements LossCase {
    @Override
    public String loss() {
        return "center";
    }

    @Override
    public Set<String> params() {
        return Set.of("lambda", "alpha", "reduction");
    }

    @Override
    public Set<String> inputs() {
        return Set.of("features", "labels", "centers", "grad_output");
    }

    @Override
    public Set<String> requiredExpected() {
        return Set.of("loss", "grad_features", "centers_after_update");
    }

    @Override
    public Outputs run(Case c, Backend backend) {
        Reduction reduction = reduction(c.params().string("reduction", "mean"));
        double lambda = c.params().number("lambda", 1);
        double alpha = c.params().number("alpha", 0.5);
        Tensor features = c.input("features");
        if (features.rank() != 2) {
            throw new CaseException("inputs.features has shape " + Tensor.shapeString(features.shape())
                    + ", not [N, D]");
        }
        int n = features.dim(0);
        int d = features.dim(1);
        Tensor labels = c.input("labels");
        if (!labels.hasShape(n)) {
            throw new CaseException("inputs.labels has shape " + Tensor.shapeString(labels.shape()) + ", not [" + n + "]");
        }
        Tensor centers = c.input("centers");
        if (centers.rank() != 2 || centers.dim(1) != d) {
            throw new CaseException("inputs.centers has shape " + Tensor.shapeString(centers.shape())
                    + ", not [C, " + d + "]");
        }
        int classes = centers.dim(0);
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

        CenterLoss loss = CenterLoss.builder()
                .backend(backend)
                .reduction(reduction)
                .lambda((float) lambda)
                .alpha((float) alpha)
                .build();
        float[] x = features.toFloats();
        int[] y = labels.toInts("inputs.labels");
        float[] cs = centers.toFloats();
        CenterLoss.Result r = loss.forwardBackward(x, y, cs, n, d, classes,
                gradOutput == null ? null : gradOutput.toFloats(), true);
        float[] updated = cs.clone();
        loss.updateCenters(x, y, updated, n, d, classes);
        int[] lossShape = reduction == Reduction.NONE ? new int[] {n} : new int[0];
        return new Outputs((long) n * d)
                .put("loss", lossShape, r.loss())
                .put("grad_features", new int[] {n, d}, r.gradFeatures())
                .put("grad_centers", new int[] {classes, d}, r.gradCenters())
                .put("centers_after_update", new int[] {classes, d}, updated);
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
