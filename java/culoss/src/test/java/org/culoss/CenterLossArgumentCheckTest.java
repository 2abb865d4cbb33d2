package org.culoss;

import static org.culoss.testing.ArgumentAsserts.assertNames;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.util.List;
import org.culoss.testing.BackendMemory;
import org.culoss.testing.BackendsUnderTest;
import org.junit.jupiter.api.Test;

/**
 * Center loss: every bad argument is refused in Java, before any native call, with an exception
 * that names it; a bad label is a {@link CulossException} naming the row, that row counting for
 * nothing. Run on every backend of this JVM.
 */
class CenterLossArgumentCheckTest {
    private static final float[] X = new float[12];  // n = 3, d = 4
    private static final int[] Y = {0, 1, 1};
    private static final float[] C = new float[8];  // c = 2

    private static FloatBuffer f(int n) {
        return FloatBuffer.allocate(n);
    }

    @Test
    void badArgumentsNameThemselves() {
        for (Backend b : BackendsUnderTest.all()) {
            CenterLoss center = CenterLoss.builder().backend(b).build();
            CenterLoss none = CenterLoss.builder().backend(b).reduction(Reduction.NONE).build();
            assertNames("features", () -> center.forwardBackward(null, Y, C, 3, 4, 2));
            assertNames("labels", () -> center.forwardBackward(X, null, C, 3, 4, 2));
            assertNames("centers", () -> center.forwardBackward(X, Y, null, 3, 4, 2));
            assertNames("n", () -> center.forwardBackward(X, Y, C, -1, 4, 2));
            assertNames("d", () -> center.forwardBackward(X, Y, C, 3, 0, 2));
            assertNames("c", () -> center.forwardBackward(X, Y, C, 3, 4, 0));
            assertNames("features", () -> center.forwardBackward(X, Y, C, 3, 5, 2));
            assertNames("labels", () -> center.forwardBackward(new float[16], Y, new float[8], 4, 4, 2));
            assertNames("centers", () -> center.forwardBackward(X, Y, C, 3, 4, 3));
            assertNames("gradOutput", () -> none.backward(X, Y, C, 3, 4, 2, new float[2]));
            assertNames("n", () -> center.workspaceBytes(1L << 31, 4, 2));
            assertNames("d", () -> center.workspaceBytes(1 << 20, 1 << 21, 2));
            assertNames("features", () -> center.updateCenters(null, Y, C.clone(), 3, 4, 2));
            assertNames("centers", () -> center.updateCenters(X, Y, new float[7], 3, 4, 2));

            FloatBuffer x = FloatBuffer.wrap(X);
            IntBuffer y = IntBuffer.wrap(Y);
            FloatBuffer cs = FloatBuffer.wrap(C);
            assertNames("loss", () -> center.forward(x, y, cs, 3, 4, 2, null));
            assertNames("loss", () -> none.forward(x, y, cs, 3, 4, 2, f(2)));
            assertNames("loss", () -> center.forward(x, y, cs, 3, 4, 2, f(1).asReadOnlyBuffer()));
            assertNames("gradFeatures", () -> center.backward(x, y, cs, 3, 4, 2, null, f(11), null));
            assertNames("gradCenters", () -> center.backward(x, y, cs, 3, 4, 2, null, null, f(7)));
            assertNames("gradFeatures and gradCenters", () -> center.backward(x, y, cs, 3, 4, 2, null, null, null));
            assertNames("gradFeatures and gradCenters",
                    () -> center.forwardBackward(x, y, cs, 3, 4, 2, null, f(1), null, null));
            assertNames("centers", () -> center.updateCenters(x, y, cs.asReadOnlyBuffer(), 3, 4, 2));
            assertNames("centers", () -> center.updateCenters(x, y, f(7), 3, 4, 2));

            try (BackendMemory mem = new BackendMemory(b)) {
                DeviceBuffer dx = mem.floats(12);
                DeviceBuffer dy = mem.ints(3);
                DeviceBuffer dc = mem.floats(8);
                DeviceBuffer small = mem.floats(7);
                DeviceBuffer loss = mem.floats(1);
                DeviceBuffer gf = mem.floats(12);
                DeviceBuffer gc = mem.floats(8);
                DeviceBuffer ws = mem.add(center.allocateWorkspace(3, 4, 2));
                assertNames("centers", () -> center.forward(dx, dy, small, 3, 4, 2, loss, ws));
                assertNames("gradCenters", () -> center.backward(dx, dy, dc, 3, 4, 2, null, gf, small, ws));
                assertNames("gradCenters", () -> center.backward(dx, dy, dc, 3, 4, 2, null, null, dc, ws));
                assertNames("gradFeatures", () -> center.backward(dx, dy, dc, 3, 4, 2, null, dc, gc, ws));
                assertNames("workspace", () -> center.forwardBackward(dx, dy, dc, 3, 4, 2, null, loss, gf, gc, loss));
                assertNames("workspace", () -> center.updateCenters(dx, dy, dc, 3, 4, 2, null));
                assertNames("centers", () -> center.updateCenters(dx, dy, small, 3, 4, 2, ws));
                assertNames("centers", () -> center.updateCenters(dx, dy, dx, 3, 4, 2, ws));
                assertNames("gradFeatures and gradCenters",
                        () -> center.forwardBackward(dx, dy, dc, 3, 4, 2, null, loss, null, null, ws));
            }
        }
        assertNames("lambda", () -> CenterLoss.builder().lambda(Float.NaN));
        assertNames("alpha", () -> CenterLoss.builder().alpha(Float.POSITIVE_INFINITY));
        assertNames("reduction", () -> CenterLoss.builder().reduction(null));
        assertNames("backend", () -> CenterLoss.builder().backend(null));
    }

