// A minimal test harness over the public C API: device buffers through culossMalloc (host memory
// in the emulated build), the FORMAT.md comparison rule, and a pass/fail tally.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <map>
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

// The entry points of a loss: the forward (loss), the backward (gradients), the fused call (both),
// and the center loss's update of its centers.
enum class Entry { Forward, Backward, Fused, Update };

inline const char* entry_name(Entry e) {
    switch (e) {
        case Entry::Forward: return "forward";
        case Entry::Backward: return "backward";
        case Entry::Fused: return "fused";
        case Entry::Update: return "update";
    }
    return "?";
}

// Every reduction, in the order the tests run them.
inline constexpr culossReduction_t kReductions[] = {CULOSS_REDUCTION_NONE, CULOSS_REDUCTION_SUM, CULOSS_REDUCTION_MEAN};

// How many values a loss output holds: one per sample with CULOSS_REDUCTION_NONE, else one.
inline int64_t loss_length(culossReduction_t r, int64_t n) { return r == CULOSS_REDUCTION_NONE ? n : 1; }

// Bit equality: what determinism and "the same call gives the same results" mean (== would let
// -0 pass for +0 and fail a NaN that is reproduced exactly).
inline bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
    // memcmp of an empty vector's null data is undefined even for 0 bytes
    return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

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

    // A refused call: status `want`, and a detail that names the offending `argument` (a caller
    // must be told which of a dozen arguments is wrong). `context` prefixes the messages.
    void expect_refused(culossStatus_t st, culossStatus_t want, const std::string& argument,
                        const std::string& context = "") {
        const std::string detail = culossGetLastErrorDetail();
        const std::string prefix = context.empty() ? "" : context + ": ";
        expect(st == want, prefix + "bad " + argument + ": status " + culossGetErrorString(st));
        expect(detail.find(argument) != std::string::npos, prefix + "detail names " + argument + ": '" + detail + "'");
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

// Runs of one call that must give the same bits every time: the first run's outputs are kept by
// name, and every later run's are compared with them.
class Reruns {
public:
    explicit Reruns(Context& t) : t_(t) {}
    void check(const std::string& name, const std::vector<float>& got) {
        const auto [first, is_first] = first_.try_emplace(name, got);
        if (!is_first) t_.expect(same_bits(first->second, got), name + " bits differ between runs");
    }

private:
    Context& t_;
    std::map<std::string, std::vector<float>> first_;
};

// A test program's main: the tests in order on one tally, exit 77 (skipped) without a device,
// 1 when a check failed.
inline int run_suite(const char* suite, std::initializer_list<std::function<void(Context&)>> tests) {
    Context t;
    if (!t.device_available()) return 77;
    for (const auto& test : tests) test(t);
    return t.finish(suite);
}

}  // namespace test
