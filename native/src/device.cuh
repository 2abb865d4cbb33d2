// Device helpers shared by every loss: the launch macro, exp/log, 16-byte loads and the warp and
// block reductions. Each helper here has its CPU twin (native/emu/cuda_emu.h or the #else
// branches below), so the kernels compile for a GPU with nvcc and for the CPU with g++.
#pragma once

#include <cstdint>

#ifdef __CUDACC__
#include <cuda_runtime.h>
#define CULOSS_LAUNCH(kernel, grid, block, stream, ...) \
    kernel<<<(grid), (block), 0, reinterpret_cast<cudaStream_t>(stream)>>>(__VA_ARGS__)
#else
#include "cuda_emu.h"
#endif

#include <cmath>

namespace culoss {

constexpr float kLog2e = 1.4426950408889634f;
constexpr float kLn2 = 0.6931471805599453f;
constexpr unsigned kFullMask = 0xffffffffu;

// e^x through exp2 (one MUFU.EX2 and an FMA on the GPU; relative error about 2 ulp).
__device__ __forceinline__ float fast_exp(float x) {
#ifdef __CUDACC__
    return exp2f(x * kLog2e);
#else
    return std::exp2(x * kLog2e);
#endif
}

__device__ __forceinline__ float fast_log(float x) {
#ifdef __CUDACC__
    return log2f(x) * kLn2;
#else
    return std::log2(x) * kLn2;
#endif
}

// A 16-byte load of four floats; the caller guarantees the alignment.
__device__ __forceinline__ float4 load4(const float* p) {
#ifdef __CUDACC__
    return __ldg(reinterpret_cast<const float4*>(p));
#else
    float4 v;
    std::memcpy(&v, p, sizeof v);
    return v;
#endif
}

__device__ __forceinline__ void store4(float* p, float4 v) {
#ifdef __CUDACC__
    *reinterpret_cast<float4*>(p) = v;
#else
    std::memcpy(p, &v, sizeof v);
#endif
}

__device__ __forceinline__ float shfl_xor(float v, int offset) {
    return __shfl_xor_sync(kFullMask, v, offset);
}

// Butterfly reduction over the 32 lanes: every lane ends with the result.
template <class T, class Op>
__device__ __forceinline__ T warp_reduce(T v, Op op) {
    for (int offset = 16; offset > 0; offset >>= 1) v = op(v, shfl_xor(v, offset));
    return v;
}

// Reduction over a whole block (blockDim.x a multiple of 32, at most 1024); every thread gets
// the result. Two barriers: a thread reads `result` before it can reach the first barrier of
// the next call, which is the only place `result` is written again.
template <class T, class Op>
__device__ T block_reduce(T v, Op op, T identity) {
    __shared__ T partial[32];
    __shared__ T result;
    const unsigned lane = threadIdx.x % 32;
    const unsigned warp = threadIdx.x / 32;
    v = warp_reduce(v, op);
    if (lane == 0) partial[warp] = v;
    __syncthreads();
    if (warp == 0) {
        T x = lane < blockDim.x / 32 ? partial[lane] : identity;
        x = warp_reduce(x, op);
        if (lane == 0) result = x;
    }
    __syncthreads();
    return result;
}

struct Sum {
    __device__ float operator()(float a, float b) const { return a + b; }
};

}  // namespace culoss
