// The driver of the elementwise losses (sigmoid focal, smooth L1, Huber): one grid-stride kernel
// over a flat index, templated on a per-element functor, that reads each input once and writes
// the loss (NONE) and/or the gradient in the same pass.
//
// Threads walk groups of four elements. A group is one 16-byte load per input when every
// pointer of the call is 16-byte aligned, four scalar loads otherwise (and for the last, partial
// group); a thread adds its elements' losses (in double) in the same order on both
// paths, so the reduced loss does not depend on the alignment. For SUM/MEAN each block writes
// one partial sum to the workspace, at a grid that is a function of count only, and reduce.cuh's
// final_sum_kernel adds the partials in a fixed order: the same inputs give the same bits on
// every run.
//
// In place (an output over an input of the same length, culoss.h) each element is read and then
// written by the same thread; the inputs are read with plain loads, not __ldg (whose data must
// stay unwritten for the whole kernel).
//
// A functor Op provides
//   template <bool LOSS, bool GRAD> __device__ Value eval(float x, float t) const
// returning the element's loss (when LOSS) and d loss / d x (when GRAD), before the upstream
// gradient and the mean's 1/count are applied. A functor that also reads tensors of its own by the
// element's index (the logistic loss's per-element weight and per-class pos_weight) declares
// `static constexpr bool kIndexed = true` and takes eval(x, t, i); a lane past the end of the
// tensors gets the index of its group's first element, so that it reads only inside them.
#pragma once

#include <initializer_list>
#include <type_traits>

#include "culoss/culoss.h"
#include "device.cuh"
#include "reduce.cuh"
#include "status.h"
#include "tensor_ranges.h"

