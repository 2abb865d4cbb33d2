// The part of the CUDA runtime API that culoss's host code calls, emulated on the CPU, so that
// the same host code (native/src/runtime_cuda.cu, the launch checks of every entry point) runs
// in the emulated build and keeps the runtime's rules there:
//  - every call returns a cudaError_t, and a failed call also leaves it as the calling host
//    thread's last error, which cudaGetLastError returns and clears (cudaPeekAtLastError keeps);
//  - a launch returns nothing: a refused launch (a bad configuration, an injected fault) only
//    sets the last error;
//  - memcpy, memset and launches are queued on their stream and run later, in order, on that
//    stream's own thread; cudaStreamSynchronize waits for them; cudaFree waits for every stream.
// The names and values are the CUDA runtime's, so nothing in the host code differs by build.
#pragma once

#include <cstddef>
#include <cstdint>

struct CUstream_st;
typedef CUstream_st* cudaStream_t;

enum cudaError_t {
    cudaSuccess = 0,
    cudaErrorInvalidValue = 1,
    cudaErrorMemoryAllocation = 2,
    cudaErrorInitializationError = 3,
    cudaErrorInvalidConfiguration = 9,
    cudaErrorInsufficientDriver = 35,
    cudaErrorNoDevice = 100,
    cudaErrorLaunchOutOfResources = 701,
    cudaErrorLaunchFailure = 719,
};

enum cudaMemcpyKind {
    cudaMemcpyHostToHost = 0,
    cudaMemcpyHostToDevice = 1,
    cudaMemcpyDeviceToHost = 2,
    cudaMemcpyDeviceToDevice = 3,
};

struct uint3 {
    unsigned x, y, z;
};

struct dim3 {
    unsigned x, y, z;
    constexpr dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};

struct alignas(16) float4 {
    float x, y, z, w;
};

const char* cudaGetErrorString(cudaError_t error);
cudaError_t cudaGetLastError();
cudaError_t cudaPeekAtLastError();
cudaError_t cudaGetDeviceCount(int* count);
cudaError_t cudaMalloc(void** ptr, size_t bytes);
cudaError_t cudaFree(void* ptr);
cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind, cudaStream_t stream);
cudaError_t cudaMemsetAsync(void* dst, int value, size_t bytes, cudaStream_t stream);
cudaError_t cudaStreamSynchronize(cudaStream_t stream);
