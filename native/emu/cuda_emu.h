// The CPU execution layer: the kernel sources in native/src compile as host C++ through this
// header, so that CI (which has no GPU) runs the exact kernels under AddressSanitizer and
// ThreadSanitizer.
//
// Model: one OS thread per CUDA thread of a block; the blocks of a grid run one after another,
// so a __shared__ variable can be a function-local static. __syncthreads and __syncwarp are
// std::barrier waits, a warp shuffle is a store to a per-warp exchange, a barrier, a load and a
// barrier, atomics are std::atomic_ref. Launches are serialised by one mutex (the statics are
// shared by every launch of a kernel). Because the threads are real, a missing barrier is a data
// race TSan reports and an out-of-bounds index is a bad access ASan reports.
//
// Rules for kernels, as on a GPU: every thread of a block reaches each __syncthreads, and every
// lane of a warp each shuffle; no inline PTX outside a helper that has a twin here.
#pragma once

#include <algorithm>
#include <atomic>
#include <barrier>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

struct uint3 {
    unsigned x, y, z;
};

struct dim3 {
    unsigned x, y, z;
    constexpr dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};

struct alignas(16) float4 {
    float x, y, z, w;
};

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __shared__ static
#define __launch_bounds__(...)

namespace culoss_emu {

constexpr unsigned kWarpSize = 32;

struct Warp {
    explicit Warp(unsigned lanes_) : lanes(lanes_), barrier(lanes_) {}
    unsigned lanes;  // fewer than 32 in the last warp of a block whose size is not a multiple
    std::barrier<> barrier;
    std::uint64_t slots[kWarpSize] = {};  // the shuffle exchange
};

struct Block {
    explicit Block(unsigned threads) : barrier(threads) {
        for (unsigned first = 0; first < threads; first += kWarpSize)
            warps.push_back(std::make_unique<Warp>(std::min(kWarpSize, threads - first)));
    }
    std::barrier<> barrier;
    std::vector<std::unique_ptr<Warp>> warps;
};

struct ThreadContext {
    uint3 thread_idx{0, 0, 0};
    uint3 block_idx{0, 0, 0};
    dim3 block_dim{1, 1, 1};
    dim3 grid_dim{1, 1, 1};
    unsigned linear = 0;  // thread index within the block
    Block* block = nullptr;
};

inline ThreadContext& context() {
    thread_local ThreadContext ctx;
    return ctx;
}

inline std::mutex& launch_mutex() {
    static std::mutex m;
    return m;
}

inline void sync_block() { context().block->barrier.arrive_and_wait(); }

inline Warp& warp() {
    ThreadContext& ctx = context();
    return *ctx.block->warps[ctx.linear / kWarpSize];
}

inline void sync_warp() { warp().barrier.arrive_and_wait(); }

// Every lane publishes its value, then reads the one of lane `src_lane` (its own if that lane
// does not exist), as a shuffle does.
template <class T>
T shuffle_from(T value, unsigned src_lane) {
    static_assert(sizeof(T) <= sizeof(std::uint64_t) && std::is_trivially_copyable_v<T>);
    Warp& w = warp();
    const unsigned lane = context().linear % kWarpSize;
    std::memcpy(&w.slots[lane], &value, sizeof(T));
    w.barrier.arrive_and_wait();
    T result = value;
    if (src_lane < w.lanes) std::memcpy(&result, &w.slots[src_lane], sizeof(T));
    w.barrier.arrive_and_wait();
    return result;
}

// The grid's blocks run one after another on blockDim OS threads.
template <class... Params, class... Args>
void launch(void (*kernel)(Params...), dim3 grid, dim3 block, Args... args) {
    const unsigned threads = block.x * block.y * block.z;
    if (threads == 0 || grid.x * grid.y * grid.z == 0) return;
    std::lock_guard<std::mutex> lock(launch_mutex());
    Block state(threads);
    std::vector<std::thread> pool;
    pool.reserve(threads);
    for (unsigned t = 0; t < threads; ++t) {
        pool.emplace_back([&, t] {
            ThreadContext& ctx = context();
            ctx.linear = t;
            ctx.thread_idx = {t % block.x, (t / block.x) % block.y, t / (block.x * block.y)};
            ctx.block_dim = block;
            ctx.grid_dim = grid;
            ctx.block = &state;
            for (unsigned z = 0; z < grid.z; ++z)
                for (unsigned y = 0; y < grid.y; ++y)
                    for (unsigned x = 0; x < grid.x; ++x) {
                        ctx.block_idx = {x, y, z};
                        kernel(args...);
                        // The next block may reuse the statics (__shared__) only when all are done.
                        state.barrier.arrive_and_wait();
                    }
            ctx.block = nullptr;
        });
    }
    for (std::thread& th : pool) th.join();
}

}  // namespace culoss_emu

#define threadIdx (::culoss_emu::context().thread_idx)
#define blockIdx (::culoss_emu::context().block_idx)
#define blockDim (::culoss_emu::context().block_dim)
#define gridDim (::culoss_emu::context().grid_dim)
#define warpSize 32

inline void __syncthreads() { culoss_emu::sync_block(); }
inline void __syncwarp(unsigned = 0xffffffffu) { culoss_emu::sync_warp(); }
inline void __threadfence() { std::atomic_thread_fence(std::memory_order_seq_cst); }

template <class T>
T __shfl_sync(unsigned, T value, int src_lane, int width = 32) {
    const unsigned lane = culoss_emu::context().linear % culoss_emu::kWarpSize;
    return culoss_emu::shuffle_from(value, (lane / width) * width + src_lane % width);
}
template <class T>
T __shfl_xor_sync(unsigned, T value, int lane_mask, int width = 32) {
    const unsigned lane = culoss_emu::context().linear % culoss_emu::kWarpSize;
    const unsigned src = lane ^ unsigned(lane_mask);
    return culoss_emu::shuffle_from(value, (src / width == lane / width) ? src : lane);
}
template <class T>
T __shfl_down_sync(unsigned, T value, unsigned delta, int width = 32) {
    const unsigned lane = culoss_emu::context().linear % culoss_emu::kWarpSize;
    const unsigned src = lane + delta;
    return culoss_emu::shuffle_from(value, (src / width == lane / width) ? src : lane);
}

template <class T>
T atomicAdd(T* address, T value) {
    return std::atomic_ref<T>(*address).fetch_add(value);
}
template <class T>
T atomicOr(T* address, T value) {
    return std::atomic_ref<T>(*address).fetch_or(value);
}
template <class T>
T atomicExch(T* address, T value) {
    return std::atomic_ref<T>(*address).exchange(value);
}

// The CUDA math library's global names.
using std::fmaxf;
using std::isfinite;

template <class T>
inline T __ldg(const T* p) {
    return *p;
}

// The launch macro: <<<grid, block, 0, stream>>> under nvcc, the emulator here.
// The stream is ignored: the emulator runs every launch to completion before it returns.
#define CULOSS_LAUNCH(kernel, grid, block, stream, ...) \
    ((void)(stream), ::culoss_emu::launch(kernel, dim3(grid), dim3(block), __VA_ARGS__))
