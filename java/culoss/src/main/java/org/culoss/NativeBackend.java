package org.culoss;

import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.SizeTPointer;
import org.culoss.internal.CulossNative;

/**
 * The JavaCPP binding over libculoss: {@code cuda} (a GPU) or {@code emulated} (the same
 * kernels on the CPU, where "device" memory is host memory). Host calls stage their buffers in
 * backend memory; the emulated backend reads direct buffers in place.
 */
final class NativeBackend extends Backend {
    private final boolean hostIsDevice;

    NativeBackend(String name) {
        super(name);
        this.hostIsDevice = name.equals("emulated");
    }

    static void check(int status, String call) {
        if (status != 0) {
            String detail = CulossNative.culossGetLastErrorDetail();
            throw new CulossException(Status.of(status), call + ": " + CulossNative.culossGetErrorString(status)
                    + (detail == null || detail.isEmpty() ? "" : " (" + detail + ")"));
        }
    }

    @Override
    public void synchronize(long stream) {
        check(CulossNative.culossStreamSynchronize(stream), "culossStreamSynchronize");
    }

    @Override
    long allocate(long bytes) {
        try (LongPointer out = new LongPointer(1)) {
            check(CulossNative.culossMalloc(out, Math.max(bytes, 1)), "culossMalloc");
            return out.get(0);
        }
    }

    @Override
    void free(long address) {
        check(CulossNative.culossFree(address), "culossFree");
    }

    @Override
    void copy(long dst, long src, long bytes, int kind, long stream) {
        check(CulossNative.culossMemcpyAsync(dst, src, bytes, kind, stream), "culossMemcpyAsync");
    }

    @Override
    void fill(long dst, int value, long bytes, long stream) {
        check(CulossNative.culossMemsetAsync(dst, value, bytes, stream), "culossMemsetAsync");
    }

    @Override
    long softmaxCrossEntropyWorkspaceBytes(long n, long c, Reduction reduction) {
        try (SizeTPointer bytes = new SizeTPointer(1)) {
            check(CulossNative.culossSoftmaxCrossEntropyWorkspaceSize(n, c, reduction.nativeValue(), bytes),
                    "culossSoftmaxCrossEntropyWorkspaceSize");
            return bytes.get(0);
        }
    }

    @Override
    void softmaxCrossEntropy(SoftmaxCrossEntropy op, long logits, long logitsStride, long targets, long n, long c,
            long classWeights, long gradOutput, long loss, long gradLogits, long gradStride, long workspace,
            long workspaceBytes, long errorWord, long stream) {
        int status;
        String call;
        if (loss != 0 && gradLogits != 0) {
            call = "culossSoftmaxCrossEntropyForwardBackward";
            status = CulossNative.culossSoftmaxCrossEntropyForwardBackward(logits, logitsStride, targets, n, c,
                    classWeights, op.ignoreIndexValue(), op.labelSmoothing(), op.reduction().nativeValue(), gradOutput,
                    loss, gradLogits, gradStride, workspace, workspaceBytes, errorWord, stream);
        } else if (loss != 0) {
            call = "culossSoftmaxCrossEntropyForward";
            status = CulossNative.culossSoftmaxCrossEntropyForward(logits, logitsStride, targets, n, c, classWeights,
                    op.ignoreIndexValue(), op.labelSmoothing(), op.reduction().nativeValue(), loss, workspace,
                    workspaceBytes, errorWord, stream);
        } else {
            call = "culossSoftmaxCrossEntropyBackward";
            status = CulossNative.culossSoftmaxCrossEntropyBackward(logits, logitsStride, targets, n, c, classWeights,
                    op.ignoreIndexValue(), op.labelSmoothing(), op.reduction().nativeValue(), gradOutput, gradLogits,
                    gradStride, workspace, workspaceBytes, errorWord, stream);
        }
        check(status, call);
    }

