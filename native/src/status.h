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
// The runtime's verdict on the launch of `kernel` just made: its last error, taken (and so
// cleared), as LAUNCH_FAILED with a detail naming the kernel. An error that an earlier CUDA call
// of the caller left pending on this thread is reported here too, as every CUDA library does.
culossStatus_t launch_status(const char* kernel);

}  // namespace culoss

// Returns `status` with a detail naming the argument when `cond` is false.
#define CULOSS_REQUIRE(cond, status, ...)               \
    do {                                                \
        if (!(cond)) return ::culoss::fail(status, __VA_ARGS__); \
    } while (0)

// Returns the status of `expr` from the enclosing function unless it is SUCCESS.
#define CULOSS_TRY(expr)                                          \
    do {                                                          \
        const culossStatus_t culoss_try_status_ = (expr);         \
        if (culoss_try_status_ != CULOSS_STATUS_SUCCESS) return culoss_try_status_; \
    } while (0)

// Every loss entry point and workspace query starts with this: float32 is the one data type
// this version computes (the header reserves the others).
#define CULOSS_REQUIRE_FLOAT32(dtype)                                                             \
    CULOSS_REQUIRE((dtype) == CULOSS_DATA_FLOAT32, CULOSS_STATUS_NOT_SUPPORTED,                  \
                   "dtype (%d) is not CULOSS_DATA_FLOAT32, the one data type this version computes", \
                   int(dtype))

#define CULOSS_REQUIRE_ALIGNED(ptr, bytes)                                                   \
    CULOSS_REQUIRE(reinterpret_cast<uintptr_t>(ptr) % (bytes) == 0, CULOSS_STATUS_MISALIGNED, \
                   "%s is not aligned to %d bytes", #ptr, int(bytes))
