package org.culoss;

import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Pointer;

/** Addresses of off-heap host memory and NIO views of it, through JavaCPP. */
final class OffHeap {
    private OffHeap() {}

    /** The address of a direct buffer's position. */
    static long address(Buffer direct) {
        // Of a slice, whose position is 0: JavaCPP's Pointer(Buffer) of a positioned buffer counts
        // the position in bytes and then takes back four bytes per element (start + 3 * position).
        Buffer at = direct.position() == 0 ? direct
                : direct instanceof FloatBuffer ? ((FloatBuffer) direct).slice() : ((IntBuffer) direct).slice();
        Pointer p = at instanceof FloatBuffer ? new FloatPointer((FloatBuffer) at) : new IntPointer((IntBuffer) at);
        return p.address();
    }

    /** {@code bytes} bytes at {@code address}, native order (at most 2^31 - 1 of them). */
    static ByteBuffer bytes(long address, long bytes) {
        if (bytes == 0) return ByteBuffer.allocate(0).order(ByteOrder.nativeOrder());
        return new BytePointer(at(address)).capacity(bytes).limit(bytes).asByteBuffer().order(ByteOrder.nativeOrder());
    }

    static FloatBuffer floats(long address, long count) {
        if (count == 0) return FloatBuffer.allocate(0);
        FloatPointer p = new FloatPointer(at(address));
        return p.capacity(count).limit(count).asBuffer();
    }

    static IntBuffer ints(long address, long count) {
        if (count == 0) return IntBuffer.allocate(0);
        IntPointer p = new IntPointer(at(address));
        return p.capacity(count).limit(count).asBuffer();
    }

    static long malloc(long bytes) {
        Pointer p = Pointer.malloc(Math.max(bytes, 1));
        if (p == null || p.isNull()) throw new OutOfMemoryError("cannot allocate " + bytes + " bytes off-heap: out of memory");
        return p.address();
    }

    static void free(long address) {
        Pointer.free(at(address));
    }

    static Pointer at(long target) {
        // (named target: inside the subclass, "address" is Pointer's own field)
        return new Pointer() {
            {
                address = target;
            }
        };
    }
}
