package org.culoss;

import java.nio.Buffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.util.Arrays;

/**
 * One call of a declared operation, slot by slot: the host buffers (sliced at their position) or
 * the backend addresses, the extent in elements of each tensor as the checks computed it, the row
 * strides, the sizes, the mode, the workspace and the stream. The kernels of a declaration read
 * it by slot. {@link Op#call()} hands out one per thread, so a device call allocates nothing.
 */
final class Call {
    final Op<?> op;
    final Buffer[] host;
    final DeviceBuffer[] device;
    final long[] address;
    final long[] extent;
    final long[] stride;
    final long[] sizes;
    Mode mode;
    /** The {@code culossDataType_t} of the call's float tensors. */
    final int dtype;
    long workspace;
    long workspaceBytes;
    long errorWord;
    long stream;

    Call(Op<?> op) {
        this.op = op;
        int slots = op.operands.size();
        host = new Buffer[slots];
        device = new DeviceBuffer[slots];
        address = new long[slots];
        extent = new long[slots];
        stride = new long[slots];
        sizes = new long[op.sizeNames.size()];
        dtype = op.dataType();
    }

    void clear() {
        Arrays.fill(host, null);
        Arrays.fill(device, null);
        Arrays.fill(address, 0);
        Arrays.fill(extent, 0);
        Arrays.fill(stride, 0);
        mode = null;
        workspace = workspaceBytes = errorWord = stream = 0;
    }

    /**
     * Puts a host buffer or a backend buffer, by its type, in {@code slot} (null: the slot stays
     * empty), so that one method builds the call of an overload for either kind.
     */
    Call put(int slot, Object buffer) {
        if (buffer instanceof DeviceBuffer d) {
            device[slot] = d;
        } else {
            host[slot] = (Buffer) buffer;
        }
        return this;
    }

    boolean present(int slot) {
        return host[slot] != null || device[slot] != null;
    }

    FloatBuffer floats(int slot) {
        return (FloatBuffer) host[slot];
    }

    IntBuffer ints(int slot) {
        return (IntBuffer) host[slot];
    }

    /** The size as the pure-Java kernels index it; the java backend has checked that it fits. */
    int intSize(int index) {
        return (int) sizes[index];
    }
}
