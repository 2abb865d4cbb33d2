// Smooth L1 and Huber losses (F.smooth_l1_loss, F.huber_loss): forward, backward and fused,
// through the elementwise driver. Huber(delta) = delta * SmoothL1(beta = delta), but each keeps
// PyTorch's own float expression (but for the order of one product, below), so the results match
// PyTorch's to the rounding:
//   smooth L1: z < beta  ? 0.5 z (z / beta) : z - 0.5 beta,         z = |input - target|
//   Huber:     z < delta ? 0.5 z z        : delta (z - 0.5 delta)
// and PyTorch's gradient at the boundaries: d <= -beta gives -1, d >= beta gives 1 (Huber: -delta,
// delta), so |d| == beta takes the linear branch. beta = 0 is the L1 loss with sign(0) = 0, as
// PyTorch >= 2.1 (which calls l1_loss there); 1.13's kernel gives -1 at d = 0.
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

culossStatus_t make_op(float beta, SmoothL1Op* op) {
    clear_detail();
    CULOSS_REQUIRE(beta >= 0.f, CULOSS_STATUS_INVALID_VALUE, "beta (%g) is negative or NaN", double(beta));
    op->beta = beta;
    return CULOSS_STATUS_SUCCESS;
}

culossStatus_t make_op(float delta, HuberOp* op) {
    clear_detail();
    CULOSS_REQUIRE(delta > 0.f, CULOSS_STATUS_INVALID_VALUE, "delta (%g) is not positive", double(delta));
    op->delta = delta;
    return CULOSS_STATUS_SUCCESS;
}

template <class Op>
culossStatus_t forward(const float* input, const float* target, int64_t count, float option,
                       culossReduction_t reduction, float* loss, void* workspace, size_t workspace_bytes,
                       culossStream_t stream) {
    Op op;
    const culossStatus_t st = make_op(option, &op);
    if (st != CULOSS_STATUS_SUCCESS) return st;
    return elementwise::run(kNames, op, input, target, count, reduction, nullptr, loss, nullptr, true, false,
                            workspace, workspace_bytes, stream);
}

template <class Op>
culossStatus_t backward(const float* input, const float* target, int64_t count, float option,
                        culossReduction_t reduction, const float* grad_output, float* grad_input, void* workspace,
                        size_t workspace_bytes, culossStream_t stream) {
    Op op;
    const culossStatus_t st = make_op(option, &op);
    if (st != CULOSS_STATUS_SUCCESS) return st;
    return elementwise::run(kNames, op, input, target, count, reduction, grad_output, nullptr, grad_input, false,
                            true, workspace, workspace_bytes, stream);
}

template <class Op>
culossStatus_t forward_backward(const float* input, const float* target, int64_t count, float option,
                                culossReduction_t reduction, const float* grad_output, float* loss,
                                float* grad_input, void* workspace, size_t workspace_bytes, culossStream_t stream) {
    Op op;
    const culossStatus_t st = make_op(option, &op);
    if (st != CULOSS_STATUS_SUCCESS) return st;
    return elementwise::run(kNames, op, input, target, count, reduction, grad_output, loss, grad_input, true, true,
                            workspace, workspace_bytes, stream);
}

}  // namespace
}  // namespace culoss

extern "C" {

culossStatus_t culossSmoothL1WorkspaceSize(int64_t count,
                                           culossDataType_t dtype, culossReduction_t reduction, size_t* bytes) {
    CULOSS_REQUIRE_FLOAT32(dtype);
    culoss::clear_detail();
    return culoss::elementwise::check_workspace_query(count, reduction, bytes);
}

culossStatus_t culossSmoothL1Forward(const float* input, const float* target, int64_t count,
                                     culossDataType_t dtype, float beta,
                                     culossReduction_t reduction, float* loss, void* workspace,
                                     size_t workspace_bytes, culossStream_t stream) {
    CULOSS_REQUIRE_FLOAT32(dtype);
    return culoss::forward<culoss::SmoothL1Op>(input, target, count, beta, reduction, loss, workspace,
                                               workspace_bytes, stream);
}

culossStatus_t culossSmoothL1Backward(const float* input, const float* target, int64_t count,
                                      culossDataType_t dtype, float beta,
                                      culossReduction_t reduction, const float* grad_output, float* grad_input,
                                      void* workspace, size_t workspace_bytes, culossStream_t stream) {
    CULOSS_REQUIRE_FLOAT32(dtype);
    return culoss::backward<culoss::SmoothL1Op>(input, target, count, beta, reduction, grad_output, grad_input,
                                                workspace, workspace_bytes, stream);
}

culossStatus_t culossSmoothL1ForwardBackward(const float* input, const float* target, int64_t count,
                                             culossDataType_t dtype, float beta,
                                             culossReduction_t reduction, const float* grad_output, float* loss,
                                             float* grad_input, void* workspace, size_t workspace_bytes,
                                             culossStream_t stream) {
    CULOSS_REQUIRE_FLOAT32(dtype);
    return culoss::forward_backward<culoss::SmoothL1Op>(input, target, count, beta, reduction, grad_output, loss,
                                                        grad_input, workspace, workspace_bytes, stream);
}

culossStatus_t culossHuberWorkspaceSize(int64_t count,
                                        culossDataType_t dtype, culossReduction_t reduction, size_t* bytes) {
    CULOSS_REQUIRE_FLOAT32(dtype);
    culoss::clear_detail();
    return culoss::elementwise::check_workspace_query(count, reduction, bytes);
}

culossStatus_t culossHuberForward(const float* input, const float* target, int64_t count,
                                  culossDataType_t dtype, float delta,
                                  culossReduction_t reduction, float* loss, void* workspace, size_t workspace_bytes,
                                  culossStream_t stream) {
    CULOSS_REQUIRE_FLOAT32(dtype);
    return culoss::forward<culoss::HuberOp>(input, target, count, delta, reduction, loss, workspace,
                                            workspace_bytes, stream);
}

culossStatus_t culossHuberBackward(const float* input, const float* target, int64_t count,
                                   culossDataType_t dtype, float delta,
                                   culossReduction_t reduction, const float* grad_output, float* grad_input,
                                   void* workspace, size_t workspace_bytes, culossStream_t stream) {
    CULOSS_REQUIRE_FLOAT32(dtype);
    return culoss::backward<culoss::HuberOp>(input, target, count, delta, reduction, grad_output, grad_input,
                                             workspace, workspace_bytes, stream);
}

culossStatus_t culossHuberForwardBackward(const float* input, const float* target, int64_t count,
                                          culossDataType_t dtype, float delta,
                                          culossReduction_t reduction, const float* grad_output, float* loss,
                                          float* grad_input, void* workspace, size_t workspace_bytes,
                                          culossStream_t stream) {
    CULOSS_REQUIRE_FLOAT32(dtype);
    return culoss::forward_backward<culoss::HuberOp>(input, target, count, delta, reduction, grad_output, loss,
                                                     grad_input, workspace, workspace_bytes, stream);
}

}  // extern "C"
