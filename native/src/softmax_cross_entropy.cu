// Softmax cross-entropy: forward, backward and the fused forward+backward.
//
// The row machinery (one read of the row with 16-byte loads, online max/sum, register cache,
// gradient pass, deterministic sum/mean) is row_softmax.cuh's; this file is the policy that
// turns a row's max, sum of exponentials and smoothing sums into its loss and gradient, and the
// entry points. The mean divides by the summed class weights of the rows that count.
#include "row_softmax.cuh"

namespace culoss {
namespace {

struct CePolicy {
    const float* class_weights;  // [c] or null
    float smoothing;

    static constexpr bool kSums = true;  // label smoothing needs sum w_j (x_j - ref) and sum w_j
    static constexpr bool kExcludeTarget = false;

    __device__ bool sums_enabled() const { return smoothing > 0.f; }

    // The smoothing sums: sx accumulates w_j * (x_j - ref), sw the weights.
    __device__ __forceinline__ void accumulate_sums(RowState& st, float x, float ref, int64_t j) const {
        const float wj = class_weights ? __ldg(class_weights + j) : 1.f;
        st.sx += wj * (x - ref);
        st.sw += wj;
    }

    const float* weights() const { return class_weights; }

    culossStatus_t check() const {
        CULOSS_REQUIRE(smoothing >= 0.f && smoothing <= 1.f, CULOSS_STATUS_INVALID_VALUE,
                       "label_smoothing (%g) is not in [0, 1]", double(smoothing));
        CULOSS_REQUIRE_ALIGNED(class_weights, 4);
        return CULOSS_STATUS_SUCCESS;
    }

    // What both the loss and the gradient use.
    struct Row {
        float log_s, wy, w_total;
    };

    __device__ Row row(const RowState& st, const RowFacts& f) const {
        Row r;
        r.log_s = fast_log(st.s);
        r.wy = f.counted ? (class_weights ? __ldg(class_weights + f.target) : 1.f) : 0.f;
        r.w_total = class_weights ? st.sw : float(f.c);
        return r;
    }

    // The loss of a counted row.
    __device__ float loss(const RowState& st, const RowFacts& f, const Row& r) const {
        const float e = smoothing;
        // -log p_y = (m - x_y) + log s, written so that large logits do not lose digits.
        float loss = (1.f - e) * r.wy * ((st.m - __ldg(f.x + f.target)) + r.log_s);
        if (e > 0.f) loss += e / float(f.c) * (r.w_total * (r.log_s + (st.m - f.ref)) - st.sx);
        return loss;
    }

    // d loss / d x_j = (1-e) w_y (p_j - [j == y]) + e/C (W p_j - w_j), each bracket formed on
    // its own so that it is exactly 0 where p_j = 1 (C = 1, or one dominant logit).
    struct Grad {
        const float* weights;
        int32_t target;
        bool smoothing;
        float m, log_s, w_total, nll_w, smooth_w;

        __device__ float operator()(float v, int64_t j) const {
            const float p = fast_exp((v - m) - log_s);
            float g = nll_w * (j == target ? p - 1.f : p);
            if (smoothing) g += smooth_w * (w_total * p - (weights ? __ldg(weights + j) : 1.f));
            return g;
        }
    };

    __device__ Grad grad(const RowState& st, const RowFacts& f, const Row& r) const {
        const bool smooth = smoothing > 0.f;
        return Grad{class_weights, f.target, smooth, st.m, r.log_s, r.w_total, (1.f - smoothing) * r.wy,
                    smooth ? smoothing / float(f.c) : 0.f};
    }
};

culossStatus_t run(const float* logits, int64_t logits_stride, const int32_t* targets, int64_t n, int64_t c,
                   const float* class_weights, int64_t ignore_index, float label_smoothing,
                   culossReduction_t reduction, const float* grad_output, float* loss, float* grad_logits,
                   int64_t grad_stride, void* workspace, size_t workspace_size, int32_t* error_word,
                   culossStream_t stream) {
    const RowCall call{logits, logits_stride, targets, n, c, ignore_index, reduction, grad_output, loss,
                       grad_logits, grad_stride, workspace, workspace_size, error_word, stream};
    return run_rows(call, CePolicy{class_weights, label_smoothing});
}

}  // namespace
}  // namespace culoss

extern "C" {

culossStatus_t culossSoftmaxCrossEntropyWorkspaceSize(int64_t n, int64_t c, culossReduction_t reduction,
                                                      size_t* bytes) {
    return culoss::rows_workspace_size(n, c, reduction, bytes);
}

culossStatus_t culossSoftmaxCrossEntropyForward(const float* logits, int64_t logits_stride, const int32_t* targets,
                                                int64_t n, int64_t c, const float* class_weights,
                                                int64_t ignore_index, float label_smoothing,
                                                culossReduction_t reduction, float* loss, void* workspace,
                                                size_t workspace_bytes, int32_t* error_word, culossStream_t stream) {
    CULOSS_REQUIRE(loss != nullptr || (n == 0 && reduction == CULOSS_REDUCTION_NONE), CULOSS_STATUS_INVALID_VALUE,
                   "loss is null");
    return culoss::run(logits, logits_stride, targets, n, c, class_weights, ignore_index, label_smoothing, reduction,
                       nullptr, loss, nullptr, c, workspace, workspace_bytes, error_word, stream);
}

culossStatus_t culossSoftmaxCrossEntropyBackward(const float* logits, int64_t logits_stride, const int32_t* targets,
                                                 int64_t n, int64_t c, const float* class_weights,
                                                 int64_t ignore_index, float label_smoothing,
                                                 culossReduction_t reduction, const float* grad_output,
                                                 float* grad_logits, int64_t grad_stride, void* workspace,
                                                 size_t workspace_bytes, int32_t* error_word, culossStream_t stream) {
    CULOSS_REQUIRE(grad_logits != nullptr || n == 0, CULOSS_STATUS_INVALID_VALUE, "grad_logits is null");
    // The backward needs the mean's denominator but not the per-row losses.
    return culoss::run(logits, logits_stride, targets, n, c, class_weights, ignore_index, label_smoothing, reduction,
                       grad_output, nullptr, grad_logits, grad_stride, workspace,
                       workspace_bytes, error_word, stream);
}

culossStatus_t culossSoftmaxCrossEntropyForwardBackward(
    const float* logits, int64_t logits_stride, const int32_t* targets, int64_t n, int64_t c,
    const float* class_weights, int64_t ignore_index, float label_smoothing, culossReduction_t reduction,
    const float* grad_output, float* loss, float* grad_logits, int64_t grad_stride, void* workspace,
    size_t workspace_bytes, int32_t* error_word, culossStream_t stream) {
    CULOSS_REQUIRE(loss != nullptr || (n == 0 && reduction == CULOSS_REDUCTION_NONE), CULOSS_STATUS_INVALID_VALUE,
                   "loss is null");
    CULOSS_REQUIRE(grad_logits != nullptr || n == 0, CULOSS_STATUS_INVALID_VALUE, "grad_logits is null");
    return culoss::run(logits, logits_stride, targets, n, c, class_weights, ignore_index, label_smoothing, reduction,
                       grad_output, loss, grad_logits, grad_stride, workspace, workspace_bytes, error_word, stream);
}

}  // extern "C"
