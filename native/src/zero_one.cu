// The 0-1 loss, a metric: forward only, on the row plumbing of rows.cuh (checks, workspace, mean,
// sum). A row's loss is 1 where its predicted class, the argmax of its scores, is not its target.
//
// The argmax is torch.argmax's: the first index of the largest score, a NaN counting as larger than
// any number (the first NaN wins). A group of threads owns a row (a warp up to 1024 classes, a
// block of 256 above); each thread keeps the best (score, index) of its share, and the group
// reduces them with the same order, so the result does not depend on the thread count.
#include "rows.cuh"

namespace culoss {
namespace {

struct ZeroOneArgs {
    const float* scores;
    int64_t scores_stride;
    const int32_t* targets;
    int64_t n;
    int64_t c;
    float* row_loss;  // per-row losses (the user's output for NONE, workspace else)
    int32_t* error_word;
};

// A candidate for the argmax: its score and its class (c: none yet).
struct Best {
    float v;
    int64_t j;
};

// Whether a beats b in torch.argmax's order: NaN above every number, then the larger score, then
// the smaller index.
__device__ __forceinline__ bool beats(const Best& a, const Best& b) {
    const bool an = a.v != a.v, bn = b.v != b.v;
    if (an != bn) return an;
    if (!an && a.v != b.v) return a.v > b.v;
    return a.j < b.j;
}

struct Better {
    __device__ Best operator()(Best a, Best b) const { return beats(a, b) ? a : b; }
};

// For warp_reduce and block_reduce (found by argument-dependent lookup).
__device__ __forceinline__ Best shfl_xor(Best v, int offset) {
    return Best{culoss::shfl_xor(v.v, offset), int64_t(__shfl_xor_sync(kFullMask, (long long)v.j, offset))};
}

template <int TPR>
__global__ void __launch_bounds__(TPR == 32 ? 256 : TPR) zero_one_kernel(ZeroOneArgs a) {
    const int lane = lane_in_row<TPR>();
    const int64_t row = row_of_thread<TPR>();
    if (row >= a.n) return;  // a whole warp (TPR = 32) or nothing (the grid covers n exactly)

    const float* x = a.scores + row * a.scores_stride;
    const Best none{-INFINITY, a.c};
    Best best = none;
    for (int64_t j = lane; j < a.c; j += TPR) {
        const Best here{x[j], j};
        if (beats(here, best)) best = here;
    }
    if constexpr (TPR == 32) {
        best = warp_reduce(best, Better{});
    } else {
        best = block_reduce(best, Better{}, none);
    }
    if (lane != 0) return;
    const int32_t target = __ldg(a.targets + row);
    const bool counted = target >= 0 && target < a.c;
    if (!counted && a.error_word) atomicOr(a.error_word, int32_t(CULOSS_DEVICE_ERROR_BAD_TARGET));
    a.row_loss[row] = counted && best.j != int64_t(target) ? 1.f : 0.f;
}

template <int TPR>
[[nodiscard]] culossStatus_t launch(const ZeroOneArgs& a, culossStream_t stream) {
    return CULOSS_LAUNCH(zero_one_kernel<TPR>, row_grid<TPR>(a.n), row_block_threads<TPR>(), stream, a);
}

}  // namespace
}  // namespace culoss

extern "C" {

culossStatus_t culossZeroOneWorkspaceSize(int64_t n, int64_t c, culossDataType_t dtype, culossReduction_t reduction,
                                          size_t* bytes) {
    CULOSS_REQUIRE_FLOAT32(dtype);
    return culoss::rows_workspace_size(n, c, reduction, bytes, "scores");
}

culossStatus_t culossZeroOneForward(const float* scores, int64_t scores_stride, const int32_t* targets, int64_t n,
                                    int64_t c, culossDataType_t dtype, culossReduction_t reduction, float* loss,
                                    void* workspace, size_t workspace_bytes, int32_t* error_word,
                                    culossStream_t stream) {
    using namespace culoss;
    CULOSS_REQUIRE_FLOAT32(dtype);
    CULOSS_REQUIRE(loss != nullptr || (n == 0 && reduction == CULOSS_REDUCTION_NONE), CULOSS_STATUS_INVALID_VALUE,
                   "loss is null");
    const RowCall k{scores, scores_stride, targets, n, c, CULOSS_NO_IGNORE_INDEX, reduction, nullptr, loss,
                    nullptr, c, workspace, workspace_bytes, error_word, stream};
    CULOSS_TRY(check_rows(k, RowNames{"scores", "scores_stride", "grad_scores", "class_weights"}, nullptr,
                          [] { return CULOSS_STATUS_SUCCESS; }));
    if (n == 0) return finish_empty_rows(k);
    const RowWorkspace ws = row_workspace(k);
    if (ws.denominator) {
        CULOSS_TRY(deterministic_sum(TargetWeight{targets, nullptr, c, CULOSS_NO_IGNORE_INDEX}, n, ws.partials,
                                     StoreScalar{ws.denominator}, stream));
    }
    const ZeroOneArgs args{scores, scores_stride, targets, n, c, ws.row_loss, error_word};
    if (c <= 1024) {
        CULOSS_TRY(launch<32>(args, stream));
    } else {
        CULOSS_TRY(launch<256>(args, stream));
    }
    return finish_rows(k, ws);
}

}  // extern "C"
