package org.culoss;

import java.nio.FloatBuffer;
import java.nio.IntBuffer;

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
        return DeviceBuffer.allocate(this, checkCount(count, "count") * Float.BYTES);
    }

    /** Allocates {@code count} int32 values of this backend's memory. */
    public DeviceBuffer allocateInts(long count) {
        return DeviceBuffer.allocate(this, checkCount(count, "count") * Integer.BYTES);
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

    /** Host buffers in, host buffers out, synchronous. Returns the first invalid target row or -1. */
    abstract long softmaxCrossEntropy(SoftmaxCrossEntropy op, FloatBuffer logits, long logitsStride,
            IntBuffer targets, int n, int c, FloatBuffer gradOutput, FloatBuffer loss, FloatBuffer gradLogits,
            long gradStride);

    /** Backend memory in and out, queued on {@code stream}; the error word is set for bad targets. */
    abstract void softmaxCrossEntropy(SoftmaxCrossEntropy op, long logits, long logitsStride, long targets, long n,
            long c, long classWeights, long gradOutput, long loss, long gradLogits, long gradStride, long workspace,
            long workspaceBytes, long errorWord, long stream);

    abstract long softmaxCrossEntropyWorkspaceBytes(long n, long c, Reduction reduction);

    /**
     * Center loss, host buffers, synchronous: loss, gradFeatures, gradCenters each optional.
     * Returns the first row with a label outside [0, c), or -1.
     */
    abstract long centerLoss(CenterLoss op, FloatBuffer features, IntBuffer labels, FloatBuffer centers, int n, int d,
            int c, FloatBuffer gradOutput, FloatBuffer loss, FloatBuffer gradFeatures, FloatBuffer gradCenters);

    /** Center loss on backend memory, queued on {@code stream}; the error word is set for bad labels. */
    abstract void centerLoss(CenterLoss op, long features, long labels, long centers, long n, long d, long c,
            long gradOutput, long loss, long gradFeatures, long gradCenters, long workspace, long workspaceBytes,
            long errorWord, long stream);

    /** The center update in place, host buffers, synchronous. Returns the first bad label's row, or -1. */
    abstract long centerLossUpdate(CenterLoss op, FloatBuffer features, IntBuffer labels, FloatBuffer centers, int n,
            int d, int c);

    /** The center update in place on backend memory, queued on {@code stream}. */
    abstract void centerLossUpdate(CenterLoss op, long features, long labels, long centers, long n, long d, long c,
            long workspace, long workspaceBytes, long errorWord, long stream);

    abstract long centerLossWorkspaceBytes(long n, long d, long c, Reduction reduction);

    /**
     * Triplet margin loss. Host buffers in, host buffers out, synchronous; any of the three
     * gradients may be null (loss null: no forward).
     */
    abstract void tripletMargin(TripletMargin op, FloatBuffer anchor, FloatBuffer positive, FloatBuffer negative,
            int n, int d, FloatBuffer gradOutput, FloatBuffer loss, FloatBuffer gradAnchor, FloatBuffer gradPositive,
            FloatBuffer gradNegative);

    /** Triplet margin loss on backend memory, queued on {@code stream}; 0 for an absent output. */
    abstract void tripletMargin(TripletMargin op, long anchor, long positive, long negative, long n, long d,
            long gradOutput, long loss, long gradAnchor, long gradPositive, long gradNegative, long workspace,
            long workspaceBytes, long stream);

    abstract long tripletMarginWorkspaceBytes(long n, long d, Reduction reduction);

    /** Softmax focal: host buffers in, host buffers out, synchronous. Returns the first invalid target row or -1. */
    abstract long softmaxFocal(SoftmaxFocal op, FloatBuffer logits, long logitsStride, IntBuffer targets, int n,
            int c, FloatBuffer gradOutput, FloatBuffer loss, FloatBuffer gradLogits, long gradStride);

    /** Softmax focal, backend memory, queued on {@code stream}; {@code classAlpha} 0: the scalar alpha. */
    abstract void softmaxFocal(SoftmaxFocal op, long logits, long logitsStride, long targets, long n, long c,
            long classAlpha, long gradOutput, long loss, long gradLogits, long gradStride, long workspace,
            long workspaceBytes, long errorWord, long stream);

    abstract long softmaxFocalWorkspaceBytes(long n, long c, Reduction reduction);

    // The elementwise losses: flat inputs of count floats; null/0 outputs are not computed.

    /** Host buffers in, host buffers out, synchronous. */
    abstract void sigmoidFocal(SigmoidFocal op, FloatBuffer logits, FloatBuffer targets, int count,
            FloatBuffer gradOutput, FloatBuffer loss, FloatBuffer gradLogits);

    /** Backend memory in and out, queued on {@code stream}. */
    abstract void sigmoidFocal(SigmoidFocal op, long logits, long targets, long count, long gradOutput, long loss,
            long gradLogits, long workspace, long workspaceBytes, long stream);

    abstract long sigmoidFocalWorkspaceBytes(long count, Reduction reduction);

    abstract void smoothL1(SmoothL1 op, FloatBuffer input, FloatBuffer target, int count, FloatBuffer gradOutput,
            FloatBuffer loss, FloatBuffer gradInput);

    abstract void smoothL1(SmoothL1 op, long input, long target, long count, long gradOutput, long loss,
            long gradInput, long workspace, long workspaceBytes, long stream);

    abstract long smoothL1WorkspaceBytes(long count, Reduction reduction);

    abstract void huber(Huber op, FloatBuffer input, FloatBuffer target, int count, FloatBuffer gradOutput,
            FloatBuffer loss, FloatBuffer gradInput);

    abstract void huber(Huber op, long input, long target, long count, long gradOutput, long loss,
            long gradInput, long workspace, long workspaceBytes, long stream);

    abstract long huberWorkspaceBytes(long count, Reduction reduction);

    static long checkCount(long count, String name) {
        if (count < 0) throw new IllegalArgumentException(name + " (" + count + ") is negative");
        return count;
    }
}
