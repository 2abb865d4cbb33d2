// Mean squared error (F.mse_loss): forward, backward and fused, through the elementwise driver,
// with PyTorch's float expressions: loss (x - t)^2 as d * d, gradient 2 d. Like PyTorch's, the
// loss overflows to inf where |d| passes 1.8e19; the gradient stays finite there.
#include "elementwise.cuh"

namespace culoss {
namespace {

struct MseOp {
    template <bool LOSS, bool GRAD>
    __device__ __forceinline__ elementwise::Value eval(float x, float t) const {
        const float d = x - t;
        elementwise::Value v{0.f, 0.f};
        if constexpr (LOSS) v.loss = d * d;
        if constexpr (GRAD) v.grad = 2.f * d;
        return v;
    }
};

constexpr elementwise::Names kNames{"input", "target", "grad_input"};

culossStatus_t make_op(MseOp*) {
    clear_detail();
    return CULOSS_STATUS_SUCCESS;
}

}  // namespace
}  // namespace culoss

CULOSS_ELEMENTWISE_API(Mse, culoss::MseOp, culoss::kNames, (), ())