    @Override
    long softmaxCrossEntropy(SoftmaxCrossEntropy op, FloatBuffer logits, long logitsStride, IntBuffer targets, int n,
            int c, FloatBuffer gradOutput, FloatBuffer loss, FloatBuffer gradLogits, long gradStride) {
        long lossLength = op.reduction() == Reduction.NONE ? n : 1;
        try (Staging s = staging()) {
            long x = s.in(logits, Checks.matrixLength(n, c, logitsStride));
            long y = s.in(targets, n);
            long go = s.in(gradOutput, lossLength);
            long l = s.out(loss, lossLength);
            long g = s.out(gradLogits, Checks.matrixLength(n, c, gradStride));
            long wsBytes = softmaxCrossEntropyWorkspaceBytes(n, c, op.reduction());
            long ws = s.workspace(wsBytes);
            softmaxCrossEntropy(op, x, logitsStride, y, n, c, op.deviceWeightsAddress(), go, l, g, gradStride,
                    ws + ErrorWord.BYTES, wsBytes, ws, 0);
            s.copyBack();
            return ErrorWord.read(this, ws) == 0 ? -1 : -2;
        }
    }

    @Override
    long tripletMarginWorkspaceBytes(long n, long d, Reduction reduction) {
        try (SizeTPointer bytes = new SizeTPointer(1)) {
            check(CulossNative.culossTripletMarginWorkspaceSize(n, d, reduction.nativeValue(), bytes),
                    "culossTripletMarginWorkspaceSize");
            return bytes.get(0);
        }
    }

    @Override
    void tripletMargin(TripletMargin op, long anchor, long positive, long negative, long n, long d, long gradOutput,
            long loss, long gradAnchor, long gradPositive, long gradNegative, long workspace, long workspaceBytes,
            long stream) {
        int reduction = op.reduction().nativeValue();
        int swap = op.swap() ? 1 : 0;
        boolean backward = gradAnchor != 0 || gradPositive != 0 || gradNegative != 0;
        int status;
        String call;
        if (loss != 0 && backward) {
            call = "culossTripletMarginForwardBackward";
            status = CulossNative.culossTripletMarginForwardBackward(anchor, positive, negative, n, d, op.margin(),
                    op.p(), op.eps(), swap, reduction, gradOutput, loss, gradAnchor, gradPositive, gradNegative,
                    workspace, workspaceBytes, stream);
        } else if (loss != 0) {
            call = "culossTripletMarginForward";
            status = CulossNative.culossTripletMarginForward(anchor, positive, negative, n, d, op.margin(), op.p(),
                    op.eps(), swap, reduction, loss, workspace, workspaceBytes, stream);
        } else {
            call = "culossTripletMarginBackward";
            status = CulossNative.culossTripletMarginBackward(anchor, positive, negative, n, d, op.margin(), op.p(),
                    op.eps(), swap, reduction, gradOutput, gradAnchor, gradPositive, gradNegative, workspace,
                    workspaceBytes, stream);
        }
        check(status, call);
    }

    @Override
    void tripletMargin(TripletMargin op, FloatBuffer anchor, FloatBuffer positive, FloatBuffer negative, int n, int d,
            FloatBuffer gradOutput, FloatBuffer loss, FloatBuffer gradAnchor, FloatBuffer gradPositive,
            FloatBuffer gradNegative) {
        long count = (long) n * d;
        long lossLength = op.reduction() == Reduction.NONE ? n : 1;
        try (Staging s = staging()) {
            long a = s.in(anchor, count);
            long p = s.in(positive, count);
            long ng = s.in(negative, count);
            long go = s.in(gradOutput, lossLength);
            long l = s.out(loss, lossLength);
            long ga = s.out(gradAnchor, count);
            long gp = s.out(gradPositive, count);
            long gn = s.out(gradNegative, count);
            long wsBytes = loss == null ? 0 : tripletMarginWorkspaceBytes(n, d, op.reduction());
            long ws = wsBytes == 0 ? 0 : s.scratch(wsBytes);
            tripletMargin(op, a, p, ng, n, d, go, l, ga, gp, gn, ws, wsBytes, 0);
            s.copyBack();
        }
    }

    @Override
    long softmaxFocalWorkspaceBytes(long n, long c, Reduction reduction) {
        try (SizeTPointer bytes = new SizeTPointer(1)) {
            check(CulossNative.culossSoftmaxFocalWorkspaceSize(n, c, reduction.nativeValue(), bytes),
                    "culossSoftmaxFocalWorkspaceSize");
            return bytes.get(0);
        }
    }

