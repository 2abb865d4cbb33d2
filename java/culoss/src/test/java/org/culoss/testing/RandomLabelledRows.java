package org.culoss.testing;

import java.util.Random;
import org.culoss.Reduction;

/**
 * The random inputs of a labelled-rows case (softmax cross-entropy, softmax focal), drawn the same
 * way for both kernels and in one order (logits, targets, per-class values, upstream gradient), so
 * a seed names the same case. Only the per-class values' meaning (weight, alpha) and range differ.
 *
 * @param logits n rows of c, N(0, 4)
 * @param labels targets and ignore_index, by {@link ClassLabels#random}
 * @param perClass c values uniform in the asked range, or null
 * @param gradOut the upstream gradient, or null
 */
public record RandomLabelledRows(float[] logits, ClassLabels labels, float[] perClass, float[] gradOut) {
    /** {@code perClassLow} and {@code perClassSpan} bound the per-class values, drawn only if {@code perClass}. */
    public static RandomLabelledRows draw(Random rnd, int n, int c, Reduction reduction, int ignoreMode,
                                          long noIgnore, boolean perClass, float perClassLow, float perClassSpan,
                                          boolean gradOut) {
        float[] logits = RandomInputs.gaussian(rnd, n * c, 2);
        ClassLabels labels = ClassLabels.random(rnd, n, c, ignoreMode, noIgnore);
        float[] values = perClass ? RandomInputs.uniform(rnd, c, perClassLow, perClassSpan) : null;
        float[] upstream = gradOut ? RandomInputs.upstreamGradient(rnd, reduction, n) : null;
        return new RandomLabelledRows(logits, labels, values, upstream);
    }
}
