/*
 * culoss: fused loss kernels for CUDA. The public C API.
 *
 * Conventions (cuDNN/cuBLAS style):
 *  - Every entry point returns a culossStatus_t; culossGetErrorString names it and
 *    culossGetLastErrorDetail says, for the calling host thread, which argument was wrong.
 *  - Tensor arguments are device pointers (host pointers in the emulated build).
 *    Sizes are int64_t, followed by the data type of the float tensors (culossDataType_t; float32
 *    in this version). Logits have a row stride in elements; targets are int32.
 *  - Every call is stream-ordered on the stream it is given (NULL: the legacy default stream):
 *    no device synchronisation, no allocation, no host read-back. Scratch memory comes from the
 *    caller, sized by the matching ...WorkspaceSize query. Calls are capture-safe.
 *  - Host-checkable errors (null pointers, negative sizes, bad options, sizes whose bytes do not
 *    fit a size_t, overlapping tensors; see below) return a status before anything is launched.
 *  - Sizes: every tensor's extent in bytes (rows: ((n - 1) * stride + c) elements) must fit a
 *    size_t and end inside the address space (pointer + bytes does not wrap); otherwise the call
 *    is CULOSS_STATUS_INVALID_VALUE naming the tensor. A ...WorkspaceSize query refuses, the same
 *    way, sizes whose workspace or whose tensors would not fit a size_t.
 *  - Overlap: each call compares the byte ranges of all its tensors (the workspace: the bytes the
 *    call uses; the error word: 4 bytes) and refuses with CULOSS_STATUS_INVALID_VALUE, naming
 *    both, any output (loss, gradients, updated centers, error word, workspace) that shares a byte
 *    with another output or with an input. The only exceptions are the in-place aliases each
 *    loss's paragraph below allows: an output exactly over an input, the same pointer, the same
 *    bytes and the same row stride.
 *  - A target outside [0, C) that is not the ignore index is a
 *    device-side error: the row is skipped (loss 0, gradient 0, no weight in the mean), nothing
 *    is written out of bounds, and CULOSS_DEVICE_ERROR_BAD_TARGET is OR-ed into *error_word
 *    when error_word is not NULL. The caller zeroes the word and reads it when it likes.
 *  - Each kernel launch is checked as it is made: a launch the runtime refuses makes the call
 *    return CULOSS_STATUS_LAUNCH_FAILED (the detail names the kernel), and nothing is launched
 *    after it. A failed memory helper (culossMalloc, ...) returns its status and leaves no error
 *    behind in the runtime; an error that an earlier CUDA call of the caller left pending on the
 *    thread is reported by the next launch, as with any CUDA library.
 */
#ifndef CULOSS_CULOSS_H
#define CULOSS_CULOSS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define CULOSS_API __declspec(dllexport)
#else
#define CULOSS_API __attribute__((visibility("default")))
#endif

/* cudaStream_t without the CUDA headers, so that C and JNI callers compile without them. */
typedef struct CUstream_st* culossStream_t;

#define CULOSS_VERSION_MAJOR 0
#define CULOSS_VERSION_MINOR 1
#define CULOSS_VERSION_PATCH 0
/* major * 10000 + minor * 100 + patch */
#define CULOSS_VERSION (CULOSS_VERSION_MAJOR * 10000 + CULOSS_VERSION_MINOR * 100 + CULOSS_VERSION_PATCH)

/*
 * In C++ (the library itself, JNI code) the enums take int as their fixed underlying type, so
 * that any int a caller passes is a value of the type and the entry point's range check refuses
 * it; without one, an out-of-range value such as reduction 7 is undefined behaviour as soon as it
 * is read, before any check. In C an enum's values are ints already.
 */
#ifdef __cplusplus
#define CULOSS_INT_ENUM : int
#else
#define CULOSS_INT_ENUM
#endif

typedef enum culossStatus_t CULOSS_INT_ENUM {
    CULOSS_STATUS_SUCCESS = 0,
    CULOSS_STATUS_INVALID_VALUE = 1,      /* a null pointer, a negative size or a bad option */
    CULOSS_STATUS_MISALIGNED = 2,         /* a pointer not aligned to its element type */
    CULOSS_STATUS_WORKSPACE_TOO_SMALL = 3,
    CULOSS_STATUS_NO_DEVICE = 4,          /* no usable CUDA device or driver, or a build without CUDA */
    CULOSS_STATUS_LAUNCH_FAILED = 5,      /* the CUDA runtime refused the launch */
    CULOSS_STATUS_INTERNAL_ERROR = 6,
    CULOSS_STATUS_NOT_SUPPORTED = 7,      /* a data type this version does not compute */
    CULOSS_STATUS_OUT_OF_MEMORY = 8       /* culossMalloc could not allocate the bytes asked for */
} culossStatus_t;

/*
 * The element type of a call's float tensors: every per-sample tensor (the inputs, grad_output,
 * the loss and the gradients). Per-class tables (class_weights, class_alpha) are float32 always;
 * labels are int32 always. Every loss entry point and workspace query takes one, after the sizes,
 * so that a new type adds no entry point. This version computes float32 only: the others are
 * reserved and return CULOSS_STATUS_NOT_SUPPORTED. When they land, the float tensors' pointer
 * types become const void* / void*, a change that keeps C and C++ callers compiling.
 */
typedef enum culossDataType_t CULOSS_INT_ENUM {
    CULOSS_DATA_FLOAT32 = 0,
    CULOSS_DATA_BFLOAT16 = 1,  /* reserved */
    CULOSS_DATA_FLOAT16 = 2    /* reserved */
} culossDataType_t;

typedef enum culossReduction_t CULOSS_INT_ENUM {
    CULOSS_REDUCTION_NONE = 0,
    CULOSS_REDUCTION_SUM = 1,
    CULOSS_REDUCTION_MEAN = 2
} culossReduction_t;

/* Bits a kernel ORs into the caller's error word. */
#define CULOSS_DEVICE_ERROR_BAD_TARGET 1

/* Pass as ignore_index when no class is ignored: targets are int32, so none equals it. */
#define CULOSS_NO_IGNORE_INDEX INT64_MIN

CULOSS_API const char* culossGetErrorString(culossStatus_t status);
/* Which argument the last failed call on this host thread rejected, and why ("" if none). */
CULOSS_API const char* culossGetLastErrorDetail(void);
CULOSS_API int culossGetVersion(void);
/* "cuda", "emulated" (kernels run on the CPU), or "none" (built without nvcc). */
CULOSS_API const char* culossGetBackendName(void);
/* Number of usable devices. Without a driver or device: 0 and CULOSS_STATUS_NO_DEVICE. */
CULOSS_API culossStatus_t culossGetDeviceCount(int* count);

/* Device memory helpers, so that callers without the CUDA runtime (the JVM) can manage buffers.
 * In the emulated build "device" memory is host memory. */
CULOSS_API culossStatus_t culossMalloc(void** ptr, size_t bytes);
CULOSS_API culossStatus_t culossFree(void* ptr);
/* culossMalloc: a size the runtime cannot give (cudaMalloc's cudaErrorMemoryAllocation, "out of
 * memory" in the detail) is CULOSS_STATUS_LAUNCH_FAILED, with *ptr set to NULL.
 * kind: 0 host->device, 1 device->host, 2 device->device. Stream-ordered. A NULL dst or src with
 * bytes > 0 is CULOSS_STATUS_INVALID_VALUE naming it; 0 bytes do nothing and succeed, NULL or not. */
