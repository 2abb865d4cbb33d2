// Logistic loss: binary cross-entropy with logits (F.binary_cross_entropy_with_logits) with a
// scalar pos_weight p (1: none), through the elementwise driver. With e = exp(-|x|) (the only
// exponential), s = sigmoid(-|x|) = e / (1 + e), u = 1 - t and lw = (p - 1) t + 1, PyTorch's
//   loss = u x + lw (log1p(e) + max(-x, 0)),   d loss / d x = lw sigmoid(x) - p t
// are written so that no two large terms cancel:
//   loss = lw log1p(e) + (x >= 0 ? u x : -p t x)
//   grad = x >= 0 ? u - lw s : lw s - p t          (sigmoid(x) = 1 - s for x >= 0, s below)
// so a confident, correct logit (x = 30, t = 1) keeps the digits of its tiny loss and gradient.
// Targets are not restricted to [0, 1] (PyTorch does not restrict them).
#include "elementwise.cuh"

namespace culoss {
namespace {

struct LogisticOp {
    float pos_weight;

    template <bool LOSS, bool GRAD>
    __device__ __forceinline__ elementwise::Value eval(float x, float t) const {
        const float e = expf(-fabsf(x));
        const bool pos = x >= 0.f;
        const float u = 1.f - t;
        const float pt = pos_weight * t;
        const float lw = (pos_weight - 1.f) * t + 1.f;
        elementwise::Value v{0.f, 0.f};
        if constexpr (LOSS) v.loss = lw * log1pf(e) + (pos ? u * x : -pt * x);
        if constexpr (GRAD) {
            const float s = e / (1.f + e);
            v.grad = pos ? u - lw * s : lw * s - pt;
        }
        return v;
    }
};

constexpr elementwise::Names kNames{"logits", "targets", "grad_logits"};

culossStatus_t make_op(float pos_weight, LogisticOp* op) {
    clear_detail();
    CULOSS_REQUIRE(std::isfinite(pos_weight), CULOSS_STATUS_INVALID_VALUE, "pos_weight (%g) is not finite",
                   double(pos_weight));
    op->pos_weight = pos_weight;
    return CULOSS_STATUS_SUCCESS;
}

}  // namespace
}  // namespace culoss

CULOSS_ELEMENTWISE_API(Logistic, culoss::LogisticOp, culoss::kNames, (float pos_weight,), (pos_weight,))
