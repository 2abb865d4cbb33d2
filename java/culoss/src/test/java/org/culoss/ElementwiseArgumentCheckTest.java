package org.culoss;

import static org.culoss.testing.ArgumentAsserts.assertNames;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.FloatBuffer;
import java.util.List;
import org.culoss.testing.BackendMemory;
import org.culoss.testing.BackendsUnderTest;
import org.junit.jupiter.api.Test;

/**
 * The elementwise losses refuse every bad argument in Java, before any native call, with an
 * exception that names it; on every backend of this JVM.
 */
class ElementwiseArgumentCheckTest {
    private static final float[] X = new float[4];

    /** The three losses with their argument names: {loss, x name, t name, grad name}. */
    private static List<Object[]> losses(Backend b, Reduction r) {
        return List.of(
                new Object[] {SigmoidFocal.builder().backend(b).reduction(r).build(), "logits", "targets", "gradLogits"},
                new Object[] {SmoothL1.builder().backend(b).reduction(r).build(), "input", "target", "gradInput"},
                new Object[] {Huber.builder().backend(b).reduction(r).build(), "input", "target", "gradInput"});
    }

    @Test
    void badArgumentsNameThemselves() {
        for (Backend b : BackendsUnderTest.all()) {
            for (Reduction r : Reduction.values()) {
                for (Object[] l : losses(b, r)) {
                    @SuppressWarnings("unchecked")
                    ElementwiseLoss<Object> loss = (ElementwiseLoss<Object>) l[0];
                    String xn = (String) l[1];
                    String tn = (String) l[2];
                    String gn = (String) l[3];
                    int lossLength = r == Reduction.NONE ? 4 : 1;
                    // arrays
                    assertNames(xn, () -> loss.forwardBackward(null, X));
                    assertNames(tn, () -> loss.forwardBackward(X, null));
                    assertNames(tn, () -> loss.forward(X, new float[3]));
                    assertNames(tn, () -> loss.backward(X, new float[5], null));
                    if (r == Reduction.NONE) assertNames("gradOutput", () -> loss.backward(X, X, new float[3]));
                    assertNames("gradOutput", () -> loss.forwardBackward(X, X, new float[0]));
                    // host buffers
                    FloatBuffer x = FloatBuffer.wrap(X);
                    assertNames("count", () -> loss.forward(x, x, -1, FloatBuffer.allocate(4)));
                    assertNames(xn, () -> loss.forward(FloatBuffer.allocate(3), x, 4, FloatBuffer.allocate(4)));
                    assertNames(tn, () -> loss.forward(x, FloatBuffer.wrap(X).position(1), 4, FloatBuffer.allocate(4)));
                    assertNames(xn, () -> loss.forward(null, x, 4, FloatBuffer.allocate(4)));
                    assertNames("loss", () -> loss.forward(x, x, 4, null));
                    assertNames("loss", () -> loss.forward(x, x, 4, FloatBuffer.allocate(lossLength - 1)));
                    assertNames("loss", () -> loss.forward(x, x, 4, FloatBuffer.allocate(4).asReadOnlyBuffer()));
                    assertNames(gn, () -> loss.backward(x, x, 4, null, null));
                    assertNames(gn, () -> loss.backward(x, x, 4, null, FloatBuffer.allocate(3)));
                    assertNames(gn, () -> loss.forwardBackward(x, x, 4, null, FloatBuffer.allocate(4), null));
                    assertNames("gradOutput", () -> loss.backward(x, x, 4, FloatBuffer.allocate(lossLength - 1),
                            FloatBuffer.allocate(4)));
                    // backend memory
                    try (BackendMemory mem = new BackendMemory(b)) {
                        DeviceBuffer dx = mem.floats(4);
                        DeviceBuffer small = mem.floats(3);
                        DeviceBuffer dl = mem.floats(4);
                        DeviceBuffer dg = mem.floats(4);
                        DeviceBuffer ws = mem.add(loss.allocateWorkspace(4));
                        assertNames("count", () -> loss.workspaceBytes(-1));
                        assertNames("count", () -> loss.forwardBackward(dx, dx, -1, null, dl, dg, ws));
                        assertNames(xn, () -> loss.forwardBackward(small, dx, 4, null, dl, dg, ws));
                        assertNames(tn, () -> loss.forwardBackward(dx, small, 4, null, dl, dg, ws));
                        assertNames(xn, () -> loss.forwardBackward(null, dx, 4, null, dl, dg, ws));
                        assertNames(gn, () -> loss.forwardBackward(dx, dx, 4, null, dl, small, ws));
                        assertNames(gn, () -> loss.backward(dx, dx, 4, null, null));
                        assertNames("loss", () -> loss.forward(dx, dx, 4, null, ws));
                        if (r == Reduction.NONE) {
                            assertNames("loss", () -> loss.forward(dx, dx, 4, small, ws));
                            assertNames("gradOutput", () -> loss.backward(dx, dx, 4, small, dg));
                            assertEquals(0, loss.workspaceBytes(4), "NONE needs no workspace");
                        } else if (loss.workspaceBytes(4) > 0) {
                            assertNames("workspace", () -> loss.forward(dx, dx, 4, dl, null));
                            try (DeviceBuffer tiny = DeviceBuffer.allocate(b, loss.workspaceBytes(4) - 1)) {
                                assertNames("workspace", () -> loss.forwardBackward(dx, dx, 4, null, dl, dg, tiny));
                            }
                        }
                    }
                }
            }
        }
    }

