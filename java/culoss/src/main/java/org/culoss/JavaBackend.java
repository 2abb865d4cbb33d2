package org.culoss;

import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import org.culoss.internal.JavaCenterLoss;
import org.culoss.internal.JavaSoftmaxCrossEntropy;

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
}
