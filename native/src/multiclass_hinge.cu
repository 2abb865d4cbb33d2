// Multi-class hinge loss (torch.nn.functional.multi_margin_loss): forward, backward and the fused
// forward+backward, on the row plumbing of rows.cuh (checks, workspace, mean, sum).
//
// A group of threads owns a row (a warp up to 1024 classes, a block of 256 above). The group's
// first thread reads the target's score x_y and shares it (a shuffle, or shared memory and a
// barrier); then each thread makes one pass over its share of the row: each z_j = (m - x_y) + x_j
// gives its term of the loss and, at once, its gradient, which depends on x_y and x_j alone. The
// target's gradient is minus the sum of the others, so it is written last, by that first thread,
// after the group's reduction.
//
// Numerics: z_j > 0 is strict and evaluated in float in PyTorch's order, so the kink and a NaN
// score (z_j NaN: no term, no gradient) behave as PyTorch's; the row's sums of z^p and of the
// slopes are kept in double (a row of 32000 terms keeps its digits). The gradient is the upstream
// scale times w_y / c times the slope, so an infinite upstream gradient gives NaN where the slope
// is 0, as PyTorch's product does.
#include "rows.cuh"

namespace culoss {
namespace {

struct HingeArgs {
    const float* scores;
    int64_t scores_stride;
    const int32_t* targets;
    int64_t n;
    int64_t c;
    const float* class_weights;  // [c] or null
    float margin;
    int p;  // 1 or 2
    int reduction;
    const float* grad_output;  // null: 1
    float* row_loss;           // per-row losses (the user's output for NONE, workspace else) or null
    float* grad;               // null: no backward
    int64_t grad_stride;
    const float* denominator;  // MEAN: the number of rows with a valid target, in the workspace
    int32_t* error_word;       // may be null
};

// A thread's share of a row: the sum of z^p over its terms (the loss before w_y / c), and of the
// slopes d z^p / d z (minus the target's gradient before its scale).
struct Sums {
    double loss, slope;
};

struct AddSums {
    __device__ Sums operator()(Sums a, Sums b) const { return Sums{a.loss + b.loss, a.slope + b.slope}; }
};

// For warp_reduce and block_reduce (found by argument-dependent lookup).
__device__ __forceinline__ Sums shfl_xor(Sums v, int offset) {
    return Sums{culoss::shfl_xor(v.loss, offset), culoss::shfl_xor(v.slope, offset)};
}

// TPR threads own a row (32: a warp; else the whole block).
//
// In place (grad_scores = scores) every score is read, then written, by one thread alone: a score
// but the target's by the thread that owns it, the target's by the group's first thread, which
// writes its gradient after the reduction (no other thread loads it: a shuffle orders no memory
// access, so a load by another lane before it would race with that write).
template <int TPR>
__global__ void __launch_bounds__(TPR == 32 ? 256 : TPR) multiclass_hinge_kernel(HingeArgs a) {
    const int lane = lane_in_row<TPR>();
    const int64_t row = row_of_thread<TPR>();
    if (row >= a.n) return;  // a whole warp (TPR = 32) or nothing (the grid covers n exactly)

    const float* x = a.scores + row * a.scores_stride;
    const int64_t c = a.c;
    const int32_t target = __ldg(a.targets + row);
    const bool counted = target >= 0 && target < c;
    float xt = 0.f;
    if constexpr (TPR == 32) {
        if (lane == 0 && counted) xt = x[target];
        xt = __shfl_sync(kFullMask, xt, 0);  // lane 0's
    } else {
        CULOSS_SHARED(float, shared_xt, );
        if (lane == 0) shared_xt = counted ? x[target] : 0.f;
        __syncthreads();
        xt = shared_xt;  // written once per launch: no later write to order against
    }
    const float base = a.margin - xt;  // z_j = base + x_j, PyTorch's order
    const float wy = counted && a.class_weights ? __ldg(a.class_weights + target) : 1.f;

    float* gr = a.grad ? a.grad + row * a.grad_stride : nullptr;
    float coef = 0.f;  // d loss_i / d x_j = coef * slope_j
    if (gr && counted) {
        const float g = a.grad_output ? __ldg(a.grad_output + (a.reduction == CULOSS_REDUCTION_NONE ? row : 0)) : 1.f;
        float scale = g;
        if (a.reduction == CULOSS_REDUCTION_MEAN) {
            const float d = *a.denominator;
            scale = d > 0.f ? g / d : 0.f;
        }
        coef = scale * wy / float(c);
    }

    Sums s{0.0, 0.0};
    for (int64_t j = lane; j < c; j += TPR) {
        if (j == target) continue;  // a counted row's target: written after the reduction
        float slope = 0.f;
        if (counted) {
            const float z = base + x[j];
            if (z > 0.f) {
                s.loss += a.p == 1 ? double(z) : double(z) * double(z);
                slope = a.p == 1 ? 1.f : 2.f * z;
                s.slope += double(slope);
            }
        }
        if (gr) gr[j] = counted ? coef * slope : 0.f;
    }

    if constexpr (TPR == 32) {
        s = warp_reduce(s, AddSums{});
    } else {
        s = block_reduce(s, AddSums{}, Sums{0.0, 0.0});
    }
    if (lane != 0) return;
    if (!counted && a.error_word) atomicOr(a.error_word, int32_t(CULOSS_DEVICE_ERROR_BAD_TARGET));
    if (a.row_loss) a.row_loss[row] = counted ? float(double(wy) * s.loss / double(c)) : 0.f;
    if (gr && counted) gr[target] = -coef * float(s.slope);
}

template <int TPR>
[[nodiscard]] culossStatus_t launch(const HingeArgs& a, culossStream_t stream) {
    return CULOSS_LAUNCH(multiclass_hinge_kernel<TPR>, row_grid<TPR>(a.n), row_block_threads<TPR>(), stream, a);
}

constexpr RowNames kNames{"scores", "scores_stride", "grad_scores", "class_weights"};

culossStatus_t run(const float* scores, int64_t scores_stride, const int32_t* targets, int64_t n, int64_t c,
                   const float* class_weights, float margin, int p, culossReduction_t reduction,
                   const float* grad_output, float* loss, float* grad_scores, int64_t grad_stride, void* workspace,
                   size_t workspace_size, int32_t* error_word, culossStream_t stream) {
    const RowCall k{scores, scores_stride, targets, n, c, CULOSS_NO_IGNORE_INDEX, reduction, grad_output, loss,
                    grad_scores, grad_stride, workspace, workspace_size, error_word, stream};
    CULOSS_TRY(check_rows(k, kNames, class_weights, [&] {
        CULOSS_REQUIRE(std::isfinite(margin), CULOSS_STATUS_INVALID_VALUE, "margin (%g) is not finite",
                       double(margin));
        CULOSS_REQUIRE(p == 1 || p == 2, CULOSS_STATUS_INVALID_VALUE, "p (%d) is not 1 or 2", p);
        CULOSS_REQUIRE_ALIGNED(class_weights, 4);
        return CULOSS_STATUS_SUCCESS;
    }));
    if (n == 0) return finish_empty_rows(k);
    const RowWorkspace ws = row_workspace(k);
    if (ws.denominator) {
        CULOSS_TRY(deterministic_sum(TargetWeight{targets, nullptr, c, CULOSS_NO_IGNORE_INDEX}, n, ws.partials,
                                     StoreScalar{ws.denominator}, stream));
    }
    const HingeArgs args{scores,      scores_stride, targets,     n,           c,
                         class_weights, margin,      p,           reduction,   grad_output,
                         ws.row_loss, grad_scores,   grad_stride, ws.denominator, error_word};
    if (c <= 1024) {
        CULOSS_TRY(launch<32>(args, stream));
    } else {
        CULOSS_TRY(launch<256>(args, stream));
    }
    return finish_rows(k, ws);
}

}  // namespace
}  // namespace culoss

