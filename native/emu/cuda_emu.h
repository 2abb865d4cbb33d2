// The CPU execution layer: the kernel sources in native/src compile as host C++ through this
// header, so that CI (which has no GPU) runs the exact kernels under AddressSanitizer and
// ThreadSanitizer. It exists to be as strict as the hardware wherever it can be: a kernel that
// would fault, hang or race on a GPU must fail here too, with a message that names the class of
// bug, the kernel and the thread ("culoss-emu: <class>: ...").
//
// Model (the machinery is in emu.cpp):
//  - One OS thread per CUDA thread, taken from a pool of reused threads that belongs to the
//    stream. Two blocks are in flight at once, taken in a seeded shuffled order, each with its
//    own threads, barrier and shared memory, and nothing orders one block after another: a race
//    between blocks is a race ThreadSanitizer reports.
//  - __syncthreads is a barrier of the block that checks that every thread reached the same
//    call site; returning from the kernel is a barrier of its own, so a __syncthreads that some
//    threads skip (or reach after others have returned) is reported instead of hanging.
//  - Warp shuffles and __syncwarp are collectives of the lanes named in the mask: each lane must
//    name itself, and all of them must arrive at the same call site with the same mask. A lane
//    that has exited (or does not exist) reads as poison (NaN). A shuffle orders no memory
//    (ThreadSanitizer sees no synchronisation through it, as shfl.sync gives none); __syncwarp
//    does.
//  - Shared memory is declared with CULOSS_SHARED (a plain __shared__ does not compile here):
//    each block in flight has its own arena, filled with a poison pattern before every block, so
//    a read of what an earlier block left shows as NaN; a block's declarations are summed
//    against the 48 KB a kernel may declare statically.
//  - 16-byte and __ldg loads, 16-byte stores and atomics check their alignment (UBSan checks
//    the plain typed loads in the AddressSanitizer build).
//  - Launches check the block (at most 1024 threads) and grid limits, and go to the stream's
//    queue: a launch, copy or memset runs later, in order, on the stream's own thread, so a host
//    read before cudaStreamSynchronize is a race ThreadSanitizer reports.
// The CUDA runtime calls the host code makes are emulated in emu_runtime.h, with the runtime's
// last-error rules and fault injection (CULOSS_EMU_FAULT, see emu.cpp).
//
// Rules for kernels, as on a GPU: every thread of a block reaches each __syncthreads, and every
// lane named in a mask each shuffle; no inline PTX outside a helper that has a twin here.
#pragma once

#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <source_location>
#include <tuple>
#include <type_traits>

#include "emu_runtime.h"

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
// A plain __shared__ would be one variable for every block of every launch.
#define __shared__ static_assert(false, "declare shared memory with CULOSS_SHARED(type, name, dims)");

