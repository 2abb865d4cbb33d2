// Softmax focal loss (Lin et al., multi-class form): forward, backward and the fused
// forward+backward, on the row machinery of row_softmax.cuh (one read of the row, gradient in the
// same pass, deterministic sum/mean).
//
//   loss_i = -alpha_y (1 - p_y)^gamma log p_y,  p = softmax(row), y = target
//   d loss_i / d x_k = F (p_k - [k == y]),      F = alpha_y (q^gamma - gamma p_y q^(gamma-1) log p_y), q = 1 - p_y
//
// Numerics. Pass 1 leaves the target's exponential out of the row sum s (the target logit still
// seeds the max m), so q = s / S with S = s + e^(x_y - m) keeps all its digits even when p_y is
// within an ulp of 1 (a sum that included the target would round 1 + 1e-7 to one float ulp).
// Then log p_y = log1p(-q) for small q, (x_y - m) - log S otherwise, so that neither cancels.
// gamma in (0, 1) with q -> 0 makes q^(gamma-1) blow up; it is written
// q^(gamma-1) log p_y = q^gamma (log p_y / q), where log p_y / q -> -1, so F stays finite (-> 0).
// p_y = 0 (a -inf target logit, or one far below the rest) gives p_y log p_y = 0, its limit.
// The target's gradient is -F q, from q itself rather than p_y - 1.
#include "row_softmax.cuh"

namespace culoss {
namespace {

struct FocalPolicy {
    const float* class_alpha;  // [c] or null: alpha for every class
    float alpha;
    float gamma;

    static constexpr bool kClassTargets = true;
    static constexpr bool kStridedClasses = true;  // culossSoftmaxFocalSpatial...
    static constexpr bool kSums = false;
    static constexpr bool kExcludeTarget = true;
    static constexpr bool kArgmax = false;

    // The mean divides by the number of counted rows, whatever their alpha.
    const float* weights() const { return nullptr; }

    // The per-class table the kernel reads (c floats, or null), for the range checks.
    static constexpr const char* kTableName = "class_alpha";
    const float* table() const { return class_alpha; }

    culossStatus_t check() const {
        CULOSS_REQUIRE(gamma >= 0.f && std::isfinite(gamma), CULOSS_STATUS_INVALID_VALUE,
                       "gamma (%g) is negative or not finite", double(gamma));
        CULOSS_REQUIRE(class_alpha || std::isfinite(alpha), CULOSS_STATUS_INVALID_VALUE, "alpha (%g) is not finite",
                       double(alpha));
        CULOSS_REQUIRE_ALIGNED(class_alpha, 4);
        return CULOSS_STATUS_SUCCESS;
    }

    // What the loss and the gradient share. All 0 for a row that does not count.
    struct Row {
        float alpha_y;
        float q;       // 1 - p_y
        float log_p;   // log p_y
        float p_y;
        float q_gamma; // q^gamma
        float log_s;   // log of the whole row's sum of e^(x - m)
    };

    __device__ Row row(const RowState& st, const RowFacts& f) const {
        Row r{0.f, 0.f, 0.f, 0.f, 0.f, 0.f};
        if (!f.counted) return r;
        const TargetShare t = target_share(st, f.x_target);
        r.log_s = t.log_s;
        r.q = t.q;
        r.p_y = t.e_y / (st.s + t.e_y);
        r.log_p = r.q < 0.25f ? log1p_(-r.q) : t.d - r.log_s;
        r.q_gamma = gamma == 2.f ? r.q * r.q : gamma == 1.f ? r.q : pow_(r.q, gamma);
        r.alpha_y = class_alpha ? __ldg(class_alpha + f.target) : alpha;
        return r;
    }

    __device__ float loss(const RowState&, const RowFacts&, const Row& r) const {
        return r.alpha_y * (r.q_gamma * -r.log_p);
    }

    struct Grad {
        int32_t target;
        float m, log_s;
        float f;       // F
        float f_neg_q; // the target's entry: F (p_y - 1) = -F q

        __device__ float operator()(float v, int64_t j) const {
            return j == target ? f_neg_q : f * fast_exp((v - m) - log_s);
        }
    };

