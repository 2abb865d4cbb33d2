package org.culoss;

import static org.culoss.testing.ArgumentAsserts.assertNames;
import static org.culoss.testing.ArgumentAsserts.assertOverlap;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import org.culoss.testing.BackendMemory;
import org.culoss.testing.BackendsUnderTest;
import org.junit.jupiter.api.Test;

/**
 * Every bad argument of {@link TripletMargin} is refused in Java, before any native call, with an
 * exception that names it; on every backend of this JVM.
 */
class TripletMarginArgumentCheckTest {
    private static final float[] X = new float[12];

    private static FloatBuffer heap(int n) {
        return FloatBuffer.allocate(n);
    }

    @Test
    void builderRefusesBadOptions() {
        assertNames("p", () -> TripletMargin.builder().p(0f));
        assertNames("p", () -> TripletMargin.builder().p(-1f));
        assertNames("p", () -> TripletMargin.builder().p(Float.NaN));
        assertNames("margin", () -> TripletMargin.builder().margin(Float.NaN));
        assertNames("margin", () -> TripletMargin.builder().margin(Float.POSITIVE_INFINITY));
        assertNames("eps", () -> TripletMargin.builder().eps(Float.NEGATIVE_INFINITY));
        assertNames("eps", () -> TripletMargin.builder().eps(Float.NaN));
        assertNames("reduction", () -> TripletMargin.builder().reduction(null));
        assertNames("backend", () -> TripletMargin.builder().backend(null));
        // Accepted, as PyTorch does: p = inf, p in (0, 1), negative margin and eps.
        TripletMargin.builder().p(Float.POSITIVE_INFINITY).p(0.5f).margin(-1f).eps(-0.5f).build();
    }

    @Test
    void badArgumentsNameThemselves() {
        for (Backend b : BackendsUnderTest.all()) {
            TripletMargin tm = TripletMargin.builder().backend(b).build();
            TripletMargin none = TripletMargin.builder().backend(b).reduction(Reduction.NONE).build();
            assertNames("anchor", () -> tm.forwardBackward(null, X, X, 3, 4));
            assertNames("positive", () -> tm.forwardBackward(X, null, X, 3, 4));
            assertNames("negative", () -> tm.forward(X, X, null, 3, 4));
            assertNames("n", () -> tm.forwardBackward(X, X, X, -1, 4));
            assertNames("d", () -> tm.forwardBackward(X, X, X, 3, 0));
            assertNames("anchor", () -> tm.forwardBackward(new float[11], X, X, 3, 4));
            assertNames("negative", () -> tm.backward(X, X, new float[8], 3, 4, null));
            assertNames("gradOutput", () -> none.backward(X, X, X, 3, 4, new float[2]));
            assertNames("loss", () -> none.forward(FloatBuffer.wrap(X), FloatBuffer.wrap(X), FloatBuffer.wrap(X), 3, 4,
                    heap(2)));
            assertNames("loss", () -> tm.forward(FloatBuffer.wrap(X), FloatBuffer.wrap(X), FloatBuffer.wrap(X), 3, 4,
                    heap(1).asReadOnlyBuffer()));
            assertNames("loss", () -> tm.forward(FloatBuffer.wrap(X), FloatBuffer.wrap(X), FloatBuffer.wrap(X), 3, 4,
                    null));
            assertNames("gradAnchor, gradPositive and gradNegative", () -> tm.backward(FloatBuffer.wrap(X),
                    FloatBuffer.wrap(X), FloatBuffer.wrap(X), 3, 4, null, null, null, null));
            assertNames("gradPositive", () -> tm.backward(FloatBuffer.wrap(X), FloatBuffer.wrap(X), FloatBuffer.wrap(X),
                    3, 4, null, null, heap(11), null));
            assertNames("gradNegative", () -> tm.forwardBackward(FloatBuffer.wrap(X), FloatBuffer.wrap(X),
                    FloatBuffer.wrap(X), 3, 4, null, heap(1), null, null, heap(12).asReadOnlyBuffer()));
        }
    }

