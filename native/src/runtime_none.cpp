// The runtime hooks and memory helpers of a library built without nvcc: it loads anywhere and
// answers "no device" to every call that would need one.
#include "status.h"

namespace culoss {

culossStatus_t device_ready() { return fail(CULOSS_STATUS_NO_DEVICE, "libculoss was built without nvcc"); }

culossStatus_t launch_status(const char*) { return device_ready(); }

}  // namespace culoss

extern "C" {

const char* culossGetBackendName(void) { return "none"; }

culossStatus_t culossGetDeviceCount(int* count) {
    culoss::clear_detail();
    CULOSS_REQUIRE(count != nullptr, CULOSS_STATUS_INVALID_VALUE, "count is null");
    *count = 0;
    return culoss::device_ready();
}

culossStatus_t culossMalloc(void** ptr, size_t) {
    culoss::clear_detail();
    CULOSS_REQUIRE(ptr != nullptr, CULOSS_STATUS_INVALID_VALUE, "ptr is null");
    *ptr = nullptr;
    return culoss::device_ready();
}

// NULL included: a CUDA build on a machine without a device says NO_DEVICE for cudaFree(NULL) too.
culossStatus_t culossFree(void*) { return culoss::device_ready(); }

culossStatus_t culossMemcpyAsync(void*, const void*, size_t, int, culossStream_t) { return culoss::device_ready(); }

culossStatus_t culossMemsetAsync(void*, int, size_t, culossStream_t) { return culoss::device_ready(); }

culossStatus_t culossStreamSynchronize(culossStream_t) { return culoss::device_ready(); }

}  // extern "C"
