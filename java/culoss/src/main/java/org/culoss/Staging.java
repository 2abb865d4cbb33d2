package org.culoss;

import java.nio.Buffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Pointer;

/**
 * Puts a host call's buffers where a native backend's kernels can read them: direct buffers in
 * place on the emulated backend (its "device" memory is host memory), a copy in backend memory
 * otherwise. Outputs are copied back by {@link #copyBack}; {@link #close} frees what was
 * allocated. Buffers are used from their position, as the loss classes pass them (sliced).
 */
final class Staging implements AutoCloseable {
    private static final int HOST_TO_DEVICE = 0;
    private static final int DEVICE_TO_HOST = 1;

    private final Backend backend;
    private final boolean hostIsDevice;
    private final List<Long> allocations = new ArrayList<>();
    private final List<Pointer> hostCopies = new ArrayList<>();
    private final List<Runnable> copyBacks = new ArrayList<>();

    Staging(Backend backend, boolean hostIsDevice) {
        this.backend = backend;
        this.hostIsDevice = hostIsDevice;
    }

    /** An input of {@code count} elements (FloatBuffer or IntBuffer); null stays 0. */
    long in(Buffer buffer, long count) {
        return buffer == null ? 0 : stage(buffer, count, false);
    }

    /** An output of {@code count} floats, copied back by {@link #copyBack}; null stays 0. */
    long out(FloatBuffer buffer, long count) {
        return buffer == null ? 0 : stage(buffer, count, true);
    }

    /** Backend memory freed on close. */
    long scratch(long bytes) {
        long address = backend.allocate(bytes);
        allocations.add(address);
        return address;
    }

    /** A zeroed workspace with the error word in front, as the loss classes pass it. */
    long workspace(long bytes) {
        long ws = scratch(ErrorWord.BYTES + bytes);
        backend.fill(ws, 0, Integer.BYTES, 0);
        return ws;
    }

    private long stage(Buffer buffer, long count, boolean output) {
        if (count == 0) return scratch(16);
        // A direct buffer in the platform's byte order is the kernels' layout already; one in the
        // other order (ByteBuffer's default, big-endian) is copied through its values.
        boolean raw = buffer.isDirect() && nativeOrder(buffer);
        if (hostIsDevice && raw && !buffer.isReadOnly()) return OffHeap.address(buffer);
        long bytes = Sizes.bytes(count, 4, "count");
        final Pointer host;
        final long hostAddress;
        if (raw) {
            host = null;
            hostAddress = OffHeap.address(buffer);
        } else {
            host = buffer instanceof FloatBuffer ? copyOf((FloatBuffer) buffer, count) : copyOf((IntBuffer) buffer, count);
            hostCopies.add(host);
            hostAddress = host.address();
        }
        final long device;
        if (hostIsDevice) {
            device = hostAddress;
        } else {
            device = scratch(bytes);
            backend.copy(device, hostAddress, bytes, HOST_TO_DEVICE, 0);
        }
        if (output) {
            FloatBuffer target = (FloatBuffer) buffer;
            copyBacks.add(() -> {
                if (device != hostAddress) backend.copy(hostAddress, device, bytes, DEVICE_TO_HOST, 0);
                if (host != null) {
                    backend.synchronize(0);
                    float[] values = new float[(int) count];
                    ((FloatPointer) host).get(values);
                    target.duplicate().clear().put(values);
                }
            });
        }
        return device;
    }

    /** Waits for the kernels, then copies every output back to its host buffer. */
    void copyBack() {
        backend.synchronize(0);
        for (Runnable r : copyBacks) r.run();
        backend.synchronize(0);
    }

    @Override
    public void close() {
        for (long a : allocations) backend.free(a);
        for (Pointer p : hostCopies) p.close();
    }

    private static boolean nativeOrder(Buffer buffer) {
        ByteOrder order = buffer instanceof FloatBuffer ? ((FloatBuffer) buffer).order() : ((IntBuffer) buffer).order();
        return order == ByteOrder.nativeOrder();
    }

    private static FloatPointer copyOf(FloatBuffer buffer, long count) {
        float[] values = new float[(int) count];
        buffer.duplicate().get(values);
        return new FloatPointer(values);
    }

    private static IntPointer copyOf(IntBuffer buffer, long count) {
        int[] values = new int[(int) count];
        buffer.duplicate().get(values);
        return new IntPointer(values);
    }
}
