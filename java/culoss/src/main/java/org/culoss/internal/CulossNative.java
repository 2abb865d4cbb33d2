package org.culoss.internal;

import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.SizeTPointer;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Platform;

/**
 * The JavaCPP binding of {@code native/include/culoss/culoss.h}, written by hand: one static
 * native method per C function. Tensor arguments are raw addresses ({@code long}) so that
 * device memory, foreign device pointers and host memory all pass the same way; callers check
 * sizes and bounds before they get here. Which native library answers is {@link NativeLoader}'s
 * choice.
 */
@Platform(include = "culoss/culoss.h")
public final class CulossNative {
    static {
        NativeLoader.load();
    }

    private CulossNative() {}

    /** {@code CULOSS_NO_IGNORE_INDEX}. */
    public static final long NO_IGNORE_INDEX = Long.MIN_VALUE;
    /** {@code CULOSS_DEVICE_ERROR_BAD_TARGET}. */
    public static final int DEVICE_ERROR_BAD_TARGET = 1;

    public static native String culossGetErrorString(@Cast("culossStatus_t") int status);

    public static native String culossGetLastErrorDetail();

    public static native int culossGetVersion();

    public static native String culossGetBackendName();

    public static native int culossGetDeviceCount(IntPointer count);

    public static native int culossMalloc(@Cast("void**") LongPointer ptr, @Cast("size_t") long bytes);

    public static native int culossFree(@Cast("void*") long ptr);

    public static native int culossMemcpyAsync(@Cast("void*") long dst, @Cast("const void*") long src,
            @Cast("size_t") long bytes, int kind, @Cast("culossStream_t") long stream);

    public static native int culossMemsetAsync(@Cast("void*") long dst, int value, @Cast("size_t") long bytes,
            @Cast("culossStream_t") long stream);

    public static native int culossStreamSynchronize(@Cast("culossStream_t") long stream);

    public static native int culossSoftmaxCrossEntropyWorkspaceSize(@Cast("int64_t") long n, @Cast("int64_t") long c,
            @Cast("culossDataType_t") int dtype,
            @Cast("culossReduction_t") int reduction, SizeTPointer bytes);

    public static native int culossSoftmaxCrossEntropyForward(@Cast("const float*") long logits,
            @Cast("int64_t") long logitsStride, @Cast("const int32_t*") long targets, @Cast("int64_t") long n,
            @Cast("int64_t") long c, @Cast("culossDataType_t") int dtype, @Cast("const float*") long classWeights,
            @Cast("int64_t") long ignoreIndex,
            float labelSmoothing, @Cast("culossReduction_t") int reduction, @Cast("float*") long loss,
            @Cast("void*") long workspace, @Cast("size_t") long workspaceBytes, @Cast("int32_t*") long errorWord,
            @Cast("culossStream_t") long stream);

    public static native int culossSoftmaxCrossEntropyBackward(@Cast("const float*") long logits,
            @Cast("int64_t") long logitsStride, @Cast("const int32_t*") long targets, @Cast("int64_t") long n,
            @Cast("int64_t") long c, @Cast("culossDataType_t") int dtype, @Cast("const float*") long classWeights,
            @Cast("int64_t") long ignoreIndex,
            float labelSmoothing, @Cast("culossReduction_t") int reduction, @Cast("const float*") long gradOutput,
            @Cast("float*") long gradLogits, @Cast("int64_t") long gradStride, @Cast("void*") long workspace,
            @Cast("size_t") long workspaceBytes, @Cast("int32_t*") long errorWord,
            @Cast("culossStream_t") long stream);

    public static native int culossSoftmaxCrossEntropyForwardBackward(@Cast("const float*") long logits,
            @Cast("int64_t") long logitsStride, @Cast("const int32_t*") long targets, @Cast("int64_t") long n,
            @Cast("int64_t") long c, @Cast("culossDataType_t") int dtype, @Cast("const float*") long classWeights,
            @Cast("int64_t") long ignoreIndex,
            float labelSmoothing, @Cast("culossReduction_t") int reduction, @Cast("const float*") long gradOutput,
            @Cast("float*") long loss, @Cast("float*") long gradLogits, @Cast("int64_t") long gradStride,
            @Cast("void*") long workspace, @Cast("size_t") long workspaceBytes, @Cast("int32_t*") long errorWord,
            @Cast("culossStream_t") long stream);

