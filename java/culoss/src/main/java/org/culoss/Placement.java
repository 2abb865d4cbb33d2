package org.culoss;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Where a reference case puts its tensors ({@link Declarations.Layout}): the caller's arrays, heap
 * buffers used from a position, direct buffers one float off 16-byte alignment, direct buffers in
 * the other byte order, or backend memory.
 * {@link #run} calls the operation the way that layout reaches it and copies every output back
 * into its array, so that each layout is compared with the same expected values.
 */
final class Placement implements AutoCloseable {
    /** Elements before a heap tensor's position. */
    private static final int HEAP_OFFSET = 3;

    private final Declarations.Layout layout;
    private final Backend backend;
    private final List<Runnable> readBacks = new ArrayList<>();
    private final List<DeviceBuffer> allocated = new ArrayList<>();

    Placement(Declarations.Layout layout, Backend backend) {
        this.layout = layout;
        this.backend = backend;
    }

    void input(Call call, Operand o, Declarations.Array a) {
        if (a.ints() != null) {
            int[] v = a.ints();
            switch (layout) {
                case ARRAYS -> call.host[o.slot] = IntBuffer.wrap(v);
                case HEAP_POSITION -> {
                    int[] room = new int[HEAP_OFFSET + v.length];
                    System.arraycopy(v, 0, room, HEAP_OFFSET, v.length);
                    call.host[o.slot] = IntBuffer.wrap(room).position(HEAP_OFFSET);
                }
                case DIRECT_UNALIGNED -> call.host[o.slot] = direct(v.length).asIntBuffer().position(1).slice().put(v)
                        .clear();
                case DIRECT_SWAPPED -> call.host[o.slot] = swapped(v.length).asIntBuffer().put(v).clear();
                case DEVICE -> {
                    DeviceBuffer b = allocate(backend.allocateInts(v.length));
                    b.copyFrom(v);
                    call.device[o.slot] = b;
                }
            }
            return;
        }
        float[] v = a.floats();
        switch (layout) {
            case ARRAYS -> call.host[o.slot] = FloatBuffer.wrap(v);
            case HEAP_POSITION -> call.host[o.slot] = heap(v);
            case DIRECT_UNALIGNED -> call.host[o.slot] = unaligned(v.length).put(v).clear();
            case DIRECT_SWAPPED -> call.host[o.slot] = swapped(v.length).asFloatBuffer().put(v).clear();
            case DEVICE -> {
                DeviceBuffer b = allocate(backend.allocateFloats(v.length));
                b.copyFrom(v);
                call.device[o.slot] = b;
            }
        }
    }

    /** An output (an in-place tensor holds its input values): read back into {@code values} by {@link #run}. */
    void output(Call call, Operand o, float[] values) {
        switch (layout) {
            case ARRAYS -> call.host[o.slot] = FloatBuffer.wrap(values);
            case HEAP_POSITION -> {
                FloatBuffer b = heap(values);
                call.host[o.slot] = b;
                readBacks.add(() -> b.duplicate().get(values));
            }
            case DIRECT_UNALIGNED, DIRECT_SWAPPED -> {
                FloatBuffer b = (layout == Declarations.Layout.DIRECT_UNALIGNED ? unaligned(values.length)
                        : swapped(values.length).asFloatBuffer()).put(values).clear();
                call.host[o.slot] = b;
                readBacks.add(() -> b.duplicate().clear().get(values));
            }
            case DEVICE -> {
                DeviceBuffer b = allocate(backend.allocateFloats(values.length));
                b.copyFrom(values);
                call.device[o.slot] = b;
                readBacks.add(() -> b.copyTo(values));
            }
        }
    }

    /** Runs the call in this layout's way, then reads every output back; a bad label throws. */
    void run(Op<?> op, LossFunction loss, Call call) {
        if (layout == Declarations.Layout.DEVICE) {
            long bytes = Invoker.workspaceBytes(op, loss, call.sizes.clone());
            DeviceBuffer ws = op.labels != null ? allocate(ErrorWord.allocateWorkspace(backend, bytes))
                    : bytes > 0 ? allocate(DeviceBuffer.allocate(backend, bytes)) : null;
            Invoker.device(op, loss, call, ws);
            backend.synchronize(0);
            if (ws != null && op.labels != null) ErrorWord.check(backend, ws, 0, Invoker.badLabelMessage(op, loss));
        } else {
            Invoker.host(op, loss, call);
        }
        readBacks.forEach(Runnable::run);
        readBacks.clear();
    }

    @Override
    public void close() {
        allocated.forEach(DeviceBuffer::close);
    }

    private DeviceBuffer allocate(DeviceBuffer b) {
        allocated.add(b);
        return b;
    }

    private static FloatBuffer heap(float[] v) {
        float[] room = new float[HEAP_OFFSET + v.length];
        System.arraycopy(v, 0, room, HEAP_OFFSET, v.length);
        return FloatBuffer.wrap(room).position(HEAP_OFFSET);
    }

    /** {@code count} floats from one float past a direct buffer's start: 4- but not 16-byte aligned. */
    private static FloatBuffer unaligned(int count) {
        return direct(count).asFloatBuffer().position(1).slice();
    }

    /** A direct buffer in the byte order the platform does not use (big-endian on x86 and ARM). */
    private static ByteBuffer swapped(int count) {
        ByteOrder other = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN ? ByteOrder.BIG_ENDIAN
                : ByteOrder.LITTLE_ENDIAN;
        return ByteBuffer.allocateDirect(Float.BYTES * Math.max(count, 1)).order(other);
    }

    private static ByteBuffer direct(int count) {
        return ByteBuffer.allocateDirect(Float.BYTES * (count + 1)).order(ByteOrder.nativeOrder());
    }
}
