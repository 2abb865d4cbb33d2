// Checked size arithmetic for the host side of the entry points. Every size computed from the
// caller's sizes (a tensor's bytes, a workspace, the address one past a buffer) is a Size, so
// that a size too large for a size_t is refused with a status instead of wrapping into a small
// one (n = 2^62 + 1 rows of 4 bytes is 4 bytes in size_t arithmetic).
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace culoss {

// A count of bytes or elements, or "does not fit a size_t" (fits false), which every operation
// on it keeps, so that a formula is checked once, at its end.
struct Size {
    size_t value = 0;
    bool fits = true;

    constexpr Size() = default;
    // From any integer; a negative one does not fit.
    template <class T, std::enable_if_t<std::is_integral_v<T>, int> = 0>
    constexpr Size(T v) : value(size_t(v)) {
        if constexpr (std::is_signed_v<T>) fits = v >= 0;
    }
};

inline Size operator*(Size a, Size b) {
    Size r;
    r.fits = a.fits && b.fits && !__builtin_mul_overflow(a.value, b.value, &r.value);
    return r;
}

inline Size operator+(Size a, Size b) {
    Size r;
    r.fits = a.fits && b.fits && !__builtin_add_overflow(a.value, b.value, &r.value);
    return r;
}

// Rounded up to a multiple of 16 bytes (every workspace region starts 16-byte aligned).
inline Size round_up16(Size a) {
    Size r = a + Size(15);
    r.value = r.value / 16 * 16;
    return r;
}

// The bytes that `rows` rows of `cols` elements of `elem` bytes, `stride` elements apart, span:
// ((rows - 1) stride + cols) elem, the last row ending at its last element; 0 for no rows.
inline Size rows_bytes(int64_t rows, int64_t cols, int64_t stride, size_t elem) {
    if (rows <= 0) return Size(rows);  // 0, or a negative count that does not fit
    return (Size(rows - 1) * Size(stride) + Size(cols)) * Size(elem);
}

// The highest address a buffer may end at. No platform maps a process's memory above it (x86-64
// with 5-level paging: 2^56; ARM64: 2^52; CUDA's unified addresses lie in the process's), so a
// tensor whose sizes would carry it past 2^57 cannot be a real buffer: its sizes are wrong, and a
// kernel would read or write past whatever the caller allocated. (A wrap past 2^64 is refused the
// same way.)
constexpr size_t kAddressLimit = size_t(1) << 57;

// The address one past [p, p + bytes); it does not fit when the range passes kAddressLimit.
inline Size end_address(const void* p, Size bytes) {
    Size end = Size(reinterpret_cast<uintptr_t>(p)) + bytes;
    if (end.value > kAddressLimit) end.fits = false;
    return end;
}

}  // namespace culoss