CULOSS_API culossStatus_t culossMemcpyAsync(void* dst, const void* src, size_t bytes, int kind,
                                            culossStream_t stream);
CULOSS_API culossStatus_t culossMemsetAsync(void* dst, int value, size_t bytes, culossStream_t stream);
CULOSS_API culossStatus_t culossStreamSynchronize(culossStream_t stream);

/*
 * Softmax cross-entropy, torch.nn.functional.cross_entropy semantics:
 *   loss_i = (1 - e) * w[y_i] * -log p_{i,y_i} + e / C * sum_c w[c] * -log p_{i,c}
 * with p = softmax(logits row), w = class_weights (NULL: all 1), e = label_smoothing in [0, 1].
 * Rows whose target equals ignore_index count for nothing. Reduction:
 *   NONE: loss[i] per row;  SUM: loss[0] = sum_i;  MEAN: loss[0] = sum_i / sum_{counted i} w[y_i]
 *   (0, with a zero gradient, when no row counts; PyTorch gives NaN there).
 * grad_output: the upstream gradient; NULL means 1. n values for NONE, else 1 value.
 * grad_logits: n rows of c, row stride grad_stride (>= c); may alias logits: exactly the same
 * pointer and stride (in place). No other overlap is allowed.
 *
 * logits: n rows of c, row stride logits_stride (>= c) elements, so a slice of a bigger buffer works.
 * The fused call reads the logits once and writes the gradient in the same pass.
 * Workspace: culossSoftmaxCrossEntropyWorkspaceSize bytes (0 for NONE), 16-byte aligned.
 */
CULOSS_API culossStatus_t culossSoftmaxCrossEntropyWorkspaceSize(int64_t n, int64_t c, culossDataType_t dtype,
                                                                 culossReduction_t reduction,
                                                                 size_t* bytes);

CULOSS_API culossStatus_t culossSoftmaxCrossEntropyForward(
    const float* logits, int64_t logits_stride, const int32_t* targets, int64_t n, int64_t c,
    culossDataType_t dtype,
    const float* class_weights, int64_t ignore_index, float label_smoothing,
    culossReduction_t reduction, float* loss,
    void* workspace, size_t workspace_bytes, int32_t* error_word, culossStream_t stream);

CULOSS_API culossStatus_t culossSoftmaxCrossEntropyBackward(
    const float* logits, int64_t logits_stride, const int32_t* targets, int64_t n, int64_t c,
    culossDataType_t dtype,
    const float* class_weights, int64_t ignore_index, float label_smoothing,
    culossReduction_t reduction, const float* grad_output, float* grad_logits, int64_t grad_stride,
    void* workspace, size_t workspace_bytes, int32_t* error_word, culossStream_t stream);

CULOSS_API culossStatus_t culossSoftmaxCrossEntropyForwardBackward(
    const float* logits, int64_t logits_stride, const int32_t* targets, int64_t n, int64_t c,
    culossDataType_t dtype,
    const float* class_weights, int64_t ignore_index, float label_smoothing,
    culossReduction_t reduction, const float* grad_output, float* loss,
    float* grad_logits, int64_t grad_stride,
    void* workspace, size_t workspace_bytes, int32_t* error_word, culossStream_t stream);

/*
 * The same loss with soft targets, as F.cross_entropy takes class probabilities:
 *   loss_i = -sum_c w[c] * ((1 - e) * t_{i,c} + e / C) * log p_{i,c}
 * target_probs: n rows of c, contiguous (row stride c), any real values (the rows need not sum to
 * 1, as in PyTorch); the gradient is p_{i,c} * A_i - a_{i,c} with a the factor of log p above and
 * A_i its row sum. Every row counts: MEAN divides by n (PyTorch's, whatever the weights). No
 * ignore index and nothing to check on the device, so no error word. Everything else (strides,
 * the in-place gradient, grad_output) as above; target_probs may not overlap an output.
 * Workspace: culossSoftmaxCrossEntropyProbsWorkspaceSize bytes (0 for NONE), 16-byte aligned.
 */
CULOSS_API culossStatus_t culossSoftmaxCrossEntropyProbsWorkspaceSize(int64_t n, int64_t c, culossDataType_t dtype,
                                                                      culossReduction_t reduction, size_t* bytes);

CULOSS_API culossStatus_t culossSoftmaxCrossEntropyProbsForward(
    const float* logits, int64_t logits_stride, const float* target_probs, int64_t n, int64_t c,
    culossDataType_t dtype, const float* class_weights, float label_smoothing, culossReduction_t reduction,
    float* loss, void* workspace, size_t workspace_bytes, culossStream_t stream);

CULOSS_API culossStatus_t culossSoftmaxCrossEntropyProbsBackward(
    const float* logits, int64_t logits_stride, const float* target_probs, int64_t n, int64_t c,
    culossDataType_t dtype, const float* class_weights, float label_smoothing, culossReduction_t reduction,
    const float* grad_output, float* grad_logits, int64_t grad_stride, void* workspace, size_t workspace_bytes,
    culossStream_t stream);

CULOSS_API culossStatus_t culossSoftmaxCrossEntropyProbsForwardBackward(
    const float* logits, int64_t logits_stride, const float* target_probs, int64_t n, int64_t c,
    culossDataType_t dtype, const float* class_weights, float label_smoothing, culossReduction_t reduction,
    const float* grad_output, float* loss, float* grad_logits, int64_t grad_stride, void* workspace,
    size_t workspace_bytes, culossStream_t stream);

/*
 * Soft targets over logits [N, C, d1..dk] (as culossSoftmaxCrossEntropySpatial... below):
 * target_probs in the logits' layout, [N, C, d1..dk], the classes `inner` apart in both; every
 * (b, k) is a row of the soft-target definition above (the MEAN divides by n * inner); loss of NONE
 * [N, d1..dk]; grad_logits in the logits' layout, may alias logits exactly; target_probs may not
 * overlap an output. Contiguous: no strides. No error word (nothing to check on the device).
 * Workspace: culossSoftmaxCrossEntropyProbsSpatialWorkspaceSize bytes (0 for NONE).
 */
CULOSS_API culossStatus_t culossSoftmaxCrossEntropyProbsSpatialWorkspaceSize(int64_t n, int64_t c, int64_t inner,
                                                                             culossDataType_t dtype,
                                                                             culossReduction_t reduction,
                                                                             size_t* bytes);

CULOSS_API culossStatus_t culossSoftmaxCrossEntropyProbsSpatialForward(
    const float* logits, const float* target_probs, int64_t n, int64_t c, int64_t inner, culossDataType_t dtype,
    const float* class_weights, float label_smoothing, culossReduction_t reduction, float* loss, void* workspace,
    size_t workspace_bytes, culossStream_t stream);

CULOSS_API culossStatus_t culossSoftmaxCrossEntropyProbsSpatialBackward(
    const float* logits, const float* target_probs, int64_t n, int64_t c, int64_t inner, culossDataType_t dtype,
    const float* class_weights, float label_smoothing, culossReduction_t reduction, const float* grad_output,
    float* grad_logits, void* workspace, size_t workspace_bytes, culossStream_t stream);

CULOSS_API culossStatus_t culossSoftmaxCrossEntropyProbsSpatialForwardBackward(
    const float* logits, const float* target_probs, int64_t n, int64_t c, int64_t inner, culossDataType_t dtype,
    const float* class_weights, float label_smoothing, culossReduction_t reduction, const float* grad_output,
    float* loss, float* grad_logits, void* workspace, size_t workspace_bytes, culossStream_t stream);

