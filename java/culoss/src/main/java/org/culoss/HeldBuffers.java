package org.culoss;

/**
 * Holds a call's device buffers so that none of them is freed while the call uses it (a
 * concurrent {@link DeviceBuffer#close} waits for the release). Null entries are skipped.
 *
 * <pre>{@code try (HeldBuffers held = HeldBuffers.of(logits, targets, gradOutput)) { ... } }</pre>
 */
final class HeldBuffers implements AutoCloseable {
    private final DeviceBuffer[] buffers;
    private int held;

    private HeldBuffers(DeviceBuffer[] buffers) {
        this.buffers = buffers;
    }

    static HeldBuffers of(DeviceBuffer... buffers) {
        HeldBuffers h = new HeldBuffers(buffers);
        try {
            for (DeviceBuffer b : buffers) {
                if (b != null) b.acquire();
                h.held++;
            }
        } catch (RuntimeException e) {
            h.close();
            throw e;
        }
        return h;
    }

    /** The address of {@code buffer}, or 0 for null. */
    static long address(DeviceBuffer buffer) {
        return buffer == null ? 0 : buffer.address();
    }

    @Override
    public void close() {
        for (int i = 0; i < held; i++) {
            if (buffers[i] != null) buffers[i].release();
        }
        held = 0;
    }
}
