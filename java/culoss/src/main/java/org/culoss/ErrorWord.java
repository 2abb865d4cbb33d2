package org.culoss;

/**
 * The device-side error word of the losses with integer labels. It lives in the first
 * {@link #BYTES} bytes of the caller's workspace; the kernels OR {@link #BAD_TARGET_BIT} into it
 * for a label outside its range, and the rest of the workspace is what the C API's
 * {@code ...WorkspaceSize} asked for.
 */
final class ErrorWord {
    /** Bytes at the start of a workspace that hold the error word (16 keeps the rest aligned). */
    static final long BYTES = 16;
    /** CULOSS_DEVICE_ERROR_BAD_TARGET. */
    static final int BAD_TARGET_BIT = 1;

    private ErrorWord() {}

    /** A workspace of {@code bytes} of backend memory, zeroed (error word cleared). */
    static DeviceBuffer allocateWorkspace(Backend backend, long bytes) {
        DeviceBuffer ws = DeviceBuffer.allocate(backend, bytes);
        backend.fill(ws.address(), 0, bytes, 0);
        backend.synchronize(0);
        return ws;
    }

    /**
     * Waits for {@code stream}, reads the word at the start of {@code workspace}, clears it, and
     * throws {@link CulossException} with {@link Status#INVALID_TARGET} and {@code message} if it was set.
     */
    static void check(Backend backend, DeviceBuffer workspace, long stream, String message) {
        Checks.notNull(workspace, "workspace");
        Checks.device(workspace, backend, BYTES, "workspace");
        int[] word = new int[1];
        long address = workspace.acquireAddress();
        try {
            backend.synchronize(stream);
            workspace.copyTo(word);
            backend.fill(address, 0, Integer.BYTES, stream);
            backend.synchronize(stream);
        } finally {
            workspace.release();
        }
        if (word[0] != 0) throw new CulossException(Status.INVALID_TARGET, message);
    }

    /** Reads the word at {@code address} (backend memory) after the backend's work is done. */
    static int read(Backend backend, long address) {
        try (org.bytedeco.javacpp.IntPointer host = new org.bytedeco.javacpp.IntPointer(1)) {
            backend.copy(host.address(), address, Integer.BYTES, 1, 0);
            backend.synchronize(0);
            return host.get(0);
        }
    }

    /** Sets the bad-target bit in the word at {@code address} (host-visible memory: the java backend). */
    static void setBadTarget(long address) {
        java.nio.IntBuffer word = OffHeap.ints(address, 1);
        word.put(0, word.get(0) | BAD_TARGET_BIT);
    }
}
