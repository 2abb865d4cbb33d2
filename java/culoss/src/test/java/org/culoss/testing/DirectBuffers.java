package org.culoss.testing;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;

/**
 * Direct buffers as the parity tests hand them to a loss: floats one float past an aligned start
 * (every row unaligned, so the kernels take their scalar path), and labels in native order.
 */
public final class DirectBuffers {
    private DirectBuffers() {}

    /** A direct copy of {@code values} one float past an aligned start; its limit is the length. */
    public static FloatBuffer unaligned(float[] values) {
        FloatBuffer b = unaligned(values.length);
        b.put(values).flip();
        return b;
    }

    /** An empty (zeroed) direct buffer of {@code floats} one float past an aligned start. */
    public static FloatBuffer unaligned(int floats) {
        return TestArrays.direct(floats + 1).position(1).slice();
    }

    /** A direct, native-order copy of {@code values}; its limit is the length. */
    public static IntBuffer ints(int[] values) {
        IntBuffer b = ByteBuffer.allocateDirect(Math.max(4, values.length * 4)).order(ByteOrder.nativeOrder())
                .asIntBuffer();
        b.put(values).flip();
        return b;
    }
}