/*
 * The same loss over logits [N, C, d1..dk], the class dimension second as PyTorch takes it (per
 * pixel for segmentation, per token): inner = d1 * ... * dk, class j of sample b at position k at
 * logits[(b * c + j) * inner + k]; targets [N, d1..dk] (n * inner values), the loss of NONE
 * [N, d1..dk], grad_logits in the logits' layout (may alias logits exactly). Every (b, k) is a row
 * of the definition above (the MEAN's denominator sums over all of them), computed in place on that
 * layout: no transpose, no copy. Contiguous: no strides. inner = 1 is [N, C].
 * Workspace: culoss...SpatialWorkspaceSize(n, c, inner, ...) bytes.
 */
CULOSS_API culossStatus_t culossSoftmaxCrossEntropySpatialWorkspaceSize(int64_t n, int64_t c, int64_t inner,
                                                           culossDataType_t dtype, culossReduction_t reduction,
                                                           size_t* bytes);

CULOSS_API culossStatus_t culossSoftmaxCrossEntropySpatialForward(
    const float* logits, const int32_t* targets, int64_t n, int64_t c, int64_t inner, culossDataType_t dtype,
    const float* class_weights, int64_t ignore_index, float label_smoothing, culossReduction_t reduction, float* loss,
    void* workspace, size_t workspace_bytes, int32_t* error_word, culossStream_t stream);

CULOSS_API culossStatus_t culossSoftmaxCrossEntropySpatialBackward(
    const float* logits, const int32_t* targets, int64_t n, int64_t c, int64_t inner, culossDataType_t dtype,
    const float* class_weights, int64_t ignore_index, float label_smoothing, culossReduction_t reduction,
    const float* grad_output, float* grad_logits, void* workspace, size_t workspace_bytes, int32_t* error_word,
    culossStream_t stream);

CULOSS_API culossStatus_t culossSoftmaxCrossEntropySpatialForwardBackward(
    const float* logits, const int32_t* targets, int64_t n, int64_t c, int64_t inner, culossDataType_t dtype,
    const float* class_weights, int64_t ignore_index, float label_smoothing, culossReduction_t reduction,
    const float* grad_output, float* loss, float* grad_logits, void* workspace, size_t workspace_bytes,
    int32_t* error_word, culossStream_t stream);

/*
 * Triplet margin loss, torch.nn.functional.triplet_margin_loss semantics. anchor, positive and
 * negative are n contiguous rows of d floats ([n, d], row-major, no stride). With
 *   dist(u, v) = || u - v + eps ||_p   (eps added to every component, as pairwise_distance does)
 * and d_neg = dist(a_i, n_i), or min(dist(a_i, n_i), dist(p_i, n_i)) when swap is non-zero:
 *   loss_i = max(margin + dist(a_i, p_i) - d_neg, 0)
 * Reduction: NONE: loss[i] per row;  SUM: loss[0] = sum_i;  MEAN: loss[0] = sum_i / n
 *   (0 when n = 0; PyTorch gives NaN there).
 * p: any p > 0, or +INFINITY (the max norm); p <= 0 and NaN are errors (PyTorch accepts them: p = 0
 * is not differentiable there, p < 0 is no distance). margin and eps: finite, any sign.
 * Gradients follow PyTorch's autograd rules exactly: a row with margin + d_ap - d_neg >= 0 (loss
 * exactly 0 included, clamp_min's rule) passes its gradient; a distance of 0 has gradient 0, a
 * component of 0 has gradient 0 (sign(0) = 0 for p = 1); p = inf splits the gradient equally among
 * the components of largest magnitude; with swap, a tie dist(a, n) == dist(p, n) splits it half and
 * half (the rule of torch.min).
 * grad_output: the upstream gradient; NULL means 1. n values for NONE, else 1 value.
 * grad_anchor, grad_positive, grad_negative: [n, d] each; any of them may be NULL (not computed),
 * but not all three. No alias is allowed: no output (loss, gradients) may overlap an input,
 * another output or the workspace.
 *
 * One group of threads owns a row (a few lanes of a warp for small d, a block for large d) and
 * keeps the three input rows in registers between the distance and the gradient pass (up to
 * d = 8192); the fused call reads each input once. 16-byte loads when d % 4 == 0 and every row
 * pointer is 16-byte aligned, scalar loads otherwise. The sum is deterministic.
 * Workspace: culossTripletMarginWorkspaceSize bytes (0 for NONE), 16-byte aligned. The backward
 * needs none (its workspace may be NULL with 0 bytes).
 */
CULOSS_API culossStatus_t culossTripletMarginWorkspaceSize(int64_t n, int64_t d,
                                                           culossDataType_t dtype,
                                                           culossReduction_t reduction,
                                                           size_t* bytes);

CULOSS_API culossStatus_t culossTripletMarginForward(
    const float* anchor, const float* positive, const float* negative, int64_t n, int64_t d,
    culossDataType_t dtype,
    float margin, float p, float eps, int swap, culossReduction_t reduction, float* loss,
    void* workspace, size_t workspace_bytes, culossStream_t stream);

CULOSS_API culossStatus_t culossTripletMarginBackward(
    const float* anchor, const float* positive, const float* negative, int64_t n, int64_t d,
    culossDataType_t dtype,
    float margin, float p, float eps, int swap, culossReduction_t reduction, const float* grad_output,
    float* grad_anchor, float* grad_positive, float* grad_negative,
    void* workspace, size_t workspace_bytes, culossStream_t stream);

CULOSS_API culossStatus_t culossTripletMarginForwardBackward(
    const float* anchor, const float* positive, const float* negative, int64_t n, int64_t d,
    culossDataType_t dtype,
    float margin, float p, float eps, int swap, culossReduction_t reduction, const float* grad_output,
    float* loss, float* grad_anchor, float* grad_positive, float* grad_negative,
    void* workspace, size_t workspace_bytes, culossStream_t stream);

/*
 * Softmax focal loss (Lin et al., "Focal Loss for Dense Object Detection", multi-class form):
 *   loss_i = -alpha_{y_i} * (1 - p_{i,y_i})^gamma * log p_{i,y_i},   p = softmax(logits row)
 * alpha_y = class_alpha[y] when class_alpha is not NULL (then `alpha` is ignored), else `alpha`
 * for every class. gamma >= 0 (finite); gamma = 0 is cross-entropy weighted by alpha_y, row by row.
 * Rows whose target equals ignore_index count for nothing (CULOSS_NO_IGNORE_INDEX: none).
 * Reduction:
 *   NONE: loss[i] per row;  SUM: loss[0] = sum_i;
 *   MEAN: loss[0] = sum_i / (number of counted rows)  -- the count, not the sum of alpha_y, as the
 *   common PyTorch implementation (NLLLoss(weight=alpha, reduction='none') * (1-p_y)^gamma, then
 *   .mean() over the rows that are not ignored) does; 0, with a zero gradient, when no row counts.
 * Gradient: with q = 1 - p_y and F = alpha_y (q^gamma - gamma p_y q^(gamma-1) log p_y),
 *   d loss_i / d x_{i,k} = F * (p_k - [k == y_i]).
 * It is computed so that it stays finite where the formula is 0 * inf: gamma in (0, 1) with
 * p_y -> 1 (F -> 0), p_y = 0 (a -inf target logit: p_y log p_y = 0), logits of magnitude 1e4.
 * 1 - p_y is computed without cancellation, so a row with p_y within 1e-7 of 1 keeps its digits.
 * grad_output, grad_logits, logits strides, aliasing, workspace: as softmax cross-entropy.
 * A target outside [0, C) that is not ignore_index sets CULOSS_DEVICE_ERROR_BAD_TARGET; its row
 * counts for nothing (not in the mean's count either).
 */
