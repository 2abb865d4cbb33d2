package org.culoss;

import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Softmax cross-entropy: the native backend of this JVM against the java backend (itself checked
 * against a float64 reference and finite differences), on random and awkward shapes, through
 * every way of calling: arrays, heap and direct buffers with row strides and unaligned rows, and
 * backend memory ({@link RowSoftmaxParity}, the checks both row-softmax losses share).
 */
class SoftmaxCrossEntropyParityTest {

    static Stream<Arguments> shapes() {
        // the label smoothing of each shape
        return RowSoftmaxParity.shapes(0f, 0f, 0.1f, 0.2f, 0f, 0.3f, 0f, 0.1f, 0.05f, 0.1f);
    }

    @ParameterizedTest(name = "n={0} c={1} pad={2} {3} weights={4} e={5} ignore={6}")
    @MethodSource("shapes")
    void nativeMatchesJavaOnEveryApi(int n, int c, int pad, Reduction r, boolean useWeights, float e, boolean ignore) {
        RowSoftmaxParity.nativeMatchesJavaOnEveryApi((b, weights) -> RowSoftmaxParity.ignoring(
                SoftmaxCrossEntropy.builder().backend(b).reduction(r).labelSmoothing(e).classWeights(weights), ignore)
                .build(), n, c, pad, r, useWeights, ignore);
    }

    @Test
    void arraysApiMatchesOnEveryBackend() {
        // PyTorch 1.13, float64: F.cross_entropy(x, y) and its gradient
        RowSoftmaxParity.arraysApiMatchesOnEveryBackend(b -> SoftmaxCrossEntropy.builder().backend(b).build(),
                0.5736225506542011,
                new float[] {0.030010191f, 0.081576157f, -0.111586348f, -0.243686193f, 0.243686193f, 0f, 0f, 0f, 0f});
    }

    @Test
    void theReducedLossIsTheSameBitsEveryRun() {
        RowSoftmaxParity.theReducedLossIsTheSameBitsEveryRun(
                b -> SoftmaxCrossEntropy.builder().backend(b).labelSmoothing(0.1f).build());
    }
}
