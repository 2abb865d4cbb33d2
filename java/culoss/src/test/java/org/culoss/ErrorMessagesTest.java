package org.culoss;

import static org.culoss.testing.ArgumentAsserts.assertNames;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.culoss.testing.BackendMemory;
import org.culoss.testing.BackendsUnderTest;
import org.junit.jupiter.api.Test;

/**
 * Messages that must say what is wrong in terms the caller can act on: which of two java backends
 * a buffer belongs to, how large a missing workspace must be, and that a refused allocation is out
 * of memory (not a refused launch).
 */
class ErrorMessagesTest {
    @Test
    void javaBackendsOfDifferentThreadCountsAreNamedApart() {
        Backend one = Culoss.java(1);
        Backend three = Culoss.java(3);
        assertEquals("java(1 thread)", one.toString());
        assertEquals("java(3 threads)", three.toString());
        assertEquals("java", three.name(), "name() stays the backend's kind");
        try (SoftmaxCrossEntropy f = SoftmaxCrossEntropy.builder().backend(one).build();
                BackendMemory mine = new BackendMemory(one); BackendMemory other = new BackendMemory(three)) {
            DeviceBuffer x = other.floats(4);
            DeviceBuffer y = mine.ints(1);
            DeviceBuffer loss = mine.floats(1);
            DeviceBuffer ws = mine.add(f.allocateWorkspace(1, 4));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> f.forward(x, 4, y, 1, 4, loss, ws));
            assertEquals("logits is memory of backend java(3 threads), this loss runs on java(1 thread)", e.getMessage());
        }
    }

    @Test
    void aMissingWorkspaceSaysHowManyBytesItNeeds() {
        for (Backend b : BackendsUnderTest.all()) {
            try (SoftmaxCrossEntropy f = SoftmaxCrossEntropy.builder().backend(b).build();
                    BackendMemory mem = new BackendMemory(b)) {
                DeviceBuffer x = mem.floats(12);
                DeviceBuffer y = mem.ints(3);
                DeviceBuffer loss = mem.floats(1);
                long needed = f.workspaceBytes(3, 4);
                assertTrue(needed > 0);
                assertNames("workspace", () -> f.forward(x, 4, y, 3, 4, loss, null));
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> f.forward(x, 4, y, 3, 4, loss, null));
                assertEquals("workspace is null, needs " + needed + " bytes", e.getMessage(), b.toString());
            }
        }
    }

    @Test
    void aRefusedAllocationIsOutOfMemory() {
        long floats = 1L << 50;  // 4 PiB: a long counts it, no machine holds it
        for (Backend b : BackendsUnderTest.all()) {
            OutOfMemoryError e = assertThrows(OutOfMemoryError.class, () -> b.allocateFloats(floats), b.toString());
            assertTrue(e.getMessage().contains("out of memory") && e.getMessage().contains(Long.toString(floats * 4)),
                    b + ": " + e.getMessage());
        }
    }
}