    __device__ Grad grad(const RowState& st, const RowFacts& f, const Row& r) const {
        // p_y log p_y / q: its limit -1 at q = 0, and 0 where p_y = 0 (log p_y = -inf).
        const float p_log_p_over_q = r.p_y > 0.f ? r.p_y * (r.q > 0.f ? r.log_p / r.q : -1.f) : 0.f;
        const float big_f = r.alpha_y * r.q_gamma * (1.f - gamma * p_log_p_over_q);
        return Grad{f.target, st.m, r.log_s, big_f, -big_f * r.q};
    }
};

culossStatus_t run(const float* logits, int64_t logits_stride, const int32_t* targets, int64_t n, int64_t c,
                   const float* class_alpha, float alpha, float gamma, int64_t ignore_index,
                   culossReduction_t reduction, const float* grad_output, float* loss, float* grad_logits,
                   int64_t grad_stride, void* workspace, size_t workspace_size, int32_t* error_word,
                   culossStream_t stream, int64_t inner = 1) {
    const RowCall call{logits, logits_stride, targets, n, c, ignore_index, reduction, grad_output, loss,
                       grad_logits, grad_stride, workspace, workspace_size, error_word, stream, inner};
    return run_rows(call, FocalPolicy{class_alpha, alpha, gamma});
}

}  // namespace
}  // namespace culoss

