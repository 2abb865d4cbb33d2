package org.culoss;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import org.junit.jupiter.api.Test;

/** A direct buffer's address is that of its position: the start plus four bytes per element. */
class OffHeapTest {
    @Test
    void aPositionedBufferStartsFourBytesPerElementOn() {
        ByteBuffer bytes = ByteBuffer.allocateDirect(64).order(ByteOrder.nativeOrder());
        FloatBuffer floats = bytes.asFloatBuffer();
        long start = OffHeap.address(floats);
        floats.position(3);
        assertEquals(start + 12, OffHeap.address(floats));
        assertEquals(start + 12, OffHeap.address(floats.slice()));
        IntBuffer ints = bytes.asIntBuffer();
        ints.position(5);
        assertEquals(start + 20, OffHeap.address(ints));
    }
}
