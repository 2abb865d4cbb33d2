// The three elementwise losses (sigmoid focal, smooth L1, Huber) behind one call: their entry
// points take the same arguments but for the loss's own options, so a test names the loss and its
// options once and drives any entry point of any of them (test_elementwise, calls.h, the
// conformance runner).
#pragma once

#include <cstddef>
#include <cstdint>

#include "culoss/culoss.h"
#include "test_support.h"

namespace elementwise {

enum class Loss { SigmoidFocal, SmoothL1, Huber };

struct Options {
    Loss loss;
    float a;  // sigmoid focal: alpha; smooth L1: beta; Huber: delta
    float b;  // sigmoid focal: gamma
};

inline const char* loss_name(Loss l) {
    return l == Loss::SigmoidFocal ? "sigmoid_focal" : l == Loss::SmoothL1 ? "smooth_l1" : "huber";
}

// Smooth L1 and Huber have the same signature (one option), so one table serves both.
struct OneOptionLoss {
    culossStatus_t (*workspace_size)(int64_t, culossDataType_t, culossReduction_t, size_t*);
    culossStatus_t (*forward)(const float*, const float*, int64_t, culossDataType_t, float, culossReduction_t, float*,
                              void*, size_t, culossStream_t);
    culossStatus_t (*backward)(const float*, const float*, int64_t, culossDataType_t, float, culossReduction_t,
                               const float*, float*, void*, size_t, culossStream_t);
    culossStatus_t (*fused)(const float*, const float*, int64_t, culossDataType_t, float, culossReduction_t,
                            const float*, float*, float*, void*, size_t, culossStream_t);
};

inline const OneOptionLoss& one_option_loss(Loss l) {
    static const OneOptionLoss smooth_l1{culossSmoothL1WorkspaceSize, culossSmoothL1Forward, culossSmoothL1Backward,
                                         culossSmoothL1ForwardBackward};
    static const OneOptionLoss huber{culossHuberWorkspaceSize, culossHuberForward, culossHuberBackward,
                                     culossHuberForwardBackward};
    return l == Loss::SmoothL1 ? smooth_l1 : huber;
}

inline culossStatus_t workspace_size(Loss l, int64_t count, culossDataType_t dtype, culossReduction_t r,
                                     size_t* bytes) {
    if (l == Loss::SigmoidFocal) return culossSigmoidFocalWorkspaceSize(count, dtype, r, bytes);
    return one_option_loss(l).workspace_size(count, dtype, r, bytes);
}

// One entry point (not Update) on test::stream(). The forward ignores gout and grad, the backward
// loss.
inline culossStatus_t call(test::Entry e, const Options& o, culossDataType_t dtype, const float* x, const float* t,
                           int64_t count, culossReduction_t r, const float* gout, float* loss, float* grad, void* ws,
                           size_t ws_bytes) {
    const culossStream_t st = test::stream();
    if (o.loss == Loss::SigmoidFocal) {
        if (e == test::Entry::Forward)
            return culossSigmoidFocalForward(x, t, count, dtype, o.a, o.b, r, loss, ws, ws_bytes, st);
        if (e == test::Entry::Backward)
            return culossSigmoidFocalBackward(x, t, count, dtype, o.a, o.b, r, gout, grad, ws, ws_bytes, st);
        return culossSigmoidFocalForwardBackward(x, t, count, dtype, o.a, o.b, r, gout, loss, grad, ws, ws_bytes, st);
    }
    const OneOptionLoss& api = one_option_loss(o.loss);
    if (e == test::Entry::Forward) return api.forward(x, t, count, dtype, o.a, r, loss, ws, ws_bytes, st);
    if (e == test::Entry::Backward) return api.backward(x, t, count, dtype, o.a, r, gout, grad, ws, ws_bytes, st);
    return api.fused(x, t, count, dtype, o.a, r, gout, loss, grad, ws, ws_bytes, st);
}

}  // namespace elementwise
