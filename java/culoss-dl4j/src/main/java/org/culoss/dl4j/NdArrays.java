package org.culoss.dl4j;

import java.nio.FloatBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * nd4j arrays as culoss reads them: contiguous row-major float arrays ({@link #rowMajorFloats}),
 * and, for what is computed on the host (masks, labels checked, the center-loss layer), host
 * buffers and floats. On nd4j's CPU backend (nd4j-native) a host buffer is a view of the array's
 * memory; on a backend whose arrays live elsewhere (nd4j-cuda) nothing is trusted to be a view:
 * inputs are read with nd4j's own host copy and outputs are written to the heap and made into
 * arrays by nd4j, so that nd4j knows where the current data is.
 */
final class NdArrays {
    /** nd4j's arrays are host memory that culoss may read and write in place. */
    static volatile boolean inPlace = Nd4j.getEnvironment().isCPU();

    private NdArrays() {}

    /** {@code a} itself when it is a contiguous row-major float matrix, else such a copy of it. */
    static INDArray rowMajorFloats(INDArray a) {
        if (a.dataType() == DataType.FLOAT && isRowMajorContiguous(a)) return a;
        INDArray copy = Nd4j.createUninitialized(DataType.FLOAT, a.shape(), 'c');
        copy.assign(a);
        return copy;
    }

    /** The elements of {@code a} in row-major order, for culoss to read: in place where it can. */
    static FloatBuffer read(INDArray a) {
        return inPlace ? view(rowMajorFloats(a)) : FloatBuffer.wrap(toFloats(a));
    }

    /** The elements of {@code a} in row-major order, as a new array. */
    static float[] toFloats(INDArray a) {
        if (!inPlace) return a.isEmpty() ? new float[0] : Nd4j.toFlattened('c', a.castTo(DataType.FLOAT)).toFloatVector();
        float[] out = new float[Math.toIntExact(a.length())];
        view(rowMajorFloats(a)).get(out);
        return out;
    }

    /** A new row-major float array for culoss to write, and the array nd4j gets. */
    static Output output(long... shape) {
        return new Output(shape);
    }

    /** An output: {@link #buffer} for culoss, then {@link #array} for nd4j. */
    static final class Output {
        private final long[] shape;
        private final INDArray array;
        private final float[] heap;
        final FloatBuffer buffer;

        private Output(long[] shape) {
            this.shape = shape;
            if (inPlace) {
                array = Nd4j.createUninitialized(DataType.FLOAT, shape, 'c');
                heap = null;
                buffer = view(array);
            } else {
                long length = 1;
                for (long s : shape) length = Math.multiplyExact(length, s);
                array = null;
                heap = new float[Math.toIntExact(length)];
                buffer = FloatBuffer.wrap(heap);
            }
        }

        /** The written values as an nd4j array (after culoss has written {@link #buffer}). */
        INDArray array() {
            return array != null ? array : Nd4j.create(heap, shape, 'c');
        }
    }

    /**
     * The native memory of a contiguous row-major float array on nd4j's CPU backend as a direct
     * buffer, positioned at the array's first element and limited to its last.
     */
    private static FloatBuffer view(INDArray a) {
        if (a.dataType() != DataType.FLOAT || !isRowMajorContiguous(a))
            throw new IllegalStateException("not a contiguous row-major float array: " + a.shapeInfoToString());
        FloatBuffer all = a.data().asNioFloat();  // positioned at the array's offset
        int start = all.position();
        all.limit(Math.addExact(start, Math.toIntExact(a.length())));
        all.position(start);
        return all;
    }

    static boolean isRowMajorContiguous(INDArray a) {
        if (a.isEmpty()) return true;
        long[] shape = a.shape();
        long[] stride = a.stride();
        long expected = 1;
        for (int d = shape.length - 1; d >= 0; d--) {
            if (shape[d] != 1 && stride[d] != expected) return false;
            expected *= shape[d];
        }
        return true;
    }
}
