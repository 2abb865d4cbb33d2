package org.culoss;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.culoss.testing.BackendsUnderTest;
import org.junit.jupiter.api.Test;

/**
 * A buffer's memory is never used after it is freed: a view made by {@code onStream} refuses use
 * once its owner is closed (it read freed memory before), a closed buffer passed to a loss is
 * refused naming the argument, and a null array to copy is an {@link IllegalArgumentException}.
 */
class DeviceBufferLifetimeTest {
    @Test
    void aViewDiesWithItsOwner() {
        for (Backend b : BackendsUnderTest.all()) {
            DeviceBuffer owner = b.allocateFloats(4);
            owner.copyFrom(new float[] {1, 2, 3, 4});
            DeviceBuffer view = owner.onStream(0);
            DeviceBuffer viewOfView = view.onStream(0);
            float[] out = new float[4];
            view.copyTo(out);
            assertArrayEquals(new float[] {1, 2, 3, 4}, out, b + ": the view reads the owner's memory");
            view.close();  // closing a view frees nothing: the owner still works
            owner.copyTo(out);
            owner.close();
            assertThrows(IllegalStateException.class, () -> viewOfView.copyTo(new float[4]), b.toString());
            assertThrows(IllegalStateException.class, viewOfView::address, b.toString());
            try (SmoothL1 loss = SmoothL1.builder().backend(b).reduction(Reduction.NONE).build();
                    DeviceBuffer t = b.allocateFloats(4);
                    DeviceBuffer l = b.allocateFloats(4)) {
                IllegalStateException e = assertThrows(IllegalStateException.class,
                        () -> loss.forward(viewOfView, t, 4, l, null));
                assertEquals("input is closed", e.getMessage(), b.toString());
            }
        }
    }

    @Test
    void aClosedBufferIsNamed() {
        for (Backend b : BackendsUnderTest.all()) {
            try (SmoothL1 loss = SmoothL1.builder().backend(b).reduction(Reduction.NONE).build();
                    DeviceBuffer x = b.allocateFloats(4);
                    DeviceBuffer l = b.allocateFloats(4)) {
                DeviceBuffer t = b.allocateFloats(4);
                t.close();
                IllegalStateException e = assertThrows(IllegalStateException.class, () -> loss.forward(x, t, 4, l, null));
                assertEquals("target is closed", e.getMessage(), b.toString());
            }
        }
    }

    @Test
    void nullArraysToCopyAreArgumentErrors() {
        for (Backend b : BackendsUnderTest.all()) {
            try (DeviceBuffer d = b.allocateFloats(4)) {
                assertEquals("src is null", assertThrows(IllegalArgumentException.class,
                        () -> d.copyFrom((float[]) null)).getMessage());
                assertEquals("src is null", assertThrows(IllegalArgumentException.class,
                        () -> d.copyFrom((int[]) null)).getMessage());
                assertEquals("dst is null", assertThrows(IllegalArgumentException.class,
                        () -> d.copyTo((float[]) null)).getMessage());
                assertEquals("dst is null", assertThrows(IllegalArgumentException.class,
                        () -> d.copyTo((int[]) null)).getMessage());
            }
        }
    }
}
