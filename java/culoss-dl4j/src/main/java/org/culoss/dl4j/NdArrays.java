package org.culoss.dl4j;

import java.nio.FloatBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * nd4j arrays as culoss's host buffers: a float matrix in row-major order, contiguous, is read and
 * written in place through a view of its native memory; any other layout or type is copied once
 * into one that is.
 */
final class NdArrays {
    private NdArrays() {}

    /** {@code a} itself when it is a contiguous row-major float matrix, else such a copy of it. */
    static INDArray rowMajorFloats(INDArray a) {
        if (a.dataType() == DataType.FLOAT && isRowMajorContiguous(a)) return a;
        INDArray copy = Nd4j.createUninitialized(DataType.FLOAT, a.shape(), 'c');
        copy.assign(a);
        return copy;
    }

    /** A new, uninitialised row-major float array of {@code shape}, for culoss to write. */
    static INDArray newRowMajor(long... shape) {
        return Nd4j.createUninitialized(DataType.FLOAT, shape, 'c');
    }

    /**
     * The native memory of a contiguous row-major float array as a direct buffer, positioned at
     * the array's first element and limited to its last (no copy: culoss reads and writes it).
     */
    static FloatBuffer view(INDArray a) {
        if (a.dataType() != DataType.FLOAT || !isRowMajorContiguous(a))
            throw new IllegalStateException("not a contiguous row-major float array: " + a.shapeInfoToString());
        FloatBuffer all = a.data().asNioFloat();  // positioned at the array's offset
        int start = all.position();
        all.limit(Math.addExact(start, Math.toIntExact(a.length())));
        all.position(start);
        return all;
    }

    /** The elements of {@code a} in row-major order, as a new array. */
    static float[] toFloats(INDArray a) {
        float[] out = new float[Math.toIntExact(a.length())];
        view(rowMajorFloats(a)).get(out);
        return out;
    }

    private static boolean isRowMajorContiguous(INDArray a) {
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
