// The runtime hooks and memory helpers of the two builds without CUDA. CULOSS_EMULATED: the
// kernels run on the CPU (native/emu) and "device" memory is host memory. Otherwise: a library
// built on a machine without nvcc, which loads anywhere and answers "no device".
#include <cstdlib>
#include <cstring>

#include "status.h"

namespace culoss {

#ifdef CULOSS_EMULATED
constexpr bool kRunsKernels = true;
#else
constexpr bool kRunsKernels = false;
#endif

culossStatus_t device_ready() {
    return kRunsKernels ? CULOSS_STATUS_SUCCESS
                        : fail(CULOSS_STATUS_NO_DEVICE, "libculoss was built without nvcc");
}

culossStatus_t launch_status() { return CULOSS_STATUS_SUCCESS; }

}  // namespace culoss

extern "C" {

const char* culossGetBackendName(void) { return culoss::kRunsKernels ? "emulated" : "none"; }

culossStatus_t culossGetDeviceCount(int* count) {
    CULOSS_REQUIRE(count != nullptr, CULOSS_STATUS_INVALID_VALUE, "count is null");
    *count = culoss::kRunsKernels ? 1 : 0;
    return culoss::device_ready();
}

culossStatus_t culossMalloc(void** ptr, size_t bytes) {
    CULOSS_REQUIRE(ptr != nullptr, CULOSS_STATUS_INVALID_VALUE, "ptr is null");
    *ptr = nullptr;
    const culossStatus_t ready = culoss::device_ready();
    if (ready != CULOSS_STATUS_SUCCESS) return ready;
    // 256-byte alignment, as cudaMalloc gives.
    *ptr = std::aligned_alloc(256, (bytes + 255) / 256 * 256 + 256);
    return *ptr ? CULOSS_STATUS_SUCCESS : culoss::fail(CULOSS_STATUS_LAUNCH_FAILED, "out of host memory");
}

culossStatus_t culossFree(void* ptr) {
    std::free(ptr);
    return CULOSS_STATUS_SUCCESS;
}

culossStatus_t culossMemcpyAsync(void* dst, const void* src, size_t bytes, int kind, culossStream_t) {
    CULOSS_REQUIRE(kind >= 0 && kind <= 2, CULOSS_STATUS_INVALID_VALUE, "kind %d is not 0, 1 or 2", kind);
    const culossStatus_t ready = culoss::device_ready();
    if (ready != CULOSS_STATUS_SUCCESS) return ready;
    if (bytes) std::memmove(dst, src, bytes);
    return CULOSS_STATUS_SUCCESS;
}

culossStatus_t culossMemsetAsync(void* dst, int value, size_t bytes, culossStream_t) {
    const culossStatus_t ready = culoss::device_ready();
    if (ready != CULOSS_STATUS_SUCCESS) return ready;
    if (bytes) std::memset(dst, value, bytes);
    return CULOSS_STATUS_SUCCESS;
}

culossStatus_t culossStreamSynchronize(culossStream_t) { return culoss::device_ready(); }

}  // extern "C"