extern "C" {

culossStatus_t culossSoftmaxFocalWorkspaceSize(int64_t n, int64_t c,
                                               culossDataType_t dtype, culossReduction_t reduction, size_t* bytes) {
    CULOSS_REQUIRE_FLOAT32(dtype);
    return culoss::rows_workspace_size(n, c, reduction, bytes);
}

culossStatus_t culossSoftmaxFocalForward(const float* logits, int64_t logits_stride, const int32_t* targets,
                                         int64_t n, int64_t c,
                                         culossDataType_t dtype, const float* class_alpha, float alpha, float gamma,
                                         int64_t ignore_index, culossReduction_t reduction, float* loss,
                                         void* workspace, size_t workspace_bytes, int32_t* error_word,
                                         culossStream_t stream) {
    CULOSS_REQUIRE_FLOAT32(dtype);
    CULOSS_REQUIRE(loss != nullptr || (n == 0 && reduction == CULOSS_REDUCTION_NONE), CULOSS_STATUS_INVALID_VALUE,
                   "loss is null");
    return culoss::run(logits, logits_stride, targets, n, c, class_alpha, alpha, gamma, ignore_index, reduction,
                       nullptr, loss, nullptr, c, workspace, workspace_bytes, error_word, stream);
}

culossStatus_t culossSoftmaxFocalBackward(const float* logits, int64_t logits_stride, const int32_t* targets,
                                          int64_t n, int64_t c,
                                          culossDataType_t dtype, const float* class_alpha, float alpha, float gamma,
                                          int64_t ignore_index, culossReduction_t reduction,
                                          const float* grad_output, float* grad_logits, int64_t grad_stride,
                                          void* workspace, size_t workspace_bytes, int32_t* error_word,
                                          culossStream_t stream) {
    CULOSS_REQUIRE_FLOAT32(dtype);
    CULOSS_REQUIRE(grad_logits != nullptr || n == 0, CULOSS_STATUS_INVALID_VALUE, "grad_logits is null");
    // The backward needs the mean's denominator but not the per-row losses.
    return culoss::run(logits, logits_stride, targets, n, c, class_alpha, alpha, gamma, ignore_index, reduction,
                       grad_output, nullptr, grad_logits, grad_stride, workspace, workspace_bytes, error_word,
                       stream);
}

culossStatus_t culossSoftmaxFocalForwardBackward(const float* logits, int64_t logits_stride, const int32_t* targets,
                                                 int64_t n, int64_t c,
                                                 culossDataType_t dtype, const float* class_alpha, float alpha,
                                                 float gamma, int64_t ignore_index, culossReduction_t reduction,
                                                 const float* grad_output, float* loss, float* grad_logits,
                                                 int64_t grad_stride, void* workspace, size_t workspace_bytes,
                                                 int32_t* error_word, culossStream_t stream) {
    CULOSS_REQUIRE_FLOAT32(dtype);
    CULOSS_REQUIRE(loss != nullptr || (n == 0 && reduction == CULOSS_REDUCTION_NONE), CULOSS_STATUS_INVALID_VALUE,
                   "loss is null");
    CULOSS_REQUIRE(grad_logits != nullptr || n == 0, CULOSS_STATUS_INVALID_VALUE, "grad_logits is null");
    return culoss::run(logits, logits_stride, targets, n, c, class_alpha, alpha, gamma, ignore_index, reduction,
                       grad_output, loss, grad_logits, grad_stride, workspace, workspace_bytes, error_word, stream);
}

// [N, C, d1..dk] logits (class dimension 1), inner = d1 * ... * dk: the same loss per (sample,
// position) row, the classes `inner` apart; contiguous, so the strides are c.
culossStatus_t culossSoftmaxFocalSpatialWorkspaceSize(int64_t n, int64_t c, int64_t inner,
                                                      culossDataType_t dtype, culossReduction_t reduction,
                                                      size_t* bytes) {
    CULOSS_REQUIRE_FLOAT32(dtype);
    return culoss::rows_workspace_size(n, c, reduction, bytes, "logits", inner);
}

culossStatus_t culossSoftmaxFocalSpatialForward(
    const float* logits, const int32_t* targets, int64_t n, int64_t c, int64_t inner, culossDataType_t dtype,
    const float* class_alpha, float alpha, float gamma, int64_t ignore_index, culossReduction_t reduction,
    float* loss, void* workspace, size_t workspace_bytes, int32_t* error_word, culossStream_t stream) {
    CULOSS_REQUIRE_FLOAT32(dtype);
    CULOSS_REQUIRE(loss != nullptr || ((n == 0 || inner == 0) && reduction == CULOSS_REDUCTION_NONE),
                   CULOSS_STATUS_INVALID_VALUE, "loss is null");
    return culoss::run(logits, c, targets, n, c, class_alpha, alpha, gamma, ignore_index, reduction, nullptr, loss,
                       nullptr, c, workspace, workspace_bytes, error_word, stream, inner);
}

culossStatus_t culossSoftmaxFocalSpatialBackward(
    const float* logits, const int32_t* targets, int64_t n, int64_t c, int64_t inner, culossDataType_t dtype,
    const float* class_alpha, float alpha, float gamma, int64_t ignore_index, culossReduction_t reduction,
    const float* grad_output, float* grad_logits, void* workspace, size_t workspace_bytes, int32_t* error_word,
    culossStream_t stream) {
    CULOSS_REQUIRE_FLOAT32(dtype);
    CULOSS_REQUIRE(grad_logits != nullptr || n == 0 || inner == 0, CULOSS_STATUS_INVALID_VALUE,
                   "grad_logits is null");
    return culoss::run(logits, c, targets, n, c, class_alpha, alpha, gamma, ignore_index, reduction, grad_output,
                       nullptr, grad_logits, c, workspace, workspace_bytes, error_word, stream, inner);
}

culossStatus_t culossSoftmaxFocalSpatialForwardBackward(
    const float* logits, const int32_t* targets, int64_t n, int64_t c, int64_t inner, culossDataType_t dtype,
    const float* class_alpha, float alpha, float gamma, int64_t ignore_index, culossReduction_t reduction,
    const float* grad_output, float* loss, float* grad_logits, void* workspace, size_t workspace_bytes,
    int32_t* error_word, culossStream_t stream) {
    CULOSS_REQUIRE_FLOAT32(dtype);
    CULOSS_REQUIRE(loss != nullptr || ((n == 0 || inner == 0) && reduction == CULOSS_REDUCTION_NONE),
                   CULOSS_STATUS_INVALID_VALUE, "loss is null");
    CULOSS_REQUIRE(grad_logits != nullptr || n == 0 || inner == 0, CULOSS_STATUS_INVALID_VALUE,
                   "grad_logits is null");
    return culoss::run(logits, c, targets, n, c, class_alpha, alpha, gamma, ignore_index, reduction, grad_output,
                       loss, grad_logits, c, workspace, workspace_bytes, error_word, stream, inner);
}

}  // extern "C"