    @Test
    void defaultsAreLambdaOneAlphaHalfMean() {
        CenterLoss center = CenterLoss.builder().backend(Culoss.java()).build();
        // lambda, alpha, reduction; Float.equals compares the bits, as assertEquals(float, float) does
        assertEquals(List.of(1f, 0.5f, Reduction.MEAN), List.of(center.lambda(), center.alpha(), center.reduction()));
    }

    @Test
    void badLabelIsReportedWithItsRowAndSkipped() {
        for (Backend b : BackendsUnderTest.all()) {
            for (int bad : new int[] {2, -1, Integer.MIN_VALUE}) {
                CenterLoss none = CenterLoss.builder().backend(b).reduction(Reduction.NONE).build();
                float[] x = {1f, 1f, 1f, 1f, 2f, 2f, 2f, 2f, 3f, 3f, 3f, 3f};
                float[] loss = new float[3];
                CulossException e = assertThrows(CulossException.class, () -> none.forward(FloatBuffer.wrap(x),
                        IntBuffer.wrap(new int[] {0, bad, 1}), FloatBuffer.wrap(C), 3, 4, 2, FloatBuffer.wrap(loss)));
                assertEquals(Status.INVALID_TARGET, e.status(), b.name());
                assertTrue(e.getMessage().contains("labels[1] = " + bad), e.getMessage());
                assertEquals(0f, loss[1], "the bad row counts for nothing on " + b);
                assertEquals(2f, loss[0], 1e-6, "the good rows are computed on " + b);
                assertEquals(18f, loss[2], 1e-6, "the good rows are computed on " + b);

                float[] centers = {0f, 0f, 0f, 0f, 1f, 1f, 1f, 1f};
                assertThrows(CulossException.class, () -> none.updateCenters(x, new int[] {0, bad, 1}, centers, 3, 4, 2));
                // class 0: 0 - 0.5 * (0 - 1) / 2 = 0.25; class 1: 1 - 0.5 * (1 - 3) / 2 = 1.5
                assertEquals(0.25f, centers[0], 1e-6, "the valid rows move the centers on " + b);
                assertEquals(1.5f, centers[4], 1e-6, "the valid rows move the centers on " + b);
            }
        }
    }
}
