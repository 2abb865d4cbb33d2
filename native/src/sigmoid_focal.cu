// Sigmoid focal loss (torchvision.ops.sigmoid_focal_loss): forward, backward and fused, through
// the elementwise driver.
//
// With e = exp(-|x|) (the only exponential), inv = 1 / (1 + e) = sigmoid(|x|), s = e * inv =
// sigmoid(-|x|), and u = 1 - t:
//   p = sigmoid(x), q = 1 - p = sigmoid(-x)          (p, q = inv, s or s, inv by the sign of x)
//   ce = t softplus(-x) + u softplus(x) = log1p(e) + (x >= 0 ? u x : -t x)   (two terms >= 0)
//   m = 1 - p_t = t q + u p = inv * D,  D = (x >= 0 ? u + t e : t + u e)     (no 1 - p_t)
//   loss = a_t ce m^gamma
// and the gradient, d ce / dx = p - t = u p - t q, d m / dx = p q (u - t):
//   d loss / dx = a_t m^gamma [ (u p - t q) + gamma (u - t) ce r ],  r = p q / m = s / D.
// r replaces gamma m^(gamma - 1) p q, which is 0 * inf when m underflows and gamma < 1; r <= 1
// for every t in [0, 1], and where D = 0 (m = 0: t = 1 and x -> +inf, or t = 0 and x -> -inf)
// ce is 0 too, so r = 0 there is exact. Saturated logits give a finite loss and gradient for any
// gamma >= 0. A target outside [0, 1] (torchvision takes any) makes D negative for some x: r = s / D
// still holds there, so only D = 0 takes r = 0. With gamma = 0 the second term is PyTorch's: its pow
// backward gives 0 for exponent 0, which reaches x through p_t as 0 * t (NaN for an infinite
// target only; gamma (u - t) ce r would be NaN wherever r or u - t overflows).
#include "elementwise.cuh"

namespace culoss {
namespace {

struct SigmoidFocalOp {
    float alpha;  // < 0: no weighting
    float gamma;
    int gamma_kind;  // 0, 1, 2: gamma is that integer (exact, no powf); 3: powf

    __device__ __forceinline__ float pow_gamma(float m) const {
        switch (gamma_kind) {
            case 0: return 1.f;
            case 1: return m;
            case 2: return m * m;
            default: return powf(m, gamma);
        }
    }

    template <bool LOSS, bool GRAD>
    __device__ __forceinline__ elementwise::Value eval(float x, float t) const {
        const float e = expf(-fabsf(x));
        const float inv = 1.f / (1.f + e);
        const float s = e * inv;
        const bool pos = x >= 0.f;
        const float u = 1.f - t;
        const float ce = log1pf(e) + (pos ? u * x : -t * x);
        const float d = pos ? u + t * e : t + u * e;
        const float mg = pow_gamma(inv * d);
        const float at = alpha >= 0.f ? alpha * t + (1.f - alpha) * u : 1.f;
        elementwise::Value v{0.f, 0.f};
        if constexpr (LOSS) v.loss = at * ce * mg;
        if constexpr (GRAD) {
            const float p = pos ? inv : s;
            const float q = pos ? s : inv;
            const float dce = u * p - t * q;
            if (gamma_kind == 0) {
                v.grad = at * mg * (dce + 0.f * t);
            } else {
                const float r = d != 0.f ? s / d : 0.f;
                v.grad = at * mg * (dce + gamma * (u - t) * ce * r);
            }
        }
        return v;
    }
};

constexpr elementwise::Names kNames{"logits", "targets", "grad_logits"};

culossStatus_t make_op(float alpha, float gamma, SigmoidFocalOp* op) {
    clear_detail();
    CULOSS_REQUIRE(std::isfinite(alpha), CULOSS_STATUS_INVALID_VALUE, "alpha (%g) is not finite", double(alpha));
    CULOSS_REQUIRE(std::isfinite(gamma) && gamma >= 0.f, CULOSS_STATUS_INVALID_VALUE,
                   "gamma (%g) is not a finite number >= 0", double(gamma));
    op->alpha = alpha;
    op->gamma = gamma;
    op->gamma_kind = gamma == 0.f ? 0 : gamma == 1.f ? 1 : gamma == 2.f ? 2 : 3;
    return CULOSS_STATUS_SUCCESS;
}

}  // namespace
}  // namespace culoss

CULOSS_ELEMENTWISE_API(SigmoidFocal, culoss::SigmoidFocalOp, culoss::kNames, (float alpha, float gamma,),
                       (alpha, gamma,))
