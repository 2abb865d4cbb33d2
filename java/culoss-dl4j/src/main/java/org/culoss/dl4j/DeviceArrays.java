package org.culoss.dl4j;

import java.lang.ref.Reference;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.culoss.Backend;
import org.culoss.DeviceBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * One loss call's nd4j arrays as culoss device buffers, so that every adapter is written once,
 * against culoss's device-buffer API, whatever nd4j backend holds the arrays and whatever culoss
 * backend computes:
 *
 * <ul>
 *   <li>{@link InPlace}: nd4j-native arrays on a culoss backend whose memory is host memory (java,
 *       emulated): the buffers are the arrays' own memory.
 *   <li>{@link Nd4jCudaArrays}: nd4j-cuda arrays on culoss's cuda backend: the arrays' device
 *       pointers and the stream of nd4j's context, and nd4j told what was written. No copy.
 *   <li>{@link Staged}: any other pairing (nd4j-native arrays on the cuda backend, nd4j-cuda arrays
 *       on the java one): each input copied into the backend's memory, each output copied back.
 * </ul>
 *
 * Arrays handed over are contiguous row-major float or int32 arrays ({@link NdArrays#rowMajorFloats}).
 * After {@link #close} what culoss wrote is what nd4j reads.
 */
abstract class DeviceArrays implements AutoCloseable {
    final Backend backend;
    /**
     * Every array whose memory a buffer of this call points into: culoss holds an address, not the
     * array, and an array nothing references may be collected and its memory freed (nd4j frees
     * through the garbage collector) before the kernels that read it have run.
     */
    private final List<INDArray> held = new ArrayList<>();

    DeviceArrays(Backend backend) {
        this.backend = backend;
    }

    /** Tests only: what every call uses instead of its pairing's (null: the pairing's). */
    static volatile Function<Backend, DeviceArrays> substitute;

    /** The arrays of one call on {@code backend}: the pairing above that nd4j's backend and it make. */
    static DeviceArrays open(Backend backend) {
        Function<Backend, DeviceArrays> s = substitute;
        if (s != null) return s.apply(backend);
        boolean hostBackend = !backend.name().equals("cuda");  // java, emulated: device memory is host memory
        if (NdArrays.inPlace && hostBackend) return new InPlace(backend);
        if (!NdArrays.inPlace && !hostBackend && Nd4jCudaArrays.usable()) return new Nd4jCudaArrays(backend);
        return new Staged(backend);
    }

    /** An array culoss reads. */
    abstract DeviceBuffer in(INDArray a);

    /** An array culoss writes, every element of it. */
    abstract DeviceBuffer out(INDArray a);

    /** A zeroed scratch buffer of at least {@code bytes} (a loss's workspace), or null for none. */
    final DeviceBuffer workspace(long bytes) {
        return bytes == 0 ? null : in(Nd4j.zeros(DataType.FLOAT, Math.floorDiv(bytes + 3, 4)));
    }

    /** After the calls: what culoss wrote is in the output arrays, as nd4j sees them. */
    @Override
    public abstract void close();

    /** {@code a}, kept reachable until {@link #release}. */
    final INDArray hold(INDArray a) {
        held.add(a);
        return a;
    }

    /** The end of the call's use of its arrays (after the work that reads them is ordered before any reuse). */
    final void release() {
        Reference.reachabilityFence(held);
        held.clear();
    }

    static void checkPlain(INDArray a) {
        boolean typed = a.dataType() == DataType.FLOAT || a.dataType() == DataType.INT;
        if (!typed || !NdArrays.isRowMajorContiguous(a))
            throw new IllegalStateException("not a contiguous row-major float or int32 array: " + a.shapeInfoToString());
    }

    static long bytes(INDArray a) {
        return Math.multiplyExact(a.length(), 4L);
    }

    /** nd4j-native memory, used where it is. */
    static final class InPlace extends DeviceArrays {
        InPlace(Backend backend) {
            super(backend);
        }

        @Override
        DeviceBuffer in(INDArray a) {
            checkPlain(a);
            if (a.isEmpty()) return DeviceBuffer.wrap(backend, 0, 0, 0);
            // A view's data buffer is itself a view, whose address is the view's first element.
            return DeviceBuffer.wrap(backend, hold(a).data().addressPointer().address(), bytes(a), 0);
        }

        @Override
        DeviceBuffer out(INDArray a) {
            return in(a);
        }

        @Override
        public void close() {
            try {
                backend.synchronize(0);  // the emulated backend queues its kernels on a stream of its own
            } finally {
                release();
            }
        }
    }

    /** Copies into the backend's memory and back. */
    static final class Staged extends DeviceArrays {
        private final List<DeviceBuffer> buffers = new ArrayList<>();
        private final List<INDArray> outputs = new ArrayList<>();
        private final List<DeviceBuffer> written = new ArrayList<>();

        Staged(Backend backend) {
            super(backend);
        }

        private DeviceBuffer allocate(INDArray a) {
            checkPlain(a);
            DeviceBuffer b = a.dataType() == DataType.FLOAT ? backend.allocateFloats(a.length())
                    : backend.allocateInts(a.length());
            buffers.add(b);
            return b;
        }

        @Override
        DeviceBuffer in(INDArray a) {
            DeviceBuffer b = allocate(a);
            if (a.isEmpty()) return b;
            if (a.dataType() == DataType.FLOAT) b.copyFrom(NdArrays.toFloats(a));
            else b.copyFrom(a.toIntVector());
            return b;
        }

        @Override
        DeviceBuffer out(INDArray a) {
            DeviceBuffer b = allocate(a);
            outputs.add(a);
            written.add(b);
            return b;
        }

        @Override
        public void close() {
            try {
                for (int i = 0; i < outputs.size(); i++) {
                    INDArray a = outputs.get(i);
                    if (a.isEmpty()) continue;
                    if (a.dataType() == DataType.FLOAT) {
                        float[] values = new float[Math.toIntExact(a.length())];
                        written.get(i).copyTo(values);
                        a.assign(Nd4j.create(values, a.shape(), 'c'));
                    } else {
                        int[] values = new int[Math.toIntExact(a.length())];
                        written.get(i).copyTo(values);
                        a.assign(Nd4j.createFromArray(values).reshape(a.shape()));
                    }
                }
            } finally {
                buffers.forEach(DeviceBuffer::close);
            }
        }
    }
}