    @Override
    void softmaxFocal(SoftmaxFocal op, long logits, long logitsStride, long targets, long n, long c, long classAlpha,
            long gradOutput, long loss, long gradLogits, long gradStride, long workspace, long workspaceBytes,
            long errorWord, long stream) {
        int status;
        String call;
        int reduction = op.reduction().nativeValue();
        if (loss != 0 && gradLogits != 0) {
            call = "culossSoftmaxFocalForwardBackward";
            status = CulossNative.culossSoftmaxFocalForwardBackward(logits, logitsStride, targets, n, c, classAlpha,
                    op.alpha(), op.gamma(), op.ignoreIndexValue(), reduction, gradOutput, loss, gradLogits,
                    gradStride, workspace, workspaceBytes, errorWord, stream);
        } else if (loss != 0) {
            call = "culossSoftmaxFocalForward";
            status = CulossNative.culossSoftmaxFocalForward(logits, logitsStride, targets, n, c, classAlpha,
                    op.alpha(), op.gamma(), op.ignoreIndexValue(), reduction, loss, workspace, workspaceBytes,
                    errorWord, stream);
        } else {
            call = "culossSoftmaxFocalBackward";
            status = CulossNative.culossSoftmaxFocalBackward(logits, logitsStride, targets, n, c, classAlpha,
                    op.alpha(), op.gamma(), op.ignoreIndexValue(), reduction, gradOutput, gradLogits, gradStride,
                    workspace, workspaceBytes, errorWord, stream);
        }
        check(status, call);
    }

    @Override
    long softmaxFocal(SoftmaxFocal op, FloatBuffer logits, long logitsStride, IntBuffer targets, int n, int c,
            FloatBuffer gradOutput, FloatBuffer loss, FloatBuffer gradLogits, long gradStride) {
        long lossLength = op.reduction() == Reduction.NONE ? n : 1;
        try (Staging s = staging()) {
            long x = s.in(logits, Checks.matrixLength(n, c, logitsStride));
            long y = s.in(targets, n);
            long go = s.in(gradOutput, lossLength);
            long l = s.out(loss, lossLength);
            long g = s.out(gradLogits, Checks.matrixLength(n, c, gradStride));
            long wsBytes = softmaxFocalWorkspaceBytes(n, c, op.reduction());
            long ws = s.workspace(wsBytes);
            softmaxFocal(op, x, logitsStride, y, n, c, op.deviceAlphaAddress(), go, l, g, gradStride,
                    ws + ErrorWord.BYTES, wsBytes, ws, 0);
            s.copyBack();
            return ErrorWord.read(this, ws) == 0 ? -1 : -2;
        }
    }

    @Override
    long centerLossWorkspaceBytes(long n, long d, long c, Reduction reduction) {
        try (SizeTPointer bytes = new SizeTPointer(1)) {
            check(CulossNative.culossCenterLossWorkspaceSize(n, d, c, reduction.nativeValue(), bytes),
                    "culossCenterLossWorkspaceSize");
            return bytes.get(0);
        }
    }

    @Override
    void centerLoss(CenterLoss op, long features, long labels, long centers, long n, long d, long c, long gradOutput,
            long loss, long gradFeatures, long gradCenters, long workspace, long workspaceBytes, long errorWord,
            long stream) {
        int status;
        String call;
        int reduction = op.reduction().nativeValue();
        if (loss != 0 && (gradFeatures != 0 || gradCenters != 0)) {
            call = "culossCenterLossForwardBackward";
            status = CulossNative.culossCenterLossForwardBackward(features, labels, centers, n, d, c, op.lambda(),
                    reduction, gradOutput, loss, gradFeatures, gradCenters, workspace, workspaceBytes, errorWord,
                    stream);
        } else if (loss != 0) {
            call = "culossCenterLossForward";
            status = CulossNative.culossCenterLossForward(features, labels, centers, n, d, c, op.lambda(), reduction,
                    loss, workspace, workspaceBytes, errorWord, stream);
        } else {
            call = "culossCenterLossBackward";
            status = CulossNative.culossCenterLossBackward(features, labels, centers, n, d, c, op.lambda(), reduction,
                    gradOutput, gradFeatures, gradCenters, workspace, workspaceBytes, errorWord, stream);
        }
        check(status, call);
    }

