// Softmax cross-entropy: forward, backward and the fused forward+backward.
//
// One kernel serves all three. A group of threads owns a row: a warp for C <= 1024, a block of
// 256 or 512 threads above. Pass 1 reads the row once with 16-byte loads (when the row start is
// aligned; a scalar tail otherwise), keeping an online max and sum of exponentials per thread
// (and the logit sum that label smoothing needs), and caches what it read in registers; a group
// reduction gives log-sum-exp. Pass 2 writes the gradient from the cached values, re-reading
// only the part of a very long row that did not fit the cache. The sum/mean reductions add the
// per-row losses in a deterministic two-level sum; the mean's denominator is computed first by a
// cheap pass over the targets, so the gradient can be scaled in the same pass.
#include "culoss/culoss.h"
#include "device.cuh"
#include "reduce.cuh"
#include "status.h"

namespace culoss {
namespace {

struct CeArgs {
    const float* logits;
    int64_t logits_stride;
    const int32_t* targets;
    int64_t n;
    int64_t c;
    const float* weights;  // [c] or null
    int64_t ignore_index;
    float smoothing;
    int reduction;
    const float* grad_output;  // null: 1
    float* row_loss;           // per-row losses (the user's output for NONE, workspace else) or null
    float* grad;               // null: no backward
    int64_t grad_stride;
    const float* denominator;  // MEAN: the counted weight sum, in the workspace
    int32_t* error_word;       // may be null
};

// What a thread knows about its share of a row: the online max `m` and sum of e^(x-m) `s`; for
// label smoothing the weighted sum of (x - ref) and of the weights.
struct RowState {
    float m, s, sx, sw;
};

__device__ __forceinline__ RowState merge(RowState a, RowState b) {
    const float m = fmaxf(a.m, b.m);
    RowState r;
    r.m = m;
    // Both maxima -inf: both sums are 0 and e^(-inf - -inf) would be NaN.
    r.s = m == -INFINITY ? 0.f : a.s * fast_exp(a.m - m) + b.s * fast_exp(b.m - m);
    r.sx = a.sx + b.sx;
    r.sw = a.sw + b.sw;
    return r;
}

__device__ __forceinline__ RowState shfl_xor(RowState v, int offset) {
    return {culoss::shfl_xor(v.m, offset), culoss::shfl_xor(v.s, offset), culoss::shfl_xor(v.sx, offset),
            culoss::shfl_xor(v.sw, offset)};
}

struct Merge {
    __device__ RowState operator()(RowState a, RowState b) const { return merge(a, b); }
};

// Fold one logit into the online max/sum.
__device__ __forceinline__ void accumulate(RowState& st, float x) {
    if (x > st.m) {
        st.s = st.s * fast_exp(st.m - x) + 1.f;
        st.m = x;
    } else if (x != -INFINITY) {  // x == m == -inf adds nothing; NaN still propagates
        st.s += fast_exp(x - st.m);
    }
}

template <int VEC>
struct Chunk {
    float v[VEC];
};

template <int VEC>
__device__ __forceinline__ Chunk<VEC> load_chunk(const float* p) {
    Chunk<VEC> ch;
    if constexpr (VEC == 4) {
        const float4 f = load4(p);
        ch.v[0] = f.x, ch.v[1] = f.y, ch.v[2] = f.z, ch.v[3] = f.w;
    } else {
        ch.v[0] = __ldg(p);
    }
    return ch;
}

template <int VEC>
__device__ __forceinline__ void store_chunk(float* p, const Chunk<VEC>& ch) {
    if constexpr (VEC == 4) {
        store4(p, float4{ch.v[0], ch.v[1], ch.v[2], ch.v[3]});
    } else {
        p[0] = ch.v[0];
    }
}

// The smoothing sums: sx accumulates w_j * (x_j - ref), sw the weights.
__device__ __forceinline__ void accumulate_smoothing(RowState& st, float x, float ref, const float* w, int64_t j) {
    const float wj = w ? __ldg(w + j) : 1.f;
    st.sx += wj * (x - ref);
    st.sw += wj;
}

// TPR threads own a row (32: a warp; else the whole block). VEC: floats per load. CACHE: chunks
// a thread keeps in registers between the passes.
template <int TPR, int VEC, int CACHE>
__global__ void __launch_bounds__(TPR == 32 ? 256 : TPR) ce_rows_kernel(CeArgs a) {
    const int lane = int(threadIdx.x % TPR);
    const int64_t row = int64_t(blockIdx.x) * (blockDim.x / TPR) + threadIdx.x / TPR;
    if (row >= a.n) return;  // a whole warp (TPR = 32) or nothing (the grid covers n exactly)

    const float* x = a.logits + row * a.logits_stride;
    const int64_t c = a.c;
    const int64_t chunks = c / VEC;
    const bool smoothing = a.smoothing > 0.f;
    // Label smoothing sums x - ref instead of x, so that W*m - sum w x does not cancel
    // catastrophically when the logits are large and close together.
    const float first = __ldg(x);
    const float ref = isfinite(first) ? first : 0.f;

    RowState st{-INFINITY, 0.f, 0.f, 0.f};
    Chunk<VEC> cache[CACHE];
#pragma unroll
    for (int k = 0; k < CACHE; ++k) {
        const int64_t j = lane + int64_t(k) * TPR;
        if (j < chunks) {
            cache[k] = load_chunk<VEC>(x + j * VEC);
#pragma unroll
            for (int e = 0; e < VEC; ++e) {
                accumulate(st, cache[k].v[e]);
                if (smoothing) accumulate_smoothing(st, cache[k].v[e], ref, a.weights, j * VEC + e);
            }
        }
    }
    for (int64_t j = lane + int64_t(CACHE) * TPR; j < chunks; j += TPR) {
        const Chunk<VEC> ch = load_chunk<VEC>(x + j * VEC);
#pragma unroll
        for (int e = 0; e < VEC; ++e) {
            accumulate(st, ch.v[e]);
            if (smoothing) accumulate_smoothing(st, ch.v[e], ref, a.weights, j * VEC + e);
        }
    }
    for (int64_t j = chunks * VEC + lane; j < c; j += TPR) {  // the scalar tail
        const float v = __ldg(x + j);
        accumulate(st, v);
        if (smoothing) accumulate_smoothing(st, v, ref, a.weights, j);
    }

    if constexpr (TPR == 32) {
        st = warp_reduce(st, Merge{});
    } else {
        st = block_reduce(st, Merge{}, RowState{-INFINITY, 0.f, 0.f, 0.f});
    }

    // Every thread of the group derives the row's scalars itself: no extra broadcast.
    const int32_t target = __ldg(a.targets + row);
    const bool ignored = int64_t(target) == a.ignore_index;
    const bool valid = ignored || (target >= 0 && target < c);
    const bool counted = valid && !ignored;
    if (!valid && lane == 0 && a.error_word) atomicOr(a.error_word, int32_t(CULOSS_DEVICE_ERROR_BAD_TARGET));

    const float log_s = fast_log(st.s);
    const float e = a.smoothing;
    const float wy = counted ? (a.weights ? __ldg(a.weights + target) : 1.f) : 0.f;
    const float w_total = a.weights ? st.sw : float(c);

    if (a.row_loss && lane == 0) {
        float loss = 0.f;
        if (counted) {
            // -log p_y = (m - x_y) + log s, written so that large logits do not lose digits.
            loss = (1.f - e) * wy * ((st.m - __ldg(x + target)) + log_s);
            if (smoothing) loss += e / float(c) * (w_total * (log_s + (st.m - ref)) - st.sx);
        }
        a.row_loss[row] = loss;
    }

    if (!a.grad) return;
    float scale = 0.f;
    if (counted) {
        const float g = a.grad_output ? __ldg(a.grad_output + (a.reduction == CULOSS_REDUCTION_NONE ? row : 0)) : 1.f;
        if (a.reduction == CULOSS_REDUCTION_MEAN) {
            const float d = *a.denominator;
            scale = d > 0.f ? g / d : 0.f;
        } else {
            scale = g;
        }
    }
    // d loss / d x_j = scale * ((1-e) w_y (p_j - [j == y]) + e/C (W p_j - w_j)), each bracket
    // formed on its own so that it is exactly 0 where p_j = 1 (C = 1, or one dominant logit).
    const float nll_w = (1.f - e) * wy;
    const float smooth_w = smoothing ? e / float(c) : 0.f;
    float* gr = a.grad + row * a.grad_stride;
    auto grad_of = [&](float v, int64_t j) {
        if (scale == 0.f) return 0.f;
        const float p = fast_exp((v - st.m) - log_s);
        float g = nll_w * (j == target ? p - 1.f : p);
        if (smoothing) g += smooth_w * (w_total * p - (a.weights ? __ldg(a.weights + j) : 1.f));
        return scale * g;
    };
#pragma unroll
    for (int k = 0; k < CACHE; ++k) {
        const int64_t j = lane + int64_t(k) * TPR;
        if (j < chunks) {
            Chunk<VEC> out;
#pragma unroll
            for (int e2 = 0; e2 < VEC; ++e2) out.v[e2] = grad_of(cache[k].v[e2], j * VEC + e2);
            store_chunk<VEC>(gr + j * VEC, out);
        }
    }
    for (int64_t j = lane + int64_t(CACHE) * TPR; j < chunks; j += TPR) {
        const Chunk<VEC> ch = load_chunk<VEC>(x + j * VEC);
        Chunk<VEC> out;
#pragma unroll
        for (int e2 = 0; e2 < VEC; ++e2) out.v[e2] = grad_of(ch.v[e2], j * VEC + e2);
        store_chunk<VEC>(gr + j * VEC, out);
    }
    for (int64_t j = chunks * VEC + lane; j < c; j += TPR) gr[j] = grad_of(__ldg(x + j), j);
}

// The mean's denominator: w[y_i] of each counted row (0 for ignored and invalid ones).
struct TargetWeight {
    const int32_t* targets;
    const float* weights;
    int64_t c;
    int64_t ignore_index;
    __device__ float operator()(int64_t i) const {
        const int32_t t = __ldg(targets + i);
        if (int64_t(t) == ignore_index || t < 0 || t >= c) return 0.f;
        return weights ? __ldg(weights + t) : 1.f;
    }
};

struct StoreScalar {
    float* out;
    __device__ void operator()(float total) const { *out = total; }
};

struct RowLoss {
    const float* row_loss;
    __device__ float operator()(int64_t i) const { return row_loss[i]; }
};

// loss = total (SUM) or total / denominator (MEAN; 0 when no row counts).
struct FinishLoss {
    float* loss;
    const float* denominator;
    __device__ void operator()(float total) const {
        if (!denominator) {
            *loss = total;
        } else {
            const float d = *denominator;
            *loss = d > 0.f ? total / d : 0.f;
        }
    }
};

// Workspace layout (SUM/MEAN): [denominator, 16 bytes][partials][row losses].
constexpr size_t kHeaderBytes = 16;

size_t partials_bytes(int64_t n) { return (size_t(reduce_blocks(n)) * sizeof(float) + 15) / 16 * 16; }

size_t workspace_bytes(int64_t n, culossReduction_t reduction) {
    if (reduction == CULOSS_REDUCTION_NONE || n == 0) return 0;
    return kHeaderBytes + partials_bytes(n) + (size_t(n) * sizeof(float) + 15) / 16 * 16;
}

template <int TPR, int CACHE>
void launch_rows(const CeArgs& a, bool vec4, culossStream_t stream) {
    const int block = TPR == 32 ? 256 : TPR;
    const int64_t rows_per_block = block / TPR;
    const int64_t grid = (a.n + rows_per_block - 1) / rows_per_block;
    if (vec4) {
        CULOSS_LAUNCH((ce_rows_kernel<TPR, 4, CACHE>), grid, block, stream, a);
    } else {
        CULOSS_LAUNCH((ce_rows_kernel<TPR, 1, CACHE>), grid, block, stream, a);
    }
}

culossStatus_t run(const float* logits, int64_t logits_stride, const int32_t* targets, int64_t n, int64_t c,
                   const float* class_weights, int64_t ignore_index, float label_smoothing,
                   culossReduction_t reduction, const float* grad_output, float* loss, float* grad_logits,
                   int64_t grad_stride, void* workspace, size_t workspace_size, int32_t* error_word,
                   culossStream_t stream) {
    clear_detail();
    CULOSS_REQUIRE(n >= 0, CULOSS_STATUS_INVALID_VALUE, "n (%lld) is negative", (long long)n);
    CULOSS_REQUIRE(c >= 1, CULOSS_STATUS_INVALID_VALUE, "c (%lld) is less than 1", (long long)c);
    CULOSS_REQUIRE(c <= (int64_t(1) << 31), CULOSS_STATUS_INVALID_VALUE, "c (%lld) is more than 2^31", (long long)c);
    CULOSS_REQUIRE(logits_stride >= c, CULOSS_STATUS_INVALID_VALUE, "logits_stride (%lld) is less than c (%lld)",
                   (long long)logits_stride, (long long)c);
    CULOSS_REQUIRE(reduction >= CULOSS_REDUCTION_NONE && reduction <= CULOSS_REDUCTION_MEAN,
                   CULOSS_STATUS_INVALID_VALUE, "reduction (%d) is not NONE, SUM or MEAN", int(reduction));
    CULOSS_REQUIRE(label_smoothing >= 0.f && label_smoothing <= 1.f, CULOSS_STATUS_INVALID_VALUE,
                   "label_smoothing (%g) is not in [0, 1]", double(label_smoothing));
    const bool need_inputs = n > 0;
    CULOSS_REQUIRE(!need_inputs || logits, CULOSS_STATUS_INVALID_VALUE, "logits is null");
    CULOSS_REQUIRE(!need_inputs || targets, CULOSS_STATUS_INVALID_VALUE, "targets is null");
    CULOSS_REQUIRE_ALIGNED(logits, 4);
    CULOSS_REQUIRE_ALIGNED(targets, 4);
    CULOSS_REQUIRE_ALIGNED(class_weights, 4);
    CULOSS_REQUIRE_ALIGNED(grad_output, 4);
    CULOSS_REQUIRE_ALIGNED(loss, 4);
    CULOSS_REQUIRE_ALIGNED(grad_logits, 4);
    CULOSS_REQUIRE_ALIGNED(error_word, 4);
    CULOSS_REQUIRE_ALIGNED(workspace, 16);
    if (grad_logits) {
        CULOSS_REQUIRE(grad_stride >= c, CULOSS_STATUS_INVALID_VALUE, "grad_stride (%lld) is less than c (%lld)",
                       (long long)grad_stride, (long long)c);
        CULOSS_REQUIRE(grad_logits != logits || grad_stride == logits_stride, CULOSS_STATUS_INVALID_VALUE,
                       "grad_logits aliases logits with another stride");
    }
    const size_t needed = workspace_bytes(n, reduction);
    CULOSS_REQUIRE(workspace_size >= needed && (needed == 0 || workspace), CULOSS_STATUS_WORKSPACE_TOO_SMALL,
                   "workspace (%zu bytes) is smaller than %zu bytes", workspace_size, needed);
    const culossStatus_t ready = device_ready();
    if (ready != CULOSS_STATUS_SUCCESS) return ready;

    if (n == 0) {  // nothing to read; a reduced loss of no rows is 0
        if (loss && reduction != CULOSS_REDUCTION_NONE) {
            const culossStatus_t st = culossMemsetAsync(loss, 0, sizeof(float), stream);
            if (st != CULOSS_STATUS_SUCCESS) return st;
        }
        return launch_status();
    }

    char* ws = static_cast<char*>(workspace);
    float* denominator = reduction == CULOSS_REDUCTION_MEAN ? reinterpret_cast<float*>(ws) : nullptr;
    float* partials = ws ? reinterpret_cast<float*>(ws + kHeaderBytes) : nullptr;
    float* row_loss = nullptr;
    if (loss) row_loss = reduction == CULOSS_REDUCTION_NONE ? loss : reinterpret_cast<float*>(ws + kHeaderBytes + partials_bytes(n));

    if (denominator) {
        deterministic_sum(TargetWeight{targets, class_weights, c, ignore_index}, n, partials,
                          StoreScalar{denominator}, stream);
    }

    const CeArgs args{logits, logits_stride, targets, n, c, class_weights, ignore_index, label_smoothing,
                      int(reduction), grad_output, row_loss, grad_logits, grad_stride, denominator, error_word};
    const bool vec4 = reinterpret_cast<uintptr_t>(logits) % 16 == 0 && logits_stride % 4 == 0 &&
                      (!grad_logits || (reinterpret_cast<uintptr_t>(grad_logits) % 16 == 0 && grad_stride % 4 == 0));
    // Warp per row up to 1024 classes (the whole row in registers), then a block per row;
    // cached in registers: 32 * 8 * 4 = 1024, 256 * 16 * 4 = 16384, 512 * 16 * 4 = 32768 floats.
    if (c <= 1024) {
        launch_rows<32, 8>(args, vec4, stream);
    } else if (c <= 16384) {
        launch_rows<256, 16>(args, vec4, stream);
    } else {
        launch_rows<512, 16>(args, vec4, stream);
    }

    if (loss && reduction != CULOSS_REDUCTION_NONE) {
        deterministic_sum(RowLoss{row_loss}, n, partials, FinishLoss{loss, denominator}, stream);
    }
    return launch_status();
}

}  // namespace
}  // namespace culoss

extern "C" {

culossStatus_t culossSoftmaxCrossEntropyWorkspaceSize(int64_t n, int64_t c, culossReduction_t reduction,
                                                      size_t* bytes) {
    culoss::clear_detail();
    CULOSS_REQUIRE(bytes != nullptr, CULOSS_STATUS_INVALID_VALUE, "bytes is null");
    CULOSS_REQUIRE(n >= 0, CULOSS_STATUS_INVALID_VALUE, "n (%lld) is negative", (long long)n);
    CULOSS_REQUIRE(c >= 1, CULOSS_STATUS_INVALID_VALUE, "c (%lld) is less than 1", (long long)c);
    CULOSS_REQUIRE(reduction >= CULOSS_REDUCTION_NONE && reduction <= CULOSS_REDUCTION_MEAN,
                   CULOSS_STATUS_INVALID_VALUE, "reduction (%d) is not NONE, SUM or MEAN", int(reduction));
    *bytes = culoss::workspace_bytes(n, reduction);
    return CULOSS_STATUS_SUCCESS;
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
