package org.culoss;

/**
 * One implementation of the losses: {@code java} (pure Java, on the heap or off-heap host
 * memory), {@code emulated} (the CUDA kernels run on the CPU) or {@code cuda}. Obtain one from
 * {@link Culoss}. Every backend computes the same results; the tests hold them to each other.
 */
public abstract class Backend {
    private final String name;

    Backend(String name) {
        this.name = name;
    }

    /** {@code java}, {@code emulated} or {@code cuda}. */
    public final String name() {
        return name;
    }

    /**
     * Allocates {@code count} floats of this backend's memory: device memory for {@code cuda},
     * off-heap host memory otherwise. Allocation may synchronise the device; do it up front.
     */
    public DeviceBuffer allocateFloats(long count) {
        return DeviceBuffer.allocate(this, Sizes.bytes(count, Float.BYTES, "count"));
    }

    /** Allocates {@code count} int32 values of this backend's memory. */
    public DeviceBuffer allocateInts(long count) {
        return DeviceBuffer.allocate(this, Sizes.bytes(count, Integer.BYTES, "count"));
    }

    /** Waits until the work queued on {@code stream} (a {@code cudaStream_t} address, 0: default) is done. */
    public abstract void synchronize(long stream);

    @Override
    public String toString() {
        return name;
    }

    // ---- the service interface the loss classes call; arguments are already checked ----

    abstract long allocate(long bytes);

    abstract void free(long address);

    /** kind: 0 host to device, 1 device to host, 2 device to device, as in culossMemcpyAsync. */
    abstract void copy(long dst, long src, long bytes, int kind, long stream);

    abstract void fill(long dst, int value, long bytes, long stream);

    /**
     * Runs a declared operation on host buffers (checked, sliced at their position),
     * synchronously. Returns true when a label was outside its range (the row counted for
     * nothing); the caller names the row.
     */
    abstract <L extends LossFunction> boolean runHost(Op<L> op, L loss, Call call);

    /** Queues a declared operation on backend memory (checked and held) on {@code call.stream}. */
    abstract <L extends LossFunction> void runDevice(Op<L> op, L loss, Call call);

    /** The kernels' workspace for these sizes, the error word not included. */
    abstract <L extends LossFunction> long workspaceBytes(Op<L> op, L loss, long[] sizes);

    static long checkCount(long count, String name) {
        if (count < 0) throw new IllegalArgumentException(name + " (" + count + ") is negative");
        return count;
    }
}
