package org.culoss.tools;

import java.util.Locale;
import java.util.Set;
import org.culoss.Backend;
import org.culoss.Reduction;

/**
 * What the runners of the elementwise losses share ({@code sigmoid_focal}, {@code smooth_l1},
 * {@code huber}): two inputs of one shape (any rank; FORMAT.md writes [N, C] and [N]), an optional
 * {@code grad_output} of that shape for reduction none, a loss of that shape (none) or a scalar,
 * and the gradient of the first input.
 */
abstract class ElementwiseCase implements LossCase {
    private final String x;
    private final String t;
    private final String grad;
    private final Set<String> params;

    ElementwiseCase(String x, String t, String grad, Set<String> params) {
        this.x = x;
        this.t = t;
        this.grad = grad;
        this.params = params;
    }

    @Override
    public Set<String> params() {
        return params;
    }

    @Override
    public Set<String> inputs() {
        return Set.of(x, t, "grad_output");
    }

    @Override
    public Set<String> requiredExpected() {
        return Set.of("loss", grad);
    }

    /** {loss, gradient} of the flat inputs on {@code backend}. */
    abstract float[][] compute(Case c, Backend backend, Reduction reduction, float[] x, float[] t, float[] gradOutput);

    /** PyTorch's default reduction of this loss. */
    abstract String defaultReduction();

    @Override
    public Outputs run(Case c, Backend backend) {
        Reduction reduction = reduction(c.params().string("reduction", defaultReduction()));
        Tensor input = c.input(x);
        Tensor target = c.input(t);
        if (!target.hasShape(input.shape())) {
            throw new CaseException("inputs." + t + " has shape " + Tensor.shapeString(target.shape()) + ", not "
                    + Tensor.shapeString(input.shape()) + " as inputs." + x);
        }
        Tensor gradOutput = c.optionalInput("grad_output");
        if (gradOutput != null) {
            if (reduction != Reduction.NONE) {
                throw new CaseException("inputs.grad_output is only for reduction none (sum and mean use 1)");
            }
            if (!gradOutput.hasShape(input.shape())) {
                throw new CaseException("inputs.grad_output has shape " + Tensor.shapeString(gradOutput.shape())
                        + ", not " + Tensor.shapeString(input.shape()));
            }
        }
        float[][] r = compute(c, backend, reduction, input.toFloats(), target.toFloats(),
                gradOutput == null ? null : gradOutput.toFloats());
        int[] lossShape = reduction == Reduction.NONE ? input.shape() : new int[0];
        return new Outputs(input.size()).put("loss", lossShape, r[0]).put(grad, input.shape(), r[1]);
    }

    /** A float parameter with PyTorch's default, refused by the loss's builder when out of range. */
    static float option(Case c, String name, double fallback) {
        return (float) c.params().number(name, fallback);
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
