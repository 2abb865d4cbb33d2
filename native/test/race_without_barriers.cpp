// The kernels with every __syncthreads compiled out. Run under ThreadSanitizer, the block
// reduction of a block-per-row softmax cross-entropy must be reported as a data race; ctest
// passes only when that report appears.
#include "cuda_emu.h"
#define __syncthreads() ((void)0)
#include "device.cuh"
#include "softmax_cross_entropy.cu"

#include <cstdio>
#include <vector>

int main() {
    const int64_t n = 2, c = 3000;  // above 1024 classes: a block per row, a block reduction
    std::vector<float> logits(n * c), loss(n), grad(n * c);
    std::vector<int32_t> targets = {1, 2};
    for (int64_t i = 0; i < n * c; ++i) logits[i] = float(i % 97) * 0.01f;
    const culossStatus_t st = culossSoftmaxCrossEntropyForwardBackward(
        logits.data(), c, targets.data(), n, c, CULOSS_DATA_FLOAT32, nullptr, CULOSS_NO_IGNORE_INDEX, 0.f,
            CULOSS_REDUCTION_NONE,
        nullptr, loss.data(), grad.data(), c, nullptr, 0, nullptr, nullptr);
    culossStreamSynchronize(nullptr);  // the kernels run on the stream's thread
    std::printf("status %d, loss %g %g\n", int(st), double(loss[0]), double(loss[1]));
    return 0;
}