CULOSS_API culossStatus_t culossSoftmaxFocalWorkspaceSize(int64_t n, int64_t c,
                                                          culossDataType_t dtype, culossReduction_t reduction,
                                                          size_t* bytes);

CULOSS_API culossStatus_t culossSoftmaxFocalForward(
    const float* logits, int64_t logits_stride, const int32_t* targets, int64_t n, int64_t c,
    culossDataType_t dtype,
    const float* class_alpha, float alpha, float gamma, int64_t ignore_index,
    culossReduction_t reduction, float* loss,
    void* workspace, size_t workspace_bytes, int32_t* error_word, culossStream_t stream);

CULOSS_API culossStatus_t culossSoftmaxFocalBackward(
    const float* logits, int64_t logits_stride, const int32_t* targets, int64_t n, int64_t c,
    culossDataType_t dtype,
    const float* class_alpha, float alpha, float gamma, int64_t ignore_index,
    culossReduction_t reduction, const float* grad_output, float* grad_logits, int64_t grad_stride,
    void* workspace, size_t workspace_bytes, int32_t* error_word, culossStream_t stream);

CULOSS_API culossStatus_t culossSoftmaxFocalForwardBackward(
    const float* logits, int64_t logits_stride, const int32_t* targets, int64_t n, int64_t c,
    culossDataType_t dtype,
    const float* class_alpha, float alpha, float gamma, int64_t ignore_index,
    culossReduction_t reduction, const float* grad_output, float* loss,
    float* grad_logits, int64_t grad_stride,
    void* workspace, size_t workspace_bytes, int32_t* error_word, culossStream_t stream);

/* Softmax focal over logits [N, C, d1..dk]: as culossSoftmaxCrossEntropySpatial... above. */
CULOSS_API culossStatus_t culossSoftmaxFocalSpatialWorkspaceSize(int64_t n, int64_t c, int64_t inner,
                                                           culossDataType_t dtype, culossReduction_t reduction,
                                                           size_t* bytes);

CULOSS_API culossStatus_t culossSoftmaxFocalSpatialForward(
    const float* logits, const int32_t* targets, int64_t n, int64_t c, int64_t inner, culossDataType_t dtype,
    const float* class_alpha, float alpha, float gamma, int64_t ignore_index, culossReduction_t reduction,
    float* loss, void* workspace, size_t workspace_bytes, int32_t* error_word, culossStream_t stream);

CULOSS_API culossStatus_t culossSoftmaxFocalSpatialBackward(
    const float* logits, const int32_t* targets, int64_t n, int64_t c, int64_t inner, culossDataType_t dtype,
    const float* class_alpha, float alpha, float gamma, int64_t ignore_index, culossReduction_t reduction,
    const float* grad_output, float* grad_logits, void* workspace, size_t workspace_bytes, int32_t* error_word,
    culossStream_t stream);

CULOSS_API culossStatus_t culossSoftmaxFocalSpatialForwardBackward(
    const float* logits, const int32_t* targets, int64_t n, int64_t c, int64_t inner, culossDataType_t dtype,
    const float* class_alpha, float alpha, float gamma, int64_t ignore_index, culossReduction_t reduction,
    const float* grad_output, float* loss, float* grad_logits, void* workspace, size_t workspace_bytes,
    int32_t* error_word, culossStream_t stream);
/*
 * The elementwise family: sigmoid focal, smooth L1, Huber, MSE, L1, exponential, hinge and
 * logistic.
 * Shared conventions:
 *  - Inputs are flat: `count` floats each (a [N, C] tensor passes count = N * C). Any alignment
 *    of 4 bytes works; when every pointer of the call is 16-byte aligned the kernel uses 16-byte
 *    loads and stores. The reduced loss and the gradient are the same bits either way.
 *  - Reduction NONE: loss[i] per element; SUM: loss[0] = sum_i; MEAN: loss[0] = sum_i / count.
 *    count = 0 gives loss 0 for SUM and MEAN (PyTorch gives NaN for the mean of nothing).
 *  - grad_output: the upstream gradient; NULL means 1. count values for NONE, else 1 value.
 *  - Only the gradient with respect to the first input is produced (grad_logits, grad_input,
 *    grad_scores). For smooth L1, Huber, MSE and L1 the gradient with respect to the target is
 *    its negative.
 *  - An output may be the same pointer as an input of the same length (in place: the gradient
 *    over input or target, the NONE loss over one of them, either over a NONE grad_output);
 *    no other overlap is allowed: not partly over an input, not the reduced loss over an input,
 *    not the loss and the gradient over each other, nothing over the workspace.
 *  - Workspace: ...WorkspaceSize bytes (0 for NONE or count = 0; the backward alone needs none),
 *    16-byte aligned, for the per-block partial sums of a deterministic (fixed-order) reduction.
 *  - The fused call reads each input once and writes the gradient in the same pass.
 *  - Every elementwise loss has the same four functions, culoss<Name>WorkspaceSize, Forward,
 *    Backward and ForwardBackward, whose arguments differ only by the loss's own float parameters
 *    between dtype and reduction (none for MSE, L1 and exponential). Bindings may rely on this form.
 */

/*
 * Sigmoid focal loss, torchvision.ops.sigmoid_focal_loss semantics, elementwise over logits x
 * and targets t in [0, 1] (soft labels allowed):
 *   p = sigmoid(x), ce = -t log p - (1 - t) log(1 - p), p_t = p t + (1 - p)(1 - t)
 *   loss = a_t * ce * (1 - p_t)^gamma,  a_t = alpha t + (1 - alpha)(1 - t) if alpha >= 0, else 1.
 * Computed without cancellation (log terms as softplus, 1 - p_t = t (1 - p) + (1 - t) p), so
 * saturated logits (|x| = 1e4) and gamma in [0, 1) give a finite loss and gradient.
 * gamma must be finite and >= 0, alpha finite (negative: no weighting). PyTorch defaults:
 * alpha 0.25, gamma 2.
 */
CULOSS_API culossStatus_t culossSigmoidFocalWorkspaceSize(int64_t count,
                                                          culossDataType_t dtype, culossReduction_t reduction,
                                                          size_t* bytes);

CULOSS_API culossStatus_t culossSigmoidFocalForward(
    const float* logits, const float* targets, int64_t count,
    culossDataType_t dtype, float alpha, float gamma,
    culossReduction_t reduction, float* loss, void* workspace, size_t workspace_bytes, culossStream_t stream);

CULOSS_API culossStatus_t culossSigmoidFocalBackward(
    const float* logits, const float* targets, int64_t count,
    culossDataType_t dtype, float alpha, float gamma,
    culossReduction_t reduction, const float* grad_output, float* grad_logits,
    void* workspace, size_t workspace_bytes, culossStream_t stream);

CULOSS_API culossStatus_t culossSigmoidFocalForwardBackward(
    const float* logits, const float* targets, int64_t count,
    culossDataType_t dtype, float alpha, float gamma,
    culossReduction_t reduction, const float* grad_output, float* loss, float* grad_logits,
    void* workspace, size_t workspace_bytes, culossStream_t stream);

