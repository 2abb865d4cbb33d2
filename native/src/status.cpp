#include "status.h"

#include <cstdarg>
#include <cstdio>

namespace {
thread_local char last_detail[256] = "";
}

namespace culoss {

culossStatus_t fail(culossStatus_t status, const char* format, ...) {
    va_list args;
    va_start(args, format);
    std::vsnprintf(last_detail, sizeof last_detail, format, args);
    va_end(args);
    return status;
}

void clear_detail() { last_detail[0] = '\0'; }

}  // namespace culoss

extern "C" {

const char* culossGetErrorString(culossStatus_t status) {
    switch (status) {
        case CULOSS_STATUS_SUCCESS: return "CULOSS_STATUS_SUCCESS: success";
        case CULOSS_STATUS_INVALID_VALUE: return "CULOSS_STATUS_INVALID_VALUE: an argument is null, negative or out of range";
        case CULOSS_STATUS_MISALIGNED: return "CULOSS_STATUS_MISALIGNED: a pointer is not aligned to its element type";
        case CULOSS_STATUS_WORKSPACE_TOO_SMALL: return "CULOSS_STATUS_WORKSPACE_TOO_SMALL: the workspace is smaller than the size query returned";
        case CULOSS_STATUS_NO_DEVICE: return "CULOSS_STATUS_NO_DEVICE: no usable CUDA device (no driver, no GPU, or a build without CUDA)";
        case CULOSS_STATUS_LAUNCH_FAILED: return "CULOSS_STATUS_LAUNCH_FAILED: the CUDA runtime refused a launch or a copy";
        case CULOSS_STATUS_INTERNAL_ERROR: return "CULOSS_STATUS_INTERNAL_ERROR: an internal error";
        case CULOSS_STATUS_NOT_SUPPORTED: return "CULOSS_STATUS_NOT_SUPPORTED: a data type this version does not compute";
        case CULOSS_STATUS_OUT_OF_MEMORY: return "CULOSS_STATUS_OUT_OF_MEMORY: the memory could not be allocated";
    }
    return "unknown culoss status";
}

const char* culossGetLastErrorDetail(void) { return last_detail; }

int culossGetVersion(void) { return CULOSS_VERSION; }

}  // extern "C"
