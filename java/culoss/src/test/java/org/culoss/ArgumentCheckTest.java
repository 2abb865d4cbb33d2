package org.culoss;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.Test;

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
}
