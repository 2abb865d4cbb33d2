package org.culoss.testing;

import static org.culoss.testing.ElementwiseAsserts.assertEachWithin;
import static org.culoss.testing.ElementwiseAsserts.assertRowsZero;
import static org.culoss.testing.TestArrays.maxAbs;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.ArrayList;
import java.util.Random;
import java.util.stream.Stream;
import org.culoss.Reduction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * What every Java kernel over rows of logits with one class target a row (softmax cross-entropy,
 * softmax focal) must do, whatever its loss: gradients that match finite differences, bad targets
 * reported and skipped, ignored rows and empty batches giving 0 rather than NaN, the same bits for
 * any thread count, and strided slices read and written in place. Each kernel's test class
 * implements this with its own cases, kernel call and float64 reference; JUnit runs these default
 * test methods once in each of them, so the two kernels are held to one list of checks.
 *
 * @param <K> the test class's case: one call's inputs
 */
public interface LabelledRowsKernelContract<K extends LabelledRowsKernelContract.Rows> {
    /**
     * What the checks read of a case; a case record with these components implements it as it
     * stands. logits: n rows of c, packed; targets: one a row.
     */
    interface Rows {
        int n();

        int c();

        float[] logits();

        int[] targets();

        /** The ignore_index, or the kernel's value for none. */
        long ignore();

        Reduction reduction();

        /** The upstream gradient, or null for ones. */
        float[] gradOut();
    }

    /** What one call wrote: the first row with a bad target (-1 for none); loss or grad null where not asked. */
    record Outputs(long firstBad, float[] loss, float[] grad) {
        /** Everything written, for comparing calls bit for bit. */
        public float[][] all() {
            return new float[][] {loss, grad};
        }
    }

    // ---- what each kernel's test supplies ----

    /**
     * A random case of n rows and c classes: logits N(0, 4), targets by {@link ClassLabels#random} with
     * {@code ignoreMode}, per-class weights if {@code perClass}, and the loss's own options set to
     * non-trivial values (smoothing, gamma), an upstream gradient if {@code gradOut}.
     */
    K randomCase(Random rnd, int n, int c, Reduction reduction, boolean perClass, int ignoreMode, boolean gradOut);

    /** Every reduction and option combination on one shape. */
    List<K> allOptions(Random rnd, int n, int c);

    /**
     * The kernel on {@code k} with the given buffers: logits as given (possibly a strided slice),
     * loss and grad null where not asked. Returns what the kernel returns, its first bad row or -1.
     */
    long call(K k, FloatBuffer logits, int logitsStride, FloatBuffer loss, FloatBuffer grad, int gradStride,
              int threads);

    /** The float64 reference loss of row {@code i} at logits {@code x}; 0 where the row does not {@link #counts}. */
    double rowLoss(K k, double[] x, int i);

    /** The mean's divisor: what the rows that count add up to (their number, or their weights). */
    double divisor(K k);

    /** The analytic gradient of {@link #objective} at logits {@code x}. */
    double[] refGrad(K k, double[] x);

    /** The loss and gradient in {@code r} (where written) match the float64 reference. */
    void assertMatchesReference(K k, Outputs r);

    // ---- the float64 reference, from the row loss ----

    /** Whether row i takes part: its target is in [0, c) and not the ignore_index. */
    default boolean counts(K k, int i) {
        int y = k.targets()[i];
        return y != k.ignore() && y >= 0 && y < k.c();
    }

    /** The loss output: n values for NONE, else one. */
    default double[] refLoss(K k, double[] x) {
        double[] rows = new double[k.n()];
        for (int i = 0; i < k.n(); i++) {
            rows[i] = rowLoss(k, x, i);
        }
        return ReductionReference.reduce(rows, k.reduction(), divisor(k));
    }

    /** The scalar whose gradient the backward computes: sum_i gradOut_i loss_i, or gradOut * loss. */
    default double objective(K k, double[] x) {
        return ReductionReference.objective(refLoss(k, x), k.gradOut());
    }

    // ---- running the kernel ----

    /** The kernel on packed, NaN-filled outputs, asking for the loss, the gradient or both. */
    default Outputs run(K k, boolean forward, boolean backward, int threads) {
        FloatBuffer loss = KernelBuffers.lossOrNull(forward, k.reduction(), k.n());
        FloatBuffer grad = KernelBuffers.nanFilledOrNull(backward, k.n() * k.c());
        long bad = call(k, TestArrays.direct(k.logits()), k.c(), loss, grad, k.c(), threads);
        return new Outputs(bad, KernelBuffers.arrayOrNull(loss), KernelBuffers.arrayOrNull(grad));
    }

    /** Central differences of the reference objective over the logits, in double. */
    default double[] finiteDifferences(K k) {
        double[] x = TestArrays.toDouble(k.logits());
        return FiniteDifferences.central(x, 1e-5, () -> objective(k, x));
    }

    /** Every (n, c) of the two lists, c the outer loop: for each test class's {@code shapes()}. */
    static Stream<Arguments> shapeGrid(int[] ns, int[] cs) {
        List<Arguments> shapes = new ArrayList<>();
        for (int c : cs) {
            for (int n : ns) {
                shapes.add(Arguments.of(n, c));
            }
        }
        return shapes.stream();
    }

    // ---- the checks ----

