// The L1 and L2 penalties of a training objective (the regularizer of its structural risk) over a
// parameter buffer: forward (one summed value), backward and fused, through the elementwise driver
// with the parameters as its one input (handed to it as both x and t; the functors read x only).
//
//   L1: lambda |w|,      gradient lambda sign(w), sign(0) = sign(NaN) = 0 (torch.sign's)
//   L2: lambda / 2 w^2,  gradient lambda w
//
// Each element's penalty is formed in double and rounded once: w^2 overflows a float for
// |w| > 1.8e19, where lambda / 2 w^2 with a small lambda still fits. The driver adds the elements'
// penalties in double in a fixed order (reduce.cuh), so the loss has the same bits on every run.
#include "elementwise.cuh"

namespace culoss {
namespace {

struct L1PenaltyOp {
    float lambda;

    template <bool LOSS, bool GRAD>
    __device__ __forceinline__ elementwise::Value eval(float w, float) const {
        elementwise::Value v{0.f, 0.f};
        if constexpr (LOSS) v.loss = float(double(lambda) * double(fabsf(w)));
        // PyTorch's sign (torch.abs's gradient): 0 at 0 and for NaN, whose loss is NaN (as l1.cu).
        if constexpr (GRAD) v.grad = w > 0.f ? lambda : w < 0.f ? -lambda : 0.f;
        return v;
    }
};

struct L2PenaltyOp {
    float lambda;

    template <bool LOSS, bool GRAD>
    __device__ __forceinline__ elementwise::Value eval(float w, float) const {
        elementwise::Value v{0.f, 0.f};
        if constexpr (LOSS) v.loss = float(0.5 * double(lambda) * double(w) * double(w));
        if constexpr (GRAD) v.grad = lambda * w;
        return v;
    }
};

constexpr elementwise::Names kNames{"params", "params", "grad_params"};

culossStatus_t check_lambda(float lambda) {
    CULOSS_REQUIRE(std::isfinite(lambda), CULOSS_STATUS_INVALID_VALUE, "lambda (%g) is not finite", double(lambda));
    return CULOSS_STATUS_SUCCESS;
}

// One entry point: the loss (SUM of the elements' penalties) and/or the gradient, whose upstream
// gradient is the one value grad_output (null: 1).
template <class Op>
culossStatus_t run(const float* params, int64_t count, float lambda, const float* grad_output, float* loss,
                   float* grad, bool want_loss, bool want_grad, void* workspace, size_t workspace_bytes,
                   culossStream_t stream) {
    clear_detail();
    CULOSS_TRY(check_lambda(lambda));
    return elementwise::run(kNames, Op{lambda}, params, params, count, CULOSS_REDUCTION_SUM, grad_output, loss, grad,
                            want_loss, want_grad, workspace, workspace_bytes, stream);
}

}  // namespace
}  // namespace culoss

// The four entry points of a penalty, from its functor.
#define CULOSS_PENALTY_API(Name, Op)                                                                           \
    extern "C" culossStatus_t culoss##Name##WorkspaceSize(int64_t count, culossDataType_t dtype, size_t* bytes) { \
        CULOSS_REQUIRE_FLOAT32(dtype);                                                                          \
        ::culoss::clear_detail();                                                                               \
        return ::culoss::elementwise::check_workspace_query(count, CULOSS_REDUCTION_SUM, bytes);                \
    }                                                                                                           \
    extern "C" culossStatus_t culoss##Name##Forward(const float* params, int64_t count, culossDataType_t dtype, \
                                                    float lambda, float* loss, void* workspace,                 \
                                                    size_t workspace_bytes, culossStream_t stream) {            \
        CULOSS_REQUIRE_FLOAT32(dtype);                                                                          \
        return ::culoss::run<Op>(params, count, lambda, nullptr, loss, nullptr, true, false, workspace,         \
                                 workspace_bytes, stream);                                                      \
    }                                                                                                           \
    extern "C" culossStatus_t culoss##Name##Backward(const float* params, int64_t count, culossDataType_t dtype, \
                                                     float lambda, const float* grad_output, float* grad_params, \
                                                     void* workspace, size_t workspace_bytes,                   \
                                                     culossStream_t stream) {                                   \
        CULOSS_REQUIRE_FLOAT32(dtype);                                                                          \
        return ::culoss::run<Op>(params, count, lambda, grad_output, nullptr, grad_params, false, true,         \
                                 workspace, workspace_bytes, stream);                                           \
    }                                                                                                           \
    extern "C" culossStatus_t culoss##Name##ForwardBackward(                                                    \
        const float* params, int64_t count, culossDataType_t dtype, float lambda, const float* grad_output,    \
        float* loss, float* grad_params, void* workspace, size_t workspace_bytes, culossStream_t stream) {     \
        CULOSS_REQUIRE_FLOAT32(dtype);                                                                          \
        return ::culoss::run<Op>(params, count, lambda, grad_output, loss, grad_params, true, true, workspace,   \
                                 workspace_bytes, stream);                                                      \
    }

CULOSS_PENALTY_API(L1Penalty, culoss::L1PenaltyOp)
CULOSS_PENALTY_API(L2Penalty, culoss::L2PenaltyOp)
