// The runtime hooks and memory helpers of the CUDA build (cudart is linked statically).
#include <cuda_runtime.h>

#include "status.h"

namespace culoss {

namespace {
culossStatus_t from_cuda(cudaError_t err, const char* what) {
    switch (err) {
        case cudaSuccess: return CULOSS_STATUS_SUCCESS;
        case cudaErrorNoDevice:
        case cudaErrorInsufficientDriver:
        case cudaErrorInitializationError:
            return fail(CULOSS_STATUS_NO_DEVICE, "%s: %s", what, cudaGetErrorString(err));
        case cudaErrorInvalidValue:
            return fail(CULOSS_STATUS_INVALID_VALUE, "%s: %s", what, cudaGetErrorString(err));
        default:
            return fail(CULOSS_STATUS_LAUNCH_FAILED, "%s: %s", what, cudaGetErrorString(err));
    }
}
}  // namespace

culossStatus_t device_ready() { return CULOSS_STATUS_SUCCESS; }

culossStatus_t launch_status() { return from_cuda(cudaGetLastError(), "kernel launch"); }

}  // namespace culoss

using culoss::from_cuda;

extern "C" {

const char* culossGetBackendName(void) { return "cuda"; }

culossStatus_t culossGetDeviceCount(int* count) {
    CULOSS_REQUIRE(count != nullptr, CULOSS_STATUS_INVALID_VALUE, "count is null");
    int devices = 0;  // cudaGetDeviceCount leaves it unset when there is no driver
    const cudaError_t err = cudaGetDeviceCount(&devices);
    if (err != cudaSuccess) {
        *count = 0;
        cudaGetLastError();  // not sticky: clear it
        return culoss::fail(CULOSS_STATUS_NO_DEVICE, "cudaGetDeviceCount: %s", cudaGetErrorString(err));
    }
    *count = devices;
    return devices > 0 ? CULOSS_STATUS_SUCCESS
                       : culoss::fail(CULOSS_STATUS_NO_DEVICE, "no CUDA device is visible");
}

culossStatus_t culossMalloc(void** ptr, size_t bytes) {
    CULOSS_REQUIRE(ptr != nullptr, CULOSS_STATUS_INVALID_VALUE, "ptr is null");
    return from_cuda(cudaMalloc(ptr, bytes), "cudaMalloc");
}

culossStatus_t culossFree(void* ptr) { return from_cuda(cudaFree(ptr), "cudaFree"); }

culossStatus_t culossMemcpyAsync(void* dst, const void* src, size_t bytes, int kind, culossStream_t stream) {
    CULOSS_REQUIRE(kind >= 0 && kind <= 2, CULOSS_STATUS_INVALID_VALUE, "kind %d is not 0, 1 or 2", kind);
    static const cudaMemcpyKind kinds[] = {cudaMemcpyHostToDevice, cudaMemcpyDeviceToHost, cudaMemcpyDeviceToDevice};
    return from_cuda(cudaMemcpyAsync(dst, src, bytes, kinds[kind], reinterpret_cast<cudaStream_t>(stream)),
                     "cudaMemcpyAsync");
}

culossStatus_t culossMemsetAsync(void* dst, int value, size_t bytes, culossStream_t stream) {
    return from_cuda(cudaMemsetAsync(dst, value, bytes, reinterpret_cast<cudaStream_t>(stream)), "cudaMemsetAsync");
}

culossStatus_t culossStreamSynchronize(culossStream_t stream) {
    return from_cuda(cudaStreamSynchronize(reinterpret_cast<cudaStream_t>(stream)), "cudaStreamSynchronize");
}

}  // extern "C"
