// Binary hinge loss: forward, backward and fused, through the elementwise driver. For a score s,
// a target y in {-1, 1} and a margin m, z = m - y s:
//   loss = max(z, 0) as torch.clamp(z, min=0) (NaN stays NaN),
//   d loss / d s = -y where z >= 0, else -y * 0 (clamp's gradient: the kink z = 0 passes it, a
//   NaN z does not; a NaN target still makes it NaN, as PyTorch's autograd does).
#include "elementwise.cuh"

namespace culoss {
namespace {

struct HingeOp {
    float margin;

    template <bool LOSS, bool GRAD>
    __device__ __forceinline__ elementwise::Value eval(float s, float y) const {
        const float z = margin - y * s;
        elementwise::Value v{0.f, 0.f};
        if constexpr (LOSS) v.loss = z < 0.f ? 0.f : z;
        if constexpr (GRAD) v.grad = -y * (z >= 0.f ? 1.f : 0.f);  // -y * 0: NaN for a NaN target, as autograd
        return v;
    }
};

constexpr elementwise::Names kNames{"scores", "targets", "grad_scores"};

culossStatus_t make_op(float margin, HingeOp* op) {
    clear_detail();
    CULOSS_REQUIRE(std::isfinite(margin), CULOSS_STATUS_INVALID_VALUE, "margin (%g) is not finite", double(margin));
    op->margin = margin;
    return CULOSS_STATUS_SUCCESS;
}

}  // namespace
}  // namespace culoss

CULOSS_ELEMENTWISE_API(Hinge, culoss::HingeOp, culoss::kNames, (float margin,), (margin,))