    @Test
    void overlappingGradientsAreRefused() {
        for (Backend b : BackendsUnderTest.all()) {
            TripletMargin tm = TripletMargin.builder().backend(b).build();
            float[] a = new float[12];
            float[] shared = new float[40];
            // heap: the same array, or overlapping slices of one array
            assertOverlap("gradAnchor", "anchor", () -> tm.backward(FloatBuffer.wrap(a), FloatBuffer.wrap(X),
                    FloatBuffer.wrap(X), 3, 4, null, FloatBuffer.wrap(a), null, null));
            assertOverlap("gradPositive", "gradNegative", () -> tm.backward(FloatBuffer.wrap(a), FloatBuffer.wrap(X),
                    FloatBuffer.wrap(X), 3, 4, null, null, FloatBuffer.wrap(shared, 0, 12).slice(),
                    FloatBuffer.wrap(shared, 11, 12).slice()));
            // direct: overlapping views of one allocation
            FloatBuffer big = ByteBuffer.allocateDirect(4 * 40).order(ByteOrder.nativeOrder()).asFloatBuffer();
            FloatBuffer in = big.duplicate().position(0).slice();
            FloatBuffer out = big.duplicate().position(6).slice();
            assertOverlap("gradNegative", "positive", () -> tm.backward(FloatBuffer.wrap(X), in, FloatBuffer.wrap(X),
                    3, 4, null, null, null, out));
            // adjacent slices of one array do not overlap
            tm.backward(FloatBuffer.wrap(X), FloatBuffer.wrap(X), FloatBuffer.wrap(X), 3, 4, null,
                    FloatBuffer.wrap(shared, 0, 12).slice(), FloatBuffer.wrap(shared, 12, 12).slice(),
                    FloatBuffer.wrap(shared, 24, 12).slice());
        }
    }

    @Test
    void deviceCallsCheckTheirBuffers() {
        for (Backend b : BackendsUnderTest.all()) {
            TripletMargin tm = TripletMargin.builder().backend(b).build();
            try (BackendMemory mem = new BackendMemory(b)) {
                DeviceBuffer a = mem.floats(X);
                DeviceBuffer p = mem.floats(X);
                DeviceBuffer n = mem.floats(X);
                DeviceBuffer small = mem.floats(11);
                DeviceBuffer loss = mem.floats(1);
                DeviceBuffer g = mem.floats(24);
                DeviceBuffer ws = mem.add(tm.allocateWorkspace(3, 4));
                assertNames("negative", () -> tm.forwardBackward(a, p, small, 3, 4, null, loss, g, null, null, ws));
                assertNames("gradAnchor", () -> tm.backward(a, p, n, 3, 4, null, small, null, null, null));
                // One rule for every loss: a workspace may be null exactly when the call needs none.
                if (tm.workspaceBytes(3, 4) > 0) {
                    assertNames("workspace", () -> tm.forward(a, p, n, 3, 4, loss, null));
                } else {
                    tm.forward(a, p, n, 3, 4, loss, null);
                }
                assertNames("gradAnchor, gradPositive and gradNegative",
                        () -> tm.forwardBackward(a, p, n, 3, 4, null, loss, null, null, null, ws));
                assertOverlap("gradAnchor", "anchor", () -> tm.backward(a, p, n, 3, 4, null, a, null, null, null));
                try (DeviceBuffer inside = DeviceBuffer.wrap(b, g.address() + 8 * Float.BYTES, 16 * Float.BYTES, 0)) {
                    assertOverlap("gradAnchor", "gradNegative",
                            () -> tm.backward(a, p, n, 3, 4, null, g, null, inside, null));
                }
                tm.forwardBackward(a, p, n, 3, 4, null, loss, g, null, null, ws);
            }
        }
        Backend nat = BackendsUnderTest.nativeOrNull();
        if (nat != null) {
            TripletMargin tm = TripletMargin.builder().backend(nat).build();
            try (DeviceBuffer foreign = Culoss.java().allocateFloats(12); BackendMemory mem = new BackendMemory(nat)) {
                DeviceBuffer x = mem.floats(12);
                DeviceBuffer loss = mem.floats(1);
                DeviceBuffer ws = mem.add(tm.allocateWorkspace(3, 4));
                assertNames("anchor", () -> tm.forward(foreign, x, x, 3, 4, loss, ws));
            }
        }
    }
}
