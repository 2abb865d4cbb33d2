package org.culoss;

import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Softmax focal: the native backend of this JVM against the java backend (itself checked against
 * a float64 reference and finite differences), on random and awkward shapes, through every way
 * of calling: arrays, heap and direct buffers with row strides and unaligned rows, and backend
 * memory, each fused, forward-only and backward-only ({@link RowSoftmaxParity}, the checks both
 * row-softmax losses share).
 */
class SoftmaxFocalParityTest {

    static Stream<Arguments> shapes() {
        // the gamma of each shape
        return RowSoftmaxParity.shapes(2f, 2f, 0.5f, 2f, 0f, 3.5f, 1f, 0.5f, 2f, 2f);
    }

    @ParameterizedTest(name = "n={0} c={1} pad={2} {3} perClass={4} gamma={5} ignore={6}")
    @MethodSource("shapes")
    void nativeMatchesJavaOnEveryApi(int n, int c, int pad, Reduction r, boolean perClass, float gamma,
            boolean ignore) {
        RowSoftmaxParity.nativeMatchesJavaOnEveryApi((b, classAlpha) -> RowSoftmaxParity.ignoring(
                SoftmaxFocal.builder().backend(b).reduction(r).gamma(gamma).alpha(0.25f).classAlpha(classAlpha), ignore)
                .build(), n, c, pad, r, perClass, ignore);
    }

    @Test
    void arraysApiMatchesPyTorchOnEveryBackend() {
        // PyTorch 1.13, float64 autograd of -alpha[y] * (1 - p_y)^2 * log p_y, mean over 3 rows
        float[] alpha = {0.5f, 1f, 2f};
        RowSoftmaxParity.arraysApiMatchesOnEveryBackend(b -> SoftmaxFocal.builder().backend(b).classAlpha(alpha).build(),
                0.14742991654715412, new float[] {0.0176224395f, 0.04790275706f, -0.06552519656f, -0.1280391205f,
                    0.1280391205f, 0f, 0f, 0f, 0f});
    }

    @Test
    void theReducedLossIsTheSameBitsEveryRun() {
        RowSoftmaxParity.theReducedLossIsTheSameBitsEveryRun(b -> SoftmaxFocal.builder().backend(b).gamma(1.5f).build());
    }
}