/*
 * Smooth L1 loss, torch.nn.functional.smooth_l1_loss semantics, with d = input - target:
 *   loss = |d| < beta ? 0.5 d^2 / beta : |d| - 0.5 beta
 *   d loss / d input = d <= -beta ? -1 : d >= beta ? 1 : d / beta
 * beta = 0 is the L1 loss, with gradient sign(d) and sign(0) = 0 (as PyTorch >= 2.1; 1.13 gives
 * -1 at d = 0). beta < 0 or NaN is CULOSS_STATUS_INVALID_VALUE. PyTorch's default: beta 1.
 */
CULOSS_API culossStatus_t culossSmoothL1WorkspaceSize(int64_t count,
                                                      culossDataType_t dtype,
                                                      culossReduction_t reduction, size_t* bytes);

CULOSS_API culossStatus_t culossSmoothL1Forward(
    const float* input, const float* target, int64_t count, culossDataType_t dtype, float beta,
    culossReduction_t reduction, float* loss, void* workspace, size_t workspace_bytes, culossStream_t stream);

CULOSS_API culossStatus_t culossSmoothL1Backward(
    const float* input, const float* target, int64_t count, culossDataType_t dtype, float beta,
    culossReduction_t reduction, const float* grad_output, float* grad_input,
    void* workspace, size_t workspace_bytes, culossStream_t stream);

CULOSS_API culossStatus_t culossSmoothL1ForwardBackward(
    const float* input, const float* target, int64_t count, culossDataType_t dtype, float beta,
    culossReduction_t reduction, const float* grad_output, float* loss, float* grad_input,
    void* workspace, size_t workspace_bytes, culossStream_t stream);

/*
 * Huber loss, torch.nn.functional.huber_loss semantics, with d = input - target:
 *   loss = |d| < delta ? 0.5 d^2 : delta (|d| - 0.5 delta)
 *   d loss / d input = d <= -delta ? -delta : d >= delta ? delta : d
 * delta <= 0 or NaN is CULOSS_STATUS_INVALID_VALUE. PyTorch's default: delta 1.
 */
CULOSS_API culossStatus_t culossHuberWorkspaceSize(int64_t count,
                                                   culossDataType_t dtype,
                                                   culossReduction_t reduction, size_t* bytes);

CULOSS_API culossStatus_t culossHuberForward(
    const float* input, const float* target, int64_t count, culossDataType_t dtype, float delta,
    culossReduction_t reduction, float* loss, void* workspace, size_t workspace_bytes, culossStream_t stream);

CULOSS_API culossStatus_t culossHuberBackward(
    const float* input, const float* target, int64_t count, culossDataType_t dtype, float delta,
    culossReduction_t reduction, const float* grad_output, float* grad_input,
    void* workspace, size_t workspace_bytes, culossStream_t stream);

CULOSS_API culossStatus_t culossHuberForwardBackward(
    const float* input, const float* target, int64_t count, culossDataType_t dtype, float delta,
    culossReduction_t reduction, const float* grad_output, float* loss, float* grad_input,
    void* workspace, size_t workspace_bytes, culossStream_t stream);

/*
 * Mean squared error, torch.nn.functional.mse_loss semantics, with d = input - target:
 *   loss = d^2,  d loss / d input = 2 d
 * Like PyTorch's float loss, it overflows to inf where |d| > 1.8e19; the gradient stays finite.
 * PyTorch's default reduction: MEAN.
 */
CULOSS_API culossStatus_t culossMseWorkspaceSize(int64_t count, culossDataType_t dtype, culossReduction_t reduction,
                                                 size_t* bytes);

CULOSS_API culossStatus_t culossMseForward(
    const float* input, const float* target, int64_t count, culossDataType_t dtype,
    culossReduction_t reduction, float* loss, void* workspace, size_t workspace_bytes, culossStream_t stream);

CULOSS_API culossStatus_t culossMseBackward(
    const float* input, const float* target, int64_t count, culossDataType_t dtype,
    culossReduction_t reduction, const float* grad_output, float* grad_input,
    void* workspace, size_t workspace_bytes, culossStream_t stream);

CULOSS_API culossStatus_t culossMseForwardBackward(
    const float* input, const float* target, int64_t count, culossDataType_t dtype,
    culossReduction_t reduction, const float* grad_output, float* loss, float* grad_input,
    void* workspace, size_t workspace_bytes, culossStream_t stream);

/*
 * L1 loss, torch.nn.functional.l1_loss semantics, with d = input - target:
 *   loss = |d|,  d loss / d input = sign(d), 0 at d = 0 and where d is NaN (torch.sign's 0)
 * PyTorch's default reduction: MEAN.
 */
CULOSS_API culossStatus_t culossL1WorkspaceSize(int64_t count, culossDataType_t dtype, culossReduction_t reduction,
                                                size_t* bytes);

CULOSS_API culossStatus_t culossL1Forward(
    const float* input, const float* target, int64_t count, culossDataType_t dtype,
    culossReduction_t reduction, float* loss, void* workspace, size_t workspace_bytes, culossStream_t stream);

CULOSS_API culossStatus_t culossL1Backward(
    const float* input, const float* target, int64_t count, culossDataType_t dtype,
    culossReduction_t reduction, const float* grad_output, float* grad_input,
    void* workspace, size_t workspace_bytes, culossStream_t stream);

CULOSS_API culossStatus_t culossL1ForwardBackward(
    const float* input, const float* target, int64_t count, culossDataType_t dtype,
    culossReduction_t reduction, const float* grad_output, float* loss, float* grad_input,
    void* workspace, size_t workspace_bytes, culossStream_t stream);

/*
 * Exponential loss (AdaBoost), for scores s and targets y in {-1, 1}:
 *   loss = exp(-y s),  d loss / d s = -y exp(-y s)
 * The loss is inf where -y s > 88.72 (float exp); where it is finite, so is the gradient.
 * Default reduction (the Java builder's): MEAN.
 */
CULOSS_API culossStatus_t culossExponentialWorkspaceSize(int64_t count, culossDataType_t dtype, culossReduction_t reduction,
                                                         size_t* bytes);

CULOSS_API culossStatus_t culossExponentialForward(
    const float* scores, const float* targets, int64_t count, culossDataType_t dtype,
    culossReduction_t reduction, float* loss, void* workspace, size_t workspace_bytes, culossStream_t stream);

CULOSS_API culossStatus_t culossExponentialBackward(
    const float* scores, const float* targets, int64_t count, culossDataType_t dtype,
    culossReduction_t reduction, const float* grad_output, float* grad_scores,
    void* workspace, size_t workspace_bytes, culossStream_t stream);

CULOSS_API culossStatus_t culossExponentialForwardBackward(
    const float* scores, const float* targets, int64_t count, culossDataType_t dtype,
    culossReduction_t reduction, const float* grad_output, float* loss, float* grad_scores,
    void* workspace, size_t workspace_bytes, culossStream_t stream);

/*
 * Hinge loss, for scores s, targets y in {-1, 1} and a finite margin m, z = m - y s:
 *   loss = max(z, 0) (torch.clamp(z, min=0): NaN stays NaN),
 *   d loss / d s = -y where z >= 0, else 0 (torch.clamp's gradient: the kink z = 0 passes it).
 * Default reduction (the Java builder's): MEAN; the usual margin is 1.
 */