namespace culoss {
namespace elementwise {

struct Value {
    float loss;
    float grad;
};

constexpr int kThreads = kReduceThreads;
constexpr int64_t kGroupsPerThread = 4;  // about 16 elements per thread before the grid saturates

inline int grid_blocks(int64_t count) { return reduce_blocks((count + 3) / 4, kGroupsPerThread); }

struct Args {
    const float* x;
    const float* t;
    int64_t count;
    const float* grad_output;  // null: 1
    bool per_element;          // NONE: grad_output has count values and loss is per element
    float grad_scale;          // MEAN: 1 / count, else 1
    float* loss;               // NONE: count values; else null
    double* partials;          // SUM/MEAN forward: one sum per block; else null
    float* grad;               // null: no backward
};

template <class Op, class = void>
struct IsIndexed : std::false_type {};
template <class Op>
struct IsIndexed<Op, std::void_t<decltype(Op::kIndexed)>> : std::bool_constant<Op::kIndexed> {};

template <class Op, bool LOSS, bool GRAD, bool VEC>
__global__ void __launch_bounds__(kThreads) elementwise_kernel(Op op, Args a) {
    const int64_t groups = (a.count + 3) / 4;
    const int64_t full = a.count / 4;
    const int64_t step = int64_t(gridDim.x) * blockDim.x;
    float scalar_upstream = 0.f;
    if constexpr (GRAD) {
        if (!a.per_element) scalar_upstream = (a.grad_output ? __ldg(a.grad_output) : 1.f) * a.grad_scale;
    }
    double acc = 0.0;  // in double: a thread adds thousands of losses, each up to FLT_MAX
    for (int64_t g = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; g < groups; g += step) {
        const int64_t base = g * 4;
        const bool whole = g < full;
        const int lanes = whole ? 4 : int(a.count - base);
        float x[4], t[4];
        if (VEC && whole) {
            const float4 xv = load4(a.x + base), tv = load4(a.t + base);
            x[0] = xv.x, x[1] = xv.y, x[2] = xv.z, x[3] = xv.w;
            t[0] = tv.x, t[1] = tv.y, t[2] = tv.z, t[3] = tv.w;
        } else {
#pragma unroll
            for (int e = 0; e < 4; ++e) {
                x[e] = e < lanes ? a.x[base + e] : 0.f;
                t[e] = e < lanes ? a.t[base + e] : 0.f;
            }
        }
        // Every input of the group is read before any output is written: an output may be one
        // of them (the loss over grad_output, say).
        float up[4] = {scalar_upstream, scalar_upstream, scalar_upstream, scalar_upstream};
        if constexpr (GRAD) {
            if (a.per_element && a.grad_output) {
                if (VEC && whole) {
                    const float4 gv = load4(a.grad_output + base);
                    up[0] = gv.x, up[1] = gv.y, up[2] = gv.z, up[3] = gv.w;
                } else {
#pragma unroll
                    for (int e = 0; e < 4; ++e) up[e] = e < lanes ? a.grad_output[base + e] : 0.f;
                }
            } else if (a.per_element) {
                up[0] = up[1] = up[2] = up[3] = 1.f;
            }
        }
        Value v[4];
#pragma unroll
        for (int e = 0; e < 4; ++e) {
            if constexpr (IsIndexed<Op>::value) {
                v[e] = op.template eval<LOSS, GRAD>(x[e], t[e], e < lanes ? base + e : base);
            } else {
                v[e] = op.template eval<LOSS, GRAD>(x[e], t[e]);
            }
        }

        if constexpr (LOSS) {
            if (a.per_element) {
                if (VEC && whole) {
                    store4(a.loss + base, float4{v[0].loss, v[1].loss, v[2].loss, v[3].loss});
                } else {
#pragma unroll
                    for (int e = 0; e < 4; ++e)
                        if (e < lanes) a.loss[base + e] = v[e].loss;
                }
            } else {
#pragma unroll
                for (int e = 0; e < 4; ++e)
                    if (e < lanes) acc += double(v[e].loss);
            }
        }
        if constexpr (GRAD) {
            if (VEC && whole) {
                store4(a.grad + base, float4{up[0] * v[0].grad, up[1] * v[1].grad, up[2] * v[2].grad, up[3] * v[3].grad});
            } else {
#pragma unroll
                for (int e = 0; e < 4; ++e)
                    if (e < lanes) a.grad[base + e] = up[e] * v[e].grad;
            }
        }
    }
    if constexpr (LOSS) {
        if (a.partials) {  // the same for every thread: all of them reach the block reduction
            const double block_sum = block_reduce(acc, SumD{}, 0.0);
            if (threadIdx.x == 0) a.partials[blockIdx.x] = block_sum;
        }
    }
}

// SUM: loss = total; MEAN: loss = total / count.
struct FinishLoss {
    float* loss;
    double divisor;  // 0 for SUM
    __device__ void operator()(double total) const { *loss = float(divisor > 0.0 ? total / divisor : total); }
};

inline size_t workspace_bytes(int64_t count, culossReduction_t reduction) {
    if (reduction == CULOSS_REDUCTION_NONE || count == 0) return 0;
    return partial_sums_bytes(grid_blocks(count));
}

// The argument names of a loss, for the error details.
struct Names {
    const char* x;     // "logits" / "input"
    const char* t;     // "targets" / "target"
    const char* grad;  // "grad_logits" / "grad_input"
};

// The workspace is a few partial sums whatever the count; the query still refuses a count whose
// tensors no call could take (count floats more bytes than a size_t holds), as the call does.
inline culossStatus_t check_workspace_query(int64_t count, culossReduction_t reduction, size_t* bytes) {
    CULOSS_REQUIRE(bytes != nullptr, CULOSS_STATUS_INVALID_VALUE, "bytes is null");
    CULOSS_REQUIRE(count >= 0, CULOSS_STATUS_INVALID_VALUE, "count (%lld) is negative", (long long)count);
    CULOSS_REQUIRE((Size(count) * Size(sizeof(float))).fits, CULOSS_STATUS_INVALID_VALUE,
                   "count (%lld) floats are more bytes than a size_t holds", (long long)count);
    CULOSS_REQUIRE(reduction >= CULOSS_REDUCTION_NONE && reduction <= CULOSS_REDUCTION_MEAN,
                   CULOSS_STATUS_INVALID_VALUE, "reduction (%d) is not NONE, SUM or MEAN", int(reduction));
    *bytes = workspace_bytes(count, reduction);
    return CULOSS_STATUS_SUCCESS;
}

template <class Op, bool LOSS, bool GRAD>
[[nodiscard]] culossStatus_t launch(const Op& op, const Args& a, bool vec, culossStream_t stream) {
    const int blocks = grid_blocks(a.count);
    if (vec) return CULOSS_LAUNCH((elementwise_kernel<Op, LOSS, GRAD, true>), blocks, kThreads, stream, op, a);
    return CULOSS_LAUNCH((elementwise_kernel<Op, LOSS, GRAD, false>), blocks, kThreads, stream, op, a);
}

inline bool aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

// A tensor an indexed functor reads besides x and t (null: absent); no output may overlap it.
struct ExtraInput {
    const char* name;
    const float* ptr;
    int64_t count;
};

// Checks the arguments every elementwise loss shares, then launches. The caller has checked the
// loss's own options. want_loss / want_grad: which outputs the entry point produces.
template <class Op>
culossStatus_t run(const Names& names, const Op& op, const float* x, const float* t, int64_t count,
                   culossReduction_t reduction, const float* grad_output, float* loss, float* grad,
                   bool want_loss, bool want_grad, void* workspace, size_t workspace_size, culossStream_t stream,
                   std::initializer_list<ExtraInput> extra = {}) {
    CULOSS_REQUIRE(count >= 0, CULOSS_STATUS_INVALID_VALUE, "count (%lld) is negative", (long long)count);
    CULOSS_REQUIRE(reduction >= CULOSS_REDUCTION_NONE && reduction <= CULOSS_REDUCTION_MEAN,
                   CULOSS_STATUS_INVALID_VALUE, "reduction (%d) is not NONE, SUM or MEAN", int(reduction));
    const bool none = reduction == CULOSS_REDUCTION_NONE;
    CULOSS_REQUIRE(count == 0 || x, CULOSS_STATUS_INVALID_VALUE, "%s is null", names.x);
    CULOSS_REQUIRE(count == 0 || t, CULOSS_STATUS_INVALID_VALUE, "%s is null", names.t);
    CULOSS_REQUIRE(!want_loss || loss || (count == 0 && none), CULOSS_STATUS_INVALID_VALUE, "loss is null");
    CULOSS_REQUIRE(!want_grad || grad || count == 0, CULOSS_STATUS_INVALID_VALUE, "%s is null", names.grad);
    auto misaligned = [](const void* p, uintptr_t bytes) { return reinterpret_cast<uintptr_t>(p) % bytes != 0; };
    CULOSS_REQUIRE(!misaligned(x, 4), CULOSS_STATUS_MISALIGNED, "%s is not aligned to 4 bytes", names.x);
    CULOSS_REQUIRE(!misaligned(t, 4), CULOSS_STATUS_MISALIGNED, "%s is not aligned to 4 bytes", names.t);
    CULOSS_REQUIRE(!misaligned(grad_output, 4), CULOSS_STATUS_MISALIGNED, "grad_output is not aligned to 4 bytes");
    CULOSS_REQUIRE(!misaligned(loss, 4), CULOSS_STATUS_MISALIGNED, "loss is not aligned to 4 bytes");
    CULOSS_REQUIRE(!misaligned(grad, 4), CULOSS_STATUS_MISALIGNED, "%s is not aligned to 4 bytes", names.grad);
    CULOSS_REQUIRE(!misaligned(workspace, 16), CULOSS_STATUS_MISALIGNED, "workspace is not aligned to 16 bytes");
    for (const ExtraInput& e : extra) {
        CULOSS_REQUIRE(!misaligned(e.ptr, 4), CULOSS_STATUS_MISALIGNED, "%s is not aligned to 4 bytes", e.name);
    }
    // The header's aliases: an output exactly over an input of the same length (the inputs, and
    // grad_output with NONE); a reduced loss of one value, and the outputs over each other, never.
    TensorRanges ranges;
    const int in_x = ranges.input(names.x, x, contiguous(count));
    const int in_t = ranges.input(names.t, t, contiguous(count));
    const int in_g = ranges.input("grad_output", want_grad ? grad_output : nullptr, contiguous(none ? count : 1));
    for (const ExtraInput& e : extra) ranges.input(e.name, e.ptr, contiguous(e.count));
    const int g_same_length = none ? in_g : -1;
    if (none) {
        ranges.output("loss", want_loss ? loss : nullptr, contiguous(count), {in_x, in_t, in_g});
    } else {
        ranges.output("loss", want_loss ? loss : nullptr, contiguous(1));
    }
    ranges.output(names.grad, want_grad ? grad : nullptr, contiguous(count), {in_x, in_t, g_same_length});
    CULOSS_TRY(ranges.check());
    CULOSS_TRY(ranges.workspace(workspace, workspace_size, want_loss ? workspace_bytes(count, reduction) : 0));
    CULOSS_TRY(ranges.check());
    const culossStatus_t ready = device_ready();
    if (ready != CULOSS_STATUS_SUCCESS) return ready;

    if (count == 0) {  // nothing to read; a reduced loss of no elements is 0
        if (want_loss && !none) CULOSS_TRY(culossMemsetAsync(loss, 0, sizeof(float), stream));
        return CULOSS_STATUS_SUCCESS;
    }

    Args a{};
    a.x = x;
    a.t = t;
    a.count = count;
    a.grad_output = want_grad ? grad_output : nullptr;
    a.per_element = none;
    a.grad_scale = reduction == CULOSS_REDUCTION_MEAN ? float(1.0 / double(count)) : 1.f;
    a.loss = want_loss && none ? loss : nullptr;
    a.partials = want_loss && !none ? static_cast<double*>(workspace) : nullptr;
    a.grad = want_grad ? grad : nullptr;
    const bool vec = aligned16(x) && aligned16(t) && (!a.loss || aligned16(a.loss)) &&
                     (!a.grad || aligned16(a.grad)) && (!(a.grad && none && a.grad_output) || aligned16(a.grad_output));
    if (want_loss && want_grad) {
        CULOSS_TRY((launch<Op, true, true>(op, a, vec, stream)));
    } else if (want_loss) {
        CULOSS_TRY((launch<Op, true, false>(op, a, vec, stream)));
    } else {
        CULOSS_TRY((launch<Op, false, true>(op, a, vec, stream)));
    }
    if (a.partials) {
        const FinishLoss finish{loss, reduction == CULOSS_REDUCTION_MEAN ? double(count) : 0.0};
        return CULOSS_LAUNCH(final_sum_kernel<FinishLoss>, 1, kReduceThreads, stream, a.partials, grid_blocks(count),
                             finish);
    }
    return CULOSS_STATUS_SUCCESS;
}

}  // namespace elementwise
}  // namespace culoss

