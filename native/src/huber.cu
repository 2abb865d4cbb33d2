// Huber loss (F.huber_loss): forward, backward and fused, through the elementwise driver.
// Huber(delta) = delta * SmoothL1(beta = delta), but with PyTorch's own float expression, so the
// results match PyTorch's to the rounding:
//   z < delta ? 0.5 z z : delta (z - 0.5 delta),        z = |input - target|
// and PyTorch's gradient at the boundaries: d <= -delta gives -delta, d >= delta gives delta.
#include "elementwise.cuh"

namespace culoss {
namespace {

struct HuberOp {
    float delta;  // > 0

    template <bool LOSS, bool GRAD>
    __device__ __forceinline__ elementwise::Value eval(float x, float t) const {
        const float d = x - t;
        const float z = fabsf(d);
        elementwise::Value v{0.f, 0.f};
        if constexpr (LOSS) v.loss = z < delta ? 0.5f * z * z : delta * (z - 0.5f * delta);
        if constexpr (GRAD) v.grad = d <= -delta ? -delta : d >= delta ? delta : d;
        return v;
    }
};

constexpr elementwise::Names kNames{"input", "target", "grad_input"};

culossStatus_t make_op(float delta, HuberOp* op) {
    clear_detail();
    CULOSS_REQUIRE(delta > 0.f, CULOSS_STATUS_INVALID_VALUE, "delta (%g) is not positive", double(delta));
    op->delta = delta;
    return CULOSS_STATUS_SUCCESS;
}

}  // namespace
}  // namespace culoss

CULOSS_ELEMENTWISE_API(Huber, culoss::HuberOp, culoss::kNames, (float delta,), (delta,))
