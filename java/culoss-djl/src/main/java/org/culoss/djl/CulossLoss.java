package org.culoss.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.loss.Loss;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import org.culoss.Backend;
import org.culoss.Culoss;

/**
 * A culoss loss as a DJL {@link Loss}. DJL has no hook for a loss's own gradient, so culoss
 * computes the batch's loss {@code L} and its gradient {@code G} with respect to the predictions in
 * one pass, and {@link #evaluate} returns the surrogate
 * {@code sum(x * stopGradient(G)) + stopGradient(L - sum(x * G))}: its value is {@code L} and its
 * gradient with respect to {@code x} is exactly {@code G}, so DJL's autograd and trainers use it as
 * they use any loss. The price is one multiply-and-sum over the predictions in the engine.
 *
 * <p>On the CPU the predictions are read in place (a direct view of the tensor's memory,
 * {@code toByteBuffer(true)}) and {@code G} is written into direct memory that the new tensor
 * wraps: no copy. On a GPU, DJL gives no device pointer: the predictions are copied to the host
 * and {@code G} back to the device.
 */
public abstract class CulossLoss extends Loss {
    private Backend backend = Culoss.java();

    protected CulossLoss(String name) {
        super(name);
    }

    /** The culoss backend the loss runs on (default: the pure-Java one; the tensors are host memory). */
    @SuppressWarnings("unchecked")
    public <T extends CulossLoss> T onBackend(Backend backend) {
        this.backend = java.util.Objects.requireNonNull(backend, "backend");
        rebuild();
        return (T) this;
    }

    final Backend backend() {
        return backend;
    }

    /** Rebuilds the culoss loss after the backend changed. */
    abstract void rebuild();

    /**
     * The batch's loss (the mean DJL's losses give) and its gradient with respect to the
     * predictions, written into {@code grad} (row-major, the predictions' shape).
     */
    abstract double compute(NDArray label, FloatBuffer predictions, Shape shape, FloatBuffer grad);

    @Override
    public NDArray evaluate(NDList label, NDList prediction) {
        NDArray pred = prediction.singletonOrThrow();
        if (pred.getDataType() != DataType.FLOAT32)
            throw new IllegalArgumentException(getName() + ": predictions must be float32, got " + pred.getDataType());
        Shape shape = pred.getShape();
        int size = Math.toIntExact(shape.size());
        FloatBuffer x = pred.toByteBuffer(true).order(ByteOrder.nativeOrder()).asFloatBuffer();
        NDManager manager = pred.getManager();
        ByteBuffer g = manager.allocateDirect(Math.multiplyExact(size, Float.BYTES)).order(ByteOrder.nativeOrder());
        double value = compute(label.singletonOrThrow(), x, shape, g.asFloatBuffer());
        NDArray grad = manager.create(g, shape, DataType.FLOAT32);
        return surrogate(pred, grad, value);
    }

    /** A scalar with value {@code value} and gradient {@code grad} with respect to {@code pred}. */
    static NDArray surrogate(NDArray pred, NDArray grad, double value) {
        NDArray linear = pred.mul(grad.stopGradient()).sum();
        return linear.add(linear.stopGradient().neg().add((float) value));
    }

    /** {@code array} as float32 values in row-major order, read in place where the engine allows. */
    static FloatBuffer floats(NDArray array) {
        NDArray f = array.getDataType() == DataType.FLOAT32 ? array : array.toType(DataType.FLOAT32, false);
        return f.toByteBuffer(true).order(ByteOrder.nativeOrder()).asFloatBuffer();
    }
}