    public static native int culossTripletMarginWorkspaceSize(@Cast("int64_t") long n, @Cast("int64_t") long d,
            @Cast("culossDataType_t") int dtype,
            @Cast("culossReduction_t") int reduction, SizeTPointer bytes);

    public static native int culossTripletMarginForward(@Cast("const float*") long anchor,
            @Cast("const float*") long positive, @Cast("const float*") long negative, @Cast("int64_t") long n,
            @Cast("int64_t") long d, @Cast("culossDataType_t") int dtype, float margin, float p, float eps, int swap,
            @Cast("culossReduction_t") int reduction, @Cast("float*") long loss, @Cast("void*") long workspace,
            @Cast("size_t") long workspaceBytes, @Cast("culossStream_t") long stream);

    public static native int culossTripletMarginBackward(@Cast("const float*") long anchor,
            @Cast("const float*") long positive, @Cast("const float*") long negative, @Cast("int64_t") long n,
            @Cast("int64_t") long d, @Cast("culossDataType_t") int dtype, float margin, float p, float eps, int swap,
            @Cast("culossReduction_t") int reduction, @Cast("const float*") long gradOutput,
            @Cast("float*") long gradAnchor, @Cast("float*") long gradPositive, @Cast("float*") long gradNegative,
            @Cast("void*") long workspace, @Cast("size_t") long workspaceBytes, @Cast("culossStream_t") long stream);

    public static native int culossTripletMarginForwardBackward(@Cast("const float*") long anchor,
            @Cast("const float*") long positive, @Cast("const float*") long negative, @Cast("int64_t") long n,
            @Cast("int64_t") long d, @Cast("culossDataType_t") int dtype, float margin, float p, float eps, int swap,
            @Cast("culossReduction_t") int reduction, @Cast("const float*") long gradOutput,
            @Cast("float*") long loss, @Cast("float*") long gradAnchor, @Cast("float*") long gradPositive,
            @Cast("float*") long gradNegative, @Cast("void*") long workspace, @Cast("size_t") long workspaceBytes,
            @Cast("culossStream_t") long stream);

    public static native int culossSoftmaxFocalWorkspaceSize(@Cast("int64_t") long n, @Cast("int64_t") long c,
            @Cast("culossDataType_t") int dtype,
            @Cast("culossReduction_t") int reduction, SizeTPointer bytes);

    public static native int culossSoftmaxFocalForward(@Cast("const float*") long logits,
            @Cast("int64_t") long logitsStride, @Cast("const int32_t*") long targets, @Cast("int64_t") long n,
            @Cast("int64_t") long c, @Cast("culossDataType_t") int dtype, @Cast("const float*") long classAlpha,
            float alpha, float gamma,
            @Cast("int64_t") long ignoreIndex, @Cast("culossReduction_t") int reduction, @Cast("float*") long loss,
            @Cast("void*") long workspace, @Cast("size_t") long workspaceBytes, @Cast("int32_t*") long errorWord,
            @Cast("culossStream_t") long stream);

    public static native int culossSoftmaxFocalBackward(@Cast("const float*") long logits,
            @Cast("int64_t") long logitsStride, @Cast("const int32_t*") long targets, @Cast("int64_t") long n,
            @Cast("int64_t") long c, @Cast("culossDataType_t") int dtype, @Cast("const float*") long classAlpha,
            float alpha, float gamma,
            @Cast("int64_t") long ignoreIndex, @Cast("culossReduction_t") int reduction,
            @Cast("const float*") long gradOutput, @Cast("float*") long gradLogits, @Cast("int64_t") long gradStride,
            @Cast("void*") long workspace, @Cast("size_t") long workspaceBytes, @Cast("int32_t*") long errorWord,
            @Cast("culossStream_t") long stream);