    @Override
    long centerLoss(CenterLoss op, FloatBuffer features, IntBuffer labels, FloatBuffer centers, int n, int d, int c,
            FloatBuffer gradOutput, FloatBuffer loss, FloatBuffer gradFeatures, FloatBuffer gradCenters) {
        long lossLength = op.reduction() == Reduction.NONE ? n : 1;
        try (Staging s = staging()) {
            long x = s.in(features, (long) n * d);
            long y = s.in(labels, n);
            long cs = s.in(centers, (long) c * d);
            long go = s.in(gradOutput, lossLength);
            long l = s.out(loss, lossLength);
            long gf = s.out(gradFeatures, (long) n * d);
            long gc = s.out(gradCenters, (long) c * d);
            long wsBytes = centerLossWorkspaceBytes(n, d, c, op.reduction());
            long ws = s.workspace(wsBytes);
            centerLoss(op, x, y, cs, n, d, c, go, l, gf, gc, ws + ErrorWord.BYTES, wsBytes, ws, 0);
            s.copyBack();
            return ErrorWord.read(this, ws) == 0 ? -1 : -2;
        }
    }

    @Override
    void centerLossUpdate(CenterLoss op, long features, long labels, long centers, long n, long d, long c,
            long workspace, long workspaceBytes, long errorWord, long stream) {
        check(CulossNative.culossCenterLossUpdateCenters(features, labels, centers, n, d, c, op.alpha(), workspace,
                workspaceBytes, errorWord, stream), "culossCenterLossUpdateCenters");
    }

    @Override
    long centerLossUpdate(CenterLoss op, FloatBuffer features, IntBuffer labels, FloatBuffer centers, int n, int d,
            int c) {
        try (Staging s = staging()) {
            long x = s.in(features, (long) n * d);
            long y = s.in(labels, n);
            long cs = s.out(centers, (long) c * d);  // in and out: staged with its values, copied back
            long wsBytes = centerLossWorkspaceBytes(n, d, c, op.reduction());
            long ws = s.workspace(wsBytes);
            centerLossUpdate(op, x, y, cs, n, d, c, ws + ErrorWord.BYTES, wsBytes, ws, 0);
            s.copyBack();
            return ErrorWord.read(this, ws) == 0 ? -1 : -2;
        }
    }

    // ---- the elementwise losses: the host variants stage the buffers and call the device variants ----

    @Override
    long sigmoidFocalWorkspaceBytes(long count, Reduction reduction) {
        try (SizeTPointer bytes = new SizeTPointer(1)) {
            check(CulossNative.culossSigmoidFocalWorkspaceSize(count, reduction.nativeValue(), bytes),
                    "culossSigmoidFocalWorkspaceSize");
            return bytes.get(0);
        }
    }

    @Override
    void sigmoidFocal(SigmoidFocal op, long logits, long targets, long count, long gradOutput, long loss,
            long gradLogits, long workspace, long workspaceBytes, long stream) {
        int r = op.reduction().nativeValue();
        float alpha = op.alpha();
        float gamma = op.gamma();
        if (loss != 0 && gradLogits != 0) {
            check(CulossNative.culossSigmoidFocalForwardBackward(logits, targets, count, alpha, gamma, r, gradOutput,
                    loss, gradLogits, workspace, workspaceBytes, stream), "culossSigmoidFocalForwardBackward");
        } else if (loss != 0) {
            check(CulossNative.culossSigmoidFocalForward(logits, targets, count, alpha, gamma, r, loss, workspace,
                    workspaceBytes, stream), "culossSigmoidFocalForward");
        } else {
            check(CulossNative.culossSigmoidFocalBackward(logits, targets, count, alpha, gamma, r, gradOutput,
                    gradLogits, workspace, workspaceBytes, stream), "culossSigmoidFocalBackward");
        }
    }

    @Override
    void sigmoidFocal(SigmoidFocal op, FloatBuffer logits, FloatBuffer targets, int count, FloatBuffer gradOutput,
            FloatBuffer loss, FloatBuffer gradLogits) {
        long lossLength = op.reduction() == Reduction.NONE ? count : 1;
        try (Staging s = staging()) {
            long x = s.in(logits, count);
            long t = s.in(targets, count);
            long go = s.in(gradOutput, lossLength);
            long l = s.out(loss, lossLength);
            long g = s.out(gradLogits, count);
            long wsBytes = loss == null ? 0 : sigmoidFocalWorkspaceBytes(count, op.reduction());
            sigmoidFocal(op, x, t, count, go, l, g, wsBytes == 0 ? 0 : s.scratch(wsBytes), wsBytes, 0);
            s.copyBack();
        }
    }

