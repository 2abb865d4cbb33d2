// The byte ranges of one call's tensors, checked on the host before anything is launched, so that
// a bad size or an overlap is a status naming the tensor, not a write out of bounds or a wrong
// result:
//  - each tensor's extent fits a size_t (checked_size.h) and does not run past the end of the
//    address space (2^57: kAddressLimit);
//  - no output shares a byte with another output, the workspace or an input, except an output
//    that lies exactly over an input the header lets it overwrite (in place: the same start, the
//    same bytes and the same row stride).
// A null pointer is an absent tensor; its presence is the caller's check.
#pragma once

#include <cstdint>
#include <initializer_list>

#include "checked_size.h"
#include "status.h"

namespace culoss {

// How a tensor lies in memory: `rows` rows of `cols` elements of `elem` bytes, `stride` elements
// apart.
struct Layout {
    int64_t rows, cols, stride;
    size_t elem;
};

inline Layout contiguous(int64_t count, size_t elem = sizeof(float)) { return Layout{1, count, count, elem}; }

inline Layout strided_rows(int64_t rows, int64_t cols, int64_t stride, size_t elem = sizeof(float)) {
    return Layout{rows, cols, stride, elem};
}

class TensorRanges {
public:
    // A tensor the call reads; the index is for an output's `may_overwrite` (-1: absent).
    int input(const char* name, const void* ptr, const Layout& layout) { return add(name, ptr, layout, false, {}); }

    // A tensor the call writes; `may_overwrite`: the inputs it may lie exactly over.
    int output(const char* name, const void* ptr, const Layout& layout, std::initializer_list<int> may_overwrite = {}) {
        return add(name, ptr, layout, true, may_overwrite);
    }

    // The workspace of a call that takes `needed` bytes of it: the size fits a size_t, the pointer
    // is there when it is needed, the caller's `provided` bytes hold it; then the part the call
    // uses is added (written, and over nothing).
    [[nodiscard]] culossStatus_t workspace(const void* ptr, size_t provided, Size needed) {
        CULOSS_REQUIRE(needed.fits, CULOSS_STATUS_INVALID_VALUE,
                       "the workspace of these sizes is more bytes than a size_t holds");
        CULOSS_REQUIRE(ptr || needed.value == 0, CULOSS_STATUS_WORKSPACE_TOO_SMALL, "workspace is null, needs %zu bytes",
                       needed.value);
        CULOSS_REQUIRE(provided >= needed.value, CULOSS_STATUS_WORKSPACE_TOO_SMALL,
                       "workspace (%zu bytes) is smaller than %zu bytes", provided, needed.value);
        add("workspace", ptr, contiguous(int64_t(needed.value), 1), true, {});
        return CULOSS_STATUS_SUCCESS;
    }

    // Everything added so far; call it again after adding more.
    [[nodiscard]] culossStatus_t check() const {
        for (int i = 0; i < count_; ++i) {
            const Range& r = ranges_[i];
            CULOSS_REQUIRE(r.bytes.fits, CULOSS_STATUS_INVALID_VALUE,
                           "%s (%lld rows of %lld elements, stride %lld) spans more bytes than a size_t holds",
                           r.name, (long long)r.layout.rows, (long long)r.layout.cols, (long long)r.layout.stride);
            CULOSS_REQUIRE(end_address(r.start, r.bytes).fits, CULOSS_STATUS_INVALID_VALUE,
                           "%s (%zu bytes from %p) runs past the end of the address space (2^57)", r.name, r.bytes.value,
                           r.start);
        }
        for (int i = 0; i < count_; ++i) {
            for (int j = i + 1; j < count_; ++j) {
                const Range &a = ranges_[i], &b = ranges_[j];
                if (!(a.written || b.written) || !overlap(a, b) || overwrites(a, j, b) || overwrites(b, i, a)) continue;
                const Range& out = a.written ? a : b;
                return fail(CULOSS_STATUS_INVALID_VALUE, "%s overlaps %s", out.name, (&out == &a ? b : a).name);
            }
        }
        return CULOSS_STATUS_SUCCESS;
    }

private:
    static constexpr int kMaxRanges = 12;

    struct Range {
        const char* name;
        const void* start;
        Size bytes;
        Layout layout;
        bool written;
        unsigned may_overwrite;  // bit i: the input added i-th
    };

    int add(const char* name, const void* ptr, const Layout& layout, bool written, std::initializer_list<int> over) {
        if (!ptr || count_ == kMaxRanges) return -1;  // absent (the entry points add fewer than kMaxRanges)
        unsigned mask = 0;
        for (int i : over)
            if (i >= 0) mask |= 1u << i;
        const int index = count_;
        ranges_[count_++] = Range{name, ptr, rows_bytes(layout.rows, layout.cols, layout.stride, layout.elem), layout,
                                  written, mask};
        return index;
    }

    static bool overlap(const Range& a, const Range& b) {
        if (a.bytes.value == 0 || b.bytes.value == 0) return false;
        const uintptr_t x = reinterpret_cast<uintptr_t>(a.start), y = reinterpret_cast<uintptr_t>(b.start);
        return x < y + b.bytes.value && y < x + a.bytes.value;  // ends checked above
    }

    // Whether `out` may lie over `in` (added as index `in_index`): an allowed in-place output,
    // exactly over it.
    static bool overwrites(const Range& out, int in_index, const Range& in) {
        return out.written && !in.written && (out.may_overwrite >> in_index & 1u) && out.start == in.start &&
               out.bytes.value == in.bytes.value && out.layout.stride == in.layout.stride;
    }

    Range ranges_[kMaxRanges];
    int count_ = 0;
};

}  // namespace culoss
