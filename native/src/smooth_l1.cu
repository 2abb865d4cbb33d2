// Smooth L1 loss (F.smooth_l1_loss): forward, backward and fused, through the elementwise driver,
// with PyTorch's own float expression (but for the order of one product, below), so the results
// match PyTorch's to the rounding:
//   z < beta ? 0.5 z (z / beta) : z - 0.5 beta,         z = |input - target|
// and PyTorch's gradient at the boundaries: d <= -beta gives -1, d >= beta gives 1, so |d| == beta
// takes the linear branch. beta = 0 is the L1 loss with sign(0) = 0, as PyTorch >= 2.1 (which
// calls l1_loss there); 1.13's kernel gives -1 at d = 0.
#include "elementwise.cuh"

namespace culoss {
namespace {

struct SmoothL1Op {
    float beta;  // >= 0

    template <bool LOSS, bool GRAD>
    __device__ __forceinline__ elementwise::Value eval(float x, float t) const {
        const float d = x - t;
        const float z = fabsf(d);
        elementwise::Value v{0.f, 0.f};
        // 0.5 z (z / beta), not PyTorch's 0.5 z z / beta: z z overflows for z > 1.8e19 while the
        // loss (z < beta) fits. The two differ by an ulp at most.
        if constexpr (LOSS) v.loss = z < beta ? 0.5f * z * (z / beta) : z - 0.5f * beta;
        if constexpr (GRAD) {
            if (beta == 0.f) {
                v.grad = d > 0.f ? 1.f : d < 0.f ? -1.f : d;  // sign, with sign(0) = 0 and NaN kept
            } else {
                v.grad = d <= -beta ? -1.f : d >= beta ? 1.f : d / beta;
            }
        }
        return v;
    }
};

constexpr elementwise::Names kNames{"input", "target", "grad_input"};

culossStatus_t make_op(float beta, SmoothL1Op* op) {
    clear_detail();
    CULOSS_REQUIRE(beta >= 0.f, CULOSS_STATUS_INVALID_VALUE, "beta (%g) is negative or NaN", double(beta));
    op->beta = beta;
    return CULOSS_STATUS_SUCCESS;
}

}  // namespace
}  // namespace culoss

CULOSS_ELEMENTWISE_API(SmoothL1, culoss::SmoothL1Op, culoss::kNames, (float beta,), (beta,))
