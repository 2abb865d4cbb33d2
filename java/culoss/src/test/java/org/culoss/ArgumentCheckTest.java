package org.culoss;

import static org.culoss.testing.ArgumentAsserts.assertNames;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.util.function.BiFunction;
import java.util.stream.Stream;
import org.culoss.testing.BackendMemory;
import org.culoss.testing.BackendsUnderTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The row-softmax losses (softmax cross-entropy, softmax focal), held to one list of checks: every
 * bad argument is refused in Java, before any native call, with an exception that names it; an
 * invalid target is a {@link CulossException} naming the row; use after close throws. Run on every
 * backend of this JVM. Each loss's own options are checked by its own rows.
 */
class ArgumentCheckTest {
    private static final float[] X = new float[12];
    private static final int[] Y = {0, 1, 2};

    /** A row-softmax loss with its defaults; the expected mean over two valid rows of zero logits (c = 4). */
    enum RowLoss {
        SOFTMAX_CROSS_ENTROPY(Math.log(4)) {
            @Override
            RowSoftmaxLoss<?> build(Backend b, Reduction r, float[] perClass) {
                return SoftmaxCrossEntropy.builder().backend(b).reduction(r).classWeights(perClass).build();
            }
        },
        // Both valid rows have p_y = 1/4: (3/4)^2 * log 4 with the default gamma 2.
        SOFTMAX_FOCAL(0.5625 * Math.log(4)) {
            @Override
            RowSoftmaxLoss<?> build(Backend b, Reduction r, float[] perClass) {
                return SoftmaxFocal.builder().backend(b).reduction(r).classAlpha(perClass).build();
            }
        };

        final double zeroLogitsMean;

        RowLoss(double zeroLogitsMean) {
            this.zeroLogitsMean = zeroLogitsMean;
        }

        /** The loss with its defaults but {@code r} and the per-class table (weights, alpha; null for none). */
        abstract RowSoftmaxLoss<?> build(Backend b, Reduction r, float[] perClass);

        RowSoftmaxLoss<?> build(Backend b) {
            return build(b, Reduction.MEAN, null);
        }
    }

    @ParameterizedTest
    @EnumSource(RowLoss.class)
    void badArgumentsNameThemselves(RowLoss kind) {
        for (Backend b : BackendsUnderTest.all()) {
            try (RowSoftmaxLoss<?> loss = kind.build(b);
                    RowSoftmaxLoss<?> none = kind.build(b, Reduction.NONE, null);
                    RowSoftmaxLoss<?> perClass = kind.build(b, Reduction.MEAN, new float[] {1f, 2f, 3f})) {
                assertNames("logits", () -> loss.forwardBackward(null, Y, 3, 4));
                assertNames("targets", () -> loss.forwardBackward(X, null, 3, 4));
                assertNames("n", () -> loss.forwardBackward(X, Y, -1, 4));
                assertNames("c", () -> loss.forwardBackward(X, Y, 3, 0));
                assertNames("logits", () -> loss.forwardBackward(X, Y, 3, 5));
                assertNames("targets", () -> loss.forwardBackward(new float[16], Y, 4, 4));
                assertNames("c", () -> perClass.forwardBackward(X, Y, 3, 4));
                assertNames("gradOutput", () -> none.backward(X, Y, 3, 4, new float[2]));
                FloatBuffer x = FloatBuffer.wrap(X);
                IntBuffer y = IntBuffer.wrap(Y);
                assertNames("logitsStride", () -> loss.forward(x, 3, y, 3, 4, FloatBuffer.allocate(1)));
                assertNames("gradStride", () -> loss.backward(x, 4, y, 3, 4, null, FloatBuffer.allocate(12), 2));
                assertNames("loss", () -> none.forward(x, 4, y, 3, 4, FloatBuffer.allocate(2)));
                assertNames("loss", () -> loss.forward(x, 4, y, 3, 4, FloatBuffer.allocate(1).asReadOnlyBuffer()));
                assertNames("loss", () -> loss.forward(x, 4, y, 3, 4, null));
                assertNames("gradLogits", () -> loss.backward(x, 4, y, 3, 4, null, FloatBuffer.allocate(11), 4));
                assertNames("gradLogits", () -> loss.backward(x, 4, y, 3, 4, null, null, 4));
                assertNames("gradLogits", () -> loss.forwardBackward(x, 4, y, 3, 4, null, FloatBuffer.allocate(1), null,
                        4));
                assertNames("n", () -> loss.workspaceBytes(-1, 4));
            }
        }
    }

