// L1 loss (F.l1_loss): forward, backward and fused, through the elementwise driver. With
// d = input - target: loss |d|, gradient sign(d) with PyTorch's sign, 0 at 0 and for NaN (a NaN
// difference has a NaN loss and a 0 gradient, as torch.sign gives).
#include "elementwise.cuh"

namespace culoss {
namespace {

struct L1Op {
    template <bool LOSS, bool GRAD>
    __device__ __forceinline__ elementwise::Value eval(float x, float t) const {
        const float d = x - t;
        elementwise::Value v{0.f, 0.f};
        if constexpr (LOSS) v.loss = fabsf(d);
        if constexpr (GRAD) v.grad = d > 0.f ? 1.f : d < 0.f ? -1.f : 0.f;
        return v;
    }
};

constexpr elementwise::Names kNames{"input", "target", "grad_input"};

culossStatus_t make_op(L1Op*) {
    clear_detail();
    return CULOSS_STATUS_SUCCESS;
}

}  // namespace
}  // namespace culoss

CULOSS_ELEMENTWISE_API(L1, culoss::L1Op, culoss::kNames, (), ())
