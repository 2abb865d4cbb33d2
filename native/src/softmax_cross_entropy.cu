// Softmax cross-entropy: forward, backward and the fused forward+backward.
//
// The row machinery (one read of the row with 16-byte loads, online max/sum, register cache,
// gradient pass, deterministic sum/mean) is row_softmax.cuh's; this file is the policy that
// turns a row's max, sum of exponentials and smoothing sums into its loss and gradient, and the
// entry points. The mean divides by the summed class weights of the rows that count.
//
// Numerics. The target's exponential is left out of the row sum (kExcludeTarget), so that a
// confident row keeps the digits of its small loss and of 1 - p_y; label smoothing sums
// w_j (m - x_j) in double (row_softmax.cuh), so masked classes (-1e9, -FLT_MAX) cost no digits.
#include "row_softmax.cuh"

namespace culoss {
namespace {

// The options both forms (class indices, soft targets) take.
culossStatus_t check_options(float smoothing, const float* class_weights) {
    CULOSS_REQUIRE(smoothing >= 0.f && smoothing <= 1.f, CULOSS_STATUS_INVALID_VALUE,
                   "label_smoothing (%g) is not in [0, 1]", double(smoothing));
    CULOSS_REQUIRE_ALIGNED(class_weights, 4);
    return CULOSS_STATUS_SUCCESS;
}

struct CePolicy {
    const float* class_weights;  // [c] or null
    float smoothing;

    static constexpr bool kClassTargets = true;
    static constexpr bool kStridedClasses = true;  // culossSoftmaxCrossEntropySpatial...
    static constexpr bool kSums = true;           // label smoothing needs t = sum w_j (m - x_j) and w = sum w_j
    static constexpr bool kExcludeTarget = true;  // 1 - p_y = s / S keeps its digits when p_y is near 1
    static constexpr bool kArgmax = false;

    __device__ bool sums_enabled() const { return smoothing > 0.f; }
    __device__ float weight(int64_t j, const RowProbs& = {}) const {
        return class_weights ? __ldg(class_weights + j) : 1.f;
    }

    const float* weights() const { return class_weights; }

    // The per-class table the kernel reads (c floats, or null), for the range checks.
    static constexpr const char* kTableName = "class_weights";
    const float* table() const { return class_weights; }

    culossStatus_t check() const { return check_options(smoothing, class_weights); }

    // What both the loss and the gradient use (all 0 for a row that does not count).
    struct Row {
        float log_s;  // log S, S = sum_j e^(x_j - m) over the whole row
        float q;      // 1 - p_y = s / S, s the sum without the target
        float nll;    // -log p_y
        float wy;
    };

    __device__ Row row(const RowState& st, const RowFacts& f) const {
        Row r{0.f, 0.f, 0.f, 0.f};
        if (!f.counted) return r;
        const TargetShare t = target_share(st, f.x_target);
        r.log_s = t.log_s;
        r.q = t.q;
        r.nll = target_nll(st, t);
        r.wy = weight(f.target);
        return r;
    }

    // The loss of a counted row: (1-e) w_y (-log p_y) + e/C sum_j w_j (-log p_j), where
    // sum_j w_j (-log p_j) = sum_j w_j (m - x_j + log S) = t + W log S, both terms >= 0.
    __device__ float loss(const RowState& st, const RowFacts& f, const Row& r) const {
        const double e = smoothing;
        double loss = (1.0 - e) * double(r.wy) * double(r.nll);
        if (smoothing > 0.f) loss += e / double(f.c) * (st.t + st.w * double(r.log_s));
        return float(loss);
    }

    // d loss / d x_j = (1-e) w_y (p_j - [j == y]) + e/C (W p_j - w_j). The target's entry is formed
    // from q = 1 - p_y: -(1-e) w_y q + e/C ((W - w_y) - W q), exact where p_y rounds to 1.
    struct Grad {
        const float* weights;
        int32_t target;
        bool smoothing;
        float m, log_s, w_total, nll_w, smooth_w, target_grad;

        __device__ float operator()(float v, int64_t j) const {
            if (j == target) return target_grad;
            const float p = fast_exp((v - m) - log_s);
            float g = nll_w * p;
            if (smoothing) g += smooth_w * (w_total * p - (weights ? __ldg(weights + j) : 1.f));
            return g;
        }
    };