namespace culoss_emu {

constexpr unsigned kWarpSize = 32;

struct Slot;  // a block in flight (emu.cpp)

struct ThreadContext {
    uint3 thread_idx{0, 0, 0};
    uint3 block_idx{0, 0, 0};
    dim3 block_dim{1, 1, 1};
    dim3 grid_dim{1, 1, 1};
    unsigned linear = 0;     // thread index within the block
    Slot* slot = nullptr;    // null outside a kernel
    const char* kernel = "";
};

inline thread_local ThreadContext t_ctx;

using Site = std::source_location;

// Prints "culoss-emu: <what>: <detail>" with the kernel, block and thread, and aborts: the
// emulated counterpart of a kernel fault, which on a GPU kills the context.
[[noreturn]] void fault(const char* what, const char* format, ...) __attribute__((format(printf, 2, 3)));
[[noreturn]] void misaligned(const void* p, std::size_t align, const char* access, const Site& site);

void sync_block(const Site& site);
void sync_warp(unsigned mask, const Site& site);
// The value of lane `src` (the caller's own lane numbering within its warp) among the lanes of
// `mask`, or the poison pattern when that lane has exited, does not exist or is not in `mask`.
std::uint64_t shuffle(unsigned mask, std::uint64_t bits, unsigned src, const Site& site);
// The current block's copy of the shared declaration identified by `key`.
void* shared_memory(const void* key, std::size_t bytes, std::size_t align, const char* name);

inline void check_aligned(const void* p, std::size_t align, const char* access, const Site& site) {
    if (reinterpret_cast<std::uintptr_t>(p) % align != 0) misaligned(p, align, access, site);
}

inline unsigned lane_id() { return t_ctx.linear % kWarpSize; }

template <class T>
T shuffle_value(unsigned mask, T value, unsigned src, const Site& site) {
    static_assert(sizeof(T) <= sizeof(std::uint64_t) && std::is_trivially_copyable_v<T>);
    std::uint64_t bits = 0;
    std::memcpy(&bits, &value, sizeof(T));
    bits = shuffle(mask, bits, src, site);
    T result;
    std::memcpy(&result, &bits, sizeof(T));
    return result;
}

// A launch, type-erased: `body` runs the kernel with its copied arguments on each thread.
void launch(const char* kernel, dim3 grid, dim3 block, cudaStream_t stream, std::function<void()> body);

// The kernel's name with its template arguments, from the compiler (for the messages and the
// launch log that the resource check reads).
const char* kernel_name_from(const char* pretty_function);
template <auto Kernel>
const char* kernel_name() {
    static const char* const name = kernel_name_from(__PRETTY_FUNCTION__);
    return name;
}

template <class... Params, class... Args>
void launch_kernel(const char* name, void (*kernel)(Params...), dim3 grid, dim3 block, cudaStream_t stream,
                   Args&&... args) {
    // The arguments are converted to the parameter types and copied now, as a launch does.
    std::tuple<std::decay_t<Params>...> params(std::forward<Args>(args)...);
    launch(name, grid, block, stream, [kernel, params]() { std::apply(kernel, params); });
}


inline float4 load16(const float* p, const Site& site = Site::current()) {
    check_aligned(p, 16, "16-byte load", site);
    float4 v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

inline void store16(float* p, float4 v, const Site& site = Site::current()) {
    check_aligned(p, 16, "16-byte store", site);
    std::memcpy(p, &v, sizeof v);
}

}  // namespace culoss_emu

// Shared memory: `CULOSS_SHARED(float, partial, [32]);` is `__shared__ float partial[32];` on a
// GPU. `dims` may be empty for a scalar.
#define CULOSS_SHARED(type, name, dims)                                                         \
    static const char culoss_shared_key_##name = 0;                                             \
    using culoss_shared_type_##name = type dims;                                                \
    culoss_shared_type_##name& name = *static_cast<culoss_shared_type_##name*>(                 \
        ::culoss_emu::shared_memory(&culoss_shared_key_##name, sizeof(culoss_shared_type_##name), \
                                    alignof(culoss_shared_type_##name), #name))

#define threadIdx (::culoss_emu::t_ctx.thread_idx)
#define blockIdx (::culoss_emu::t_ctx.block_idx)
#define blockDim (::culoss_emu::t_ctx.block_dim)
#define gridDim (::culoss_emu::t_ctx.grid_dim)
#define warpSize 32

inline void __syncthreads(const culoss_emu::Site& site = culoss_emu::Site::current()) {
    culoss_emu::sync_block(site);
}
inline void __syncwarp(unsigned mask = 0xffffffffu, const culoss_emu::Site& site = culoss_emu::Site::current()) {
    culoss_emu::sync_warp(mask, site);
}
inline void __threadfence() { std::atomic_thread_fence(std::memory_order_seq_cst); }

// The source lane of each shuffle, as CUDA defines it for `width` lanes per segment: __shfl_sync
// reads lane src_lane of the caller's segment; xor and down return the caller's own value when
// the lane they would read lies outside its segment.
template <class T>
T __shfl_sync(unsigned mask, T value, int src_lane, int width = 32,
              const culoss_emu::Site& site = culoss_emu::Site::current()) {
    const unsigned lane = culoss_emu::lane_id();
    const unsigned src = (lane / unsigned(width)) * unsigned(width) + unsigned(src_lane) % unsigned(width);
    return culoss_emu::shuffle_value(mask, value, src, site);
}
template <class T>
T __shfl_xor_sync(unsigned mask, T value, int lane_mask, int width = 32,
                  const culoss_emu::Site& site = culoss_emu::Site::current()) {
    const unsigned lane = culoss_emu::lane_id();
    const unsigned src = lane ^ unsigned(lane_mask);
    const bool inside = src / unsigned(width) == lane / unsigned(width);
    const T theirs = culoss_emu::shuffle_value(mask, value, inside ? src : lane, site);
    return inside ? theirs : value;
}
template <class T>
T __shfl_down_sync(unsigned mask, T value, unsigned delta, int width = 32,
                   const culoss_emu::Site& site = culoss_emu::Site::current()) {
    const unsigned lane = culoss_emu::lane_id();
    const unsigned src = lane + delta;
    const bool inside = src / unsigned(width) == lane / unsigned(width);
    const T theirs = culoss_emu::shuffle_value(mask, value, inside ? src : lane, site);
    return inside ? theirs : value;
}

template <class T>
T atomicAdd(T* address, T value, const culoss_emu::Site& site = culoss_emu::Site::current()) {
    culoss_emu::check_aligned(address, sizeof(T), "atomic", site);
    return std::atomic_ref<T>(*address).fetch_add(value);
}
template <class T>
T atomicOr(T* address, T value, const culoss_emu::Site& site = culoss_emu::Site::current()) {
    culoss_emu::check_aligned(address, sizeof(T), "atomic", site);
    return std::atomic_ref<T>(*address).fetch_or(value);
}
template <class T>
T atomicExch(T* address, T value, const culoss_emu::Site& site = culoss_emu::Site::current()) {
    culoss_emu::check_aligned(address, sizeof(T), "atomic", site);
    return std::atomic_ref<T>(*address).exchange(value);
}

// The CUDA math library's global names.
using std::fmaxf;
using std::isfinite;

template <class T>
inline T __ldg(const T* p, const culoss_emu::Site& site = culoss_emu::Site::current()) {
    culoss_emu::check_aligned(p, alignof(T), "__ldg load", site);
    return *p;
}
