package org.culoss;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import org.culoss.testing.BackendsUnderTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * Every bad argument is refused in Java, before any native call, with an exception that names
 * it; an invalid target is a {@link CulossException} naming the row; use after close throws.
 * Run on every backend of this JVM.
 */
class ArgumentCheckTest {
    private static final float[] X = new float[12];
    private static final int[] Y = {0, 1, 2};

    private static void assertNames(String argument, Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call, argument);
        assertTrue(e.getMessage().startsWith(argument + " "), "'" + e.getMessage() + "' should name " + argument);
    }

    @Test
    void badArgumentsNameThemselves() {
        for (Backend b : BackendsUnderTest.all()) {
            try (SoftmaxCrossEntropy ce = SoftmaxCrossEntropy.builder().backend(b).build();
                    SoftmaxCrossEntropy none = SoftmaxCrossEntropy.builder().backend(b).reduction(Reduction.NONE).build();
                    SoftmaxCrossEntropy weighted = SoftmaxCrossEntropy.builder().backend(b)
                            .classWeights(new float[] {1f, 2f, 3f}).build()) {
                assertNames("logits", () -> ce.forwardBackward(null, Y, 3, 4));
                assertNames("targets", () -> ce.forwardBackward(X, null, 3, 4));
                assertNames("n", () -> ce.forwardBackward(X, Y, -1, 4));
                assertNames("c", () -> ce.forwardBackward(X, Y, 3, 0));
                assertNames("logits", () -> ce.forwardBackward(X, Y, 3, 5));
                assertNames("targets", () -> ce.forwardBackward(new float[16], Y, 4, 4));
                assertNames("c", () -> weighted.forwardBackward(X, Y, 3, 4));
                assertNames("gradOutput", () -> none.backward(X, Y, 3, 4, new float[2]));
                assertNames("logitsStride", () -> ce.forward(FloatBuffer.wrap(X), 3, IntBuffer.wrap(Y), 3, 4,
                        FloatBuffer.allocate(1)));
                assertNames("gradStride", () -> ce.backward(FloatBuffer.wrap(X), 4, IntBuffer.wrap(Y), 3, 4, null,
                        FloatBuffer.allocate(12), 2));
                assertNames("loss", () -> none.forward(FloatBuffer.wrap(X), 4, IntBuffer.wrap(Y), 3, 4,
                        FloatBuffer.allocate(2)));
                assertNames("loss", () -> ce.forward(FloatBuffer.wrap(X), 4, IntBuffer.wrap(Y), 3, 4,
                        FloatBuffer.allocate(1).asReadOnlyBuffer()));
                assertNames("gradLogits", () -> ce.backward(FloatBuffer.wrap(X), 4, IntBuffer.wrap(Y), 3, 4, null,
                        FloatBuffer.allocate(11), 4));
                assertNames("gradLogits", () -> ce.backward(FloatBuffer.wrap(X), 4, IntBuffer.wrap(Y), 3, 4, null,
                        null, 4));
            }
        }
        assertNames("labelSmoothing", () -> SoftmaxCrossEntropy.builder().labelSmoothing(1.5f));
        assertNames("labelSmoothing", () -> SoftmaxCrossEntropy.builder().labelSmoothing(Float.NaN));
        assertNames("classWeights[1]", () -> SoftmaxCrossEntropy.builder().classWeights(new float[] {1f, Float.NaN}));
        assertNames("reduction", () -> SoftmaxCrossEntropy.builder().reduction(null));
        assertNames("threads", () -> Culoss.java(0));
        assertNames("backend", () -> Culoss.backend("tpu"));
    }

    @Test
    void invalidTargetIsReportedWithItsRowAndSkipped() {
        for (Backend b : BackendsUnderTest.all()) {
            for (int bad : new int[] {4, -1, Integer.MIN_VALUE}) {
                try (SoftmaxCrossEntropy ce = SoftmaxCrossEntropy.builder().backend(b).reduction(Reduction.NONE).build()) {
                    float[] loss = new float[3];
                    CulossException e = assertThrows(CulossException.class, () -> ce.forward(FloatBuffer.wrap(X), 4,
                            IntBuffer.wrap(new int[] {0, bad, 1}), 3, 4, FloatBuffer.wrap(loss)));
                    assertEquals(Status.INVALID_TARGET, e.status(), b.name());
                    assertTrue(e.getMessage().contains("targets[1] = " + bad), e.getMessage());
                    assertEquals(0f, loss[1], "the bad row counts for nothing on " + b);
                    assertEquals((float) Math.log(4), loss[0], 1e-6, "the good rows are computed on " + b);
                }
            }
        }
    }

    @Test
    void deviceCallsCheckBuffersAndReportBadTargetsThroughTheWorkspace() {
        for (Backend b : BackendsUnderTest.all()) {
            try (SoftmaxCrossEntropy ce = SoftmaxCrossEntropy.builder().backend(b).build();
                    DeviceBuffer x = b.allocateFloats(12);
                    DeviceBuffer y = b.allocateInts(3);
                    DeviceBuffer loss = b.allocateFloats(1);
                    DeviceBuffer grad = b.allocateFloats(12);
                    DeviceBuffer small = b.allocateFloats(11);
                    DeviceBuffer ws = ce.allocateWorkspace(3, 4)) {
                x.copyFrom(X);
                y.copyFrom(new int[] {0, 9, 1});
                assertNames("gradLogits", () -> ce.forwardBackward(x, 4, y, 3, 4, null, loss, small, 4, ws));
                assertNames("workspace", () -> ce.forwardBackward(x, 4, y, 3, 4, null, loss, grad, 4, loss));
                ce.forwardBackward(x, 4, y, 3, 4, null, loss, grad, 4, ws);
                CulossException e = assertThrows(CulossException.class, () -> ce.checkErrors(ws, 0));
                assertEquals(Status.INVALID_TARGET, e.status());
                ce.checkErrors(ws, 0);  // the word was cleared
                float[] l = new float[1];
                loss.copyTo(l);
                assertEquals((float) Math.log(4), l[0], 1e-6, "the mean over the two valid rows on " + b);
            }
        }
    }

    @Test
    void useAfterCloseThrows() {
        for (Backend b : BackendsUnderTest.all()) {
            DeviceBuffer buffer = b.allocateFloats(4);
            buffer.close();
            buffer.close();  // idempotent
            assertThrows(IllegalStateException.class, buffer::address);
            assertThrows(IllegalStateException.class, () -> buffer.copyFrom(new float[4]));
            try (SoftmaxCrossEntropy ce = SoftmaxCrossEntropy.builder().backend(b).build();
                    DeviceBuffer y = b.allocateInts(1);
                    DeviceBuffer loss = b.allocateFloats(1);
                    DeviceBuffer grad = b.allocateFloats(4);
                    DeviceBuffer ws = ce.allocateWorkspace(1, 4)) {
                assertThrows(IllegalStateException.class,
                        () -> ce.forwardBackward(buffer, 4, y, 1, 4, null, loss, grad, 4, ws));
            }
        }
    }

    @Test
    void buffersOfAnotherBackendAreRefused() {
        Backend nat = BackendsUnderTest.nativeOrNull();
        org.junit.jupiter.api.Assumptions.assumeTrue(nat != null, BackendsUnderTest::whyNoNative);
        try (SoftmaxCrossEntropy ce = SoftmaxCrossEntropy.builder().backend(nat).build();
                DeviceBuffer x = Culoss.java().allocateFloats(4);
                DeviceBuffer y = nat.allocateInts(1);
                DeviceBuffer loss = nat.allocateFloats(1);
                DeviceBuffer grad = nat.allocateFloats(4);
                DeviceBuffer ws = ce.allocateWorkspace(1, 4)) {
            assertNames("logits", () -> ce.forwardBackward(x, 4, y, 1, 4, null, loss, grad, 4, ws));
        }
    }

    // ---------------------------------------------------------------- softmax focal

    @Test
    void softmaxFocalBadArgumentsNameThemselves() {
        for (Backend b : BackendsUnderTest.all()) {
            try (SoftmaxFocal f = SoftmaxFocal.builder().backend(b).build();
                    SoftmaxFocal none = SoftmaxFocal.builder().backend(b).reduction(Reduction.NONE).build();
                    SoftmaxFocal perClass = SoftmaxFocal.builder().backend(b).classAlpha(new float[] {1f, 2f, 3f})
                            .build()) {
                assertNames("logits", () -> f.forwardBackward(null, Y, 3, 4));
                assertNames("targets", () -> f.forwardBackward(X, null, 3, 4));
                assertNames("n", () -> f.forwardBackward(X, Y, -1, 4));
                assertNames("c", () -> f.forwardBackward(X, Y, 3, 0));
                assertNames("logits", () -> f.forwardBackward(X, Y, 3, 5));
                assertNames("targets", () -> f.forwardBackward(new float[16], Y, 4, 4));
                assertNames("c", () -> perClass.forwardBackward(X, Y, 3, 4));
                assertNames("gradOutput", () -> none.backward(X, Y, 3, 4, new float[2]));
                assertNames("logitsStride", () -> f.forward(FloatBuffer.wrap(X), 3, IntBuffer.wrap(Y), 3, 4,
                        FloatBuffer.allocate(1)));
                assertNames("gradStride", () -> f.backward(FloatBuffer.wrap(X), 4, IntBuffer.wrap(Y), 3, 4, null,
                        FloatBuffer.allocate(12), 2));
                assertNames("loss", () -> none.forward(FloatBuffer.wrap(X), 4, IntBuffer.wrap(Y), 3, 4,
                        FloatBuffer.allocate(2)));
                assertNames("loss", () -> f.forward(FloatBuffer.wrap(X), 4, IntBuffer.wrap(Y), 3, 4,
                        FloatBuffer.allocate(1).asReadOnlyBuffer()));
                assertNames("loss", () -> f.forward(FloatBuffer.wrap(X), 4, IntBuffer.wrap(Y), 3, 4, null));
                assertNames("gradLogits", () -> f.backward(FloatBuffer.wrap(X), 4, IntBuffer.wrap(Y), 3, 4, null,
                        FloatBuffer.allocate(11), 4));
                assertNames("gradLogits", () -> f.forwardBackward(FloatBuffer.wrap(X), 4, IntBuffer.wrap(Y), 3, 4,
                        null, FloatBuffer.allocate(1), null, 4));
                assertNames("n", () -> f.workspaceBytes(-1, 4));
            }
        }
        assertNames("gamma", () -> SoftmaxFocal.builder().gamma(-0.5f));
        assertNames("gamma", () -> SoftmaxFocal.builder().gamma(Float.NaN));
        assertNames("gamma", () -> SoftmaxFocal.builder().gamma(Float.POSITIVE_INFINITY));
        assertNames("alpha", () -> SoftmaxFocal.builder().alpha(Float.NaN));
        assertNames("classAlpha", () -> SoftmaxFocal.builder().classAlpha(new float[0]));
        assertNames("classAlpha[1]", () -> SoftmaxFocal.builder().classAlpha(new float[] {1f, Float.POSITIVE_INFINITY}));
        assertNames("reduction", () -> SoftmaxFocal.builder().reduction(null));
        assertNames("backend", () -> SoftmaxFocal.builder().backend(null));
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

    @Test
    void softmaxFocalInvalidTargetIsReportedWithItsRowAndSkipped() {
        for (Backend b : BackendsUnderTest.all()) {
            for (int bad : new int[] {4, -1, Integer.MIN_VALUE}) {
                try (SoftmaxFocal f = SoftmaxFocal.builder().backend(b).gamma(0f).reduction(Reduction.NONE).build()) {
                    float[] loss = new float[3];
                    CulossException e = assertThrows(CulossException.class, () -> f.forward(FloatBuffer.wrap(X), 4,
                            IntBuffer.wrap(new int[] {0, bad, 1}), 3, 4, FloatBuffer.wrap(loss)));
                    assertEquals(Status.INVALID_TARGET, e.status(), b.name());
                    assertTrue(e.getMessage().contains("targets[1] = " + bad), e.getMessage());
                    assertEquals(0f, loss[1], "the bad row counts for nothing on " + b);
                    assertEquals((float) Math.log(4), loss[0], 1e-6, "the good rows are computed on " + b);
                }
            }
        }
    }

    @Test
    void softmaxFocalDeviceCallsCheckBuffersAndReportBadTargetsThroughTheWorkspace() {
        for (Backend b : BackendsUnderTest.all()) {
            try (SoftmaxFocal f = SoftmaxFocal.builder().backend(b).build();
                    DeviceBuffer x = b.allocateFloats(12);
                    DeviceBuffer y = b.allocateInts(3);
                    DeviceBuffer loss = b.allocateFloats(1);
                    DeviceBuffer grad = b.allocateFloats(12);
                    DeviceBuffer small = b.allocateFloats(11);
                    DeviceBuffer ws = f.allocateWorkspace(3, 4)) {
                x.copyFrom(X);
                y.copyFrom(new int[] {0, 9, 1});
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
                // Both valid rows have p_y = 1/4: (3/4)^2 * log 4, the mean over the two of them.
                assertEquals((float) (0.5625 * Math.log(4)), l[0], 1e-6, "the mean over the two valid rows on " + b);
            }
        }
    }

    @Test
    void softmaxFocalUseAfterCloseThrows() {
        for (Backend b : BackendsUnderTest.all()) {
            DeviceBuffer buffer = b.allocateFloats(4);
            buffer.close();
            try (SoftmaxFocal f = SoftmaxFocal.builder().backend(b).build();
                    DeviceBuffer y = b.allocateInts(1);
                    DeviceBuffer loss = b.allocateFloats(1);
                    DeviceBuffer grad = b.allocateFloats(4);
                    DeviceBuffer ws = f.allocateWorkspace(1, 4)) {
                assertThrows(IllegalStateException.class,
                        () -> f.forwardBackward(buffer, 4, y, 1, 4, null, loss, grad, 4, ws));
            }
        }
        Backend nat = BackendsUnderTest.nativeOrNull();
        if (nat == null) return;
        try (SoftmaxFocal f = SoftmaxFocal.builder().backend(nat).build();
                DeviceBuffer x = Culoss.java().allocateFloats(4);
                DeviceBuffer y = nat.allocateInts(1);
                DeviceBuffer loss = nat.allocateFloats(1);
                DeviceBuffer grad = nat.allocateFloats(4);
                DeviceBuffer ws = f.allocateWorkspace(1, 4)) {
            assertNames("logits", () -> f.forwardBackward(x, 4, y, 1, 4, null, loss, grad, 4, ws));
        }
    }
}