    public static native int culossSoftmaxFocalForwardBackward(@Cast("const float*") long logits,
            @Cast("int64_t") long logitsStride, @Cast("const int32_t*") long targets, @Cast("int64_t") long n,
            @Cast("int64_t") long c, @Cast("culossDataType_t") int dtype, @Cast("const float*") long classAlpha,
            float alpha, float gamma,
            @Cast("int64_t") long ignoreIndex, @Cast("culossReduction_t") int reduction,
            @Cast("const float*") long gradOutput, @Cast("float*") long loss, @Cast("float*") long gradLogits,
            @Cast("int64_t") long gradStride, @Cast("void*") long workspace, @Cast("size_t") long workspaceBytes,
            @Cast("int32_t*") long errorWord, @Cast("culossStream_t") long stream);

    public static native int culossCenterLossWorkspaceSize(@Cast("int64_t") long n, @Cast("int64_t") long d,
            @Cast("int64_t") long numClasses, @Cast("culossDataType_t") int dtype,
            @Cast("culossReduction_t") int reduction, SizeTPointer bytes);

    public static native int culossCenterLossForward(@Cast("const float*") long features,
            @Cast("const int32_t*") long labels, @Cast("const float*") long centers, @Cast("int64_t") long n,
            @Cast("int64_t") long d, @Cast("int64_t") long numClasses, @Cast("culossDataType_t") int dtype,
            float lambda,
            @Cast("culossReduction_t") int reduction, @Cast("float*") long loss, @Cast("void*") long workspace,
            @Cast("size_t") long workspaceBytes, @Cast("int32_t*") long errorWord,
            @Cast("culossStream_t") long stream);

    public static native int culossCenterLossBackward(@Cast("const float*") long features,
            @Cast("const int32_t*") long labels, @Cast("const float*") long centers, @Cast("int64_t") long n,
            @Cast("int64_t") long d, @Cast("int64_t") long numClasses, @Cast("culossDataType_t") int dtype,
            float lambda,
            @Cast("culossReduction_t") int reduction, @Cast("const float*") long gradOutput,
            @Cast("float*") long gradFeatures, @Cast("float*") long gradCenters, @Cast("void*") long workspace,
            @Cast("size_t") long workspaceBytes, @Cast("int32_t*") long errorWord,
            @Cast("culossStream_t") long stream);

    public static native int culossCenterLossForwardBackward(@Cast("const float*") long features,
            @Cast("const int32_t*") long labels, @Cast("const float*") long centers, @Cast("int64_t") long n,
            @Cast("int64_t") long d, @Cast("int64_t") long numClasses, @Cast("culossDataType_t") int dtype,
            float lambda,
            @Cast("culossReduction_t") int reduction, @Cast("const float*") long gradOutput,
            @Cast("float*") long loss, @Cast("float*") long gradFeatures, @Cast("float*") long gradCenters,
            @Cast("void*") long workspace, @Cast("size_t") long workspaceBytes, @Cast("int32_t*") long errorWord,
            @Cast("culossStream_t") long stream);

    public static native int culossCenterLossUpdateCenters(@Cast("const float*") long features,
            @Cast("const int32_t*") long labels, @Cast("float*") long centers, @Cast("int64_t") long n,
            @Cast("int64_t") long d, @Cast("int64_t") long numClasses, @Cast("culossDataType_t") int dtype,
            float alpha, @Cast("void*") long workspace,
            @Cast("size_t") long workspaceBytes, @Cast("int32_t*") long errorWord,
            @Cast("culossStream_t") long stream);

    // ---- the elementwise losses ----

    public static native int culossSigmoidFocalWorkspaceSize(@Cast("int64_t") long count,
            @Cast("culossDataType_t") int dtype,
            @Cast("culossReduction_t") int reduction, SizeTPointer bytes);

    public static native int culossSigmoidFocalForward(@Cast("const float*") long logits,
            @Cast("const float*") long targets, @Cast("int64_t") long count, @Cast("culossDataType_t") int dtype,
            float alpha, float gamma,
            @Cast("culossReduction_t") int reduction, @Cast("float*") long loss, @Cast("void*") long workspace,
            @Cast("size_t") long workspaceBytes, @Cast("culossStream_t") long stream);