    @Test
    void badOptionsNameThemselves() {
        for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
            assertNames("alpha", () -> SigmoidFocal.builder().alpha(bad));
        }
        for (float bad : new float[] {-0.5f, Float.NaN, Float.POSITIVE_INFINITY}) {
            assertNames("gamma", () -> SigmoidFocal.builder().gamma(bad));
        }
        for (float bad : new float[] {-0.5f, Float.NaN, Float.NEGATIVE_INFINITY}) {
            assertNames("beta", () -> SmoothL1.builder().beta(bad));
        }
        for (float bad : new float[] {0f, -0f, -0.5f, Float.NaN}) {
            assertNames("delta", () -> Huber.builder().delta(bad));
        }
        assertNames("reduction", () -> SigmoidFocal.builder().reduction(null));
        assertNames("backend", () -> SmoothL1.builder().backend(null));
        assertNames("reduction", () -> Huber.builder().reduction(null));
        // Allowed: alpha negative (off) or above 1 (torchvision does not check), gamma 0, beta 0.
        assertEquals(-1f, SigmoidFocal.builder().alpha(-1f).build().alpha());
        assertEquals(1.5f, SigmoidFocal.builder().alpha(1.5f).build().alpha());
        assertEquals(0f, SigmoidFocal.builder().gamma(0f).build().gamma());
        assertEquals(0f, SmoothL1.builder().beta(0f).build().beta());
    }

    @Test
    void defaultsArePyTorchs() {
        SigmoidFocal f = SigmoidFocal.builder().backend(Culoss.java()).build();
        assertEquals(0.25f, f.alpha());
        assertEquals(2f, f.gamma());
        assertEquals(Reduction.NONE, f.reduction());
        SmoothL1 s = SmoothL1.builder().backend(Culoss.java()).build();
        assertEquals(1f, s.beta());
        assertEquals(Reduction.MEAN, s.reduction());
        Huber h = Huber.builder().backend(Culoss.java()).build();
        assertEquals(1f, h.delta());
        assertEquals(Reduction.MEAN, h.reduction());
    }

    @Test
    void useAfterCloseAndForeignBuffersAreRefused() {
        for (Backend b : BackendsUnderTest.all()) {
            try (SmoothL1 loss = SmoothL1.builder().backend(b).reduction(Reduction.SUM).build();
                    BackendMemory mem = new BackendMemory(b)) {
                DeviceBuffer x = mem.floats(4);
                DeviceBuffer l = mem.floats(1);
                DeviceBuffer g = mem.floats(4);
                DeviceBuffer ws = mem.add(loss.allocateWorkspace(4));
                DeviceBuffer closed = b.allocateFloats(4);
                closed.close();
                assertThrows(IllegalStateException.class, () -> loss.forwardBackward(closed, x, 4, null, l, g, ws));
                Backend other = b == Culoss.java() ? BackendsUnderTest.nativeOrNull() : Culoss.java();
                if (other != null) {
                    try (DeviceBuffer foreign = other.allocateFloats(4)) {
                        assertNames("target", () -> loss.forwardBackward(x, foreign, 4, null, l, g, ws));
                    }
                }
            }
        }
    }
}