    /** Each loss's own options, and the choice of backend: (argument named, call). */
    static Stream<Arguments> badOptions() {
        return Stream.of(
                row("labelSmoothing", () -> SoftmaxCrossEntropy.builder().labelSmoothing(1.5f)),
                row("labelSmoothing", () -> SoftmaxCrossEntropy.builder().labelSmoothing(Float.NaN)),
                row("classWeights[1]", () -> SoftmaxCrossEntropy.builder().classWeights(new float[] {1f, Float.NaN})),
                row("reduction", () -> SoftmaxCrossEntropy.builder().reduction(null)),
                row("gamma", () -> SoftmaxFocal.builder().gamma(-0.5f)),
                row("gamma", () -> SoftmaxFocal.builder().gamma(Float.NaN)),
                row("gamma", () -> SoftmaxFocal.builder().gamma(Float.POSITIVE_INFINITY)),
                row("alpha", () -> SoftmaxFocal.builder().alpha(Float.NaN)),
                row("classAlpha", () -> SoftmaxFocal.builder().classAlpha(new float[0])),
                row("classAlpha[1]", () -> SoftmaxFocal.builder().classAlpha(new float[] {1f, Float.POSITIVE_INFINITY})),
                row("reduction", () -> SoftmaxFocal.builder().reduction(null)),
                row("backend", () -> SoftmaxFocal.builder().backend(null)),
                row("threads", () -> Culoss.java(0)),
                row("backend", () -> Culoss.backend("tpu")));
    }

