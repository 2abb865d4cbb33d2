package org.culoss.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.FloatBuffer;
import java.util.Map;
import org.culoss.Reduction;
import org.junit.jupiter.api.Test;

/**
 * What the elementwise driver does the same for every kernel: no elements reduce to 0 (PyTorch's
 * mean gives NaN there) and write no gradient, whatever the kernel and the upstream gradient. The
 * per-loss arithmetic is tested in each kernel's own test against float64 references.
 */
class ElementwiseChunksTest {
    private static final Map<String, ElementwiseChunks.Kernel> KERNELS = Map.of(
            "sigmoid focal", JavaSigmoidFocal.kernel(0.25f, 2f),
            "smooth L1", JavaSmoothL1.kernel(false, 1f),
            "Huber", JavaSmoothL1.kernel(true, 1f),
            "MSE", JavaMse.KERNEL,
            "L1", JavaL1.KERNEL,
            "exponential", JavaExponential.KERNEL,
            "hinge", JavaHinge.kernel(1f),
            "logistic", JavaLogistic.kernel(2f));

    @Test
    void noElementsReduceToZero() {
        KERNELS.forEach((name, kernel) -> {
            for (Reduction reduction : new Reduction[] {Reduction.SUM, Reduction.MEAN}) {
                float[] loss = {Float.NaN};
                float[] grad = {Float.NaN};
                ElementwiseChunks.run(kernel, FloatBuffer.allocate(0), FloatBuffer.allocate(0), 0, reduction,
                        FloatBuffer.wrap(new float[] {2f}), FloatBuffer.wrap(loss), FloatBuffer.wrap(grad), 2);
                assertArrayEquals(new float[] {0f}, loss, name + " " + reduction);
                assertEquals(Float.NaN, grad[0], name + " " + reduction + ": no gradient element is written");
            }
        });
    }
}
