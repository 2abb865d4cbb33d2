// Exponential loss (AdaBoost's): forward, backward and fused, through the elementwise driver. For
// a score s and a target y in {-1, 1}: loss exp(-y s), gradient -y exp(-y s), one expf for both,
// so the gradient is finite wherever the loss is (|y| = 1). Like PyTorch's float exp, the loss is
// inf where -y s passes 88.72.
#include "elementwise.cuh"

namespace culoss {
namespace {

struct ExponentialOp {
    template <bool LOSS, bool GRAD>
    __device__ __forceinline__ elementwise::Value eval(float s, float y) const {
        const float e = expf(-y * s);
        elementwise::Value v{0.f, 0.f};
        if constexpr (LOSS) v.loss = e;
        if constexpr (GRAD) v.grad = -y * e;
        return v;
    }
};

constexpr elementwise::Names kNames{"scores", "targets", "grad_scores"};

culossStatus_t make_op(ExponentialOp*) {
    clear_detail();
    return CULOSS_STATUS_SUCCESS;
}

}  // namespace
}  // namespace culoss

CULOSS_ELEMENTWISE_API(Exponential, culoss::ExponentialOp, culoss::kNames, (), ())
