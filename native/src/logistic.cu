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

// The same loss with PyTorch's tensor weights: a per-element weight w_i multiplying the element's
// loss and gradient, and a per-class pos_weight p_{i mod classes} (the last dimension, as PyTorch
// broadcasts a [C] pos_weight) in place of the scalar. The driver hands the functor the element's
// index; the weights are read once per element, beside x and t.
namespace culoss {
namespace {

struct WeightedLogisticOp {
    static constexpr bool kIndexed = true;
    const float* weight;      // count values, or null (1)
    const float* pos_weight;  // classes values, or null (1)
    int64_t classes;

    template <bool LOSS, bool GRAD>
    __device__ __forceinline__ elementwise::Value eval(float x, float t, int64_t i) const {
        const float p = pos_weight ? __ldg(pos_weight + i % classes) : 1.f;
        elementwise::Value v = LogisticOp{p}.template eval<LOSS, GRAD>(x, t);
        if (weight) {
            const float w = __ldg(weight + i);
            v.loss *= w;
            v.grad *= w;
        }
        return v;
    }
};

culossStatus_t run_weighted(const float* x, const float* t, const float* weight, const float* pos_weight,
                            int64_t count, int64_t classes, culossReduction_t reduction, const float* grad_output,
                            float* loss, float* grad, bool want_loss, bool want_grad, void* workspace,
                            size_t workspace_size, culossStream_t stream) {
    clear_detail();
    CULOSS_REQUIRE(classes >= 1, CULOSS_STATUS_INVALID_VALUE, "classes (%lld) is less than 1", (long long)classes);
    CULOSS_REQUIRE(count >= 0, CULOSS_STATUS_INVALID_VALUE, "count (%lld) is negative", (long long)count);
    CULOSS_REQUIRE(count % classes == 0, CULOSS_STATUS_INVALID_VALUE,
                   "count (%lld) is not a multiple of classes (%lld)", (long long)count, (long long)classes);
    const WeightedLogisticOp op{weight, pos_weight, classes};
    return elementwise::run(kNames, op, x, t, count, reduction, grad_output, loss, grad, want_loss, want_grad, workspace,
                            workspace_size, stream,
                            {{"weight", weight, count}, {"pos_weight", pos_weight, count > 0 ? classes : 0}});
}

}  // namespace
}  // namespace culoss

extern "C" {

culossStatus_t culossLogisticWeightedWorkspaceSize(int64_t count, culossDataType_t dtype, culossReduction_t reduction,
                                                   size_t* bytes) {
    CULOSS_REQUIRE_FLOAT32(dtype);
    culoss::clear_detail();
    return culoss::elementwise::check_workspace_query(count, reduction, bytes);
}

culossStatus_t culossLogisticWeightedForward(const float* logits, const float* targets, const float* weight,
                                             const float* pos_weight, int64_t count, int64_t classes,
                                             culossDataType_t dtype, culossReduction_t reduction, float* loss,
                                             void* workspace, size_t workspace_bytes, culossStream_t stream) {
    CULOSS_REQUIRE_FLOAT32(dtype);
    return culoss::run_weighted(logits, targets, weight, pos_weight, count, classes, reduction, nullptr, loss, nullptr,
                                true, false, workspace, workspace_bytes, stream);
}

culossStatus_t culossLogisticWeightedBackward(const float* logits, const float* targets, const float* weight,
                                              const float* pos_weight, int64_t count, int64_t classes,
                                              culossDataType_t dtype, culossReduction_t reduction,
                                              const float* grad_output, float* grad_logits, void* workspace,
                                              size_t workspace_bytes, culossStream_t stream) {
    CULOSS_REQUIRE_FLOAT32(dtype);
    return culoss::run_weighted(logits, targets, weight, pos_weight, count, classes, reduction, grad_output, nullptr,
                                grad_logits, false, true, workspace, workspace_bytes, stream);
}

culossStatus_t culossLogisticWeightedForwardBackward(const float* logits, const float* targets, const float* weight,
                                                     const float* pos_weight, int64_t count, int64_t classes,
                                                     culossDataType_t dtype, culossReduction_t reduction,
                                                     const float* grad_output, float* loss, float* grad_logits,
                                                     void* workspace, size_t workspace_bytes, culossStream_t stream) {
    CULOSS_REQUIRE_FLOAT32(dtype);
    return culoss::run_weighted(logits, targets, weight, pos_weight, count, classes, reduction, grad_output, loss,
                                grad_logits, true, true, workspace, workspace_bytes, stream);
}

}  // extern "C"