// The four C entry points of an elementwise loss, from its functor: `Name` completes culoss##Name
// (Forward, Backward, ForwardBackward, WorkspaceSize); `Op` is the functor type, `names` its
// tensors' names for the error details; PARAMS is the loss's parameter list as the header writes
// it, each followed by a comma, in parentheses ((float beta,); () for a loss without one), and ARGS
// their names the same way ((beta,)), handed to `culossStatus_t make_op(ARGS..., Op*)`, which
// checks them. The trailing comma lets an empty list expand to nothing. A loss's .cu is its
// functor, its make_op and this one line.
#define CULOSS_EXPAND(...) __VA_ARGS__
#define CULOSS_ELEMENTWISE_API(Name, Op, names, PARAMS, ARGS)                                                   \
    extern "C" culossStatus_t culoss##Name##WorkspaceSize(int64_t count, culossDataType_t dtype,                \
                                                          culossReduction_t reduction, size_t* bytes) {        \
        CULOSS_REQUIRE_FLOAT32(dtype);                                                                          \
        ::culoss::clear_detail();                                                                               \
        return ::culoss::elementwise::check_workspace_query(count, reduction, bytes);                          \
    }                                                                                                           \
    extern "C" culossStatus_t culoss##Name##Forward(const float* x, const float* t, int64_t count,              \
                                                    culossDataType_t dtype, CULOSS_EXPAND PARAMS               \
                                                    culossReduction_t reduction, float* loss, void* workspace,  \
                                                    size_t workspace_bytes, culossStream_t stream) {            \
        CULOSS_REQUIRE_FLOAT32(dtype);                                                                          \
        Op op;                                                                                                  \
        CULOSS_TRY(make_op(CULOSS_EXPAND ARGS &op));                                                            \
        return ::culoss::elementwise::run(names, op, x, t, count, reduction, nullptr, loss, nullptr, true, false, \
                                          workspace, workspace_bytes, stream);                                  \
    }                                                                                                           \
    extern "C" culossStatus_t culoss##Name##Backward(const float* x, const float* t, int64_t count,             \
                                                     culossDataType_t dtype, CULOSS_EXPAND PARAMS              \
                                                     culossReduction_t reduction, const float* grad_output,     \
                                                     float* grad, void* workspace, size_t workspace_bytes,      \
                                                     culossStream_t stream) {                                   \
        CULOSS_REQUIRE_FLOAT32(dtype);                                                                          \
        Op op;                                                                                                  \
        CULOSS_TRY(make_op(CULOSS_EXPAND ARGS &op));                                                            \
        return ::culoss::elementwise::run(names, op, x, t, count, reduction, grad_output, nullptr, grad, false,  \
                                          true, workspace, workspace_bytes, stream);                            \
    }                                                                                                           \
    extern "C" culossStatus_t culoss##Name##ForwardBackward(                                                    \
        const float* x, const float* t, int64_t count, culossDataType_t dtype, CULOSS_EXPAND PARAMS            \
        culossReduction_t reduction, const float* grad_output, float* loss, float* grad, void* workspace,       \
        size_t workspace_bytes, culossStream_t stream) {                                                        \
        CULOSS_REQUIRE_FLOAT32(dtype);                                                                          \
        Op op;                                                                                                  \
        CULOSS_TRY(make_op(CULOSS_EXPAND ARGS &op));                                                            \
        return ::culoss::elementwise::run(names, op, x, t, count, reduction, grad_output, loss, grad, true, true, \
                                          workspace, workspace_bytes, stream);                                  \
    }
