// A planted bug for the resource check (check_resources.py), built by nvcc there and into the
// planted-bugs program here: no __launch_bounds__, about a hundred live registers a thread, and a
// launch of 1024 threads, which needs more registers than an SM has. The emulator runs it
// happily; only ptxas's numbers joined with the launch the emulator logs can catch it.
#include "device.cuh"

__global__ void planted_registers_kernel(const float* x, float* out) {
    constexpr int kLive = 96;
    float acc[kLive];
#pragma unroll
    for (int k = 0; k < kLive; ++k) acc[k] = x[threadIdx.x + k * blockDim.x];
#pragma unroll
    for (int round = 0; round < 4; ++round) {
#pragma unroll
        for (int k = 0; k < kLive; ++k) acc[k] = acc[k] * acc[(k + 1) % kLive] + 1.f;
    }
    float sum = 0.f;
#pragma unroll
    for (int k = 0; k < kLive; ++k) sum += acc[k];
    out[threadIdx.x] = sum;
}
