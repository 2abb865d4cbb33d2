// Triplet margin loss: forward, backward and the fused forward+backward.
//
// One kernel serves all three. A group of TPR threads owns a row: 4, 8, 16 or 32 lanes of a warp
// for d <= 512, a block of 128, 256 or 512 threads above, chosen so that each thread holds at
// most 16 floats of each input row. Pass 1 reads the anchor, positive and negative rows once
// (16-byte loads when d % 4 == 0 and the buffers are aligned, scalar loads otherwise), keeps them
// in registers and accumulates per thread the three distances' sums (|x|^p, or max |x| and how
// many components reach it for p = inf); a group reduction gives the distances, and every thread
// derives the row's loss and gradient coefficients itself. Pass 2 writes the three gradients
// from the registers, re-reading only the part of a row longer than 8192 that did not fit. The
// sum/mean reductions add the per-row losses with deterministic_sum; the mean's 1/n is known on
// the host, so the backward needs no workspace and no extra pass.
#include "culoss/culoss.h"
#include "device.cuh"
#include "reduce.cuh"
#include "status.h"
#include "tensor_ranges.h"

namespace culoss {
namespace {

// How the p-norm is computed: fast paths for p = 1, 2 and inf, powf otherwise.
enum Norm : int { kNormGeneral = 0, kNormL1 = 1, kNormL2 = 2, kNormInf = 3 };

// The three distances of a row: anchor-positive, anchor-negative, positive-negative (swap only).
constexpr int AP = 0, AN = 1, PN = 2;

struct TmArgs {
    const float* anchor;
    const float* positive;
    const float* negative;
    int64_t n;
    int64_t d;
    float margin;
    float p;
    double inv_p;
    float eps;
    int norm;
    int swap;
    int reduction;
    const float* grad_output;  // null: 1
    float* row_loss;           // per-row losses (the user's output for NONE, workspace else) or null
    float* grad_anchor;        // each may be null
    float* grad_positive;
    float* grad_negative;
};

// A thread's share of the three distances: s = sum of |x|^p (p < inf) or the largest |x| (p = inf),
// c = how many components reach that largest |x| (p = inf only). `uses` is the same on every
// thread of a launch and says which fields mean something, so that a reduction step shuffles
// only those (2 values for the common p = 2 without swap, not 6).
//
// In double: the components x = u - v + eps are formed in double (exact for the float inputs up
// to eps's rounding) and summed in double, and so is margin + d_ap - d_an, which cancels when the
// loss is small against the distances (d = 4096, distances near 90, loss 0.004: a float sum
// loses half the loss's digits).
constexpr int kUsesSwap = 1, kUsesCounts = 2;

struct Dist {
    double s[3];
    float c[3];
    int uses;
};

__device__ __forceinline__ Dist shfl_xor(Dist v, int offset) {
    Dist r = v;
    const int last = v.uses & kUsesSwap ? 3 : 2;
    for (int k = 0; k < last; ++k) {
        r.s[k] = culoss::shfl_xor(v.s[k], offset);
        if (v.uses & kUsesCounts) r.c[k] = culoss::shfl_xor(v.c[k], offset);
    }
    return r;
}

// The identity of the merge: 0 for sums; for the max, -1 (below every |x|) with no component.
__device__ __forceinline__ Dist identity(int norm, bool swap) {
    const double s0 = norm == kNormInf ? -1.0 : 0.0;
    return Dist{{s0, s0, s0}, {0.f, 0.f, 0.f}, (swap ? kUsesSwap : 0) | (norm == kNormInf ? kUsesCounts : 0)};
}

struct MergeDist {
    bool inf;
    __device__ Dist operator()(Dist a, Dist b) const {
        Dist r = a;
#pragma unroll
        for (int k = 0; k < 3; ++k) {
            if (!inf) {
                r.s[k] = a.s[k] + b.s[k];
            } else if (a.s[k] != a.s[k] || b.s[k] != b.s[k]) {  // NaN wins
                r.s[k] = a.s[k] + b.s[k];
                r.c[k] = 0.f;
            } else if (a.s[k] == b.s[k]) {
                r.c[k] = a.c[k] + b.c[k];
            } else if (b.s[k] > a.s[k]) {
                r.s[k] = b.s[k];
                r.c[k] = b.c[k];
            }
        }
        return r;
    }
};

__device__ __forceinline__ double component(float u, float v, float eps) { return double(u) - double(v) + double(eps); }

// Fold the component x = u_j - v_j + eps of distance k into the thread's state.
__device__ __forceinline__ void accumulate(Dist& st, int k, double x, int norm, float p) {
    const double ax = fabs(x);
    switch (norm) {
        case kNormL1:
            st.s[k] += ax;
            break;
        case kNormL2:
            st.s[k] += x * x;
            break;
        case kNormInf:
            if (ax > st.s[k]) {
                st.s[k] = ax;
                st.c[k] = 1.f;
            } else if (ax == st.s[k]) {
                st.c[k] += 1.f;
            } else if (ax != ax) {
                st.s[k] = ax;  // NaN sticks: no comparison with it is true afterwards
            }
            break;
        default:  // |x|^p in double too: a float power costs the small loss its digits as a float sum does
            st.s[k] += pow(ax, double(p));
            break;
    }
}

__device__ __forceinline__ double finish(double s, int norm, double inv_p) {
    switch (norm) {
        case kNormL1:
        case kNormInf:
            return s;
        case kNormL2:
            return sqrt(s);
        default:
            return pow(s, inv_p);
    }
}

// d dist / d x_j for one distance, PyTorch's norm_backward: 0 where the distance is 0, sign(x_j)
// for p = 1 (sign(0) = 0), x_j / dist for p = 2, sign(x_j) (|x_j| / dist)^(p-1) otherwise (0 where
// x_j = 0, which is PyTorch's rule for p < 1 and the limit for p > 1), sign(x_j) / count on the
// components of largest magnitude for p = inf.
struct NormGrad {
    double dist;
    float inv_dist;  // p = 2: 1/dist, 0 when dist is 0 or inf
    float share;     // p = inf: 1/count
    float pm1;       // p - 1
};

__device__ __forceinline__ NormGrad norm_grad(double dist, float count, float p) {
    NormGrad g;
    g.dist = dist;
    // 0 for a distance of 0 (PyTorch's mask) or inf (x_j * 0: NaN where x_j is infinite); NaN for NaN.
    g.inv_dist = dist == 0.0 || dist == INFINITY ? 0.f : float(1.0 / dist);
    g.share = count > 0.f ? 1.f / count : 0.f;
    g.pm1 = p - 1.f;
    return g;
}

// Whether a zero coefficient times this distance's dnorm is zero everywhere, so that the product can
// be skipped. PyTorch multiplies through: for p = 2 and general p a NaN distance makes the whole
// gradient NaN and an infinite component gives inf * 0 = NaN, even where clamp_min or the swap's min
// passes 0 (a NaN row's NaN reaches the optimizer). For p = 1 and inf the gradient is sign(x) or a
// share of it, finite whatever x is (PyTorch's sgn(NaN) is 0).
__device__ __forceinline__ bool zero_times_dnorm_is_zero(double dist, int norm) {
    return norm == kNormL1 || norm == kNormInf || fabs(dist) < INFINITY;  // false for NaN
}

// x: the component in double, as the distance took it (p = inf compares it with the distance).
__device__ __forceinline__ float dnorm(double x, const NormGrad& g, int norm) {
    switch (norm) {
        case kNormL1:
            return x > 0.0 ? 1.f : (x < 0.0 ? -1.f : 0.f);
        case kNormL2:
            return float(x) * g.inv_dist;
        case kNormInf:
            return (fabs(x) == g.dist && x != 0.0) ? copysignf(g.share, float(x)) : 0.f;
        default: {
            // PyTorch's x |x|^(p-2) / dist^(p-1): NaN throughout for a NaN distance, and where x is
            // infinite (inf * 0); 0 for a distance of 0.
            if (g.dist != g.dist || (fabs(x) == INFINITY && g.dist != 0.0)) return NAN;
            if (x == 0.0 || g.dist == 0.0) return 0.f;
            // An infinite distance (sum |x|^p overflowed a double) for p > 1: PyTorch's quotient is
            // |x|^(p-2) / inf, 0 where the numerator is finite and inf / inf = NaN where it overflows
            // too (a component above 1 under a large p).
            if (g.dist == INFINITY && g.pm1 > 0.f) return pow(fabs(x), double(g.pm1) - 1.0) == INFINITY ? NAN : 0.f;
            const float r = float(fabs(x) / g.dist);  // in (0, 1]
            return copysignf(exp2f(g.pm1 * log2f(r)), float(x));
        }
    }
}


// Floats of each input a thread keeps in registers between the passes.
constexpr int kCachedFloats = 16;

// TPR threads own a row (4 to 32: lanes of a warp, blocks of 32 to 256 threads; above: the whole
// block).
// VEC: floats per load (4 only when d % 4 == 0 and every buffer is 16-byte aligned).
template <int TPR, int VEC>
__global__ void __launch_bounds__(TPR <= 32 ? 256 : TPR) triplet_kernel(TmArgs a) {
    constexpr int CACHE = kCachedFloats / VEC;
    const int lane = int(threadIdx.x % TPR);
    int64_t row = int64_t(blockIdx.x) * (blockDim.x / TPR) + threadIdx.x / TPR;
    // A group past the last row (only in the last block, TPR <= 32) recomputes the last row, so
    // that every lane of the warp takes part in the shuffles, and writes nothing.
    const bool live = row < a.n;
    if (!live) row = a.n - 1;

    const int64_t base = row * a.d;
    const float* xa = a.anchor + base;
    const float* xp = a.positive + base;
    const float* xn = a.negative + base;
    const int64_t chunks = a.d / VEC;  // VEC = 4 only when d % 4 == 0: no tail
    const int norm = a.norm;
    const bool swap = a.swap != 0;
    const float eps = a.eps;
    const float p = a.p;

    Dist st = identity(norm, swap);
    auto add = [&](float va, float vp, float vn) {
        accumulate(st, AP, component(va, vp, eps), norm, p);
        accumulate(st, AN, component(va, vn, eps), norm, p);
        if (swap) accumulate(st, PN, component(vp, vn, eps), norm, p);
    };

    Chunk<VEC> ca[CACHE], cp[CACHE], cn[CACHE];
#pragma unroll
    for (int k = 0; k < CACHE; ++k) {
        const int64_t j = lane + int64_t(k) * TPR;
        if (j < chunks) {
            ca[k] = load_chunk<VEC, true>(xa + j * VEC);
            cp[k] = load_chunk<VEC, true>(xp + j * VEC);
            cn[k] = load_chunk<VEC, true>(xn + j * VEC);
#pragma unroll
            for (int e = 0; e < VEC; ++e) add(ca[k].v[e], cp[k].v[e], cn[k].v[e]);
        }
    }
    for (int64_t j = lane + int64_t(CACHE) * TPR; j < chunks; j += TPR) {  // rows longer than the cache
        const Chunk<VEC> ua = load_chunk<VEC, true>(xa + j * VEC), up = load_chunk<VEC, true>(xp + j * VEC),
                         un = load_chunk<VEC, true>(xn + j * VEC);
#pragma unroll
        for (int e = 0; e < VEC; ++e) add(ua.v[e], up.v[e], un.v[e]);
    }

    const MergeDist merge{norm == kNormInf};
    if constexpr (TPR <= 32) {
#pragma unroll
        for (int offset = TPR / 2; offset > 0; offset >>= 1) st = merge(st, shfl_xor(st, offset));
    } else {
        st = block_reduce(st, merge, identity(norm, swap));
    }

    // Every thread of the group derives the row's scalars itself: no broadcast.
    const double d_ap = finish(st.s[AP], norm, a.inv_p);
    const double d_an = finish(st.s[AN], norm, a.inv_p);
    double d_neg = d_an, d_pn = 0.0;
    float w_an = 1.f, w_pn = 0.f;
    if (swap) {  // torch.min's gradient rule: all to the smaller one, half and half on a tie
        d_pn = finish(st.s[PN], norm, a.inv_p);
        if (d_pn < d_an) {
            d_neg = d_pn, w_an = 0.f, w_pn = 1.f;
        } else if (d_pn == d_an) {
            w_an = 0.5f, w_pn = 0.5f;
        }
    }
    const double v = (double(a.margin) + d_ap) - d_neg;
    if (!live) return;  // no barrier below
    if (a.row_loss && lane == 0) a.row_loss[row] = float((v >= 0.0 || v != v) ? v : 0.0);  // clamp_min keeps NaN

    float* ga = a.grad_anchor;
    float* gp = a.grad_positive;
    float* gn = a.grad_negative;
    if (!ga && !gp && !gn) return;
    float scale = 0.f;
    if (v >= 0.0) {  // clamp_min's rule: the gradient passes at exactly 0 too
        scale = a.grad_output ? __ldg(a.grad_output + (a.reduction == CULOSS_REDUCTION_NONE ? row : 0)) : 1.f;
        if (a.reduction == CULOSS_REDUCTION_MEAN) scale /= float(a.n);
    }
    // torch.min gives the distance it did not pick exactly 0 (not 0 times an infinite upstream
    // gradient, which is NaN).
    const float c_ap = scale, c_an = w_an == 0.f ? 0.f : scale * w_an, c_pn = w_pn == 0.f ? 0.f : scale * w_pn;
    const bool exact_ap = zero_times_dnorm_is_zero(d_ap, norm);
    const bool exact_an = zero_times_dnorm_is_zero(d_an, norm);
    const bool exact_pn = !swap || zero_times_dnorm_is_zero(d_pn, norm);
    const bool all_zero = scale == 0.f && exact_ap && exact_an && exact_pn;
    const NormGrad g_ap = norm_grad(d_ap, st.c[AP], p);
    const NormGrad g_an = norm_grad(d_an, st.c[AN], p);
    const NormGrad g_pn = norm_grad(d_pn, st.c[PN], p);
    if (ga) ga += base;
    if (gp) gp += base;
    if (gn) gn += base;

    auto write = [&](int64_t j, const Chunk<VEC>& ua, const Chunk<VEC>& up, const Chunk<VEC>& un) {
        Chunk<VEC> oa, op, on;
#pragma unroll
        for (int e = 0; e < VEC; ++e) {
            if (all_zero) {
                oa.v[e] = op.v[e] = on.v[e] = 0.f;
                continue;
            }
            const float va = ua.v[e], vp = up.v[e], vn = un.v[e];
            const float t_ap = dnorm(component(va, vp, eps), g_ap, norm);
            const float t_an = w_an != 0.f || !exact_an ? c_an * dnorm(component(va, vn, eps), g_an, norm) : 0.f;
            const float t_pn = w_pn != 0.f || !exact_pn ? c_pn * dnorm(component(vp, vn, eps), g_pn, norm) : 0.f;
            oa.v[e] = c_ap * t_ap - t_an;
            op.v[e] = -(c_ap * t_ap) - t_pn;
            on.v[e] = t_an + t_pn;
        }
        if (ga) store_chunk<VEC>(ga + j * VEC, oa);
        if (gp) store_chunk<VEC>(gp + j * VEC, op);
        if (gn) store_chunk<VEC>(gn + j * VEC, on);
    };
#pragma unroll
    for (int k = 0; k < CACHE; ++k) {
        const int64_t j = lane + int64_t(k) * TPR;
        if (j < chunks) write(j, ca[k], cp[k], cn[k]);
    }
    for (int64_t j = lane + int64_t(CACHE) * TPR; j < chunks; j += TPR) {
        write(j, load_chunk<VEC, true>(xa + j * VEC), load_chunk<VEC, true>(xp + j * VEC), load_chunk<VEC, true>(xn + j * VEC));
    }
}

struct RowLoss {
    const float* row_loss;
    __device__ float operator()(int64_t i) const { return row_loss[i]; }
};

// loss = total (SUM) or total / n (MEAN).
struct FinishLoss {
    float* loss;
    float divisor;  // 1 for SUM
    __device__ void operator()(double total) const { *loss = float(total / double(divisor)); }
};

// Workspace layout (SUM/MEAN, n > 0): [partials][row losses], each 16-byte rounded.
size_t partials_bytes(int64_t n) { return partial_sums_bytes(reduce_blocks(n)); }

Size workspace_bytes(int64_t n, culossReduction_t reduction) {
    if (reduction == CULOSS_REDUCTION_NONE || n == 0) return Size(0);
    return Size(partials_bytes(n)) + round_up16(Size(n) * Size(sizeof(float)));
}

template <int TPR>
[[nodiscard]] culossStatus_t launch_rows(const TmArgs& a, bool vec4, culossStream_t stream) {
    // TPR <= 32: blocks of 256 threads, or fewer (at least a warp) when there are fewer rows.
    int block = TPR;
    if (TPR <= 32) {
        block = 32;
        while (block < 256 && block / TPR < a.n) block *= 2;
    }
    const int64_t rows_per_block = block / TPR;
    const int64_t grid = (a.n + rows_per_block - 1) / rows_per_block;
    if (vec4) return CULOSS_LAUNCH((triplet_kernel<TPR, 4>), grid, block, stream, a);
    return CULOSS_LAUNCH((triplet_kernel<TPR, 1>), grid, block, stream, a);
}

bool aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

culossStatus_t check_common(int64_t n, int64_t d, float margin, float p, float eps, culossReduction_t reduction) {
    CULOSS_REQUIRE(n >= 0, CULOSS_STATUS_INVALID_VALUE, "n (%lld) is negative", (long long)n);
    CULOSS_REQUIRE(d >= 1, CULOSS_STATUS_INVALID_VALUE, "d (%lld) is less than 1", (long long)d);
    CULOSS_REQUIRE(reduction >= CULOSS_REDUCTION_NONE && reduction <= CULOSS_REDUCTION_MEAN,
                   CULOSS_STATUS_INVALID_VALUE, "reduction (%d) is not NONE, SUM or MEAN", int(reduction));
    CULOSS_REQUIRE(p > 0.f, CULOSS_STATUS_INVALID_VALUE, "p (%g) is not positive", double(p));
    CULOSS_REQUIRE(std::isfinite(margin), CULOSS_STATUS_INVALID_VALUE, "margin (%g) is not finite", double(margin));
    CULOSS_REQUIRE(std::isfinite(eps), CULOSS_STATUS_INVALID_VALUE, "eps (%g) is not finite", double(eps));
    return CULOSS_STATUS_SUCCESS;
}

culossStatus_t run(const float* anchor, const float* positive, const float* negative, int64_t n, int64_t d,
                   float margin, float p, float eps, int swap, culossReduction_t reduction, const float* grad_output,
                   float* loss, float* grad_anchor, float* grad_positive, float* grad_negative, void* workspace,
                   size_t workspace_size, culossStream_t stream) {
    const culossStatus_t common = check_common(n, d, margin, p, eps, reduction);
    if (common != CULOSS_STATUS_SUCCESS) return common;
    const bool need_inputs = n > 0;
    CULOSS_REQUIRE(!need_inputs || anchor, CULOSS_STATUS_INVALID_VALUE, "anchor is null");
    CULOSS_REQUIRE(!need_inputs || positive, CULOSS_STATUS_INVALID_VALUE, "positive is null");
    CULOSS_REQUIRE(!need_inputs || negative, CULOSS_STATUS_INVALID_VALUE, "negative is null");
    CULOSS_REQUIRE_ALIGNED(anchor, 4);
    CULOSS_REQUIRE_ALIGNED(positive, 4);
    CULOSS_REQUIRE_ALIGNED(negative, 4);
    CULOSS_REQUIRE_ALIGNED(grad_output, 4);
    CULOSS_REQUIRE_ALIGNED(loss, 4);
    CULOSS_REQUIRE_ALIGNED(grad_anchor, 4);
    CULOSS_REQUIRE_ALIGNED(grad_positive, 4);
    CULOSS_REQUIRE_ALIGNED(grad_negative, 4);
    CULOSS_REQUIRE_ALIGNED(workspace, 16);
    // No alias: the inputs are read through the read-only cache, which an output written over
    // them would leave stale.
    const bool grads = grad_anchor || grad_positive || grad_negative;
    const int64_t per_row = reduction == CULOSS_REDUCTION_NONE ? n : 1;
    TensorRanges ranges;
    ranges.input("anchor", anchor, strided_rows(n, d, d));
    ranges.input("positive", positive, strided_rows(n, d, d));
    ranges.input("negative", negative, strided_rows(n, d, d));
    ranges.input("grad_output", grads ? grad_output : nullptr, contiguous(per_row));
    ranges.output("loss", loss, contiguous(per_row));
    ranges.output("grad_anchor", grad_anchor, strided_rows(n, d, d));
    ranges.output("grad_positive", grad_positive, strided_rows(n, d, d));
    ranges.output("grad_negative", grad_negative, strided_rows(n, d, d));
    CULOSS_TRY(ranges.check());
    // Only the reduced loss needs the workspace.
    const Size needed = loss ? workspace_bytes(n, reduction) : Size(0);
    CULOSS_TRY(ranges.workspace(workspace, workspace_size, needed));
    CULOSS_TRY(ranges.check());
    const culossStatus_t ready = device_ready();
    if (ready != CULOSS_STATUS_SUCCESS) return ready;

    if (n == 0) {  // nothing to read; a reduced loss of no rows is 0
        if (loss && reduction != CULOSS_REDUCTION_NONE) CULOSS_TRY(culossMemsetAsync(loss, 0, sizeof(float), stream));
        return CULOSS_STATUS_SUCCESS;
    }

    char* ws = static_cast<char*>(workspace);
    double* partials = needed.value ? reinterpret_cast<double*>(ws) : nullptr;
    float* row_loss = nullptr;
    if (loss) row_loss = reduction == CULOSS_REDUCTION_NONE ? loss : reinterpret_cast<float*>(ws + partials_bytes(n));

    int norm = kNormGeneral;
    if (p == 1.f) norm = kNormL1;
    else if (p == 2.f) norm = kNormL2;
    else if (p == INFINITY) norm = kNormInf;
    const TmArgs args{anchor,      positive,    negative,   n,        d,
                      margin,      p,           1.0 / double(p),    eps,      norm,
                      swap ? 1 : 0, int(reduction), grad_output, row_loss, grad_anchor,
                      grad_positive, grad_negative};
    const bool vec4 = d % 4 == 0 && aligned16(anchor) && aligned16(positive) && aligned16(negative) &&
                      aligned16(grad_anchor) && aligned16(grad_positive) && aligned16(grad_negative);
    // Threads per row: the fewest that keep the whole row in registers (16 floats per input each).
    const int64_t per_thread = (d + kCachedFloats - 1) / kCachedFloats;
    if (per_thread <= 4) {
        CULOSS_TRY(launch_rows<4>(args, vec4, stream));
    } else if (per_thread <= 8) {
        CULOSS_TRY(launch_rows<8>(args, vec4, stream));
    } else if (per_thread <= 16) {
        CULOSS_TRY(launch_rows<16>(args, vec4, stream));
    } else if (per_thread <= 32) {
        CULOSS_TRY(launch_rows<32>(args, vec4, stream));
    } else if (per_thread <= 128) {
        CULOSS_TRY(launch_rows<128>(args, vec4, stream));
    } else if (per_thread <= 256) {
        CULOSS_TRY(launch_rows<256>(args, vec4, stream));
    } else {
        CULOSS_TRY(launch_rows<512>(args, vec4, stream));  // past d = 8192 the tail of a row is read twice
    }

    if (loss && reduction != CULOSS_REDUCTION_NONE) {
        return deterministic_sum(RowLoss{row_loss}, n, partials,
                                 FinishLoss{loss, reduction == CULOSS_REDUCTION_MEAN ? float(n) : 1.f}, stream);
    }
    return CULOSS_STATUS_SUCCESS;
}

}  // namespace
}  // namespace culoss