CULOSS_API culossStatus_t culossHingeWorkspaceSize(int64_t count, culossDataType_t dtype, culossReduction_t reduction,
                                                   size_t* bytes);

CULOSS_API culossStatus_t culossHingeForward(
    const float* scores, const float* targets, int64_t count, culossDataType_t dtype, float margin,
    culossReduction_t reduction, float* loss, void* workspace, size_t workspace_bytes, culossStream_t stream);

CULOSS_API culossStatus_t culossHingeBackward(
    const float* scores, const float* targets, int64_t count, culossDataType_t dtype, float margin,
    culossReduction_t reduction, const float* grad_output, float* grad_scores,
    void* workspace, size_t workspace_bytes, culossStream_t stream);

CULOSS_API culossStatus_t culossHingeForwardBackward(
    const float* scores, const float* targets, int64_t count, culossDataType_t dtype, float margin,
    culossReduction_t reduction, const float* grad_output, float* loss, float* grad_scores,
    void* workspace, size_t workspace_bytes, culossStream_t stream);

/*
 * Logistic loss: binary cross-entropy with logits, torch.nn.functional.binary_cross_entropy_with_logits
 * semantics with a scalar pos_weight p (1 for none), for logits x and targets t (any real; PyTorch
 * does not restrict them to [0, 1]), lw = (p - 1) t + 1:
 *   loss = (1 - t) x + lw (log(1 + exp(-|x|)) + max(-x, 0)),  d loss / d x = lw sigmoid(x) - p t
 * computed without cancellation for large |x|. p must be finite. PyTorch's default reduction: MEAN.
 */
CULOSS_API culossStatus_t culossLogisticWorkspaceSize(int64_t count, culossDataType_t dtype, culossReduction_t reduction,
                                                      size_t* bytes);

CULOSS_API culossStatus_t culossLogisticForward(
    const float* logits, const float* targets, int64_t count, culossDataType_t dtype, float pos_weight,
    culossReduction_t reduction, float* loss, void* workspace, size_t workspace_bytes, culossStream_t stream);

CULOSS_API culossStatus_t culossLogisticBackward(
    const float* logits, const float* targets, int64_t count, culossDataType_t dtype, float pos_weight,
    culossReduction_t reduction, const float* grad_output, float* grad_logits,
    void* workspace, size_t workspace_bytes, culossStream_t stream);

CULOSS_API culossStatus_t culossLogisticForwardBackward(
    const float* logits, const float* targets, int64_t count, culossDataType_t dtype, float pos_weight,
    culossReduction_t reduction, const float* grad_output, float* loss, float* grad_logits,
    void* workspace, size_t workspace_bytes, culossStream_t stream);

/*
 * The logistic loss with PyTorch's tensor weights (binary_cross_entropy_with_logits with `weight`
 * and a `pos_weight` tensor): element i of the flattened tensors, p_i = pos_weight[i % classes]
 * (the last dimension, of `classes` elements, as PyTorch broadcasts a [C] pos_weight; NULL: 1),
 * w_i = weight[i] (count values, the weight broadcast to the logits' shape; NULL: 1):
 *   loss_i = w_i ((1 - t) x + lw (log(1 + exp(-|x|)) + max(-x, 0))),  lw = (p_i - 1) t + 1
 *   d loss_i / d x_i = w_i (lw sigmoid(x) - p_i t)
 * count must be a multiple of classes (>= 1). MEAN divides by count (PyTorch's, whatever the
 * weights). Aliases as for culossLogistic...; no output may overlap weight or pos_weight.
 * Workspace: culossLogisticWeightedWorkspaceSize bytes (0 for NONE), 16-byte aligned.
 */
CULOSS_API culossStatus_t culossLogisticWeightedWorkspaceSize(int64_t count, culossDataType_t dtype,
                                                              culossReduction_t reduction, size_t* bytes);

CULOSS_API culossStatus_t culossLogisticWeightedForward(
    const float* logits, const float* targets, const float* weight, const float* pos_weight, int64_t count,
    int64_t classes, culossDataType_t dtype, culossReduction_t reduction, float* loss, void* workspace,
    size_t workspace_bytes, culossStream_t stream);

CULOSS_API culossStatus_t culossLogisticWeightedBackward(
    const float* logits, const float* targets, const float* weight, const float* pos_weight, int64_t count,
    int64_t classes, culossDataType_t dtype, culossReduction_t reduction, const float* grad_output,
    float* grad_logits, void* workspace, size_t workspace_bytes, culossStream_t stream);

CULOSS_API culossStatus_t culossLogisticWeightedForwardBackward(
    const float* logits, const float* targets, const float* weight, const float* pos_weight, int64_t count,
    int64_t classes, culossDataType_t dtype, culossReduction_t reduction, const float* grad_output, float* loss,
    float* grad_logits, void* workspace, size_t workspace_bytes, culossStream_t stream);

/*
 * Multi-class hinge loss, torch.nn.functional.multi_margin_loss semantics. For a row x of c
 * scores, its target y in [0, c), a finite margin m (any sign), p = 1 or 2 and class weights w
 * (NULL: all 1), z_j = m - x_y + x_j:
 *   loss_i = w[y] / c * sum_{j != y, z_j > 0} z_j^p
 *   d loss_i / d x_j = w[y] / c * (p == 1 ? 1 : 2 z_j) where z_j > 0 (j != y), else 0;
 *   d loss_i / d x_y = minus the sum of the others.
 * z_j > 0 is strict, as PyTorch's: the kink z_j = 0 passes no gradient, a NaN z_j (a NaN score)
 * adds nothing to the loss or the gradient. Reduction: NONE: loss[i] per row; SUM: the sum;
 * MEAN: the sum over n, the rows (the weights do not change the divisor, as PyTorch's; 0 when
 * n = 0). There is no ignore index: every target must be in [0, c) (CULOSS_DEVICE_ERROR_BAD_TARGET
 * otherwise, the row counting for nothing and out of the mean's divisor).
 * grad_output: the upstream gradient; NULL means 1. n values for NONE, else 1 value.
 * scores: n rows of c, row stride scores_stride (>= c). grad_scores: the same layout with its own
 * stride; may alias scores exactly (the same pointer and stride: in place). The fused call reads
 * each row once. Workspace: culossMulticlassHingeWorkspaceSize bytes (0 for NONE), 16-byte aligned.
 */
CULOSS_API culossStatus_t culossMulticlassHingeWorkspaceSize(int64_t n, int64_t c, culossDataType_t dtype,
                                                             culossReduction_t reduction, size_t* bytes);

CULOSS_API culossStatus_t culossMulticlassHingeForward(
    const float* scores, int64_t scores_stride, const int32_t* targets, int64_t n, int64_t c,
    culossDataType_t dtype, const float* class_weights, float margin, int p,
    culossReduction_t reduction, float* loss,
    void* workspace, size_t workspace_bytes, int32_t* error_word, culossStream_t stream);

CULOSS_API culossStatus_t culossMulticlassHingeBackward(
    const float* scores, int64_t scores_stride, const int32_t* targets, int64_t n, int64_t c,
    culossDataType_t dtype, const float* class_weights, float margin, int p,
    culossReduction_t reduction, const float* grad_output, float* grad_scores, int64_t grad_stride,
    void* workspace, size_t workspace_bytes, int32_t* error_word, culossStream_t stream);

