// Deliberately broken kernels, one per class of bug the emulator exists to catch, built only for
// the tests. `emulated_planted_bugs NAME` runs one; ctest passes it only when the output names
// the class (CMakeLists.txt lists the expected message of each), so a check of the emulator that
// stops firing fails CI. Those that ThreadSanitizer reports are registered in the TSan build.
//
// The kernels go through the same launch macro, shared-memory declarations and 16-byte loads as
// the real ones (device.cuh), and through the emulator of the library (linked in whole).
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "calls.h"
#include "device.cuh"
#include "emu_testing.h"
#include "fault_checks.h"
#include "test_support.h"

#include "planted_registers.cu"

namespace {

using culoss::kFullMask;

culossStream_t stream() { return test::stream(); }

// ---- the kernels ----

// A 16-byte load one float past an aligned address.
__global__ void planted_misaligned_load_kernel(const float* x, float* out) {
    const float4 v = culoss::load4(x + 1);
    out[threadIdx.x] = v.x;
}

// The first warp waits at a barrier the others never reach (they return).
__global__ void planted_divergent_barrier_kernel(float* out) {
    if (threadIdx.x < 32) {
        __syncthreads();
        out[threadIdx.x] = 1.f;
    }
}

// Lanes share memory across a shuffle without __syncwarp: the shuffle orders nothing.
__global__ void planted_missing_syncwarp_kernel(float* out) {
    CULOSS_SHARED(float, slots, [32]);
    const unsigned lane = threadIdx.x % 32;
    slots[lane] = float(lane);
    const float neighbour = __shfl_xor_sync(kFullMask, float(lane), 1);  // "synchronises" nothing
    out[lane] = slots[lane ^ 1u] + neighbour;
}

// Block 0 fills a table that the other blocks read without filling it themselves.
__global__ void planted_stale_shared_kernel(float* out) {
    CULOSS_SHARED(float, table, [64]);
    if (blockIdx.x == 0) table[threadIdx.x] = float(threadIdx.x);
    __syncthreads();
    out[blockIdx.x * 64 + threadIdx.x] = table[threadIdx.x];
}

// Every block adds into the same word without an atomic.
__global__ void planted_race_between_blocks_kernel(float* out) {
    if (threadIdx.x == 0) out[0] += 1.f;
}

__global__ void planted_fill_kernel(float* out, float value) { out[blockIdx.x * blockDim.x + threadIdx.x] = value; }

// More than the 48 KB of shared memory a kernel may declare.
__global__ void planted_shared_over_48k_kernel(float* out) {
    CULOSS_SHARED(float, big, [12800]);  // 51200 bytes
    big[threadIdx.x] = 1.f;
    __syncthreads();
    out[threadIdx.x] = big[(threadIdx.x + 1) % blockDim.x];
}

// A shuffle whose mask leaves out half of the lanes that call it.
__global__ void planted_shuffle_mask_kernel(float* out) {
    out[threadIdx.x] = __shfl_sync(0x0000ffffu, float(threadIdx.x), 0);
}

// Two halves of a warp at two different shuffles.
__global__ void planted_divergent_shuffle_kernel(float* out) {
    float v = float(threadIdx.x);
    if (threadIdx.x < 16) {
        v = __shfl_xor_sync(kFullMask, v, 1);
    } else {
        v = __shfl_xor_sync(kFullMask, v, 2);
    }
    out[threadIdx.x] = v;
}

// Half the warp has returned; the other half reads from it.
__global__ void planted_exited_lane_kernel(float* out) {
    if (threadIdx.x >= 16) return;
    out[threadIdx.x] = __shfl_xor_sync(kFullMask, float(threadIdx.x), 16);
}

// ---- the scenarios ----

struct Buffer {
    explicit Buffer(size_t n) : host(n, 0.f), dev(host) {}
    std::vector<float> host;
    test::DeviceBuffer<float> dev;
    float* get() { return dev.get(); }
};

int status_line(const char* what, culossStatus_t st) {
    std::printf("%s: %s (%s)\n", what, culossGetErrorString(st), culossGetLastErrorDetail());
    culossStreamSynchronize(stream());
    return st == CULOSS_STATUS_SUCCESS ? 0 : 1;
}

int misaligned_load() {
    Buffer x(64), out(32);
    return status_line("misaligned load", CULOSS_LAUNCH(planted_misaligned_load_kernel, 1, 32, stream(), x.get(), out.get()));
}

int divergent_barrier() {
    Buffer out(64);
    return status_line("divergent barrier", CULOSS_LAUNCH(planted_divergent_barrier_kernel, 1, 64, stream(), out.get()));
}

int missing_syncwarp() {
    Buffer out(32);
    return status_line("missing __syncwarp", CULOSS_LAUNCH(planted_missing_syncwarp_kernel, 1, 32, stream(), out.get()));
}

int stale_shared() {
    Buffer out(4 * 64);
    status_line("stale shared memory", CULOSS_LAUNCH(planted_stale_shared_kernel, 4, 64, stream(), out.get()));
    const std::vector<float> got = out.dev.read();
    int poisoned = 0;
    for (float v : got) poisoned += std::isnan(v);
    std::printf("stale shared memory: %d of %zu values read the poison pattern (NaN) that the emulator writes over "
                "a block's shared memory before it runs\n",
                poisoned, got.size());
    return poisoned ? 1 : 0;
}

int race_between_blocks() {
    Buffer out(1);
    return status_line("race between blocks", CULOSS_LAUNCH(planted_race_between_blocks_kernel, 8, 32, stream(), out.get()));
}

int host_read_before_sync() {
    Buffer out(256);
    const culossStatus_t st = CULOSS_LAUNCH(planted_fill_kernel, 1, 256, stream(), out.get(), 3.f);
    volatile float early = out.get()[7];  // the host reads "device" memory the stream may still be writing
    std::printf("host read before synchronize: %g (launch: %s)\n", double(early), culossGetErrorString(st));
    culossStreamSynchronize(stream());
    return 0;
}

__global__ void planted_copy_kernel(const float* in, float* out) { out[threadIdx.x] = in[threadIdx.x] + 1.f; }

// An entry point whose second launch goes to the default stream instead of the caller's.
culossStatus_t planted_wrong_stream(float* a, float* b, culossStream_t s) {
    CULOSS_TRY(CULOSS_LAUNCH(planted_fill_kernel, 1, 64, s, a, 5.f));
    return CULOSS_LAUNCH(planted_copy_kernel, 1, 64, culossStream_t(nullptr), a, b);
}

int wrong_stream() {
    Buffer a(64), b(64);
    status_line("wrong stream", planted_wrong_stream(a.get(), b.get(), stream()));  // syncs the caller's stream only
    const std::vector<float> got = b.dev.read();
    std::printf("launch on another stream than the caller's: b[0] = %g\n", double(got[0]));
    culossStreamSynchronize(nullptr);
    return 0;
}

// An entry point that ignores the status of its first launch.
culossStatus_t planted_two_launches(float* out, culossStream_t s) {
    (void)CULOSS_LAUNCH(planted_fill_kernel, 1, 32, s, out, 1.f);
    return CULOSS_LAUNCH(planted_fill_kernel, 1, 32, s, out + 32, 2.f);
}

int ignored_launch_error() {
    test::Context t;
    auto store = std::make_shared<calls::Store>();
    calls::Tensor<float>* out = store->out("1 out", store->f(std::vector<float>(64, 0.f), 0));
    const calls::Call call = calls::make_call("planted_two_launches", store, [out] { return planted_two_launches(out->get(), stream()); });
    faults::check_failed_launches(t, call);
    return t.finish("ignored launch error");
}

int block_of_2048() {
    Buffer out(2048);
    return status_line("block of 2048 threads", CULOSS_LAUNCH(planted_fill_kernel, 1, 2048, stream(), out.get(), 1.f));
}

int grid_narrowing() {
    Buffer out(32);
    const int64_t blocks = (int64_t(1) << 32) + 1;  // would narrow to a grid of 1 block
    return status_line("64-bit grid", CULOSS_LAUNCH(planted_fill_kernel, blocks, 32, stream(), out.get(), 1.f));
}

int zero_grid() {
    Buffer out(32);
    // Past the library's own check, straight to the runtime, as a kernel launch with a grid of 0 would.
    culoss_emu::launch_kernel("planted_fill_kernel", planted_fill_kernel, dim3(0), dim3(32),
                              reinterpret_cast<cudaStream_t>(stream()), out.get(), 1.f);
    return status_line("grid of 0 blocks", culoss::launch_status("planted_fill_kernel"));
}

int shared_over_48k() {
    Buffer out(256);
    return status_line("shared memory", CULOSS_LAUNCH(planted_shared_over_48k_kernel, 1, 256, stream(), out.get()));
}

int shuffle_mask() {
    Buffer out(32);
    return status_line("shuffle mask", CULOSS_LAUNCH(planted_shuffle_mask_kernel, 1, 32, stream(), out.get()));
}

int divergent_shuffle() {
    Buffer out(32);
    return status_line("divergent shuffle", CULOSS_LAUNCH(planted_divergent_shuffle_kernel, 1, 32, stream(), out.get()));
}

int exited_lane() {
    Buffer out(32);
    status_line("launch", CULOSS_LAUNCH(planted_exited_lane_kernel, 1, 32, stream(), out.get()));
    const std::vector<float> got = out.dev.read();
    int poisoned = 0;
    for (int i = 0; i < 16; ++i) poisoned += std::isnan(got[i]);
    std::printf("read from an exited lane: %d of 16 lanes got the poison pattern (NaN), not a value\n", poisoned);
    return poisoned == 16 ? 1 : 0;
}

// Launches planted_registers_kernel with 1024 threads, for the resource check to read in the
// launch log (CULOSS_EMU_LAUNCH_LOG).
int registers() {
    Buffer x(96 * 1024), out(1024);
    return status_line("registers", CULOSS_LAUNCH(planted_registers_kernel, 1, 1024, stream(), x.get(), out.get()));
}

}  // namespace

int main(int argc, char** argv) {
    const std::map<std::string, std::function<int()>> scenarios = {
        {"misaligned_load", misaligned_load},
        {"divergent_barrier", divergent_barrier},
        {"missing_syncwarp", missing_syncwarp},
        {"stale_shared", stale_shared},
        {"race_between_blocks", race_between_blocks},
        {"host_read_before_sync", host_read_before_sync},
        {"ignored_launch_error", ignored_launch_error},
        {"block_of_2048", block_of_2048},
        {"grid_narrowing", grid_narrowing},
        {"zero_grid", zero_grid},
        {"shared_over_48k", shared_over_48k},
        {"shuffle_mask", shuffle_mask},
        {"divergent_shuffle", divergent_shuffle},
        {"exited_lane", exited_lane},
        {"registers", registers},
        {"wrong_stream", wrong_stream},
    };
    if (argc != 2 || !scenarios.count(argv[1])) {
        std::fprintf(stderr, "usage: %s SCENARIO; one of:", argv[0]);
        for (const auto& s : scenarios) std::fprintf(stderr, " %s", s.first.c_str());
        std::fprintf(stderr, "\n");
        return 2;
    }
    std::printf("planted bug: %s\n", argv[1]);
    return scenarios.at(argv[1])();
}