    private static Arguments row(String argument, Executable call) {
        return Arguments.of(argument, call);
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @MethodSource("badOptions")
    void badOptionsNameThemselves(String argument, Executable call) {
        assertNames(argument, call);
    }

    @Test
    void softmaxFocalDefaultsAndAlphaChoice() {
        SoftmaxFocal.Builder builder = SoftmaxFocal.builder().backend(Culoss.java());
        try (SoftmaxFocal f = builder.build()) {
            assertEquals(Reduction.MEAN, f.reduction());
            assertEquals(2f, f.gamma());
            assertEquals(1f, f.alpha());
            assertEquals(null, f.classAlpha());
            assertEquals(-100, f.ignoreIndexValue());
        }
        try (SoftmaxFocal f = builder.classAlpha(new float[] {0.5f, 2f}).build()) {
            assertEquals(2, f.classAlpha().length);
        }
        try (SoftmaxFocal f = builder.alpha(0.25f).build()) {  // the scalar replaces the per-class alpha
            assertEquals(null, f.classAlpha());
            assertEquals(0.25f, f.alpha());
        }
        try (SoftmaxFocal f = builder.noIgnoreIndex().build()) {
            assertEquals(Long.MIN_VALUE, f.ignoreIndexValue());
        }
    }

    /** Reduction none, and each loss's loss of a row of zero logits log 4 (focal with gamma 0). */
    static Stream<Arguments> logFourPerRow() {
        return Stream.of(
                Arguments.of("softmax_cross_entropy", (BiFunction<Backend, Reduction, RowSoftmaxLoss<?>>)
                        (b, r) -> SoftmaxCrossEntropy.builder().backend(b).reduction(r).build()),
                Arguments.of("softmax_focal gamma=0", (BiFunction<Backend, Reduction, RowSoftmaxLoss<?>>)
                        (b, r) -> SoftmaxFocal.builder().backend(b).gamma(0f).reduction(r).build()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("logFourPerRow")
    void invalidTargetIsReportedWithItsRowAndSkipped(String name, BiFunction<Backend, Reduction, RowSoftmaxLoss<?>> make) {
        for (Backend b : BackendsUnderTest.all()) {
            for (int bad : new int[] {4, -1, Integer.MIN_VALUE}) {
                try (RowSoftmaxLoss<?> loss = make.apply(b, Reduction.NONE)) {
                    float[] out = new float[3];
                    CulossException e = assertThrows(CulossException.class, () -> loss.forward(FloatBuffer.wrap(X), 4,
                            IntBuffer.wrap(new int[] {0, bad, 1}), 3, 4, FloatBuffer.wrap(out)));
                    assertEquals(Status.INVALID_TARGET, e.status(), b.name());
                    assertTrue(e.getMessage().contains("targets[1] = " + bad), e.getMessage());
                    assertEquals(0f, out[1], "the bad row counts for nothing on " + b);
                    assertEquals((float) Math.log(4), out[0], 1e-6, "the good rows are computed on " + b);
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(RowLoss.class)
    void deviceCallsCheckBuffersAndReportBadTargetsThroughTheWorkspace(RowLoss kind) {
        for (Backend b : BackendsUnderTest.all()) {
            try (RowSoftmaxLoss<?> f = kind.build(b); BackendMemory mem = new BackendMemory(b)) {
                DeviceBuffer x = mem.floats(X);
                DeviceBuffer y = mem.ints(new int[] {0, 9, 1});
                DeviceBuffer loss = mem.floats(1);
                DeviceBuffer grad = mem.floats(12);
                DeviceBuffer small = mem.floats(11);
                DeviceBuffer ws = mem.add(f.allocateWorkspace(3, 4));
                assertNames("gradLogits", () -> f.forwardBackward(x, 4, y, 3, 4, null, loss, small, 4, ws));
                assertNames("workspace", () -> f.forwardBackward(x, 4, y, 3, 4, null, loss, grad, 4, loss));
                assertNames("logitsStride", () -> f.forward(x, 3, y, 3, 4, loss, ws));
                assertNames("targets", () -> f.backward(x, 4, null, 3, 4, null, grad, 4, ws));
                f.forwardBackward(x, 4, y, 3, 4, null, loss, grad, 4, ws);
                CulossException e = assertThrows(CulossException.class, () -> f.checkErrors(ws, 0));
                assertEquals(Status.INVALID_TARGET, e.status());
                f.checkErrors(ws, 0);  // the word was cleared
                float[] l = new float[1];
                loss.copyTo(l);
                assertEquals((float) kind.zeroLogitsMean, l[0], 1e-6, "the mean over the two valid rows on " + b);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(RowLoss.class)
    void useAfterCloseThrows(RowLoss kind) {
        for (Backend b : BackendsUnderTest.all()) {
            DeviceBuffer buffer = b.allocateFloats(4);
            buffer.close();
            buffer.close();  // idempotent
            assertThrows(IllegalStateException.class, buffer::address);
            assertThrows(IllegalStateException.class, () -> buffer.copyFrom(new float[4]));
            try (RowSoftmaxLoss<?> f = kind.build(b); BackendMemory mem = new BackendMemory(b)) {
                DeviceBuffer y = mem.ints(1);
                DeviceBuffer loss = mem.floats(1);
                DeviceBuffer grad = mem.floats(4);
                DeviceBuffer ws = mem.add(f.allocateWorkspace(1, 4));
                assertThrows(IllegalStateException.class,
                        () -> f.forwardBackward(buffer, 4, y, 1, 4, null, loss, grad, 4, ws));
            }
        }
    }

    @ParameterizedTest
    @EnumSource(RowLoss.class)
    void buffersOfAnotherBackendAreRefused(RowLoss kind) {
        Backend nat = BackendsUnderTest.nativeOrNull();
        assumeTrue(nat != null, BackendsUnderTest::whyNoNative);
        try (RowSoftmaxLoss<?> f = kind.build(nat); BackendMemory mem = new BackendMemory(nat);
                DeviceBuffer x = Culoss.java().allocateFloats(4)) {
            DeviceBuffer y = mem.ints(1);
            DeviceBuffer loss = mem.floats(1);
            DeviceBuffer grad = mem.floats(4);
            DeviceBuffer ws = mem.add(f.allocateWorkspace(1, 4));
            assertNames("logits", () -> f.forwardBackward(x, 4, y, 1, 4, null, loss, grad, 4, ws));
        }
    }
}