    public static native int culossSigmoidFocalBackward(@Cast("const float*") long logits,
            @Cast("const float*") long targets, @Cast("int64_t") long count, @Cast("culossDataType_t") int dtype,
            float alpha, float gamma,
            @Cast("culossReduction_t") int reduction, @Cast("const float*") long gradOutput,
            @Cast("float*") long gradLogits, @Cast("void*") long workspace, @Cast("size_t") long workspaceBytes,
            @Cast("culossStream_t") long stream);

    public static native int culossSigmoidFocalForwardBackward(@Cast("const float*") long logits,
            @Cast("const float*") long targets, @Cast("int64_t") long count, @Cast("culossDataType_t") int dtype,
            float alpha, float gamma,
            @Cast("culossReduction_t") int reduction, @Cast("const float*") long gradOutput,
            @Cast("float*") long loss, @Cast("float*") long gradLogits, @Cast("void*") long workspace,
            @Cast("size_t") long workspaceBytes, @Cast("culossStream_t") long stream);

    public static native int culossSmoothL1WorkspaceSize(@Cast("int64_t") long count,
            @Cast("culossDataType_t") int dtype,
            @Cast("culossReduction_t") int reduction, SizeTPointer bytes);

    public static native int culossSmoothL1Forward(@Cast("const float*") long input, @Cast("const float*") long target,
            @Cast("int64_t") long count, @Cast("culossDataType_t") int dtype, float beta,
            @Cast("culossReduction_t") int reduction,
            @Cast("float*") long loss, @Cast("void*") long workspace, @Cast("size_t") long workspaceBytes,
            @Cast("culossStream_t") long stream);

    public static native int culossSmoothL1Backward(@Cast("const float*") long input, @Cast("const float*") long target,
            @Cast("int64_t") long count, @Cast("culossDataType_t") int dtype, float beta,
            @Cast("culossReduction_t") int reduction,
            @Cast("const float*") long gradOutput, @Cast("float*") long gradInput, @Cast("void*") long workspace,
            @Cast("size_t") long workspaceBytes, @Cast("culossStream_t") long stream);

    public static native int culossSmoothL1ForwardBackward(@Cast("const float*") long input,
            @Cast("const float*") long target, @Cast("int64_t") long count, @Cast("culossDataType_t") int dtype,
            float beta,
            @Cast("culossReduction_t") int reduction, @Cast("const float*") long gradOutput,
            @Cast("float*") long loss, @Cast("float*") long gradInput, @Cast("void*") long workspace,
            @Cast("size_t") long workspaceBytes, @Cast("culossStream_t") long stream);

    public static native int culossHuberWorkspaceSize(@Cast("int64_t") long count, @Cast("culossDataType_t") int dtype,
            @Cast("culossReduction_t") int reduction, SizeTPointer bytes);

    public static native int culossHuberForward(@Cast("const float*") long input, @Cast("const float*") long target,
            @Cast("int64_t") long count, @Cast("culossDataType_t") int dtype, float delta,
            @Cast("culossReduction_t") int reduction,
            @Cast("float*") long loss, @Cast("void*") long workspace, @Cast("size_t") long workspaceBytes,
            @Cast("culossStream_t") long stream);

    public static native int culossHuberBackward(@Cast("const float*") long input, @Cast("const float*") long target,
            @Cast("int64_t") long count, @Cast("culossDataType_t") int dtype, float delta,
            @Cast("culossReduction_t") int reduction,
            @Cast("const float*") long gradOutput, @Cast("float*") long gradInput, @Cast("void*") long workspace,
            @Cast("size_t") long workspaceBytes, @Cast("culossStream_t") long stream);

    public static native int culossHuberForwardBackward(@Cast("const float*") long input,
            @Cast("const float*") long target, @Cast("int64_t") long count, @Cast("culossDataType_t") int dtype,
            float delta,
            @Cast("culossReduction_t") int reduction, @Cast("const float*") long gradOutput,
            @Cast("float*") long loss, @Cast("float*") long gradInput, @Cast("void*") long workspace,
            @Cast("size_t") long workspaceBytes, @Cast("culossStream_t") long stream);
}