CULOSS_API culossStatus_t culossMulticlassHingeForwardBackward(
    const float* scores, int64_t scores_stride, const int32_t* targets, int64_t n, int64_t c,
    culossDataType_t dtype, const float* class_weights, float margin, int p,
    culossReduction_t reduction, const float* grad_output, float* loss,
    float* grad_scores, int64_t grad_stride,
    void* workspace, size_t workspace_bytes, int32_t* error_word, culossStream_t stream);

/*
 * The 0-1 loss, a metric with no gradient: loss_i = 1 where argmax_j scores[i, j] != targets[i],
 * else 0. The argmax is torch.argmax's: the first index of the largest score, a NaN counting as
 * larger than any number. Reduction: NONE: loss[i] per row; SUM: the number of errors; MEAN: the
 * error rate (0 when n = 0). Every target must be in [0, c) (CULOSS_DEVICE_ERROR_BAD_TARGET
 * otherwise, the row counting for nothing and out of the mean's divisor).
 * scores: n rows of c, row stride scores_stride (>= c). Forward only: there is no Backward.
 * Workspace: culossZeroOneWorkspaceSize bytes (0 for NONE), 16-byte aligned.
 */
CULOSS_API culossStatus_t culossZeroOneWorkspaceSize(int64_t n, int64_t c, culossDataType_t dtype,
                                                     culossReduction_t reduction, size_t* bytes);

CULOSS_API culossStatus_t culossZeroOneForward(
    const float* scores, int64_t scores_stride, const int32_t* targets, int64_t n, int64_t c,
    culossDataType_t dtype, culossReduction_t reduction, float* loss,
    void* workspace, size_t workspace_bytes, int32_t* error_word, culossStream_t stream);

/*
 * The regularizers of a training objective (its structural-risk term), over a parameter buffer w
 * of `count` floats (any shape, contiguous), with lambda finite (any sign):
 *   L1: loss = lambda * sum_i |w_i|,       d loss / d w_i = lambda * sign(w_i)
 *       (torch.sign's: 0 at 0, and 0 for a NaN w_i, whose loss is NaN)
 *   L2: loss = lambda / 2 * sum_i w_i^2,   d loss / d w_i = lambda * w_i
 * The loss is one value (0 for count = 0), summed in double in a fixed order (the same bits on
 * every run; L2 squares in double, so a large w whose penalty fits a float does not overflow).
 * grad_output: the upstream gradient of that one value; NULL means 1. A NaN w_i gives a NaN loss
 * (and, for L2, a NaN gradient entry). grad_params may be params itself (in place: the same pointer); no other
 * overlap is allowed. Workspace: culoss{L1,L2}PenaltyWorkspaceSize bytes (a few hundred: the
 * partial sums of the forward; 0 is enough for the backward), 16-byte aligned.
 */
CULOSS_API culossStatus_t culossL1PenaltyWorkspaceSize(int64_t count, culossDataType_t dtype, size_t* bytes);

CULOSS_API culossStatus_t culossL1PenaltyForward(
    const float* params, int64_t count, culossDataType_t dtype, float lambda, float* loss,
    void* workspace, size_t workspace_bytes, culossStream_t stream);

CULOSS_API culossStatus_t culossL1PenaltyBackward(
    const float* params, int64_t count, culossDataType_t dtype, float lambda, const float* grad_output,
    float* grad_params, void* workspace, size_t workspace_bytes, culossStream_t stream);

CULOSS_API culossStatus_t culossL1PenaltyForwardBackward(
    const float* params, int64_t count, culossDataType_t dtype, float lambda, const float* grad_output,
    float* loss, float* grad_params, void* workspace, size_t workspace_bytes, culossStream_t stream);

CULOSS_API culossStatus_t culossL2PenaltyWorkspaceSize(int64_t count, culossDataType_t dtype, size_t* bytes);

CULOSS_API culossStatus_t culossL2PenaltyForward(
    const float* params, int64_t count, culossDataType_t dtype, float lambda, float* loss,
    void* workspace, size_t workspace_bytes, culossStream_t stream);

CULOSS_API culossStatus_t culossL2PenaltyBackward(
    const float* params, int64_t count, culossDataType_t dtype, float lambda, const float* grad_output,
    float* grad_params, void* workspace, size_t workspace_bytes, culossStream_t stream);

CULOSS_API culossStatus_t culossL2PenaltyForwardBackward(
    const float* params, int64_t count, culossDataType_t dtype, float lambda, const float* grad_output,
    float* loss, float* grad_params, void* workspace, size_t workspace_bytes, culossStream_t stream);

/*
 * Class-distance weighted cross-entropy, for ordinal labels: with p = softmax(logits row), its
 * target y in [0, c) and a = argmax_j logits[i, j] (torch.argmax's first index of the largest):
 *   loss_i = w_i * -log p_{i,y},  w_i = (|a - y| + 1) / M_y,  M_y = sum_{k < c} (|y - k| + 1)
 *   d loss_i / d logits[i, j] = w_i * (p_{i,j} - [j == y])   (w_i held constant)
 * Reduction: NONE: loss[i] per row; SUM: the sum; MEAN: the sum over n, the rows (0 when n = 0).
 * There is no ignore index: every target must be in [0, c) (CULOSS_DEVICE_ERROR_BAD_TARGET
 * otherwise, the row counting for nothing and out of the mean's divisor).
 * grad_output: the upstream gradient; NULL means 1. n values for NONE, else 1 value.
 * logits: n rows of c, row stride logits_stride (>= c). grad_logits: the same layout with its own
 * stride; may alias logits exactly (in place). The fused call reads each row once.
 * Workspace: culossInterclassDistanceWorkspaceSize bytes (0 for NONE), 16-byte aligned.
 */
CULOSS_API culossStatus_t culossInterclassDistanceWorkspaceSize(int64_t n, int64_t c, culossDataType_t dtype,
                                                                culossReduction_t reduction, size_t* bytes);

CULOSS_API culossStatus_t culossInterclassDistanceForward(
    const float* logits, int64_t logits_stride, const int32_t* targets, int64_t n, int64_t c,
    culossDataType_t dtype, culossReduction_t reduction, float* loss,
    void* workspace, size_t workspace_bytes, int32_t* error_word, culossStream_t stream);

CULOSS_API culossStatus_t culossInterclassDistanceBackward(
    const float* logits, int64_t logits_stride, const int32_t* targets, int64_t n, int64_t c,
    culossDataType_t dtype, culossReduction_t reduction, const float* grad_output,
    float* grad_logits, int64_t grad_stride,
    void* workspace, size_t workspace_bytes, int32_t* error_word, culossStream_t stream);

CULOSS_API culossStatus_t culossInterclassDistanceForwardBackward(
    const float* logits, int64_t logits_stride, const int32_t* targets, int64_t n, int64_t c,
    culossDataType_t dtype, culossReduction_t reduction, const float* grad_output, float* loss,
    float* grad_logits, int64_t grad_stride,
    void* workspace, size_t workspace_bytes, int32_t* error_word, culossStream_t stream);

