// A minimal test harness over the public C API: device buffers through culossMalloc (host memory
// in the emulated build), the FORMAT.md comparison rule, and a pass/fail tally.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "culoss/culoss.h"

namespace test {

// The stream the tests queue their work on. On the emulated backend any handle is a stream of
// its own, so the tests use one that is not the default stream: a launch that an entry point
// queues on another stream than the caller's then runs unordered with the rest, and races.
inline culossStream_t stream() {
    static const culossStream_t s = std::string(culossGetBackendName()) == "emulated"
                                        ? reinterpret_cast<culossStream_t>(uintptr_t(0x5eed0))
                                        : nullptr;
    return s;
}

template <class T>
class DeviceBuffer {
public:
    // Waits for the copy: `host` may be a temporary (an asynchronous copy from it would read it
    // after it is gone).
    explicit DeviceBuffer(const std::vector<T>& host) : size_(host.size()) {
        culossMalloc(reinterpret_cast<void**>(&ptr_), bytes() ? bytes() : 1);
        if (bytes()) culossMemcpyAsync(ptr_, host.data(), bytes(), 0, stream());
        culossStreamSynchronize(stream());
    }
    ~DeviceBuffer() { culossFree(ptr_); }
    DeviceBuffer(const DeviceBuffer&) = delete;
    DeviceBuffer& operator=(const DeviceBuffer&) = delete;
    T* get() const { return ptr_; }
    // Overwrites the buffer with `host` (same size) and waits.
    void write(const std::vector<T>& host) const {
        if (bytes()) culossMemcpyAsync(ptr_, host.data(), bytes(), 0, stream());
        culossStreamSynchronize(stream());
    }
    std::vector<T> read() const {
        std::vector<T> host(size_);
        if (bytes()) culossMemcpyAsync(host.data(), ptr_, bytes(), 1, stream());
        culossStreamSynchronize(stream());
        return host;
    }

private:
    size_t bytes() const { return size_ * sizeof(T); }
    T* ptr_ = nullptr;
    size_t size_;
};

// The step through a list of cases: `stride` under ThreadSanitizer (slow, and looking for races,
// not digits: a stride prime to the list's period still runs every path), 1 otherwise.
inline size_t tsan_stride(size_t stride) {
#if defined(__SANITIZE_THREAD__)
    return stride;
#else
    (void)stride;
    return 1;
#endif
}

class Context {
public:
    bool device_available() {
        int count = 0;
        if (culossGetDeviceCount(&count) != CULOSS_STATUS_SUCCESS || count == 0) {
            std::printf("SKIPPED: no device for backend '%s': %s\n", culossGetBackendName(), culossGetLastErrorDetail());
            return false;
        }
        std::printf("backend: %s\n", culossGetBackendName());
        return true;
    }

    void expect(bool ok, const std::string& what) {
        if (ok) {
            ++passed_;
        } else {
            ++failed_;
            std::printf("FAIL: %s\n", what.c_str());
        }
    }

    void check_status(culossStatus_t st, const std::string& what) {
        expect(st == CULOSS_STATUS_SUCCESS, what + ": " + culossGetErrorString(st) + " (" + culossGetLastErrorDetail() + ")");
    }

    // FORMAT.md: ||got - ref|| / max(||ref||, 1e-12) <= tol over the finite references, and every
    // NaN/Inf of the reference at the same place (and only there).
    void expect_close(const std::vector<float>& got, const std::vector<double>& ref, double tol, const std::string& what) {
        if (got.size() != ref.size()) return expect(false, what + ": size");
        double diff = 0, norm = 0;
        for (size_t i = 0; i < ref.size(); ++i) {
            if (!std::isfinite(ref[i])) {
                const bool same = std::isnan(ref[i]) ? std::isnan(got[i]) : double(got[i]) == ref[i];
                if (!same) return expect(false, what + ": non-finite mismatch at " + std::to_string(i));
                continue;
            }
            if (!std::isfinite(got[i])) return expect(false, what + ": non-finite value at " + std::to_string(i));
            diff += (got[i] - ref[i]) * (got[i] - ref[i]);
            norm += ref[i] * ref[i];
        }
        const double rel = std::sqrt(diff) / std::max(std::sqrt(norm), 1e-12);
        expect(rel <= tol, what + ": relative error " + std::to_string(rel));
    }

    int finish(const char* suite) {
        std::printf("%s: %d passed, %d failed\n", suite, passed_, failed_);
        return failed_ == 0 ? 0 : 1;
    }

private:
    int passed_ = 0;
    int failed_ = 0;
};

}  // namespace test
