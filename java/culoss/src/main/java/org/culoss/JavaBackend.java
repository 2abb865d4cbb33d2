package org.culoss;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Pure Java, multi-threaded over rows; its "device" memory is off-heap host memory. */
final class JavaBackend extends Backend {
    private final int threads;

    JavaBackend(int threads) {
        super("java");
        this.threads = threads;
    }

    int threads() {
        return threads;
    }

    @Override
    public void synchronize(long stream) {}

    /**
     * {@code java(1 thread)}, {@code java(8 threads)}: java backends of different thread counts
     * are different backends (their memory does not mix), so their names in messages differ too.
     */
    @Override
    public String toString() {
        return name() + "(" + threads + (threads == 1 ? " thread)" : " threads)");
    }

    @Override
    long allocate(long bytes) {
        return OffHeap.malloc(bytes);
    }

    @Override
    void free(long address) {
        OffHeap.free(address);
    }

    @Override
    void copy(long dst, long src, long bytes, int kind, long stream) {
        org.bytedeco.javacpp.Pointer.memcpy(OffHeap.at(dst), OffHeap.at(src), bytes);
    }

    @Override
    void fill(long dst, int value, long bytes, long stream) {
        org.bytedeco.javacpp.Pointer.memset(OffHeap.at(dst), value, bytes);
    }

    @Override
    <L extends LossFunction> boolean runHost(Op<L> op, L loss, Call call) {
        checkIndexable(op, call);
        return op.javaKernel.run(loss, call, threads) >= 0;
    }

    /**
     * Backend memory is host memory here: the kernels read it through NIO views, cut from each
     * buffer's view made once ({@link DeviceBuffer#hostView}) rather than by a JNI call per call.
     */
    @Override
    <L extends LossFunction> void runDevice(Op<L> op, L loss, Call call) {
        checkIndexable(op, call);
        for (Operand o : op.operands) {
            DeviceBuffer b = call.device[o.slot];
            if (b == null) continue;  // absent, or the loss's table (its array is in the call)
            int extent = (int) call.extent[o.slot];
            if (b.bytes() > Integer.MAX_VALUE) {  // past what one ByteBuffer spans: a view in elements
                call.host[o.slot] = o.dtype == DType.INT32 ? OffHeap.ints(call.address[o.slot], extent)
                        : OffHeap.floats(call.address[o.slot], extent);
                continue;
            }
            ByteBuffer bytes = b.hostView().duplicate().order(ByteOrder.nativeOrder());
            call.host[o.slot] = o.dtype == DType.INT32 ? bytes.asIntBuffer().limit(extent)
                    : bytes.asFloatBuffer().limit(extent);
        }
        if (op.javaKernel.run(loss, call, threads) >= 0 && call.errorWord != 0) ErrorWord.setBadTarget(call.errorWord);
    }

    @Override
    <L extends LossFunction> long workspaceBytes(Op<L> op, L loss, long[] sizes) {
        return 0;
    }

    /** The pure-Java kernels index with int: a larger size or tensor is refused, not truncated. */
    private static void checkIndexable(Op<?> op, Call call) {
        for (int i = 0; i < call.sizes.length; i++) {
            if (call.sizes[i] > Sizes.MAX_ARRAY_LENGTH) throw tooLarge(op.sizeNames.get(i), call.sizes[i]);
        }
        for (Operand o : op.operands) {
            if (call.present(o.slot) && call.extent[o.slot] > Sizes.MAX_ARRAY_LENGTH) throw tooLarge(o.name, call.extent[o.slot]);
        }
    }

    private static IllegalArgumentException tooLarge(String name, long value) {
        return new IllegalArgumentException(name + " (" + value
                + ") is more than the java backend handles in one call (2^31 - 9 elements)");
    }
}