    @Override
    long smoothL1WorkspaceBytes(long count, Reduction reduction) {
        try (SizeTPointer bytes = new SizeTPointer(1)) {
            check(CulossNative.culossSmoothL1WorkspaceSize(count, reduction.nativeValue(), bytes),
                    "culossSmoothL1WorkspaceSize");
            return bytes.get(0);
        }
    }

    @Override
    void smoothL1(SmoothL1 op, long input, long target, long count, long gradOutput, long loss, long gradInput,
            long workspace, long workspaceBytes, long stream) {
        int r = op.reduction().nativeValue();
        float beta = op.beta();
        if (loss != 0 && gradInput != 0) {
            check(CulossNative.culossSmoothL1ForwardBackward(input, target, count, beta, r, gradOutput, loss,
                    gradInput, workspace, workspaceBytes, stream), "culossSmoothL1ForwardBackward");
        } else if (loss != 0) {
            check(CulossNative.culossSmoothL1Forward(input, target, count, beta, r, loss, workspace, workspaceBytes,
                    stream), "culossSmoothL1Forward");
        } else {
            check(CulossNative.culossSmoothL1Backward(input, target, count, beta, r, gradOutput, gradInput, workspace,
                    workspaceBytes, stream), "culossSmoothL1Backward");
        }
    }

    @Override
    void smoothL1(SmoothL1 op, FloatBuffer input, FloatBuffer target, int count, FloatBuffer gradOutput,
            FloatBuffer loss, FloatBuffer gradInput) {
        long lossLength = op.reduction() == Reduction.NONE ? count : 1;
        try (Staging s = staging()) {
            long x = s.in(input, count);
            long t = s.in(target, count);
            long go = s.in(gradOutput, lossLength);
            long l = s.out(loss, lossLength);
            long g = s.out(gradInput, count);
            long wsBytes = loss == null ? 0 : smoothL1WorkspaceBytes(count, op.reduction());
            smoothL1(op, x, t, count, go, l, g, wsBytes == 0 ? 0 : s.scratch(wsBytes), wsBytes, 0);
            s.copyBack();
        }
    }

    @Override
    long huberWorkspaceBytes(long count, Reduction reduction) {
        try (SizeTPointer bytes = new SizeTPointer(1)) {
            check(CulossNative.culossHuberWorkspaceSize(count, reduction.nativeValue(), bytes),
                    "culossHuberWorkspaceSize");
            return bytes.get(0);
        }
    }

    @Override
    void huber(Huber op, long input, long target, long count, long gradOutput, long loss, long gradInput,
            long workspace, long workspaceBytes, long stream) {
        int r = op.reduction().nativeValue();
        float delta = op.delta();
        if (loss != 0 && gradInput != 0) {
            check(CulossNative.culossHuberForwardBackward(input, target, count, delta, r, gradOutput, loss, gradInput,
                    workspace, workspaceBytes, stream), "culossHuberForwardBackward");
        } else if (loss != 0) {
            check(CulossNative.culossHuberForward(input, target, count, delta, r, loss, workspace, workspaceBytes,
                    stream), "culossHuberForward");
        } else {
            check(CulossNative.culossHuberBackward(input, target, count, delta, r, gradOutput, gradInput, workspace,
                    workspaceBytes, stream), "culossHuberBackward");
        }
    }

    @Override
    void huber(Huber op, FloatBuffer input, FloatBuffer target, int count, FloatBuffer gradOutput, FloatBuffer loss,
            FloatBuffer gradInput) {
        long lossLength = op.reduction() == Reduction.NONE ? count : 1;
        try (Staging s = staging()) {
            long x = s.in(input, count);
            long t = s.in(target, count);
            long go = s.in(gradOutput, lossLength);
            long l = s.out(loss, lossLength);
            long g = s.out(gradInput, count);
            long wsBytes = loss == null ? 0 : huberWorkspaceBytes(count, op.reduction());
            huber(op, x, t, count, go, l, g, wsBytes == 0 ? 0 : s.scratch(wsBytes), wsBytes, 0);
            s.copyBack();
        }
    }

    /** Host buffers staged for this backend's kernels. */
    Staging staging() {
        return new Staging(this, hostIsDevice);
    }
}