    __device__ Grad grad(const RowState& st, const RowFacts& f, const Row& r) const {
        const bool smooth = smoothing > 0.f;
        const float w_total = smooth ? float(st.w) : 0.f;
        const float nll_w = (1.f - smoothing) * r.wy;
        const float smooth_w = smooth ? smoothing / float(f.c) : 0.f;
        float target_grad = -nll_w * r.q;
        if (smooth) target_grad += smooth_w * ((w_total - r.wy) - w_total * r.q);
        return Grad{class_weights, f.target, smooth, st.m, r.log_s, w_total, nll_w, smooth_w, target_grad};
    }
};

// Soft targets (F.cross_entropy with probabilities): with a_j = w_j ((1 - e) t_j + e / C), the row's
// loss is -sum_j a_j log p_j = sum_j a_j (m - x_j) + A log S, A = sum_j a_j: the smoothing sums of
// pass 1 with a_j as the weight (kept in double; a_j may have any sign, the rows need not sum to 1),
// and the gradient is A p_j - a_j. Every row counts; the mean divides by the rows, as PyTorch's.
// No target is left out of the sum: no one class carries the row (a one-hot row loses the digits of
// 1 - p_y that the class-index path keeps, as PyTorch's own soft-target path does).
struct SoftCePolicy {
    const float* class_weights;  // [c] or null
    float smoothing;             // e
    float keep;                  // 1 - e
    float spread;                // e / C

    static constexpr bool kClassTargets = false;
    static constexpr bool kStridedClasses = true;  // culossSoftmaxCrossEntropyProbsSpatial...
    static constexpr bool kSums = true;
    static constexpr bool kExcludeTarget = false;
    static constexpr bool kArgmax = false;

    __device__ bool sums_enabled() const { return true; }
    // a_j
    __device__ static float factor(const float* class_weights, float keep, float spread, int64_t j,
                                   const RowProbs& probs) {
        const float w = class_weights ? __ldg(class_weights + j) : 1.f;
        return w * fmaf(keep, probs[j], spread);
    }
    __device__ float weight(int64_t j, const RowProbs& probs) const {
        return factor(class_weights, keep, spread, j, probs);
    }

    const float* weights() const { return nullptr; }  // the mean counts rows

    static constexpr const char* kTableName = "class_weights";
    const float* table() const { return class_weights; }

    culossStatus_t check() const { return check_options(smoothing, class_weights); }

    struct Row {
        float log_s;
    };

    __device__ Row row(const RowState& st, const RowFacts&) const { return Row{fast_log(st.s)}; }

    __device__ float loss(const RowState& st, const RowFacts&, const Row& r) const {
        return float(st.t + st.w * double(r.log_s));
    }

    struct Grad {
        const float* class_weights;
        RowProbs probs;
        float keep, spread, m, log_s, a_total;

        __device__ float operator()(float v, int64_t j) const {
            const float p = fast_exp((v - m) - log_s);
            return a_total * p - factor(class_weights, keep, spread, j, probs);
        }
    };

    __device__ Grad grad(const RowState& st, const RowFacts& f, const Row& r) const {
        return Grad{class_weights, f.probs, keep, spread, st.m, r.log_s, float(st.w)};
    }
};

culossStatus_t run_probs(const float* logits, int64_t logits_stride, const float* target_probs, int64_t n, int64_t c,
                         const float* class_weights, float label_smoothing, culossReduction_t reduction,
                         const float* grad_output, float* loss, float* grad_logits, int64_t grad_stride,
                         void* workspace, size_t workspace_size, culossStream_t stream, int64_t inner = 1) {
    RowCall call{logits, logits_stride, nullptr, n, c, CULOSS_NO_IGNORE_INDEX, reduction, grad_output, loss,
                 grad_logits, grad_stride, workspace, workspace_size, nullptr, stream, inner};
    call.target_probs = target_probs;
    const float spread = c > 0 ? float(double(label_smoothing) / double(c)) : 0.f;
    return run_rows(call, SoftCePolicy{class_weights, label_smoothing, 1.f - label_smoothing, spread});
}

culossStatus_t run(const float* logits, int64_t logits_stride, const int32_t* targets, int64_t n, int64_t c,
                   const float* class_weights, int64_t ignore_index, float label_smoothing,
                   culossReduction_t reduction, const float* grad_output, float* loss, float* grad_logits,
                   int64_t grad_stride, void* workspace, size_t workspace_size, int32_t* error_word,
                   culossStream_t stream, int64_t inner = 1) {
    const RowCall call{logits, logits_stride, targets, n, c, ignore_index, reduction, grad_output, loss,
                       grad_logits, grad_stride, workspace, workspace_size, error_word, stream, inner};
    return run_rows(call, CePolicy{class_weights, label_smoothing});
}

}  // namespace
}  // namespace culoss