extern "C" {

culossStatus_t culossMulticlassHingeWorkspaceSize(int64_t n, int64_t c, culossDataType_t dtype,
                                                  culossReduction_t reduction, size_t* bytes) {
    CULOSS_REQUIRE_FLOAT32(dtype);
    return culoss::rows_workspace_size(n, c, reduction, bytes, "scores");
}

culossStatus_t culossMulticlassHingeForward(const float* scores, int64_t scores_stride, const int32_t* targets,
                                            int64_t n, int64_t c, culossDataType_t dtype,
                                            const float* class_weights, float margin, int p,
                                            culossReduction_t reduction, float* loss, void* workspace,
                                            size_t workspace_bytes, int32_t* error_word, culossStream_t stream) {
    CULOSS_REQUIRE_FLOAT32(dtype);
    CULOSS_REQUIRE(loss != nullptr || (n == 0 && reduction == CULOSS_REDUCTION_NONE), CULOSS_STATUS_INVALID_VALUE,
                   "loss is null");
    return culoss::run(scores, scores_stride, targets, n, c, class_weights, margin, p, reduction, nullptr, loss,
                       nullptr, c, workspace, workspace_bytes, error_word, stream);
}

culossStatus_t culossMulticlassHingeBackward(const float* scores, int64_t scores_stride, const int32_t* targets,
                                             int64_t n, int64_t c, culossDataType_t dtype,
                                             const float* class_weights, float margin, int p,
                                             culossReduction_t reduction, const float* grad_output,
                                             float* grad_scores, int64_t grad_stride, void* workspace,
                                             size_t workspace_bytes, int32_t* error_word, culossStream_t stream) {
    CULOSS_REQUIRE_FLOAT32(dtype);
    CULOSS_REQUIRE(grad_scores != nullptr || n == 0, CULOSS_STATUS_INVALID_VALUE, "grad_scores is null");
    return culoss::run(scores, scores_stride, targets, n, c, class_weights, margin, p, reduction, grad_output,
                       nullptr, grad_scores, grad_stride, workspace, workspace_bytes, error_word, stream);
}

culossStatus_t culossMulticlassHingeForwardBackward(const float* scores, int64_t scores_stride,
                                                    const int32_t* targets, int64_t n, int64_t c,
                                                    culossDataType_t dtype, const float* class_weights, float margin,
                                                    int p, culossReduction_t reduction, const float* grad_output,
                                                    float* loss, float* grad_scores, int64_t grad_stride,
                                                    void* workspace, size_t workspace_bytes, int32_t* error_word,
                                                    culossStream_t stream) {
    CULOSS_REQUIRE_FLOAT32(dtype);
    CULOSS_REQUIRE(loss != nullptr || (n == 0 && reduction == CULOSS_REDUCTION_NONE), CULOSS_STATUS_INVALID_VALUE,
                   "loss is null");
    CULOSS_REQUIRE(grad_scores != nullptr || n == 0, CULOSS_STATUS_INVALID_VALUE, "grad_scores is null");
    return culoss::run(scores, scores_stride, targets, n, c, class_weights, margin, p, reduction, grad_output, loss,
                       grad_scores, grad_stride, workspace, workspace_bytes, error_word, stream);
}

}  // extern "C"
