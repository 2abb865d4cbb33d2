package org.culoss;

import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import org.culoss.internal.JavaCenterLoss;
import org.culoss.internal.JavaSigmoidFocal;
import org.culoss.internal.JavaSmoothL1;
import org.culoss.internal.JavaSoftmaxCrossEntropy;
import org.culoss.internal.JavaSoftmaxFocal;
import org.culoss.internal.JavaTripletMargin;

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
    long softmaxCrossEntropy(SoftmaxCrossEntropy op, FloatBuffer logits, long logitsStride, IntBuffer targets, int n,
            int c, FloatBuffer gradOutput, FloatBuffer loss, FloatBuffer gradLogits, long gradStride) {
        float[] w = op.weightsNoCopy();
        return JavaSoftmaxCrossEntropy.run(logits, logitsStride, targets, n, c, w == null ? null : FloatBuffer.wrap(w),
                op.ignoreIndexValue(), op.labelSmoothing(), op.reduction(), gradOutput, loss, gradLogits, gradStride,
                threads);
    }

    @Override
    void softmaxCrossEntropy(SoftmaxCrossEntropy op, long logits, long logitsStride, long targets, long n, long c,
            long classWeights, long gradOutput, long loss, long gradLogits, long gradStride, long workspace,
            long workspaceBytes, long errorWord, long stream) {
        int rows = Math.toIntExact(n);
        int classes = Math.toIntExact(c);
        long lossLength = op.reduction() == Reduction.NONE ? n : 1;
        long bad = softmaxCrossEntropy(op, OffHeap.floats(logits, Checks.matrixLength(n, c, logitsStride)),
                logitsStride, OffHeap.ints(targets, n), rows, classes,
                gradOutput == 0 ? null : OffHeap.floats(gradOutput, lossLength),
                loss == 0 ? null : OffHeap.floats(loss, lossLength),
                gradLogits == 0 ? null : OffHeap.floats(gradLogits, Checks.matrixLength(n, c, gradStride)),
                gradStride);
        if (bad != -1) ErrorWord.setBadTarget(errorWord);
    }

    @Override
    long softmaxCrossEntropyWorkspaceBytes(long n, long c, Reduction reduction) {
        return 0;
    }

    @Override
    void tripletMargin(TripletMargin op, FloatBuffer anchor, FloatBuffer positive, FloatBuffer negative, int n, int d,
            FloatBuffer gradOutput, FloatBuffer loss, FloatBuffer gradAnchor, FloatBuffer gradPositive,
            FloatBuffer gradNegative) {
        JavaTripletMargin.run(anchor, positive, negative, n, d, op.margin(), op.p(), op.eps(), op.swap(),
                op.reduction(), gradOutput, loss, gradAnchor, gradPositive, gradNegative, threads);
    }

    @Override
    void tripletMargin(TripletMargin op, long anchor, long positive, long negative, long n, long d, long gradOutput,
            long loss, long gradAnchor, long gradPositive, long gradNegative, long workspace, long workspaceBytes,
            long stream) {
        long count = n * d;
        Checks.arrayLength(n, d, "n * d");  // the java backend views backend memory through NIO buffers
        long lossLength = op.reduction() == Reduction.NONE ? n : 1;
        tripletMargin(op, OffHeap.floats(anchor, count), OffHeap.floats(positive, count),
                OffHeap.floats(negative, count), Math.toIntExact(n), Math.toIntExact(d),
                gradOutput == 0 ? null : OffHeap.floats(gradOutput, lossLength),
                loss == 0 ? null : OffHeap.floats(loss, lossLength),
                gradAnchor == 0 ? null : OffHeap.floats(gradAnchor, count),
                gradPositive == 0 ? null : OffHeap.floats(gradPositive, count),
                gradNegative == 0 ? null : OffHeap.floats(gradNegative, count));
    }

    @Override
    long tripletMarginWorkspaceBytes(long n, long d, Reduction reduction) {
        return 0;
    }

    @Override
    long softmaxFocal(SoftmaxFocal op, FloatBuffer logits, long logitsStride, IntBuffer targets, int n, int c,
            FloatBuffer gradOutput, FloatBuffer loss, FloatBuffer gradLogits, long gradStride) {
        float[] a = op.classAlphaNoCopy();
        return JavaSoftmaxFocal.run(logits, logitsStride, targets, n, c, a == null ? null : FloatBuffer.wrap(a),
                op.alpha(), op.gamma(), op.ignoreIndexValue(), op.reduction(), gradOutput, loss, gradLogits,
                gradStride, threads);
    }

    @Override
    void softmaxFocal(SoftmaxFocal op, long logits, long logitsStride, long targets, long n, long c, long classAlpha,
            long gradOutput, long loss, long gradLogits, long gradStride, long workspace, long workspaceBytes,
            long errorWord, long stream) {
        long lossLength = op.reduction() == Reduction.NONE ? n : 1;
        long bad = softmaxFocal(op, OffHeap.floats(logits, Checks.matrixLength(n, c, logitsStride)), logitsStride,
                OffHeap.ints(targets, n), Math.toIntExact(n), Math.toIntExact(c),
                gradOutput == 0 ? null : OffHeap.floats(gradOutput, lossLength),
                loss == 0 ? null : OffHeap.floats(loss, lossLength),
                gradLogits == 0 ? null : OffHeap.floats(gradLogits, Checks.matrixLength(n, c, gradStride)),
                gradStride);
        if (bad != -1) ErrorWord.setBadTarget(errorWord);
    }

    @Override
    long softmaxFocalWorkspaceBytes(long n, long c, Reduction reduction) {
        return 0;
    }

    @Override
    long centerLoss(CenterLoss op, FloatBuffer features, IntBuffer labels, FloatBuffer centers, int n, int d, int c,
            FloatBuffer gradOutput, FloatBuffer loss, FloatBuffer gradFeatures, FloatBuffer gradCenters) {
        return JavaCenterLoss.run(features, labels, centers, n, d, c, op.lambda(), op.reduction(), gradOutput, loss,
                gradFeatures, gradCenters, threads);
    }

    @Override
    void centerLoss(CenterLoss op, long features, long labels, long centers, long n, long d, long c, long gradOutput,
            long loss, long gradFeatures, long gradCenters, long workspace, long workspaceBytes, long errorWord,
            long stream) {
        long lossLength = op.reduction() == Reduction.NONE ? n : 1;
        long bad = centerLoss(op, OffHeap.floats(features, n * d), OffHeap.ints(labels, n),
                OffHeap.floats(centers, c * d), Math.toIntExact(n), Math.toIntExact(d), Math.toIntExact(c),
                gradOutput == 0 ? null : OffHeap.floats(gradOutput, lossLength),
                loss == 0 ? null : OffHeap.floats(loss, lossLength),
                gradFeatures == 0 ? null : OffHeap.floats(gradFeatures, n * d),
                gradCenters == 0 ? null : OffHeap.floats(gradCenters, c * d));
        if (bad != -1) ErrorWord.setBadTarget(errorWord);
    }

    @Override
    long centerLossUpdate(CenterLoss op, FloatBuffer features, IntBuffer labels, FloatBuffer centers, int n, int d,
            int c) {
        return JavaCenterLoss.updateCenters(features, labels, centers, n, d, c, op.alpha(), threads);
    }

    @Override
    void centerLossUpdate(CenterLoss op, long features, long labels, long centers, long n, long d, long c,
            long workspace, long workspaceBytes, long errorWord, long stream) {
        long bad = centerLossUpdate(op, OffHeap.floats(features, n * d), OffHeap.ints(labels, n),
                OffHeap.floats(centers, c * d), Math.toIntExact(n), Math.toIntExact(d), Math.toIntExact(c));
        if (bad != -1) ErrorWord.setBadTarget(errorWord);
    }

    @Override
    long centerLossWorkspaceBytes(long n, long d, long c, Reduction reduction) {
        return 0;
    }

    // ---- the elementwise losses: the device variants view the addresses as buffers ----

    @Override
    void sigmoidFocal(SigmoidFocal op, FloatBuffer logits, FloatBuffer targets, int count, FloatBuffer gradOutput,
            FloatBuffer loss, FloatBuffer gradLogits) {
        JavaSigmoidFocal.run(logits, targets, count, op.alpha(), op.gamma(), op.reduction(), gradOutput, loss,
                gradLogits, threads);
    }

    @Override
    void sigmoidFocal(SigmoidFocal op, long logits, long targets, long count, long gradOutput, long loss,
            long gradLogits, long workspace, long workspaceBytes, long stream) {
        int n = elements(count);
        sigmoidFocal(op, OffHeap.floats(logits, n), OffHeap.floats(targets, n), n,
                viewOrNull(gradOutput, op.reduction(), n), viewOrNull(loss, op.reduction(), n),
                gradLogits == 0 ? null : OffHeap.floats(gradLogits, n));
    }

    @Override
    long sigmoidFocalWorkspaceBytes(long count, Reduction reduction) {
        return 0;
    }

    @Override
    void smoothL1(SmoothL1 op, FloatBuffer input, FloatBuffer target, int count, FloatBuffer gradOutput,
            FloatBuffer loss, FloatBuffer gradInput) {
        JavaSmoothL1.run(false, input, target, count, op.beta(), op.reduction(), gradOutput, loss, gradInput, threads);
    }

    @Override
    void smoothL1(SmoothL1 op, long input, long target, long count, long gradOutput, long loss, long gradInput,
            long workspace, long workspaceBytes, long stream) {
        int n = elements(count);
        smoothL1(op, OffHeap.floats(input, n), OffHeap.floats(target, n), n, viewOrNull(gradOutput, op.reduction(), n),
                viewOrNull(loss, op.reduction(), n), gradInput == 0 ? null : OffHeap.floats(gradInput, n));
    }

    @Override
    long smoothL1WorkspaceBytes(long count, Reduction reduction) {
        return 0;
    }

    @Override
    void huber(Huber op, FloatBuffer input, FloatBuffer target, int count, FloatBuffer gradOutput, FloatBuffer loss,
            FloatBuffer gradInput) {
        JavaSmoothL1.run(true, input, target, count, op.delta(), op.reduction(), gradOutput, loss, gradInput, threads);
    }

    @Override
    void huber(Huber op, long input, long target, long count, long gradOutput, long loss, long gradInput,
            long workspace, long workspaceBytes, long stream) {
        int n = elements(count);
        huber(op, OffHeap.floats(input, n), OffHeap.floats(target, n), n, viewOrNull(gradOutput, op.reduction(), n),
                viewOrNull(loss, op.reduction(), n), gradInput == 0 ? null : OffHeap.floats(gradInput, n));
    }

    @Override
    long huberWorkspaceBytes(long count, Reduction reduction) {
        return 0;
    }

    /** The pure-Java kernels index with int: more elements than that is refused, not truncated. */
    private static int elements(long count) {
        if (count > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("count (" + count + ") is more than the java backend handles in one call (2^31 - 9)");
        }
        return (int) count;
    }

    /** A per-element (NONE) or scalar buffer at {@code address}, or null for 0. */
    private static FloatBuffer viewOrNull(long address, Reduction reduction, int count) {
        return address == 0 ? null : OffHeap.floats(address, reduction == Reduction.NONE ? count : 1);
    }
}
