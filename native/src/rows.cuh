// What every loss over rows of class scores shares besides its kernel (the softmax losses of
// row_softmax.cuh, multi-class hinge): the entry point's arguments, their checks, the workspace
// layout, the mean's denominator and the deterministic sum of the per-row losses.
//
// A row loss's entry point builds a RowCall, calls check_rows (with its own options' check), then
// runs its denominator pass, its kernel over the rows, and finish_rows. Everything here is in an
// anonymous namespace, as the kernels that use it.
#pragma once

#include "culoss/culoss.h"
#include "device.cuh"
#include "reduce.cuh"
#include "status.h"
#include "tensor_ranges.h"

namespace culoss {
namespace {

// The thread layout of every row kernel: a group of TPR threads owns a row; TPR = 32, a warp,
// in blocks of 256 threads (8 rows a block), else the whole block of TPR threads. Kernels name it
// in their __launch_bounds__ as TPR == 32 ? 256 : TPR.
template <int TPR>
constexpr int row_block_threads() {
    return TPR == 32 ? 256 : TPR;
}

// The grid that covers n rows exactly: a group past the last row is a whole warp (TPR = 32) that
// returns at once, or no block at all.
template <int TPR>
inline int64_t row_grid(int64_t n) {
    constexpr int64_t rows_per_block = row_block_threads<TPR>() / TPR;
    return (n + rows_per_block - 1) / rows_per_block;
}

// This thread's row and its lane in the row's group.
template <int TPR>
__device__ __forceinline__ int64_t row_of_thread() {
    return int64_t(blockIdx.x) * (blockDim.x / TPR) + threadIdx.x / TPR;
}

template <int TPR>
__device__ __forceinline__ int lane_in_row() {
    return int(threadIdx.x % TPR);
}

// The arguments of a row loss's entry point that every row loss has.
struct RowCall {
    const float* logits;
    int64_t logits_stride;
    const int32_t* targets;
    int64_t n;
    int64_t c;
    int64_t ignore_index;
    int reduction;  // a culossReduction_t, held as int until checked: loading an enum that holds 7 is undefined
    const float* grad_output;
    float* loss;         // null: no forward
    float* grad_logits;  // null: no backward
    int64_t grad_stride;
    void* workspace;
    size_t workspace_size;
    int32_t* error_word;
    culossStream_t stream;
    // 1: n rows of c, logits_stride apart. Else the logits are [n, c, inner] with the classes
    // `inner` apart (PyTorch's class dimension 1 of [N, C, d1..dk]), n * inner rows, targets and
    // per-row losses [n, inner], the gradient in the logits' layout (the strides are c).
    int64_t inner = 1;
    // Soft targets: per-class target probabilities in the logits' shape ([n, c] contiguous, or
    // [n, c, inner]) instead of class indices; then targets is null and every row counts.
    const float* target_probs = nullptr;
};

// The rows of a checked call: n, or n * inner.
inline int64_t row_count(const RowCall& k) { return k.n * k.inner; }

// The mean's denominator: w[y_i] of each counted row (0 for ignored and invalid ones); with no
// weights, 1 per counted row (the count); with no targets (soft ones), 1 per row.
struct TargetWeight {
    const int32_t* targets;
    const float* weights;
    int64_t c;
    int64_t ignore_index;
    __device__ float operator()(int64_t i) const {
        if (!targets) return 1.f;
        const int32_t t = __ldg(targets + i);
        if (int64_t(t) == ignore_index || t < 0 || t >= c) return 0.f;
        return weights ? __ldg(weights + t) : 1.f;
    }
};

struct StoreScalar {
    float* out;
    __device__ void operator()(double total) const { *out = float(total); }
};

struct RowLoss {
    const float* row_loss;
    __device__ float operator()(int64_t i) const { return row_loss[i]; }
};

// loss = total (SUM) or total / denominator (MEAN; 0 when no row counts).
struct FinishLoss {
    float* loss;
    const float* denominator;
    __device__ void operator()(double total) const {
        if (!denominator) {
            *loss = float(total);
        } else {
            const float d = *denominator;
            *loss = d > 0.f ? float(total / double(d)) : 0.f;
        }
    }
};

// Workspace layout (SUM/MEAN): [denominator, 16 bytes][partials][row losses].
constexpr size_t kHeaderBytes = 16;

inline size_t partials_bytes(int64_t n) { return partial_sums_bytes(reduce_blocks(n)); }

inline Size rows_workspace_bytes(int64_t n, culossReduction_t reduction) {
    if (reduction == CULOSS_REDUCTION_NONE || n == 0) return Size(0);
    return Size(kHeaderBytes) + Size(partials_bytes(n)) + round_up16(Size(n) * Size(sizeof(float)));
}

// The ...WorkspaceSize query of every row loss.
// `input` names the scores for the message of a size that does not fit.
inline culossStatus_t rows_workspace_size(int64_t n, int64_t c, culossReduction_t reduction, size_t* bytes,
                                          const char* input = "logits", int64_t inner = 1) {
    clear_detail();
    CULOSS_REQUIRE(bytes != nullptr, CULOSS_STATUS_INVALID_VALUE, "bytes is null");
    CULOSS_REQUIRE(n >= 0, CULOSS_STATUS_INVALID_VALUE, "n (%lld) is negative", (long long)n);
    CULOSS_REQUIRE(c >= 1, CULOSS_STATUS_INVALID_VALUE, "c (%lld) is less than 1", (long long)c);
    CULOSS_REQUIRE(reduction >= CULOSS_REDUCTION_NONE && reduction <= CULOSS_REDUCTION_MEAN,
                   CULOSS_STATUS_INVALID_VALUE, "reduction (%d) is not NONE, SUM or MEAN", int(reduction));
    CULOSS_REQUIRE(inner >= 0, CULOSS_STATUS_INVALID_VALUE, "inner (%lld) is negative", (long long)inner);
    int64_t rows = 0, plane = 0;
    CULOSS_REQUIRE(!__builtin_mul_overflow(n, inner, &rows) && !__builtin_mul_overflow(c, inner, &plane) &&
                       rows_bytes(n, plane, plane, sizeof(float)).fits,
                   CULOSS_STATUS_INVALID_VALUE, "%s (%lld rows of %lld floats) span more bytes than a size_t holds",
                   input, (long long)n, (long long)c);
    const Size needed = rows_workspace_bytes(rows, reduction);
    CULOSS_REQUIRE(needed.fits, CULOSS_STATUS_INVALID_VALUE,
                   "the workspace of n (%lld) rows is more bytes than a size_t holds", (long long)rows);
    *bytes = needed.value;
    return CULOSS_STATUS_SUCCESS;
}

// Checks the arguments every row loss shares; `options` (a callable returning a status) checks
// the loss's own, in the same place for every loss; `table` is the per-class table the kernel
// reads (c floats) or null. Ends with the device check: a success means the
// kernels may run.
// The names the messages give a row loss's tensors, as its C functions call them.
struct RowNames {
    const char* input;         // "logits"
    const char* input_stride;  // "logits_stride"
    const char* grad;          // "grad_logits"
    const char* table;         // the per-class table: "class_weights"
    const char* targets = "targets";  // "target_probs" for soft targets (RowCall::target_probs)
};

template <class Options>
culossStatus_t check_rows(const RowCall& k, const RowNames& names, const float* table, Options options) {
    clear_detail();
    CULOSS_REQUIRE(k.n >= 0, CULOSS_STATUS_INVALID_VALUE, "n (%lld) is negative", (long long)k.n);
    CULOSS_REQUIRE(k.c >= 1, CULOSS_STATUS_INVALID_VALUE, "c (%lld) is less than 1", (long long)k.c);
    CULOSS_REQUIRE(k.c <= (int64_t(1) << 31), CULOSS_STATUS_INVALID_VALUE, "c (%lld) is more than 2^31",
                   (long long)k.c);
    CULOSS_REQUIRE(k.logits_stride >= k.c, CULOSS_STATUS_INVALID_VALUE, "%s (%lld) is less than c (%lld)",
                   names.input_stride, (long long)k.logits_stride, (long long)k.c);
    CULOSS_REQUIRE(k.inner >= 0, CULOSS_STATUS_INVALID_VALUE, "inner (%lld) is negative", (long long)k.inner);
    int64_t rows = 0, plane = 0;  // n * inner rows; c * inner floats per sample
    CULOSS_REQUIRE(!__builtin_mul_overflow(k.n, k.inner, &rows) && !__builtin_mul_overflow(k.c, k.inner, &plane),
                   CULOSS_STATUS_INVALID_VALUE, "%s (%lld x %lld x %lld floats) span more bytes than a size_t holds",
                   names.input, (long long)k.n, (long long)k.c, (long long)k.inner);
    CULOSS_REQUIRE(k.reduction >= CULOSS_REDUCTION_NONE && k.reduction <= CULOSS_REDUCTION_MEAN,
                   CULOSS_STATUS_INVALID_VALUE, "reduction (%d) is not NONE, SUM or MEAN", int(k.reduction));
    const culossStatus_t status = options();
    if (status != CULOSS_STATUS_SUCCESS) return status;
    const bool need_inputs = rows > 0;
    CULOSS_REQUIRE(!need_inputs || k.logits, CULOSS_STATUS_INVALID_VALUE, "%s is null", names.input);
    CULOSS_REQUIRE(!need_inputs || k.targets || k.target_probs, CULOSS_STATUS_INVALID_VALUE, "%s is null",
                   names.targets);
    {
        const struct {
            const char* name;
            const void* ptr;
            int bytes;
        } aligned[] = {{names.input, k.logits, 4},  {names.targets, k.targets ? static_cast<const void*>(k.targets) : k.target_probs, 4}, {"grad_output", k.grad_output, 4},
                       {"loss", k.loss, 4},         {names.grad, k.grad_logits, 4},
                       {"error_word", k.error_word, 4}, {"workspace", k.workspace, 16}};
        for (const auto& a : aligned) {
            CULOSS_REQUIRE(reinterpret_cast<uintptr_t>(a.ptr) % a.bytes == 0, CULOSS_STATUS_MISALIGNED,
                           "%s is not aligned to %d bytes", a.name, a.bytes);
        }
    }
    if (k.grad_logits) {
        CULOSS_REQUIRE(k.grad_stride >= k.c, CULOSS_STATUS_INVALID_VALUE, "grad_stride (%lld) is less than c (%lld)",
                       (long long)k.grad_stride, (long long)k.c);
    }
    // The header's one alias: the gradient exactly over the input (the same stride).
    const int64_t per_row = k.reduction == CULOSS_REDUCTION_NONE ? rows : 1;
    // [n, c, inner] is n rows of c * inner, as one tensor
    const Layout x_layout = k.inner == 1 ? strided_rows(k.n, k.c, k.logits_stride) : strided_rows(k.n, plane, plane);
    const Layout g_layout = k.inner == 1 ? strided_rows(k.n, k.c, k.grad_stride) : x_layout;
    TensorRanges ranges;
    const int logits = ranges.input(names.input, k.logits, x_layout);
    ranges.input("targets", k.targets, contiguous(rows, sizeof(int32_t)));
    ranges.input("target_probs", k.target_probs, strided_rows(k.n, plane, plane));  // contiguous
    ranges.input(names.table, table, contiguous(k.c));
    ranges.input("grad_output", k.grad_logits ? k.grad_output : nullptr, contiguous(per_row));
    ranges.output("loss", k.loss, contiguous(per_row));
    ranges.output(names.grad, k.grad_logits, g_layout, {logits});
    ranges.output("error_word", k.error_word, contiguous(1, sizeof(int32_t)));
    CULOSS_TRY(ranges.check());
    const Size needed = rows_workspace_bytes(rows, culossReduction_t(k.reduction));
    CULOSS_TRY(ranges.workspace(k.workspace, k.workspace_size, needed));
    CULOSS_TRY(ranges.check());
    return device_ready();
}

// Where the workspace of a checked call puts the mean's denominator (MEAN), the partial sums and
// the per-row losses (the user's output for NONE). Each is null when the call needs none.
struct RowWorkspace {
    float* denominator;
    double* partials;
    float* row_loss;
};

inline RowWorkspace row_workspace(const RowCall& k) {
    char* ws = static_cast<char*>(k.workspace);
    RowWorkspace out{nullptr, nullptr, nullptr};
    out.denominator = k.reduction == CULOSS_REDUCTION_MEAN ? reinterpret_cast<float*>(ws) : nullptr;
    out.partials = ws ? reinterpret_cast<double*>(ws + kHeaderBytes) : nullptr;
    if (k.loss) {
        out.row_loss = k.reduction == CULOSS_REDUCTION_NONE
                           ? k.loss
                           : reinterpret_cast<float*>(ws + kHeaderBytes + partials_bytes(row_count(k)));
    }
    return out;
}

// A call of no rows: nothing to read; a reduced loss of no rows is 0.
inline culossStatus_t finish_empty_rows(const RowCall& k) {
    if (k.loss && k.reduction != CULOSS_REDUCTION_NONE) CULOSS_TRY(culossMemsetAsync(k.loss, 0, sizeof(float), k.stream));
    return CULOSS_STATUS_SUCCESS;
}

// After the row kernel: the reduced loss from the per-row losses (SUM, MEAN).
inline culossStatus_t finish_rows(const RowCall& k, const RowWorkspace& ws) {
    if (k.loss && k.reduction != CULOSS_REDUCTION_NONE) {
        return deterministic_sum(RowLoss{ws.row_loss}, row_count(k), ws.partials, FinishLoss{k.loss, ws.denominator},
                                 k.stream);
    }
    return CULOSS_STATUS_SUCCESS;
}

}  // namespace
}  // namespace culoss