extern "C" {

culossStatus_t culossSoftmaxCrossEntropyWorkspaceSize(int64_t n, int64_t c,
                                                      culossDataType_t dtype, culossReduction_t reduction,
                                                      size_t* bytes) {
    CULOSS_REQUIRE_FLOAT32(dtype);
    return culoss::rows_workspace_size(n, c, reduction, bytes);
}

culossStatus_t culossSoftmaxCrossEntropyForward(const float* logits, int64_t logits_stride, const int32_t* targets,
                                                int64_t n, int64_t c,
                                                culossDataType_t dtype, const float* class_weights,
                                                int64_t ignore_index, float label_smoothing,
                                                culossReduction_t reduction, float* loss, void* workspace,
                                                size_t workspace_bytes, int32_t* error_word, culossStream_t stream) {
    CULOSS_REQUIRE_FLOAT32(dtype);
    CULOSS_REQUIRE(loss != nullptr || (n == 0 && reduction == CULOSS_REDUCTION_NONE), CULOSS_STATUS_INVALID_VALUE,
                   "loss is null");
    return culoss::run(logits, logits_stride, targets, n, c, class_weights, ignore_index, label_smoothing, reduction,
                       nullptr, loss, nullptr, c, workspace, workspace_bytes, error_word, stream);
}

culossStatus_t culossSoftmaxCrossEntropyBackward(const float* logits, int64_t logits_stride, const int32_t* targets,
                                                 int64_t n, int64_t c,
                                                 culossDataType_t dtype, const float* class_weights,
                                                 int64_t ignore_index, float label_smoothing,
                                                 culossReduction_t reduction, const float* grad_output,
                                                 float* grad_logits, int64_t grad_stride, void* workspace,
                                                 size_t workspace_bytes, int32_t* error_word, culossStream_t stream) {
    CULOSS_REQUIRE_FLOAT32(dtype);
    CULOSS_REQUIRE(grad_logits != nullptr || n == 0, CULOSS_STATUS_INVALID_VALUE, "grad_logits is null");
    // The backward needs the mean's denominator but not the per-row losses.
    return culoss::run(logits, logits_stride, targets, n, c, class_weights, ignore_index, label_smoothing, reduction,
                       grad_output, nullptr, grad_logits, grad_stride, workspace,
                       workspace_bytes, error_word, stream);
}

culossStatus_t culossSoftmaxCrossEntropyForwardBackward(
    const float* logits, int64_t logits_stride, const int32_t* targets, int64_t n, int64_t c, culossDataType_t dtype,
    const float* class_weights, int64_t ignore_index, float label_smoothing, culossReduction_t reduction,
    const float* grad_output, float* loss, float* grad_logits, int64_t grad_stride, void* workspace,
    size_t workspace_bytes, int32_t* error_word, culossStream_t stream) {
    CULOSS_REQUIRE_FLOAT32(dtype);
    CULOSS_REQUIRE(loss != nullptr || (n == 0 && reduction == CULOSS_REDUCTION_NONE), CULOSS_STATUS_INVALID_VALUE,
                   "loss is null");
    CULOSS_REQUIRE(grad_logits != nullptr || n == 0, CULOSS_STATUS_INVALID_VALUE, "grad_logits is null");
    return culoss::run(logits, logits_stride, targets, n, c, class_weights, ignore_index, label_smoothing, reduction,
                       grad_output, loss, grad_logits, grad_stride, workspace, workspace_bytes, error_word, stream);
}

// Soft targets: target_probs n rows of c, contiguous; no ignore index, no error word.
culossStatus_t culossSoftmaxCrossEntropyProbsWorkspaceSize(int64_t n, int64_t c, culossDataType_t dtype,
                                                           culossReduction_t reduction, size_t* bytes) {
    CULOSS_REQUIRE_FLOAT32(dtype);
    return culoss::rows_workspace_size(n, c, reduction, bytes);
}

culossStatus_t culossSoftmaxCrossEntropyProbsForward(const float* logits, int64_t logits_stride,
                                                     const float* target_probs, int64_t n, int64_t c,
                                                     culossDataType_t dtype, const float* class_weights,
                                                     float label_smoothing, culossReduction_t reduction, float* loss,
                                                     void* workspace, size_t workspace_bytes, culossStream_t stream) {
    CULOSS_REQUIRE_FLOAT32(dtype);
    CULOSS_REQUIRE(loss != nullptr || (n == 0 && reduction == CULOSS_REDUCTION_NONE), CULOSS_STATUS_INVALID_VALUE,
                   "loss is null");
    return culoss::run_probs(logits, logits_stride, target_probs, n, c, class_weights, label_smoothing, reduction,
                             nullptr, loss, nullptr, c, workspace, workspace_bytes, stream);
}

culossStatus_t culossSoftmaxCrossEntropyProbsBackward(const float* logits, int64_t logits_stride,
                                                      const float* target_probs, int64_t n, int64_t c,
                                                      culossDataType_t dtype, const float* class_weights,
                                                      float label_smoothing, culossReduction_t reduction,
                                                      const float* grad_output, float* grad_logits,
                                                      int64_t grad_stride, void* workspace, size_t workspace_bytes,
                                                      culossStream_t stream) {
    CULOSS_REQUIRE_FLOAT32(dtype);
    CULOSS_REQUIRE(grad_logits != nullptr || n == 0, CULOSS_STATUS_INVALID_VALUE, "grad_logits is null");
    return culoss::run_probs(logits, logits_stride, target_probs, n, c, class_weights, label_smoothing, reduction,
                             grad_output, nullptr, grad_logits, grad_stride, workspace, workspace_bytes, stream);
}

culossStatus_t culossSoftmaxCrossEntropyProbsForwardBackward(
    const float* logits, int64_t logits_stride, const float* target_probs, int64_t n, int64_t c,
    culossDataType_t dtype, const float* class_weights, float label_smoothing, culossReduction_t reduction,
    const float* grad_output, float* loss, float* grad_logits, int64_t grad_stride, void* workspace,
    size_t workspace_bytes, culossStream_t stream) {
    CULOSS_REQUIRE_FLOAT32(dtype);
    CULOSS_REQUIRE(loss != nullptr || (n == 0 && reduction == CULOSS_REDUCTION_NONE), CULOSS_STATUS_INVALID_VALUE,
                   "loss is null");
    CULOSS_REQUIRE(grad_logits != nullptr || n == 0, CULOSS_STATUS_INVALID_VALUE, "grad_logits is null");
    return culoss::run_probs(logits, logits_stride, target_probs, n, c, class_weights, label_smoothing, reduction,
                             grad_output, loss, grad_logits, grad_stride, workspace, workspace_bytes, stream);
}

// Soft targets over [N, C, d1..dk] logits: target_probs in the logits' layout, the classes `inner`
// apart in both; contiguous, so the strides are c.
culossStatus_t culossSoftmaxCrossEntropyProbsSpatialWorkspaceSize(int64_t n, int64_t c, int64_t inner,
                                                                  culossDataType_t dtype, culossReduction_t reduction,
                                                                  size_t* bytes) {
    CULOSS_REQUIRE_FLOAT32(dtype);
    return culoss::rows_workspace_size(n, c, reduction, bytes, "logits", inner);
}

culossStatus_t culossSoftmaxCrossEntropyProbsSpatialForward(const float* logits, const float* target_probs, int64_t n,
                                                            int64_t c, int64_t inner, culossDataType_t dtype,
                                                            const float* class_weights, float label_smoothing,
                                                            culossReduction_t reduction, float* loss, void* workspace,
                                                            size_t workspace_bytes, culossStream_t stream) {
    CULOSS_REQUIRE_FLOAT32(dtype);
    CULOSS_REQUIRE(loss != nullptr || ((n == 0 || inner == 0) && reduction == CULOSS_REDUCTION_NONE),
                   CULOSS_STATUS_INVALID_VALUE, "loss is null");
    return culoss::run_probs(logits, c, target_probs, n, c, class_weights, label_smoothing, reduction, nullptr, loss,
                             nullptr, c, workspace, workspace_bytes, stream, inner);
}

culossStatus_t culossSoftmaxCrossEntropyProbsSpatialBackward(const float* logits, const float* target_probs, int64_t n,
                                                             int64_t c, int64_t inner, culossDataType_t dtype,
                                                             const float* class_weights, float label_smoothing,
                                                             culossReduction_t reduction, const float* grad_output,
                                                             float* grad_logits, void* workspace,
                                                             size_t workspace_bytes, culossStream_t stream) {
    CULOSS_REQUIRE_FLOAT32(dtype);
    CULOSS_REQUIRE(grad_logits != nullptr || n == 0 || inner == 0, CULOSS_STATUS_INVALID_VALUE,
                   "grad_logits is null");
    return culoss::run_probs(logits, c, target_probs, n, c, class_weights, label_smoothing, reduction, grad_output,
                             nullptr, grad_logits, c, workspace, workspace_bytes, stream, inner);
}

culossStatus_t culossSoftmaxCrossEntropyProbsSpatialForwardBackward(
    const float* logits, const float* target_probs, int64_t n, int64_t c, int64_t inner, culossDataType_t dtype,
    const float* class_weights, float label_smoothing, culossReduction_t reduction, const float* grad_output,
    float* loss, float* grad_logits, void* workspace, size_t workspace_bytes, culossStream_t stream) {
    CULOSS_REQUIRE_FLOAT32(dtype);
    CULOSS_REQUIRE(loss != nullptr || ((n == 0 || inner == 0) && reduction == CULOSS_REDUCTION_NONE),
                   CULOSS_STATUS_INVALID_VALUE, "loss is null");
    CULOSS_REQUIRE(grad_logits != nullptr || n == 0 || inner == 0, CULOSS_STATUS_INVALID_VALUE,
                   "grad_logits is null");
    return culoss::run_probs(logits, c, target_probs, n, c, class_weights, label_smoothing, reduction, grad_output,
                             loss, grad_logits, c, workspace, workspace_bytes, stream, inner);
}

// [N, C, d1..dk] logits (class dimension 1), inner = d1 * ... * dk: the same loss per (sample,
// position) row, the classes `inner` apart; contiguous, so the strides are c.
culossStatus_t culossSoftmaxCrossEntropySpatialWorkspaceSize(int64_t n, int64_t c, int64_t inner,
                                                             culossDataType_t dtype, culossReduction_t reduction,
                                                             size_t* bytes) {
    CULOSS_REQUIRE_FLOAT32(dtype);
    return culoss::rows_workspace_size(n, c, reduction, bytes, "logits", inner);
}

culossStatus_t culossSoftmaxCrossEntropySpatialForward(
    const float* logits, const int32_t* targets, int64_t n, int64_t c, int64_t inner, culossDataType_t dtype,
    const float* class_weights, int64_t ignore_index, float label_smoothing, culossReduction_t reduction, float* loss,
    void* workspace, size_t workspace_bytes, int32_t* error_word, culossStream_t stream) {
    CULOSS_REQUIRE_FLOAT32(dtype);
    CULOSS_REQUIRE(loss != nullptr || ((n == 0 || inner == 0) && reduction == CULOSS_REDUCTION_NONE),
                   CULOSS_STATUS_INVALID_VALUE, "loss is null");
    return culoss::run(logits, c, targets, n, c, class_weights, ignore_index, label_smoothing, reduction, nullptr,
                       loss, nullptr, c, workspace, workspace_bytes, error_word, stream, inner);
}

culossStatus_t culossSoftmaxCrossEntropySpatialBackward(
    const float* logits, const int32_t* targets, int64_t n, int64_t c, int64_t inner, culossDataType_t dtype,
    const float* class_weights, int64_t ignore_index, float label_smoothing, culossReduction_t reduction,
    const float* grad_output, float* grad_logits, void* workspace, size_t workspace_bytes, int32_t* error_word,
    culossStream_t stream) {
    CULOSS_REQUIRE_FLOAT32(dtype);
    CULOSS_REQUIRE(grad_logits != nullptr || n == 0 || inner == 0, CULOSS_STATUS_INVALID_VALUE,
                   "grad_logits is null");
    return culoss::run(logits, c, targets, n, c, class_weights, ignore_index, label_smoothing, reduction, grad_output,
                       nullptr, grad_logits, c, workspace, workspace_bytes, error_word, stream, inner);
}

culossStatus_t culossSoftmaxCrossEntropySpatialForwardBackward(
    const float* logits, const int32_t* targets, int64_t n, int64_t c, int64_t inner, culossDataType_t dtype,
    const float* class_weights, int64_t ignore_index, float label_smoothing, culossReduction_t reduction,
    const float* grad_output, float* loss, float* grad_logits, void* workspace, size_t workspace_bytes,
    int32_t* error_word, culossStream_t stream) {
    CULOSS_REQUIRE_FLOAT32(dtype);
    CULOSS_REQUIRE(loss != nullptr || ((n == 0 || inner == 0) && reduction == CULOSS_REDUCTION_NONE),
                   CULOSS_STATUS_INVALID_VALUE, "loss is null");
    CULOSS_REQUIRE(grad_logits != nullptr || n == 0 || inner == 0, CULOSS_STATUS_INVALID_VALUE,
                   "grad_logits is null");
    return culoss::run(logits, c, targets, n, c, class_weights, ignore_index, label_smoothing, reduction, grad_output,
                       loss, grad_logits, c, workspace, workspace_bytes, error_word, stream, inner);
}

}  // extern "C"