extern "C" {

culossStatus_t culossTripletMarginWorkspaceSize(int64_t n, int64_t d,
                                                culossDataType_t dtype, culossReduction_t reduction, size_t* bytes) {
    CULOSS_REQUIRE_FLOAT32(dtype);
    culoss::clear_detail();
    CULOSS_REQUIRE(bytes != nullptr, CULOSS_STATUS_INVALID_VALUE, "bytes is null");
    CULOSS_REQUIRE(n >= 0, CULOSS_STATUS_INVALID_VALUE, "n (%lld) is negative", (long long)n);
    CULOSS_REQUIRE(d >= 1, CULOSS_STATUS_INVALID_VALUE, "d (%lld) is less than 1", (long long)d);
    CULOSS_REQUIRE(reduction >= CULOSS_REDUCTION_NONE && reduction <= CULOSS_REDUCTION_MEAN,
                   CULOSS_STATUS_INVALID_VALUE, "reduction (%d) is not NONE, SUM or MEAN", int(reduction));
    CULOSS_REQUIRE(culoss::rows_bytes(n, d, d, sizeof(float)).fits, CULOSS_STATUS_INVALID_VALUE,
                   "anchor (%lld rows of %lld floats) spans more bytes than a size_t holds", (long long)n, (long long)d);
    const culoss::Size needed = culoss::workspace_bytes(n, reduction);
    CULOSS_REQUIRE(needed.fits, CULOSS_STATUS_INVALID_VALUE,
                   "the workspace of n (%lld) rows is more bytes than a size_t holds", (long long)n);
    *bytes = needed.value;
    return CULOSS_STATUS_SUCCESS;
}

culossStatus_t culossTripletMarginForward(const float* anchor, const float* positive, const float* negative, int64_t n,
                                          int64_t d, culossDataType_t dtype, float margin, float p, float eps, int swap,
                                          culossReduction_t reduction, float* loss, void* workspace,
                                          size_t workspace_bytes, culossStream_t stream) {
    CULOSS_REQUIRE_FLOAT32(dtype);
    culoss::clear_detail();
    CULOSS_REQUIRE(loss != nullptr || (n == 0 && reduction == CULOSS_REDUCTION_NONE), CULOSS_STATUS_INVALID_VALUE,
                   "loss is null");
    return culoss::run(anchor, positive, negative, n, d, margin, p, eps, swap, reduction, nullptr, loss, nullptr,
                       nullptr, nullptr, workspace, workspace_bytes, stream);
}

culossStatus_t culossTripletMarginBackward(const float* anchor, const float* positive, const float* negative,
                                           int64_t n, int64_t d,
                                           culossDataType_t dtype, float margin, float p, float eps, int swap,
                                           culossReduction_t reduction, const float* grad_output, float* grad_anchor,
                                           float* grad_positive, float* grad_negative, void* workspace,
                                           size_t workspace_bytes, culossStream_t stream) {
    CULOSS_REQUIRE_FLOAT32(dtype);
    culoss::clear_detail();
    CULOSS_REQUIRE(grad_anchor || grad_positive || grad_negative || n == 0, CULOSS_STATUS_INVALID_VALUE,
                   "grad_anchor, grad_positive and grad_negative are all null");
    return culoss::run(anchor, positive, negative, n, d, margin, p, eps, swap, reduction, grad_output, nullptr,
                       grad_anchor, grad_positive, grad_negative, workspace, workspace_bytes, stream);
}

culossStatus_t culossTripletMarginForwardBackward(const float* anchor, const float* positive, const float* negative,
                                                  int64_t n, int64_t d,
                                                  culossDataType_t dtype, float margin, float p, float eps, int swap,
                                                  culossReduction_t reduction, const float* grad_output, float* loss,
                                                  float* grad_anchor, float* grad_positive, float* grad_negative,
                                                  void* workspace, size_t workspace_bytes, culossStream_t stream) {
    CULOSS_REQUIRE_FLOAT32(dtype);
    culoss::clear_detail();
    CULOSS_REQUIRE(loss != nullptr || (n == 0 && reduction == CULOSS_REDUCTION_NONE), CULOSS_STATUS_INVALID_VALUE,
                   "loss is null");
    CULOSS_REQUIRE(grad_anchor || grad_positive || grad_negative || n == 0, CULOSS_STATUS_INVALID_VALUE,
                   "grad_anchor, grad_positive and grad_negative are all null");
    return culoss::run(anchor, positive, negative, n, d, margin, p, eps, swap, reduction, grad_output, loss,
                       grad_anchor, grad_positive, grad_negative, workspace, workspace_bytes, stream);
}

}  // extern "C"