/*
 * Large-margin softmax (L-Softmax, Liu et al., ICML 2016): the last fully connected layer and
 * softmax cross-entropy in one. features x: n rows of d; weights W: d rows of c (column j is class
 * j's weight vector); targets y: n int32 in [0, c); margin m in [1, 16]; lambda >= 0 (annealing).
 *   f_ij = x_i . W_j,  cos_i = f_iy / (|x_i| |W_y|) clamped to [-1, 1]
 *   psi = (-1)^k T_m(cos_i) - 2k,  k = #{0 < j < m : cos_i <= cos(j pi / m)}
 *         (T_m the Chebyshev polynomial: (-1)^k cos(m theta) - 2k for theta in [k pi/m, (k+1) pi/m])
 *   f'_iy = (lambda f_iy + |x_i| |W_y| psi) / (1 + lambda), the other f'_ij = f_ij
 *   loss_i = -log softmax(f'_i)[y_i]
 * A row with |x_i| |W_y| = 0 has f'_iy = 0 and no psi term in the gradient. Reduction: NONE:
 * loss[i]; SUM; MEAN: the sum over the rows whose target is good (0 when there are none).
 * grad_output: the upstream gradient; NULL means 1. n values for NONE, else 1 value.
 * modified_logits (n x c, contiguous; NULL: not wanted): f'. grad_features (n x d) and
 * grad_weights (d x c): the gradients of the reduced loss (the chain through f'_iy uses
 * d psi / d cos = (-1)^k m U_{m-1}(cos): no acos, no division by sin(theta)). Every product is
 * summed in double in increasing index order (simple 16 x 16 tiled kernels), so results are
 * bit-identical run to run. No output may overlap an input or another output.
 * A target outside [0, c) sets CULOSS_DEVICE_ERROR_BAD_TARGET; its row counts for nothing (its
 * modified logits are the plain ones, no loss, no gradient, out of the mean).
 * Workspace: culossLargeMarginSoftmaxWorkspaceSize bytes (about 8 n c + 32 n + 24 c), 16-byte aligned;
 * every call with these sizes and reduction takes it.
 */
CULOSS_API culossStatus_t culossLargeMarginSoftmaxWorkspaceSize(int64_t n, int64_t d, int64_t c,
                                                                culossDataType_t dtype,
                                                                culossReduction_t reduction, size_t* bytes);

CULOSS_API culossStatus_t culossLargeMarginSoftmaxForward(
    const float* features, const float* weights, const int32_t* targets, int64_t n, int64_t d, int64_t c,
    culossDataType_t dtype, int margin, float lambda, culossReduction_t reduction, float* loss,
    float* modified_logits, void* workspace, size_t workspace_bytes, int32_t* error_word, culossStream_t stream);

CULOSS_API culossStatus_t culossLargeMarginSoftmaxBackward(
    const float* features, const float* weights, const int32_t* targets, int64_t n, int64_t d, int64_t c,
    culossDataType_t dtype, int margin, float lambda, culossReduction_t reduction, const float* grad_output,
    float* modified_logits, float* grad_features, float* grad_weights,
    void* workspace, size_t workspace_bytes, int32_t* error_word, culossStream_t stream);

CULOSS_API culossStatus_t culossLargeMarginSoftmaxForwardBackward(
    const float* features, const float* weights, const int32_t* targets, int64_t n, int64_t d, int64_t c,
    culossDataType_t dtype, int margin, float lambda, culossReduction_t reduction, const float* grad_output,
    float* loss, float* modified_logits, float* grad_features, float* grad_weights,
    void* workspace, size_t workspace_bytes, int32_t* error_word, culossStream_t stream);

/*
 * Center loss (Wen et al., ECCV 2016):
 *   loss_i = lambda / 2 * ||x_i - c_{y_i}||^2
 * features x: n rows of d; labels y: n int32 in [0, num_classes); centers c: num_classes rows of d.
 * Rows are contiguous (no stride). Reduction:
 *   NONE: loss[i] per row;  SUM: loss[0] = sum_i;  MEAN: loss[0] = sum_i / n (0 when n = 0).
 * The MEAN denominator is n, the batch size, also when some labels are bad (as the usual PyTorch
 * center-loss modules divide by the batch size).
 * grad_output: the upstream gradient; NULL means 1. n values for NONE, else 1 value (g below).
 * grad_features (n x d): dL/dx_i = lambda * (x_i - c_{y_i}) * g_i   (/ n for MEAN); may alias
 *   features (exactly the same pointer: in place).
 * grad_centers (num_classes x d), for callers that move the centers with their own optimizer:
 *   dL/dc_j = -lambda * sum_{i: y_i = j} (x_i - c_j) * g_i   (/ n for MEAN),
 *   every row written (zero for classes without samples). Must not overlap any other tensor.
 * Backward takes grad_features or grad_centers or both (NULL: not wanted; not both NULL).
 * The loss pass reads each feature row and its center once and writes grad_features in the same
 * pass. grad_centers is summed per class in a fixed order (a stable sort of the rows by label,
 * then a segmented sum), so it is bit-identical on every run; so is the loss.
 * A label outside [0, num_classes) sets CULOSS_DEVICE_ERROR_BAD_TARGET in *error_word (when not
 * NULL); that row counts for nothing (loss 0, gradient 0, in no class sum).
 * Workspace: culossCenterLossWorkspaceSize bytes, 16-byte aligned; the same size serves every
 * center-loss call with these n, d and num_classes (the reduction does not change it). A call that
 * needs none of it (NONE without grad_centers, or a backward without grad_centers) accepts NULL.
 */
CULOSS_API culossStatus_t culossCenterLossWorkspaceSize(int64_t n, int64_t d, int64_t num_classes,
                                                        culossDataType_t dtype,
                                                        culossReduction_t reduction, size_t* bytes);

CULOSS_API culossStatus_t culossCenterLossForward(
    const float* features, const int32_t* labels, const float* centers, int64_t n, int64_t d,
    int64_t num_classes, culossDataType_t dtype, float lambda, culossReduction_t reduction, float* loss,
    void* workspace, size_t workspace_bytes, int32_t* error_word, culossStream_t stream);

CULOSS_API culossStatus_t culossCenterLossBackward(
    const float* features, const int32_t* labels, const float* centers, int64_t n, int64_t d,
    int64_t num_classes,
    culossDataType_t dtype, float lambda, culossReduction_t reduction, const float* grad_output,
    float* grad_features, float* grad_centers,
    void* workspace, size_t workspace_bytes, int32_t* error_word, culossStream_t stream);

CULOSS_API culossStatus_t culossCenterLossForwardBackward(
    const float* features, const int32_t* labels, const float* centers, int64_t n, int64_t d,
    int64_t num_classes,
    culossDataType_t dtype, float lambda, culossReduction_t reduction, const float* grad_output,
    float* loss, float* grad_features, float* grad_centers,
    void* workspace, size_t workspace_bytes, int32_t* error_word, culossStream_t stream);

/*
 * The center update of the paper, in place:
 *   c_j <- c_j - alpha * sum_{i: y_i = j} (c_j - x_i) / (1 + n_j),  n_j = #{i: y_i = j};
 * classes without samples are unchanged. Independent of lambda and of the reduction.
 * Deterministic: every class's sum is added in a fixed order (no float atomics), so the new
 * centers are bit-identical on every run. Stream-ordered: a loss call queued before it on the same
 * stream sees the old centers. Bad labels as above (the row moves no center). centers must not
 * overlap features, labels, the error word or the workspace.
 * Workspace: culossCenterLossWorkspaceSize(n, d, num_classes, dtype, any reduction) bytes.
 */
CULOSS_API culossStatus_t culossCenterLossUpdateCenters(
    const float* features, const int32_t* labels, float* centers, int64_t n, int64_t d,
    int64_t num_classes,
    culossDataType_t dtype, float alpha, void* workspace, size_t workspace_bytes, int32_t* error_word,
    culossStream_t stream);

#ifdef __cplusplus
}
#endif

#endif /* CULOSS_CULOSS_H */
