// Device helpers shared by every loss: the launch macro, shared-memory declarations, exp/log,
// 16-byte loads and the warp and block reductions. Each helper here has its CPU twin
// (native/emu/cuda_emu.h or the #else branches below), so the kernels compile for a GPU with
// nvcc and for the CPU with g++.
#pragma once

#include <cstdint>

#include "culoss/culoss.h"
#include "status.h"

#ifdef __CUDACC__
#include <cuda_runtime.h>
#define CULOSS_SHARED(type, name, dims) __shared__ type name dims
#else
#include "cuda_emu.h"
#endif

#include <cmath>

namespace culoss {

constexpr int64_t kMaxGridBlocks = 2147483647;  // gridDim.x

// The body of CULOSS_LAUNCH: a grid of `blocks` (64-bit: checked here, never narrowed silently),
// the launch, then the runtime's verdict on it, so that an entry point stops at the first launch
// that fails instead of running the next kernels on what that one did not write.
template <class Launch>
[[nodiscard]] culossStatus_t launch_checked(const char* kernel, int64_t blocks, int threads, Launch launch) {
    if (blocks < 1 || blocks > kMaxGridBlocks) {
        return fail(CULOSS_STATUS_LAUNCH_FAILED, "%s: a grid of %lld blocks is outside [1, 2^31 - 1]", kernel,
                    (long long)blocks);
    }
    launch(dim3(unsigned(blocks)), dim3(unsigned(threads)));
    return launch_status(kernel);
}

}  // namespace culoss

// CULOSS_LAUNCH(kernel, blocks, threads, stream, args...) launches a 1-D grid on `stream` and
// evaluates to a culossStatus_t the caller must use (see CULOSS_TRY).
#ifdef __CUDACC__
#define CULOSS_LAUNCH(kernel, grid, block, stream, ...)                                                  \
    ::culoss::launch_checked(#kernel, (grid), (block), [&](dim3 culoss_g_, dim3 culoss_b_) {             \
        kernel<<<culoss_g_, culoss_b_, 0, reinterpret_cast<cudaStream_t>(stream)>>>(__VA_ARGS__);          \
    })
#else
#define CULOSS_LAUNCH(kernel, grid, block, stream, ...)                                                  \
    ::culoss::launch_checked(#kernel, (grid), (block), [&](dim3 culoss_g_, dim3 culoss_b_) {             \
        ::culoss_emu::launch_kernel(::culoss_emu::kernel_name<kernel>(), kernel, culoss_g_, culoss_b_,   \
                                    reinterpret_cast<cudaStream_t>(stream), __VA_ARGS__);                 \
    })
#endif

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

__device__ __forceinline__ float log1p_(float x) {
#ifdef __CUDACC__
    return log1pf(x);
#else
    return std::log1p(x);
#endif
}

__device__ __forceinline__ float pow_(float x, float y) {
#ifdef __CUDACC__
    return powf(x, y);
#else
    return std::pow(x, y);
#endif
}

// A 16-byte load of four floats; the caller guarantees the alignment. A plain load, not __ldg:
// the losses that allow an output over an input read it with this (a __ldg value must stay
// unwritten for the whole kernel).
__device__ __forceinline__ float4 load4(const float* p) {
#ifdef __CUDACC__
    return *reinterpret_cast<const float4*>(p);
#else
    return culoss_emu::load16(p);
#endif
}

__device__ __forceinline__ void store4(float* p, float4 v) {
#ifdef __CUDACC__
    *reinterpret_cast<float4*>(p) = v;
#else
    culoss_emu::store16(p, v);
#endif
}

// VEC consecutive floats in registers: 4, moved by one 16-byte access (the caller guarantees the
// alignment), or 1.
template <int VEC>
struct Chunk {
    float v[VEC];
};

// Plain loads by default, for the losses whose outputs may be written over their inputs; READ_ONLY
// takes the scalar path through the read-only cache (__ldg), for inputs no output may overlap.
template <int VEC, bool READ_ONLY = false>
__device__ __forceinline__ Chunk<VEC> load_chunk(const float* p) {
    Chunk<VEC> ch;
    if constexpr (VEC == 4) {
        const float4 f = load4(p);
        ch.v[0] = f.x, ch.v[1] = f.y, ch.v[2] = f.z, ch.v[3] = f.w;
    } else if constexpr (READ_ONLY) {
        ch.v[0] = __ldg(p);
    } else {
        ch.v[0] = *p;
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

__device__ __forceinline__ float shfl_xor(float v, int offset) {
    return __shfl_xor_sync(kFullMask, v, offset);
}

__device__ __forceinline__ double shfl_xor(double v, int offset) {
    return __shfl_xor_sync(kFullMask, v, offset);
}

__device__ __forceinline__ int32_t shfl_xor(int32_t v, int offset) {
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
    CULOSS_SHARED(T, partial, [32]);
    CULOSS_SHARED(T, result, );
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

struct SumD {
    __device__ double operator()(double a, double b) const { return a + b; }
};

}  // namespace culoss
