// The one-pass row machinery of the softmax losses (cross-entropy, softmax focal), shared by
// their .cu files: a kernel template over a small per-loss policy and its launch. The checks, the
// workspace, the mean's denominator and the sum/mean reduction are every row loss's (rows.cuh).
//
// A group of threads owns a row: a warp for C <= 1024, a block of 256 or 512 threads above.
// Pass 1 reads the row once with 16-byte loads (when the row start is aligned; a scalar tail
// otherwise), keeping an online max and sum of exponentials per thread (and, for a policy that
// asks, the logit sums label smoothing needs), and caches what it read in registers; a group
// reduction gives log-sum-exp. Pass 2 writes the gradient from the cached values, re-reading
// only the part of a very long row that did not fit the cache. The sum/mean reductions add the
// per-row losses in a deterministic two-level sum; the mean's denominator is computed first by a
// cheap pass over the targets, so the gradient can be scaled in the same pass.
//
// A policy says what a loss does with what pass 1 found (see CePolicy in
// softmax_cross_entropy.cu and FocalPolicy in softmax_focal.cu):
//   static constexpr bool kClassTargets;   one class index per row (false: per-class target
//                                          probabilities, RowArgs::target_probs; every row counts)
//   static constexpr bool kStridedClasses; an entry point takes [N, C, d1..dk] logits (RowCall::inner):
//                                          only then is softmax_strided_rows_kernel built for it
//   static constexpr bool kSums;           pass 1 also keeps t = sum w_j (m - x_j) and w = sum w_j
//   static constexpr bool kExcludeTarget;  the target's exponential is left out of the sum s (its
//                                          logit still counts for the max), so that 1 - p_y = s / S
//                                          keeps its digits when p_y is near 1
//   static constexpr bool kArgmax;         pass 1 also keeps the row's argmax (RowState::am, the
//                                          first index of the largest logit)
//   bool sums_enabled() const;             (kSums only) whether this call needs the sums
//   float weight(int64_t j, RowProbs) const;  (kSums only) w_j (the row's target probabilities:
//                                          RowFacts::probs, for a soft-target policy)
//   const float* weights() const;          whose w[y] the MEAN divides by; null: it counts rows
//   culossStatus_t check() const;          host: the policy's own options
//   const float* table() const;            host: the per-class table the kernel reads (c floats) or
//                                          null, named kTableName, for the range checks
//   Row row(const RowState&, const RowFacts&) const;       what the loss and the gradient share
//   float loss(const RowState&, const RowFacts&, const Row&) const;
//                                          the loss of a counted row (one thread calls it)
//   Grad grad(const RowState&, const RowFacts&, const Row&) const;
//     Grad::operator()(v, j)               d loss / d x_j before the upstream scale, from v = x_j
// The state these get is the group's, after the reduction. Keep row() to what both passes use:
// what a policy computes early stays live (in registers) through the loss.
//
// Everything here is in an anonymous namespace: each .cu instantiates its own copies, so two
// translation units never register the same kernel.
#pragma once

#include "rows.cuh"

