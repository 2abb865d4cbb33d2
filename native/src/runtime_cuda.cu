// The runtime hooks and memory helpers of the builds that run kernels: the CUDA build (cudart
// linked statically) and the emulated one, whose emu_runtime.h has the same API and rules. One
// source for both, so that what the emulated tests prove about the error handling holds on a GPU.
//
// The runtime keeps a last error per host thread, and a failed call leaves its error there. A
// helper that fails returns the error as its status and takes it back from the runtime, or the
// next culoss call on the thread would report it as its own launch failure.
#ifdef __CUDACC__
#include <cuda_runtime.h>
#else
#include "emu_runtime.h"
#endif

#include "checked_size.h"
#include "status.h"

namespace culoss {

namespace {
culossStatus_t from_cuda(cudaError_t err, const char* what) {
    if (err == cudaSuccess) return CULOSS_STATUS_SUCCESS;
    cudaGetLastError();  // the status carries it; leave nothing for the next call to find
    switch (err) {
        case cudaErrorNoDevice:
        case cudaErrorInsufficientDriver:
        case cudaErrorInitializationError:
            return fail(CULOSS_STATUS_NO_DEVICE, "%s: %s", what, cudaGetErrorString(err));
        case cudaErrorInvalidValue:
            return fail(CULOSS_STATUS_INVALID_VALUE, "%s: %s", what, cudaGetErrorString(err));
        case cudaErrorMemoryAllocation:
            return fail(CULOSS_STATUS_OUT_OF_MEMORY, "%s: %s", what, cudaGetErrorString(err));
        default:
            return fail(CULOSS_STATUS_LAUNCH_FAILED, "%s: %s", what, cudaGetErrorString(err));
    }
}
}  // namespace

culossStatus_t device_ready() { return CULOSS_STATUS_SUCCESS; }

culossStatus_t launch_status(const char* kernel) {
    const cudaError_t err = cudaGetLastError();
    if (err == cudaSuccess) return CULOSS_STATUS_SUCCESS;
    return fail(CULOSS_STATUS_LAUNCH_FAILED, "launch of %s: %s", kernel, cudaGetErrorString(err));
}

}  // namespace culoss

using culoss::from_cuda;

extern "C" {

const char* culossGetBackendName(void) {
#ifdef __CUDACC__
    return "cuda";
#else
    return "emulated";
#endif
}

culossStatus_t culossGetDeviceCount(int* count) {
    culoss::clear_detail();
    CULOSS_REQUIRE(count != nullptr, CULOSS_STATUS_INVALID_VALUE, "count is null");
    int devices = 0;  // cudaGetDeviceCount leaves it unset when there is no driver
    const cudaError_t err = cudaGetDeviceCount(&devices);
    if (err != cudaSuccess) {
        *count = 0;
        cudaGetLastError();
        return culoss::fail(CULOSS_STATUS_NO_DEVICE, "cudaGetDeviceCount: %s", cudaGetErrorString(err));
    }
    *count = devices;
    return devices > 0 ? CULOSS_STATUS_SUCCESS
                       : culoss::fail(CULOSS_STATUS_NO_DEVICE, "no CUDA device is visible");
}

culossStatus_t culossMalloc(void** ptr, size_t bytes) {
    culoss::clear_detail();
    CULOSS_REQUIRE(ptr != nullptr, CULOSS_STATUS_INVALID_VALUE, "ptr is null");
    *ptr = nullptr;
    return from_cuda(cudaMalloc(ptr, bytes), "cudaMalloc");
}

culossStatus_t culossFree(void* ptr) {
    culoss::clear_detail();
    return from_cuda(cudaFree(ptr), "cudaFree");
}

culossStatus_t culossMemcpyAsync(void* dst, const void* src, size_t bytes, int kind, culossStream_t stream) {
    culoss::clear_detail();
    CULOSS_REQUIRE(kind >= 0 && kind <= 2, CULOSS_STATUS_INVALID_VALUE, "kind %d is not 0, 1 or 2", kind);
    CULOSS_REQUIRE(bytes == 0 || dst != nullptr, CULOSS_STATUS_INVALID_VALUE, "dst is null");
    CULOSS_REQUIRE(bytes == 0 || src != nullptr, CULOSS_STATUS_INVALID_VALUE, "src is null");
    CULOSS_REQUIRE(culoss::end_address(dst, bytes).fits, CULOSS_STATUS_INVALID_VALUE,
                   "dst (%zu bytes from %p) runs past the end of the address space", bytes, dst);
    CULOSS_REQUIRE(culoss::end_address(src, bytes).fits, CULOSS_STATUS_INVALID_VALUE,
                   "src (%zu bytes from %p) runs past the end of the address space", bytes, src);
    static const cudaMemcpyKind kinds[] = {cudaMemcpyHostToDevice, cudaMemcpyDeviceToHost, cudaMemcpyDeviceToDevice};
    return from_cuda(cudaMemcpyAsync(dst, src, bytes, kinds[kind], reinterpret_cast<cudaStream_t>(stream)),
                     "cudaMemcpyAsync");
}

culossStatus_t culossMemsetAsync(void* dst, int value, size_t bytes, culossStream_t stream) {
    culoss::clear_detail();
    CULOSS_REQUIRE(bytes == 0 || dst != nullptr, CULOSS_STATUS_INVALID_VALUE, "dst is null");
    CULOSS_REQUIRE(culoss::end_address(dst, bytes).fits, CULOSS_STATUS_INVALID_VALUE,
                   "dst (%zu bytes from %p) runs past the end of the address space", bytes, dst);
    return from_cuda(cudaMemsetAsync(dst, value, bytes, reinterpret_cast<cudaStream_t>(stream)), "cudaMemsetAsync");
}

culossStatus_t culossStreamSynchronize(culossStream_t stream) {
    culoss::clear_detail();
    return from_cuda(cudaStreamSynchronize(reinterpret_cast<cudaStream_t>(stream)), "cudaStreamSynchronize");
}

}  // extern "C"
