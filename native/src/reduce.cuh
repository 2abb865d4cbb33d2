// Deterministic sums for the sum/mean reductions: no float atomics, so the same inputs give the
// same bits on every run. Pass 1: a fixed grid (a function of n only) writes one partial per
// block; pass 2: one block adds the partials in a fixed tree order and hands the total to a
// finisher. Partials live in the caller's workspace.
//
// The sums are taken in double: a mean of float losses near FLT_MAX / n fits a float while their
// float sum would overflow, and a thread adds thousands of values at 10^9 elements.
#pragma once

#include "device.cuh"

namespace culoss {

constexpr int kReduceThreads = 256;
constexpr int kReduceMaxBlocks = 1024;

// Enough blocks that each thread adds about 16 values, at most kReduceMaxBlocks.
inline int reduce_blocks(int64_t n) {
    const int64_t per_block = int64_t(kReduceThreads) * 16;
    int64_t blocks = (n + per_block - 1) / per_block;
    if (blocks < 1) blocks = 1;
    if (blocks > kReduceMaxBlocks) blocks = kReduceMaxBlocks;
    return int(blocks);
}

// The same rule for a grid-stride kernel whose threads each take about `per_thread` items, so
// that a kernel that makes its own per-block partials (elementwise.cuh) keeps a grid that is a
// function of n only.
inline int reduce_blocks(int64_t n, int64_t per_thread) {
    const int64_t per_block = int64_t(kReduceThreads) * per_thread;
    int64_t blocks = (n + per_block - 1) / per_block;
    if (blocks < 1) blocks = 1;
    if (blocks > kReduceMaxBlocks) blocks = kReduceMaxBlocks;
    return int(blocks);
}

// The workspace bytes of `blocks` partial sums, 16-byte rounded.
inline size_t partial_sums_bytes(int blocks) { return (size_t(blocks) * sizeof(double) + 15) / 16 * 16; }

// Load: a functor float operator()(int64_t i) for i in [0, n).
template <class Load>
__global__ void __launch_bounds__(kReduceThreads) partial_sums_kernel(Load load, int64_t n, double* partials) {
    double acc = 0.0;
    const int64_t step = int64_t(gridDim.x) * blockDim.x;
    for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += step) acc += double(load(i));
    acc = block_reduce(acc, SumD{}, 0.0);
    if (threadIdx.x == 0) partials[blockIdx.x] = acc;
}

// Finish: a functor void operator()(double total), called by thread 0 only.
template <class Finish>
__global__ void __launch_bounds__(kReduceThreads) final_sum_kernel(const double* partials, int count, Finish finish) {
    double acc = 0.0;
    for (int i = threadIdx.x; i < count; i += blockDim.x) acc += partials[i];
    acc = block_reduce(acc, SumD{}, 0.0);
    if (threadIdx.x == 0) finish(acc);
}

template <class Load, class Finish>
[[nodiscard]] culossStatus_t deterministic_sum(Load load, int64_t n, double* partials, Finish finish,
                                               culossStream_t stream) {
    const int blocks = reduce_blocks(n);
    CULOSS_TRY(CULOSS_LAUNCH(partial_sums_kernel<Load>, blocks, kReduceThreads, stream, load, n, partials));
    return CULOSS_LAUNCH(final_sum_kernel<Finish>, 1, kReduceThreads, stream, partials, blocks, finish);
}

}  // namespace culoss
