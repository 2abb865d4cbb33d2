package org.culoss.testing;

import org.culoss.Huber;
import org.culoss.SigmoidFocal;
import org.culoss.SmoothL1;
import org.culoss.SoftmaxCrossEntropy;
import org.culoss.SoftmaxFocal;

/**
 * The result of a fused arrays call of a loss with one input and one gradient (the row-softmax and
 * elementwise losses) as {loss, gradient}: each loss has its own result record, and the tests that
 * run several losses through one scaffold read them all the same way.
 */
public final class FusedResults {
    private FusedResults() {}

    /** {loss, gradient} of a {@code forwardBackward(float[] ...)} result. */
    public static float[][] lossAndGrad(Object result) {
        if (result instanceof SoftmaxCrossEntropy.Result r) return new float[][] {r.loss(), r.gradLogits()};
        if (result instanceof SoftmaxFocal.Result r) return new float[][] {r.loss(), r.gradLogits()};
        if (result instanceof SigmoidFocal.Result r) return new float[][] {r.loss(), r.gradLogits()};
        if (result instanceof SmoothL1.Result r) return new float[][] {r.loss(), r.gradInput()};
        if (result instanceof Huber.Result r) return new float[][] {r.loss(), r.gradInput()};
        throw new IllegalArgumentException("not a one-gradient result: " + result);
    }
}
