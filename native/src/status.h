// Host-side status plumbing shared by every entry point: the thread-local "which argument"
// detail, the argument-check macro, and the runtime hooks each build (cuda, emulated, none)
// implements once.
#pragma once

#include "culoss/culoss.h"

namespace culoss {

// Records a printf-style detail for culossGetLastErrorDetail and returns `status`.
culossStatus_t fail(culossStatus_t status, const char* format, ...)
    __attribute__((format(printf, 2, 3)));
void clear_detail();

// SUCCESS when kernels can run here; NO_DEVICE in a build without CUDA.
culossStatus_t device_ready();
// The status of the launches made since the last call (cudaGetLastError on a GPU).
culossStatus_t launch_status();

}  // namespace culoss

// Returns `status` with a detail naming the argument when `cond` is false.
#define CULOSS_REQUIRE(cond, status, ...)               \
    do {                                                \
        if (!(cond)) return ::culoss::fail(status, __VA_ARGS__); \
    } while (0)

#define CULOSS_REQUIRE_ALIGNED(ptr, bytes)                                                   \
    CULOSS_REQUIRE(reinterpret_cast<uintptr_t>(ptr) % (bytes) == 0, CULOSS_STATUS_MISALIGNED, \
                   "%s is not aligned to %d bytes", #ptr, int(bytes))