    /**
     * Every option on each shape: the fused call matches the reference, and forward alone and
     * backward alone give the fused call's bits. The shapes come from the implementing class's
     * static {@code shapes()} (JUnit looks the factory up in the test class).
     */
    @ParameterizedTest(name = "n={0} c={1}")
    @MethodSource("shapes")
    default void matchesTheFloat64Reference(int n, int c) {
        Random rnd = new Random(31L * n + c);
        for (K k : allOptions(rnd, n, c)) {
            Outputs fused = run(k, true, true, 1);
            assertEquals(-1, fused.firstBad(), k::toString);
            assertMatchesReference(k, fused);
            assertArrayEquals(fused.loss(), run(k, true, false, 1).loss(), k::toString);
            assertArrayEquals(fused.grad(), run(k, false, true, 1).grad(), k::toString);
        }
    }

    @Test
    default void referenceGradientMatchesFiniteDifferences() {
        Random rnd = new Random(7);
        for (int c : new int[] {1, 3, 7}) {
            for (int n : new int[] {1, 4}) {
                for (K k : allOptions(rnd, n, c)) {
                    double[] analytic = refGrad(k, TestArrays.toDouble(k.logits()));
                    assertEachWithin(finiteDifferences(k), analytic, 1e-6 * maxAbs(analytic) + 1e-12, k + " element");
                }
            }
        }
    }

    @Test
    default void kernelGradientMatchesFiniteDifferences() {
        Random rnd = new Random(8);
        // 70 classes: past the 64 where the kernels switch to their vectorized exp.
        for (int c : new int[] {1, 2, 3, 7, 70}) {
            for (int n : new int[] {1, 4}) {
                for (K k : allOptions(rnd, n, c)) {
                    double[] numeric = finiteDifferences(k);
                    float[] grad = run(k, false, true, 1).grad();
                    assertEachWithin(numeric, grad, 1e-3 * maxAbs(numeric) + 1e-9, k + " element");
                }
            }
        }
    }

    @Test
    default void invalidTargetsAreReportedAndSkipped() {
        Random rnd = new Random(9);
        for (Reduction reduction : Reduction.values()) {
            for (int threads : new int[] {1, 2}) {
                K k = randomCase(rnd, 6, 5, reduction, true, ClassLabels.NO_IGNORE, true);
                ClassLabels.plantInvalid(k.targets(), k.c());
                Outputs r = run(k, true, true, threads);
                assertEquals(ClassLabels.FIRST_INVALID_ROW, r.firstBad());
                // Bad rows count like ignored rows: the reference sees them as outside [0, c) too,
                // and leaves them out of the mean's divisor.
                assertMatchesReference(k, r);
                assertRowsZero(r.grad(), k.c(), 1, 3);
            }
        }
        // Only invalid rows: the mean has nothing to divide by, and everything is 0.
        K k = randomCase(rnd, 3, 4, Reduction.MEAN, false, ClassLabels.NO_IGNORE, false);
        Arrays.fill(k.targets(), 4);
        Outputs r = run(k, true, true, 1);
        assertEquals(0, r.firstBad());
        assertEquals(0f, r.loss()[0]);
        assertArrayEquals(new float[3 * 4], r.grad());
    }

    @Test
    default void allRowsIgnoredGivesZeroNotNaN() {
        for (Reduction reduction : Reduction.values()) {
            K k = randomCase(new Random(10), 4, 3, reduction, true, ClassLabels.IGNORE_SOME_ROWS, false);
            Arrays.fill(k.targets(), -100);
            Outputs r = run(k, true, true, 1);
            assertEquals(-1, r.firstBad());
            assertArrayEquals(new float[r.loss().length], r.loss(), reduction::toString);
            assertArrayEquals(new float[4 * 3], r.grad(), reduction::toString);
        }
    }

    @Test
    default void emptyBatch() {
        for (Reduction reduction : new Reduction[] {Reduction.SUM, Reduction.MEAN}) {
            K k = randomCase(new Random(11), 0, 5, reduction, false, ClassLabels.NO_IGNORE, true);
            Outputs r = run(k, true, true, 2);
            assertEquals(-1, r.firstBad());
            assertArrayEquals(new float[] {0f}, r.loss());
        }
    }

    @Test
    default void threadCountDoesNotChangeAnyBit() {
        Random rnd = new Random(12);
        // Shapes that make several chunks of rows, so that two workers really split them.
        int[][] shapes = {{513, 1000}, {20000, 7}, {300, 3000}};
        for (int[] shape : shapes) {
            for (Reduction reduction : Reduction.values()) {
                K k = randomCase(rnd, shape[0], shape[1], reduction, true, ClassLabels.IGNORE_SOME_ROWS, true);
                ThreadCountAsserts.assertSameBitsForThreadCounts(threads -> run(k, true, true, threads).all(),
                        k.toString(), 1, 2, 3);
            }
        }
    }

    @Test
    default void stridedSlicesAreReadAndWrittenInPlace() {
        Random rnd = new Random(14);
        K k = randomCase(rnd, 5, 33, Reduction.MEAN, true, ClassLabels.IGNORE_SOME_ROWS, true);
        Outputs packed = run(k, true, true, 1);

        int n = k.n();
        int c = k.c();
        int logitsStride = c + 3;
        int gradStride = c + 5;
        int offset = 2; // the buffers are slices that start inside a larger allocation
        FloatBuffer logits = StridedRows.input(k.logits(), n, c, logitsStride, offset);
        FloatBuffer grad = StridedRows.output(n, gradStride, offset);
        FloatBuffer loss = FloatBuffer.allocate(1);
        call(k, logits, logitsStride, loss, grad, gradStride, 1);

        assertEquals(packed.loss()[0], loss.get(0));
        StridedRows.assertRowsThenPadding(packed.grad(), grad, n, c, gradStride);
        // Positions and limits are as the caller left them.
        assertEquals(0, logits.position());
        assertEquals(n * logitsStride, logits.limit());
        assertEquals(0, grad.position());
        assertEquals(0, loss.position());
    }
}