namespace culoss {
namespace {

// The arguments every row loss shares, as the kernel sees them.
struct RowArgs {
    const float* logits;
    int64_t logits_stride;
    const int32_t* targets;       // kClassTargets
    const float* target_probs;    // !kClassTargets: in the logits' layout, contiguous
    int64_t n;
    int64_t c;
    int64_t ignore_index;
    int reduction;
    const float* grad_output;  // null: 1
    float* row_loss;           // per-row losses (the user's output for NONE, workspace else) or null
    float* grad;               // null: no backward
    int64_t grad_stride;
    const float* denominator;  // MEAN: the counted weight sum (or row count), in the workspace
    int32_t* error_word;       // may be null
};

// What a thread knows about its share of a row: the online max `m` and the sum `s` of
// e^(x - m) over the row's logits (the target's left out for a kExcludeTarget policy, which keeps
// the target's logit in `xt` instead: only the thread that owns it reads it, see the kernel);
// for label smoothing t = sum w_j (m - x_j) and w = sum w_j, in double: every term of t is >= 0
// whatever the logits (no cancellation), and a masked class at -FLT_MAX times a weight of 1.5
// overflows no float (a term's value is exact in double, and the sum fits while the loss does).
//
// For a kArgmax policy, `am` is the first index of the largest logit seen; 0 while the max is -inf,
// which is right for the row: a row whose max is -inf has -inf (or NaN) at index 0. A NaN never
// raises the max, so a row with a NaN has some finite argmax; its loss is NaN anyway.
struct RowState {
    float m, s, xt;
    double t, w;
    int32_t am;  // no default member initializer: block_reduce keeps RowStates in __shared__ arrays
};

__device__ __forceinline__ RowState empty_row_state() { return RowState{-INFINITY, 0.f, -INFINITY, 0.0, 0.0, 0}; }

// The target's logit through a max that keeps a NaN (only one thread holds a value, the others
// -inf; fmaxf would drop a NaN target).
__device__ __forceinline__ float merge_target(float a, float b) { return a != a || b != b ? a + b : fmaxf(a, b); }

// The smoothing sum t moved to the max m: every weight seen grows by (m - old max). A state whose
// max is -inf has t = inf (or NaN) already, or no weight.
__device__ __forceinline__ double rebased(const RowState& a, float m) {
    return a.w != 0.0 && a.m != -INFINITY ? a.t + a.w * (double(m) - double(a.m)) : a.t;
}

template <class Policy>
__device__ __forceinline__ RowState merge(RowState a, RowState b) {
    const float m = fmaxf(a.m, b.m);
    RowState r;
    r.m = m;
    // Both maxima -inf: e^(-inf - -inf) would be NaN. Each sum is then 0, or NaN from a NaN logit
    // (NaN > m is false, so it never raises the max), which the sum of the two keeps.
    r.s = m == -INFINITY ? a.s + b.s : a.s * fast_exp(a.m - m) + b.s * fast_exp(b.m - m);
    r.xt = Policy::kExcludeTarget ? merge_target(a.xt, b.xt) : -INFINITY;
    if constexpr (Policy::kSums) {
        r.t = rebased(a, m) + rebased(b, m);
        r.w = a.w + b.w;
    } else {
        r.t = 0.0;
        r.w = 0.0;
    }
    if constexpr (Policy::kArgmax) {
        // The larger max wins; a tie goes to the smaller index (the first, as torch.argmax).
        r.am = a.m > b.m ? a.am : b.m > a.m ? b.am : a.am < b.am ? a.am : b.am;
    } else {
        r.am = 0;
    }
    return r;
}

template <class Policy>
__device__ __forceinline__ RowState shfl_xor_state(RowState v, int offset) {
    RowState r{culoss::shfl_xor(v.m, offset), culoss::shfl_xor(v.s, offset), -INFINITY, 0.0, 0.0, 0};
    if constexpr (Policy::kExcludeTarget) r.xt = culoss::shfl_xor(v.xt, offset);
    if constexpr (Policy::kSums) {
        r.t = culoss::shfl_xor(v.t, offset);
        r.w = culoss::shfl_xor(v.w, offset);
    }
    if constexpr (Policy::kArgmax) r.am = culoss::shfl_xor(v.am, offset);
    return r;
}

// Every field: what block_reduce's warp_reduce finds (once per row of a block; the warp path
// below shuffles only what the policy uses).
__device__ __forceinline__ RowState shfl_xor(RowState v, int offset) {
    return {culoss::shfl_xor(v.m, offset), culoss::shfl_xor(v.s, offset), culoss::shfl_xor(v.xt, offset),
            culoss::shfl_xor(v.t, offset), culoss::shfl_xor(v.w, offset), culoss::shfl_xor(v.am, offset)};
}

// The operator block_reduce applies.
template <class Policy>
struct MergeRows {
    __device__ RowState operator()(RowState a, RowState b) const { return merge<Policy>(a, b); }
};

template <class Policy>
__device__ __forceinline__ RowState warp_reduce_rows(RowState v) {
    for (int offset = 16; offset > 0; offset >>= 1) v = merge<Policy>(v, shfl_xor_state<Policy>(v, offset));
    return v;
}

// One row's target probabilities (a soft-target policy's): class j at p[j * step]. Read with
// __ldg: no output of the call may overlap them (check_rows).
struct RowProbs {
    const float* p;  // null: class-index targets
    int64_t step;
    __device__ __forceinline__ float operator[](int64_t j) const { return __ldg(p + j * step); }
};

// What the kernel knows about a row when pass 1 is over, besides the reduced state.
struct RowFacts {
    int64_t c;
    int32_t target;  // read but not checked: use it only when counted (-1 for soft targets)
    bool counted;    // the target is in [0, c) and is not the ignore index (soft targets: always)
    float x_target;  // kExcludeTarget and counted: the target's logit; else -inf
    RowProbs probs;
};

// A row's target as the kernels derive it (every thread of the group, no broadcast): class-index
// targets are read and checked against c and the ignore index; a soft-target row always counts.
struct RowTarget {
    int32_t target;
    bool valid, counted;
};

template <class Policy>
__device__ __forceinline__ RowTarget row_target(const RowArgs& a, int64_t row) {
    if constexpr (!Policy::kClassTargets) {
        return RowTarget{-1, true, true};
    } else {
        const int32_t target = __ldg(a.targets + row);
        const bool ignored = int64_t(target) == a.ignore_index;
        const bool valid = ignored || (target >= 0 && target < a.c);
        return RowTarget{target, valid, valid && !ignored};
    }
}

// What a kExcludeTarget row's reduced state says about its target: d = x_y - m (<= 0), e_y =
// e^d, log S with S = s + e_y the whole row's sum, and q = 1 - p_y = s / S, which keeps its digits
// when p_y rounds to 1 (a counted row only).
struct TargetShare {
    float d, e_y, log_s, q;
};

__device__ __forceinline__ TargetShare target_share(const RowState& st, float x_target) {
    TargetShare t;
    t.d = x_target - st.m;
    t.e_y = fast_exp(t.d);
    const float s = st.s + t.e_y;
    t.log_s = fast_log(s);
    t.q = st.s / s;
    return t;
}

// -log p_y of a counted kExcludeTarget row. A confident row (the target leads): log(1 + s / e_y),
// whose digits a log S of a float sum near 1 would lose. Otherwise S >= 1/2 and -d >= 0: no
// cancellation in log S - d.
__device__ __forceinline__ float target_nll(const RowState& st, const TargetShare& t) {
    return t.e_y >= 0.5f ? log1p_(st.s / t.e_y) : -t.d + t.log_s;
}

// Folds one logit into the online max and sum; `in_sum` false: only into the max (the excluded
// target).
__device__ __forceinline__ void accumulate(RowState& st, float x, bool in_sum) {
    if (x > st.m) {
        st.s = st.s * fast_exp(st.m - x) + (in_sum ? 1.f : 0.f);
        st.m = x;
    } else if (x != -INFINITY && in_sum) {  // x == m == -inf adds nothing; NaN still propagates
        st.s += fast_exp(x - st.m);
    }
}

// Folds w (m - x) into the smoothing sums, after the max has taken x. A -inf logit gives an
// infinite term (its -log p is inf), whatever the max.
__device__ __forceinline__ void accumulate_sums(RowState& st, float x, float w, float old_m) {
    if (st.m != old_m) st.t = rebased(RowState{old_m, 0.f, 0.f, st.t, st.w, 0}, st.m);
    st.t += x == -INFINITY ? double(w) * double(INFINITY) : double(w) * (double(st.m) - double(x));
    st.w += double(w);
}


// One logit of pass 1: into the max and sum (the excluded target only into the max, and its value
// kept), and into the smoothing sums.
template <class Policy>
__device__ __forceinline__ void take(const Policy& pol, RowState& st, float v, int64_t j, int64_t excluded, bool sums,
                                     const RowProbs& probs) {
    const float old_m = st.m;
    if constexpr (Policy::kArgmax) {
        // A thread sees its indices in increasing order: only a strictly larger logit moves it.
        if (v > old_m) st.am = int32_t(j);
    }
    if constexpr (Policy::kExcludeTarget) {
        const bool is_target = j == excluded;
        if (is_target) st.xt = v;
        accumulate(st, v, !is_target);
    } else {
        accumulate(st, v, true);
    }
    if constexpr (Policy::kSums) {
        if (sums) accumulate_sums(st, v, pol.weight(j, probs), old_m);
    }
}

// The factor of a row's gradient: its upstream gradient, over the mean's denominator (MEAN); 0 for
// a row that does not count. An infinite one makes the row's gradient NaN (a NaN scale, so no
// extra register): PyTorch's is inf - inf at most entries (its log-softmax backward,
// g_j - p_j sum g), and no one finite form of it gives its mix of NaN and inf.
__device__ __forceinline__ float gradient_scale(const RowArgs& a, int64_t row, bool counted) {
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
    if (scale == INFINITY || scale == -INFINITY) scale = NAN;
    return scale;
}

// TPR threads own a row (32: a warp; else the whole block). VEC: floats per load. CACHE: chunks
// a thread keeps in registers between the passes.
//
// In place (grad_logits = logits) every logit is read by the one thread that later writes its
// gradient, and by no other: the excluded target's logit too is read only by its owner during
// pass 1 and reaches the others through the reduction (a shuffle or block_reduce), never by a
// load after some thread may have written its gradient over it. For the same reason the logits
// are read with plain loads, not __ldg, whose data must stay unwritten for the whole kernel.
template <class Policy, int TPR, int VEC, int CACHE>
__global__ void __launch_bounds__(TPR == 32 ? 256 : TPR) softmax_rows_kernel(RowArgs a, Policy pol) {
    const int lane = lane_in_row<TPR>();
    const int64_t row = row_of_thread<TPR>();
    if (row >= a.n) return;  // a whole warp (TPR = 32) or nothing (the grid covers n exactly)

    const float* x = a.logits + row * a.logits_stride;
    const int64_t c = a.c;
    const int64_t chunks = c / VEC;
    bool sums = false;
    if constexpr (Policy::kSums) sums = pol.sums_enabled();

    // Every thread of the group derives the row's scalars itself: no extra broadcast.
    const RowTarget rt = row_target<Policy>(a, row);
    const int32_t target = rt.target;
    const bool valid = rt.valid, counted = rt.counted;
    const int64_t excluded = Policy::kExcludeTarget && counted ? int64_t(target) : -1;
    const RowProbs probs{Policy::kClassTargets ? nullptr : a.target_probs + row * c, 1};

    RowState st = empty_row_state();
    Chunk<VEC> cache[CACHE];
#pragma unroll
    for (int k = 0; k < CACHE; ++k) {
        const int64_t j = lane + int64_t(k) * TPR;
        if (j < chunks) {
            cache[k] = load_chunk<VEC>(x + j * VEC);
#pragma unroll
            for (int e = 0; e < VEC; ++e) take(pol, st, cache[k].v[e], j * VEC + e, excluded, sums, probs);
        }
    }
    for (int64_t j = lane + int64_t(CACHE) * TPR; j < chunks; j += TPR) {
        const Chunk<VEC> ch = load_chunk<VEC>(x + j * VEC);
#pragma unroll
        for (int e = 0; e < VEC; ++e) take(pol, st, ch.v[e], j * VEC + e, excluded, sums, probs);
    }
    for (int64_t j = chunks * VEC + lane; j < c; j += TPR) {  // the scalar tail
        take(pol, st, x[j], j, excluded, sums, probs);
    }

    if constexpr (TPR == 32) {
        st = warp_reduce_rows<Policy>(st);
    } else {
        st = block_reduce(st, MergeRows<Policy>{}, empty_row_state());
    }

    if (!valid && lane == 0 && a.error_word) atomicOr(a.error_word, int32_t(CULOSS_DEVICE_ERROR_BAD_TARGET));
    const RowFacts facts{c, target, counted, Policy::kExcludeTarget && counted ? st.xt : -INFINITY, probs};
    const typename Policy::Row r = pol.row(st, facts);
    if (a.row_loss && lane == 0) a.row_loss[row] = counted ? pol.loss(st, facts, r) : 0.f;

    if (!a.grad) return;
    const float scale = gradient_scale(a, row, counted);
    const typename Policy::Grad dloss = pol.grad(st, facts, r);
    float* gr = a.grad + row * a.grad_stride;
    // An ignored or invalid row's gradient is 0 whatever its logits; a counted row's is scaled as
    // PyTorch scales it, so that a zero upstream gradient times a NaN row is NaN, not a 0 that
    // hides the NaN from the optimizer.
    auto grad_of = [&](float v, int64_t j) {
        if (!counted) return 0.f;
        return scale * dloss(v, j);
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
    // Past the cache: each thread reads again only what it alone writes.
    for (int64_t j = lane + int64_t(CACHE) * TPR; j < chunks; j += TPR) {
        const Chunk<VEC> ch = load_chunk<VEC>(x + j * VEC);
        Chunk<VEC> out;
#pragma unroll
        for (int e2 = 0; e2 < VEC; ++e2) out.v[e2] = grad_of(ch.v[e2], j * VEC + e2);
        store_chunk<VEC>(gr + j * VEC, out);
    }
    for (int64_t j = chunks * VEC + lane; j < c; j += TPR) gr[j] = grad_of(x[j], j);
}

// Logits [N, C, D] with the class dimension second (PyTorch's [N, C, d1..dk], D = d1 * ... * dk:
// per pixel, per token): row r = (b, k), b < N, k < D, is the C logits at b C D + j D + k, j < C,
// with its target at targets[r] (targets [N, d1..dk]) and its loss at row_loss[r]. One thread owns
// a row: adjacent threads take adjacent k, so each class step is one coalesced load across the
// warp, and a thread needs no reduction. Pass 1 folds the row into the thread's RowState with the
// contiguous kernel's take(); pass 2 reads the row again (from the cache: C floats D apart) and
// writes the gradient in the same layout. Here a.n counts the rows, N * D. In place, each logit is
// read and then written by its row's one thread.
template <class Policy>
__global__ void __launch_bounds__(256) softmax_strided_rows_kernel(RowArgs a, Policy pol, int64_t inner) {
    const int64_t row = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
    if (row >= a.n) return;
    const int64_t c = a.c;
    const int64_t first = (row / inner) * c * inner + row % inner;  // class 0 of the row
    const float* x = a.logits + first;
    bool sums = false;
    if constexpr (Policy::kSums) sums = pol.sums_enabled();

    const RowTarget rt = row_target<Policy>(a, row);
    const int32_t target = rt.target;
    const bool valid = rt.valid, counted = rt.counted;
    const int64_t excluded = Policy::kExcludeTarget && counted ? int64_t(target) : -1;
    const RowProbs probs{Policy::kClassTargets ? nullptr : a.target_probs + first, inner};

    RowState st = empty_row_state();
    const float* xj = x;
    for (int64_t j = 0; j < c; ++j, xj += inner) take(pol, st, *xj, j, excluded, sums, probs);

    if (!valid && a.error_word) atomicOr(a.error_word, int32_t(CULOSS_DEVICE_ERROR_BAD_TARGET));
    const RowFacts facts{c, target, counted, Policy::kExcludeTarget && counted ? st.xt : -INFINITY, probs};
    const typename Policy::Row r = pol.row(st, facts);
    if (a.row_loss) a.row_loss[row] = counted ? pol.loss(st, facts, r) : 0.f;

    if (!a.grad) return;
    const float scale = gradient_scale(a, row, counted);
    const typename Policy::Grad dloss = pol.grad(st, facts, r);
    float* gr = a.grad + first;
    xj = x;
    for (int64_t j = 0; j < c; ++j, xj += inner, gr += inner) *gr = counted ? scale * dloss(*xj, j) : 0.f;
}

template <class Policy, int TPR, int CACHE>
[[nodiscard]] culossStatus_t launch_rows(const RowArgs& a, const Policy& pol, bool vec4, culossStream_t stream) {
    const int64_t grid = row_grid<TPR>(a.n);
    const int block = row_block_threads<TPR>();
    if (vec4) return CULOSS_LAUNCH((softmax_rows_kernel<Policy, TPR, 4, CACHE>), grid, block, stream, a, pol);
    return CULOSS_LAUNCH((softmax_rows_kernel<Policy, TPR, 1, CACHE>), grid, block, stream, a, pol);
}

// Checks the shared arguments (and the policy's, through pol.check()), then: the mean's
// denominator, the row kernel, the sum of the row losses.
template <class Policy>
culossStatus_t run_rows(const RowCall& k, const Policy& pol) {
    const RowNames names{"logits", "logits_stride", "grad_logits", Policy::kTableName,
                         Policy::kClassTargets ? "targets" : "target_probs"};
    CULOSS_TRY(check_rows(k, names, pol.table(),
                          [&] { return pol.check(); }));
    const int64_t rows = row_count(k);
    if (rows == 0) return finish_empty_rows(k);
    const RowWorkspace ws = row_workspace(k);
    if (ws.denominator) {
        CULOSS_TRY(deterministic_sum(TargetWeight{k.targets, pol.weights(), k.c, k.ignore_index}, rows, ws.partials,
                                     StoreScalar{ws.denominator}, k.stream));
    }

    const RowArgs args{k.logits, k.logits_stride, k.targets, k.target_probs, rows, k.c, k.ignore_index, k.reduction,
                       k.grad_output, ws.row_loss, k.grad_logits, k.grad_stride, ws.denominator, k.error_word};
    if (k.inner != 1) {  // [N, C, D]: the classes D apart
        if constexpr (Policy::kStridedClasses) {
            CULOSS_TRY(CULOSS_LAUNCH(softmax_strided_rows_kernel<Policy>, (rows + 255) / 256, 256, k.stream, args,
                                     pol, k.inner));
            return finish_rows(k, ws);
        } else {
            CULOSS_REQUIRE(false, CULOSS_STATUS_NOT_SUPPORTED, "this loss takes no [N, C, d1..dk] logits");
        }
    }
    const bool vec4 =
        reinterpret_cast<uintptr_t>(k.logits) % 16 == 0 && k.logits_stride % 4 == 0 &&
        (!k.grad_logits || (reinterpret_cast<uintptr_t>(k.grad_logits) % 16 == 0 && k.grad_stride % 4 == 0));
    // Warp per row up to 1024 classes (the whole row in registers), then a block per row;
    // cached in registers: 32 * 8 * 4 = 1024, 256 * 16 * 4 = 16384, 512 * 16 * 4 = 32768 floats.
    if (k.c <= 1024) {
        CULOSS_TRY((launch_rows<Policy, 32, 8>(args, pol, vec4, k.stream)));
    } else if (k.c <= 16384) {
        CULOSS_TRY((launch_rows<Policy, 256, 16>(args, pol, vec4, k.stream)));
    } else {
        CULOSS_TRY((launch_rows<Policy, 512, 16>(args, pol, vec4, k.stream)));
    }
    return finish_rows(k, ws);
}

}  // namespace
}  // namespace culoss
