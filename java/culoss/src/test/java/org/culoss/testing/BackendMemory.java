package org.culoss.testing;

import java.util.ArrayList;
import java.util.List;
import org.culoss.Backend;
import org.culoss.DeviceBuffer;

/**
 * Buffers in one backend's memory that a test allocates together and closes together: one
 * try-with-resources for all of a call's tensors, each allocated (and filled, when given values)
 * in one expression. Closed in the reverse order of allocation.
 */
public final class BackendMemory implements AutoCloseable {
    private final Backend backend;
    private final List<DeviceBuffer> buffers = new ArrayList<>();

    public BackendMemory(Backend backend) {
        this.backend = backend;
    }

    /** {@code count} floats, contents undefined. */
    public DeviceBuffer floats(long count) {
        return add(backend.allocateFloats(count));
    }

    /** {@code count} ints, contents undefined. */
    public DeviceBuffer ints(long count) {
        return add(backend.allocateInts(count));
    }

    /** A copy of {@code values}. */
    public DeviceBuffer floats(float[] values) {
        DeviceBuffer b = floats(values.length);
        b.copyFrom(values);
        return b;
    }

    /** A copy of {@code values}. */
    public DeviceBuffer ints(int[] values) {
        DeviceBuffer b = ints(values.length);
        b.copyFrom(values);
        return b;
    }

    /** Takes {@code buffer} (a workspace, a wrapped view) to close with the others; returns it. */
    public DeviceBuffer add(DeviceBuffer buffer) {
        buffers.add(buffer);
        return buffer;
    }

    @Override
    public void close() {
        for (int i = buffers.size() - 1; i >= 0; i--) {
            buffers.get(i).close();
        }
    }
}
