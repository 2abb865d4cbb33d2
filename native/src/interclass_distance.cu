// Class-distance weighted cross-entropy, for ordinal labels: forward, backward and the fused
// forward+backward, on the row machinery of row_softmax.cuh.
//
//   loss_i = w_i * -log p_{i,y},  w_i = (|argmax_j x_ij - y| + 1) / M_y,  M_y = sum_k (|y - k| + 1)
//   d loss_i / d x_ij = w_i (p_ij - [j == y])      (w_i held constant: argmax has no gradient)
//
// A prediction far from the true class on the label scale costs more than a near miss; M_y makes
// the weights of a row's possible predictions sum to 1. The argmax is torch.argmax's first index
// of the largest logit, found in the same pass that finds the max (kArgmax). The target's
// exponential is left out of the row sum as for cross-entropy, so a confident row keeps the
// digits of its small loss and of 1 - p_y.
#include "row_softmax.cuh"

namespace culoss {
namespace {

struct InterclassPolicy {
    static constexpr bool kClassTargets = true;
    static constexpr bool kStridedClasses = false;  // the entry points take [N, C] rows only
    static constexpr bool kSums = false;
    static constexpr bool kExcludeTarget = true;
    static constexpr bool kArgmax = true;

    // The mean divides by the rows: the weights are already normalized by M_y.
    const float* weights() const { return nullptr; }

    // No per-class table.
    static constexpr const char* kTableName = "class_weights";
    const float* table() const { return nullptr; }

    culossStatus_t check() const { return CULOSS_STATUS_SUCCESS; }

    struct Row {
        float log_s;  // log S, S = sum_j e^(x_j - m) over the whole row
        float q;      // 1 - p_y = s / S
        float nll;    // -log p_y
        float w;      // the row's distance weight
    };

    // w = (|a - y| + 1) / M, M = C + y (y + 1) / 2 + (C - 1 - y) (C - y) / 2, in double: M grows
    // as C^2 / 2 and must not round before the division.
    __device__ static float distance_weight(int64_t argmax, int64_t y, int64_t c) {
        const double yd = double(y), cd = double(c);
        const double m = cd + 0.5 * (yd * (yd + 1.0) + (cd - 1.0 - yd) * (cd - yd));
        const int64_t d = argmax > y ? argmax - y : y - argmax;
        return float((double(d) + 1.0) / m);
    }

    __device__ Row row(const RowState& st, const RowFacts& f) const {
        Row r{0.f, 0.f, 0.f, 0.f};
        if (!f.counted) return r;
        const TargetShare t = target_share(st, f.x_target);
        r.log_s = t.log_s;
        r.q = t.q;
        r.nll = target_nll(st, t);
        r.w = distance_weight(st.am, f.target, f.c);
        return r;
    }

    __device__ float loss(const RowState&, const RowFacts&, const Row& r) const { return r.w * r.nll; }

    struct Grad {
        int32_t target;
        float m, log_s, w, target_grad;

        __device__ float operator()(float v, int64_t j) const {
            return j == target ? target_grad : w * fast_exp((v - m) - log_s);
        }
    };

    // The target's entry from q = 1 - p_y: -w q, exact where p_y rounds to 1.
    __device__ Grad grad(const RowState& st, const RowFacts& f, const Row& r) const {
        return Grad{f.target, st.m, r.log_s, r.w, -r.w * r.q};
    }
};

culossStatus_t run(const float* logits, int64_t logits_stride, const int32_t* targets, int64_t n, int64_t c,
                   culossReduction_t reduction, const float* grad_output, float* loss, float* grad_logits,
                   int64_t grad_stride, void* workspace, size_t workspace_size, int32_t* error_word,
                   culossStream_t stream) {
    const RowCall call{logits, logits_stride, targets, n, c, CULOSS_NO_IGNORE_INDEX, reduction, grad_output, loss,
                       grad_logits, grad_stride, workspace, workspace_size, error_word, stream};
    return run_rows(call, InterclassPolicy{});
}

}  // namespace
}  // namespace culoss

extern "C" {

culossStatus_t culossInterclassDistanceWorkspaceSize(int64_t n, int64_t c, culossDataType_t dtype,
                                                     culossReduction_t reduction, size_t* bytes) {
    CULOSS_REQUIRE_FLOAT32(dtype);
    return culoss::rows_workspace_size(n, c, reduction, bytes);
}

culossStatus_t culossInterclassDistanceForward(const float* logits, int64_t logits_stride, const int32_t* targets,
                                               int64_t n, int64_t c, culossDataType_t dtype,
                                               culossReduction_t reduction, float* loss, void* workspace,
                                               size_t workspace_bytes, int32_t* error_word, culossStream_t stream) {
    CULOSS_REQUIRE_FLOAT32(dtype);
    CULOSS_REQUIRE(loss != nullptr || (n == 0 && reduction == CULOSS_REDUCTION_NONE), CULOSS_STATUS_INVALID_VALUE,
                   "loss is null");
    return culoss::run(logits, logits_stride, targets, n, c, reduction, nullptr, loss, nullptr, c, workspace,
                       workspace_bytes, error_word, stream);
}

culossStatus_t culossInterclassDistanceBackward(const float* logits, int64_t logits_stride, const int32_t* targets,
                                                int64_t n, int64_t c, culossDataType_t dtype,
                                                culossReduction_t reduction, const float* grad_output,
                                                float* grad_logits, int64_t grad_stride, void* workspace,
                                                size_t workspace_bytes, int32_t* error_word, culossStream_t stream) {
    CULOSS_REQUIRE_FLOAT32(dtype);
    CULOSS_REQUIRE(grad_logits != nullptr || n == 0, CULOSS_STATUS_INVALID_VALUE, "grad_logits is null");
    return culoss::run(logits, logits_stride, targets, n, c, reduction, grad_output, nullptr, grad_logits,
                       grad_stride, workspace, workspace_bytes, error_word, stream);
}

culossStatus_t culossInterclassDistanceForwardBackward(const float* logits, int64_t logits_stride,
                                                       const int32_t* targets, int64_t n, int64_t c,
                                                       culossDataType_t dtype, culossReduction_t reduction,
                                                       const float* grad_output, float* loss, float* grad_logits,
                                                       int64_t grad_stride, void* workspace, size_t workspace_bytes,
                                                       int32_t* error_word, culossStream_t stream) {
    CULOSS_REQUIRE_FLOAT32(dtype);
    CULOSS_REQUIRE(loss != nullptr || (n == 0 && reduction == CULOSS_REDUCTION_NONE), CULOSS_STATUS_INVALID_VALUE,
                   "loss is null");
    CULOSS_REQUIRE(grad_logits != nullptr || n == 0, CULOSS_STATUS_INVALID_VALUE, "grad_logits is null");
    return culoss::run(logits, logits_stride, targets, n, c, reduction, grad_output, loss, grad_logits, grad_stride,
                       workspace, workspace_bytes, error_word, stream);
}

}  // extern "C"
