// A catalog of valid calls to every loss entry point, for the tests that treat the entry points
// alike (test_runtime_errors: a failing runtime under each of them; test_aliasing: every alias
// the header allows against the same call without it). A call owns its device buffers; reset()
// puts back everything it writes, run() queues it on test::stream(), outputs() reads (after a
// sync) everything it wrote, as floats (int32 error words converted).
//
// The shapes cover each kernel path: a warp or lane group per row and a block per row, 16-byte
// and scalar loads (an offset of one float makes every pointer unaligned).
#pragma once

#include <algorithm>
#include <cstring>
#include <functional>
#include <map>
#include <type_traits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "culoss/culoss.h"
#include "elementwise_losses.h"
#include "test_support.h"

namespace calls {

using test::Entry;
using test::entry_name;

// The data type every call of the catalog passes: float32, or a reserved one to check that each
// entry point refuses it.
inline culossDataType_t data_type = CULOSS_DATA_FLOAT32;

inline const char* reduction_name(culossReduction_t r) {
    return r == CULOSS_REDUCTION_NONE ? "none" : r == CULOSS_REDUCTION_SUM ? "sum" : "mean";
}

// A device buffer with its pristine contents, so that a call can be run again from the start.
template <class T>
struct Tensor {
    std::vector<T> init;
    std::unique_ptr<test::DeviceBuffer<T>> buf;
    int64_t offset = 0;  // elements before the tensor's first element

    Tensor(std::vector<T> values, int64_t off) : offset(off) {
        init.assign(off, T(0));
        init.insert(init.end(), values.begin(), values.end());
        buf = std::make_unique<test::DeviceBuffer<T>>(init);
    }
    T* get() const { return buf->get() + offset; }
    void reset() const { buf->write(init); }
    std::vector<float> read() const {
        const std::vector<T> all = buf->read();
        return std::vector<float>(all.begin() + offset, all.end());
    }
};

struct Call {
    std::string name;
    std::function<culossStatus_t()> run;
    std::function<void()> reset;
    std::function<std::vector<float>()> outputs;
};

// The buffers of one call, shared by the lambdas of its Call. The outputs are read in the order
// of their roles ("1 loss", "2 grad", ...), whichever buffer holds them, so that a call whose
// output overwrites an input compares with the same call without the alias.
struct Store {
    std::vector<std::unique_ptr<Tensor<float>>> floats;
    std::vector<std::unique_ptr<Tensor<int32_t>>> ints;
    std::map<std::string, const Tensor<float>*> out_f;
    std::map<std::string, const Tensor<int32_t>*> out_i;

    Tensor<float>* f(std::vector<float> v, int64_t offset) {
        floats.push_back(std::make_unique<Tensor<float>>(std::move(v), offset));
        return floats.back().get();
    }
    Tensor<int32_t>* i(std::vector<int32_t> v, int64_t offset) {
        ints.push_back(std::make_unique<Tensor<int32_t>>(std::move(v), offset));
        return ints.back().get();
    }
    // `t` is written by the call, as its output `role`.
    template <class T>
    T* out(const std::string& role, T* t) {
        if constexpr (std::is_same_v<T, Tensor<float>>) out_f[role] = t;
        else out_i[role] = t;
        return t;
    }
    void reset() const {
        for (auto& [role, t] : out_f) t->reset();
        for (auto& [role, t] : out_i) t->reset();
    }
    std::vector<float> outputs() const {
        std::vector<float> all;
        for (auto& [role, t] : out_f) {
            const std::vector<float> v = t->read();
            all.insert(all.end(), v.begin(), v.end());
        }
        for (auto& [role, t] : out_i) {
            const std::vector<float> v = t->read();
            all.insert(all.end(), v.begin(), v.end());
        }
        return all;
    }
};

inline Call make_call(std::string name, std::shared_ptr<Store> store, std::function<culossStatus_t()> run) {
    Call c;
    c.name = std::move(name);
    c.run = std::move(run);
    c.reset = [store] { store->reset(); };
    c.outputs = [store] { return store->outputs(); };
    return c;
}

// Runs `call` from its pristine buffers and returns what it wrote.
inline std::vector<float> run(test::Context& t, const Call& call) {
    call.reset();
    t.check_status(call.run(), call.name);
    t.check_status(culossStreamSynchronize(test::stream()), call.name + " sync");
    return call.outputs();
}

// The call whose output overwrites an input gives the bits of the same call without the alias.
inline void expect_same(test::Context& t, const Call& aliased, const Call& plain) {
    const std::vector<float> a = run(t, aliased), b = run(t, plain);
    const bool same = test::same_bits(a, b);
    size_t first = 0;
    while (!same && first < std::min(a.size(), b.size()) && std::memcmp(&a[first], &b[first], sizeof(float)) == 0) ++first;
    t.expect(same, aliased.name + ": differs from the call without the alias" +
                       (same ? "" : " at output element " + std::to_string(first) + " (" +
                                        (first < a.size() ? std::to_string(a[first]) : "-") + " vs " +
                                        (first < b.size() ? std::to_string(b[first]) : "-") + ")"));
}

inline std::vector<float> normal(std::mt19937& rng, int64_t count, float sigma = 2.f) {
    std::normal_distribution<float> d(0.f, sigma);
    std::vector<float> v(count);
    for (float& x : v) x = d(rng);
    return v;
}

inline std::vector<float> uniform(std::mt19937& rng, int64_t count, float lo, float hi) {
    std::uniform_real_distribution<float> d(lo, hi);
    std::vector<float> v(count);
    for (float& x : v) x = d(rng);
    return v;
}

inline std::vector<int32_t> labels(std::mt19937& rng, int64_t count, int32_t classes) {
    std::uniform_int_distribution<int32_t> d(0, classes - 1);
    std::vector<int32_t> v(count);
    for (int32_t& y : v) y = d(rng);
    return v;
}

// ------------------------------------------------------------------------------------------
// Softmax cross-entropy (class weights, ignore_index, label smoothing; or soft targets, with
// weights and smoothing), softmax focal (per-class alpha, gamma 2), multi-class hinge and the
// class-distance weighted cross-entropy.
// in_place: grad_logits is logits.

enum class RowLoss { CrossEntropy, Focal, MulticlassHinge, CrossEntropyProbs, InterclassDistance };

inline constexpr RowLoss kRowLosses[] = {RowLoss::CrossEntropy, RowLoss::Focal, RowLoss::MulticlassHinge,
                                         RowLoss::CrossEntropyProbs, RowLoss::InterclassDistance};

inline const char* row_loss_name(RowLoss loss) {
    switch (loss) {
        case RowLoss::CrossEntropy: return "softmax_cross_entropy";
        case RowLoss::Focal: return "softmax_focal";
        case RowLoss::MulticlassHinge: return "multiclass_hinge";
        case RowLoss::InterclassDistance: return "interclass_distance";
        default: return "softmax_cross_entropy (target_probs)";
    }
}

inline Call row_call(RowLoss loss, Entry e, culossReduction_t r, int64_t n, int64_t c, int64_t offset, bool in_place,
                     uint32_t seed) {
    auto s = std::make_shared<Store>();
    std::mt19937 rng(seed);
    const bool grad = e != Entry::Forward;
    auto* x = s->f(normal(rng, n * c), offset);
    std::vector<int32_t> y = labels(rng, n, int32_t(c));
    if (n > 2) y[1] = -100;  // an ignored row (for multi-class hinge, which ignores none, a bad one)
    auto* t = s->i(y, offset);
    auto* probs = s->f(uniform(rng, n * c, -0.25f, 1.f), offset);
    auto* w = s->f(uniform(rng, c, 0.2f, 2.f), offset);
    auto* gout = s->f(uniform(rng, n, -1.f, 1.f), offset);
    auto* out = s->f(std::vector<float>(test::loss_length(r, n), -7.f), offset);
    if (e != Entry::Backward) s->out("1 loss", out);
    auto* g = in_place ? x : s->f(std::vector<float>(n * c, 12345.f), offset);
    if (grad) s->out("2 grad", g);
    auto* err = s->out("3 error word", s->i({0}, 0));
    size_t ws_bytes = 0;
    if (loss == RowLoss::CrossEntropy) culossSoftmaxCrossEntropyWorkspaceSize(n, c, calls::data_type, r, &ws_bytes);
    else if (loss == RowLoss::CrossEntropyProbs)
        culossSoftmaxCrossEntropyProbsWorkspaceSize(n, c, calls::data_type, r, &ws_bytes);
    else if (loss == RowLoss::Focal) culossSoftmaxFocalWorkspaceSize(n, c, calls::data_type, r, &ws_bytes);
    else if (loss == RowLoss::InterclassDistance)
        culossInterclassDistanceWorkspaceSize(n, c, calls::data_type, r, &ws_bytes);
    else culossMulticlassHingeWorkspaceSize(n, c, calls::data_type, r, &ws_bytes);
    auto* ws = s->f(std::vector<float>(ws_bytes / 4 + 4, 0.f), 0);
    const float* go = r == CULOSS_REDUCTION_NONE ? gout->get() : nullptr;
    const std::string name = std::string(row_loss_name(loss)) + " " +
                             entry_name(e) + " " + reduction_name(r) + " n=" + std::to_string(n) + " c=" +
                             std::to_string(c) + " offset=" + std::to_string(offset) + (in_place ? " in place" : "");
    return make_call(name, s, [=]() {
        void* wsp = ws->get();
        if (loss == RowLoss::CrossEntropy) {
            const float eps = 0.1f;
            switch (e) {
                case Entry::Forward:
                    return culossSoftmaxCrossEntropyForward(x->get(), c, t->get(), n, c, calls::data_type, w->get(),
                                                            -100, eps, r,
                                                            out->get(), wsp, ws_bytes, err->get(), test::stream());
                case Entry::Backward:
                    return culossSoftmaxCrossEntropyBackward(x->get(), c, t->get(), n, c, calls::data_type, w->get(),
                                                             -100, eps, r, go,
                                                             g->get(), c, wsp, ws_bytes, err->get(), test::stream());
                default:
                    return culossSoftmaxCrossEntropyForwardBackward(x->get(), c, t->get(), n, c, calls::data_type,
                                                                    w->get(), -100, eps,
                                                                    r, go, out->get(), g->get(), c, wsp, ws_bytes,
                                                                    err->get(), test::stream());
            }
        }
        if (loss == RowLoss::CrossEntropyProbs) {
            const float eps = 0.1f;
            switch (e) {
                case Entry::Forward:
                    return culossSoftmaxCrossEntropyProbsForward(x->get(), c, probs->get(), n, c, calls::data_type,
                                                                 w->get(), eps, r, out->get(), wsp, ws_bytes,
                                                                 test::stream());
                case Entry::Backward:
                    return culossSoftmaxCrossEntropyProbsBackward(x->get(), c, probs->get(), n, c, calls::data_type,
                                                                  w->get(), eps, r, go, g->get(), c, wsp, ws_bytes,
                                                                  test::stream());
                default:
                    return culossSoftmaxCrossEntropyProbsForwardBackward(x->get(), c, probs->get(), n, c,
                                                                         calls::data_type, w->get(), eps, r, go,
                                                                         out->get(), g->get(), c, wsp, ws_bytes,
                                                                         test::stream());
            }
        }
        if (loss == RowLoss::InterclassDistance) {
            switch (e) {
                case Entry::Forward:
                    return culossInterclassDistanceForward(x->get(), c, t->get(), n, c, calls::data_type, r,
                                                           out->get(), wsp, ws_bytes, err->get(), test::stream());
                case Entry::Backward:
                    return culossInterclassDistanceBackward(x->get(), c, t->get(), n, c, calls::data_type, r, go,
                                                            g->get(), c, wsp, ws_bytes, err->get(), test::stream());
                default:
                    return culossInterclassDistanceForwardBackward(x->get(), c, t->get(), n, c, calls::data_type, r,
                                                                   go, out->get(), g->get(), c, wsp, ws_bytes,
                                                                   err->get(), test::stream());
            }
        }
        if (loss == RowLoss::MulticlassHinge) {
            const float margin = 1.f;
            const int p = c % 2 == 0 ? 2 : 1;  // both powers over the tests' shapes
            switch (e) {
                case Entry::Forward:
                    return culossMulticlassHingeForward(x->get(), c, t->get(), n, c, calls::data_type, w->get(), margin,
                                                        p, r, out->get(), wsp, ws_bytes, err->get(), test::stream());
                case Entry::Backward:
                    return culossMulticlassHingeBackward(x->get(), c, t->get(), n, c, calls::data_type, w->get(),
                                                         margin, p, r, go, g->get(), c, wsp, ws_bytes, err->get(),
                                                         test::stream());
                default:
                    return culossMulticlassHingeForwardBackward(x->get(), c, t->get(), n, c, calls::data_type, w->get(),
                                                                margin, p, r, go, out->get(), g->get(), c, wsp,
                                                                ws_bytes, err->get(), test::stream());
            }
        }
        switch (e) {
            case Entry::Forward:
                return culossSoftmaxFocalForward(x->get(), c, t->get(), n, c, calls::data_type, w->get(), 0.f, 2.f,
                                                 -100, r, out->get(),
                                                 wsp, ws_bytes, err->get(), test::stream());
            case Entry::Backward:
                return culossSoftmaxFocalBackward(x->get(), c, t->get(), n, c, calls::data_type, w->get(), 0.f, 2.f,
                                                  -100, r, go,
                                                  g->get(), c, wsp, ws_bytes, err->get(), test::stream());
            default:
                return culossSoftmaxFocalForwardBackward(x->get(), c, t->get(), n, c, calls::data_type, w->get(), 0.f,
                                                         2.f, -100, r, go,
                                                         out->get(), g->get(), c, wsp, ws_bytes, err->get(),
                                                         test::stream());
        }
    });
}

// ------------------------------------------------------------------------------------------
// The elementwise losses. alias: which input an output overwrites (the header allows an output
// to be the same pointer as an input).

using Elementwise = elementwise::Loss;
enum class Alias {
    None,
    GradOverInput,
    GradOverTarget,
    LossOverInput,
    LossOverTarget,
    GradOverInputLossOverTarget,
    GradOverGradOutput,  // NONE: grad_output has count values
    LossOverGradOutput,  // fused NONE
};

inline const char* alias_name(Alias a) {
    switch (a) {
        case Alias::None: return "";
        case Alias::GradOverInput: return " grad over input";
        case Alias::GradOverTarget: return " grad over target";
        case Alias::LossOverInput: return " loss over input";
        case Alias::LossOverTarget: return " loss over target";
        case Alias::GradOverInputLossOverTarget: return " grad over input, loss over target";
        case Alias::GradOverGradOutput: return " grad over grad_output";
        case Alias::LossOverGradOutput: return " loss over grad_output";
    }
    return "";
}

inline Call elementwise_call(Elementwise loss, Entry e, culossReduction_t r, int64_t count, int64_t offset, Alias alias,
                             uint32_t seed) {
    auto s = std::make_shared<Store>();
    std::mt19937 rng(seed);
    const bool grad = e != Entry::Forward;
    const bool per_element_loss = e != Entry::Backward && r == CULOSS_REDUCTION_NONE;
    auto* x = s->f(normal(rng, count), offset);
    auto* t = s->f(loss == Elementwise::SigmoidFocal ? uniform(rng, count, 0.f, 1.f) : normal(rng, count), offset);
    auto* gout = s->f(uniform(rng, count, -1.f, 1.f), offset);
    Tensor<float>* out = nullptr;
    if (alias == Alias::LossOverInput && per_element_loss) out = x;
    else if ((alias == Alias::LossOverTarget || alias == Alias::GradOverInputLossOverTarget) && per_element_loss) out = t;
    else if (alias == Alias::LossOverGradOutput && per_element_loss) out = gout;
    else out = s->f(std::vector<float>(test::loss_length(r, count), -7.f), offset);
    if (e != Entry::Backward) s->out("1 loss", out);
    Tensor<float>* g = nullptr;
    if (alias == Alias::GradOverInput || alias == Alias::GradOverInputLossOverTarget) g = x;
    else if (alias == Alias::GradOverTarget) g = t;
    else if (alias == Alias::GradOverGradOutput) g = gout;
    else g = s->f(std::vector<float>(count, 12345.f), offset);
    if (grad) s->out("2 grad", g);
    size_t ws_bytes = 0;
    elementwise::workspace_size(loss, count, calls::data_type, r, &ws_bytes);
    auto* ws = s->f(std::vector<float>(ws_bytes / 4 + 4, 0.f), 0);
    const float* go = r == CULOSS_REDUCTION_NONE ? gout->get() : nullptr;
    const std::string name = elementwise::loss_name(loss) + std::string(" ") + entry_name(e) + " " +
                             reduction_name(r) + " count=" + std::to_string(count) + " offset=" +
                             std::to_string(offset) + alias_name(alias);
    // Sigmoid focal: alpha 0.25, gamma 2; smooth L1: beta 0.7; Huber: delta 1.3.
    const float option = loss == Elementwise::SmoothL1 ? 0.7f : loss == Elementwise::Huber ? 1.3f : 0.25f;
    const elementwise::Options options{loss, option, 2.f};
    return make_call(name, s, [=]() {
        return elementwise::call(e, options, calls::data_type, x->get(), t->get(), count, r, go, out->get(), g->get(),
                                 ws->get(), ws_bytes);
    });
}

// ------------------------------------------------------------------------------------------
// Triplet margin (p = 2, swap). No output may overlap an input.

inline Call triplet_call(Entry e, culossReduction_t r, int64_t n, int64_t d, int64_t offset, uint32_t seed) {
    auto s = std::make_shared<Store>();
    std::mt19937 rng(seed);
    const bool grad = e != Entry::Forward;
    auto* a = s->f(normal(rng, n * d), offset);
    auto* p = s->f(normal(rng, n * d), offset);
    auto* ng = s->f(normal(rng, n * d), offset);
    auto* gout = s->f(uniform(rng, n, -1.f, 1.f), offset);
    auto* out = s->f(std::vector<float>(test::loss_length(r, n), -7.f), offset);
    if (e != Entry::Backward) s->out("1 loss", out);
    auto* ga = s->f(std::vector<float>(n * d, 12345.f), offset);
    auto* gp = s->f(std::vector<float>(n * d, 12345.f), offset);
    auto* gn = s->f(std::vector<float>(n * d, 12345.f), offset);
    if (grad) {
        s->out("2 grad_anchor", ga);
        s->out("3 grad_positive", gp);
        s->out("4 grad_negative", gn);
    }
    size_t ws_bytes = 0;
    culossTripletMarginWorkspaceSize(n, d, calls::data_type, r, &ws_bytes);
    auto* ws = s->f(std::vector<float>(ws_bytes / 4 + 4, 0.f), 0);
    const float* go = r == CULOSS_REDUCTION_NONE ? gout->get() : nullptr;
    const std::string name = std::string("triplet_margin ") + entry_name(e) + " " + reduction_name(r) +
                             " n=" + std::to_string(n) + " d=" + std::to_string(d) + " offset=" + std::to_string(offset);
    return make_call(name, s, [=]() {
        const float margin = 1.f, pn = 2.f, eps = 1e-6f;
        if (e == Entry::Forward)
            return culossTripletMarginForward(a->get(), p->get(), ng->get(), n, d, calls::data_type, margin, pn, eps,
                                              1, r, out->get(),
                                              ws->get(), ws_bytes, test::stream());
        if (e == Entry::Backward)
            return culossTripletMarginBackward(a->get(), p->get(), ng->get(), n, d, calls::data_type, margin, pn, eps,
                                               1, r, go, ga->get(),
                                               gp->get(), gn->get(), ws->get(), ws_bytes, test::stream());
        return culossTripletMarginForwardBackward(a->get(), p->get(), ng->get(), n, d, calls::data_type, margin, pn,
                                                  eps, 1, r, go,
                                                  out->get(), ga->get(), gp->get(), gn->get(), ws->get(), ws_bytes,
                                                  test::stream());
    });
}

// ------------------------------------------------------------------------------------------
// Center loss, with grad_centers; in_place: grad_features is features. Update: centers in place.

inline Call center_call(Entry e, culossReduction_t r, int64_t n, int64_t d, int64_t c, int64_t offset, bool in_place,
                        uint32_t seed) {
    auto s = std::make_shared<Store>();
    std::mt19937 rng(seed);
    const bool grad = e == Entry::Backward || e == Entry::Fused;
    auto* x = s->f(normal(rng, n * d), offset);
    auto* y = s->i(labels(rng, n, int32_t(c)), offset);
    auto* centers = s->f(normal(rng, c * d), offset);
    if (e == Entry::Update) s->out("1 centers", centers);
    auto* gout = s->f(uniform(rng, n, -1.f, 1.f), offset);
    auto* out = s->f(std::vector<float>(test::loss_length(r, n), -7.f), offset);
    if (e == Entry::Forward || e == Entry::Fused) s->out("1 loss", out);
    auto* gf = in_place ? x : s->f(std::vector<float>(n * d, 12345.f), offset);
    auto* gc = s->f(std::vector<float>(c * d, 12345.f), offset);
    if (grad) {
        s->out("2 grad_features", gf);
        s->out("3 grad_centers", gc);
    }
    auto* err = s->out("4 error word", s->i({0}, 0));
    size_t ws_bytes = 0;
    culossCenterLossWorkspaceSize(n, d, c, calls::data_type, r, &ws_bytes);
    auto* ws = s->f(std::vector<float>(ws_bytes / 4 + 4, 0.f), 0);
    const float* go = r == CULOSS_REDUCTION_NONE ? gout->get() : nullptr;
    const std::string name = std::string("center ") + entry_name(e) + " " + reduction_name(r) + " n=" +
                             std::to_string(n) + " d=" + std::to_string(d) + " c=" + std::to_string(c) +
                             " offset=" + std::to_string(offset) + (in_place ? " in place" : "");
    return make_call(name, s, [=]() {
        const float lambda = 0.5f;
        switch (e) {
            case Entry::Forward:
                return culossCenterLossForward(x->get(), y->get(), centers->get(), n, d, c, calls::data_type, lambda,
                                               r, out->get(),
                                               ws->get(), ws_bytes, err->get(), test::stream());
            case Entry::Backward:
                return culossCenterLossBackward(x->get(), y->get(), centers->get(), n, d, c, calls::data_type, lambda,
                                                r, go, gf->get(),
                                                gc->get(), ws->get(), ws_bytes, err->get(), test::stream());
            case Entry::Fused:
                return culossCenterLossForwardBackward(x->get(), y->get(), centers->get(), n, d, c, calls::data_type,
                                                       lambda, r, go,
                                                       out->get(), gf->get(), gc->get(), ws->get(), ws_bytes,
                                                       err->get(), test::stream());
            default:
                return culossCenterLossUpdateCenters(x->get(), y->get(), centers->get(), n, d, c, calls::data_type,
                                                     0.5f, ws->get(),
                                                     ws_bytes, err->get(), test::stream());
        }
    });
}

// ------------------------------------------------------------------------------------------
// Large-margin softmax (margin 3, lambda 0.5), every output; no alias is allowed.

inline Call lsm_call(Entry e, culossReduction_t r, int64_t n, int64_t d, int64_t c, int64_t offset, uint32_t seed) {
    auto s = std::make_shared<Store>();
    std::mt19937 rng(seed);
    const bool grad = e == Entry::Backward || e == Entry::Fused;
    auto* x = s->f(normal(rng, n * d), offset);
    auto* w = s->f(normal(rng, d * c, 0.5f), offset);
    auto* y = s->i(labels(rng, n, int32_t(c)), offset);
    auto* gout = s->f(uniform(rng, n, -1.f, 1.f), offset);
    auto* out = s->f(std::vector<float>(test::loss_length(r, n), -7.f), offset);
    if (e == Entry::Forward || e == Entry::Fused) s->out("1 loss", out);
    auto* logits = s->out("2 modified_logits", s->f(std::vector<float>(n * c, 12345.f), offset));
    auto* gf = s->f(std::vector<float>(n * d, 12345.f), offset);
    auto* gw = s->f(std::vector<float>(d * c, 12345.f), offset);
    if (grad) {
        s->out("3 grad_features", gf);
        s->out("4 grad_weights", gw);
    }
    auto* err = s->out("5 error word", s->i({0}, 0));
    size_t ws_bytes = 0;
    culossLargeMarginSoftmaxWorkspaceSize(n, d, c, calls::data_type, r, &ws_bytes);
    auto* ws = s->f(std::vector<float>(ws_bytes / 4 + 4, 0.f), 0);
    const float* go = r == CULOSS_REDUCTION_NONE ? gout->get() : nullptr;
    const std::string name = std::string("large_margin_softmax ") + entry_name(e) + " " + reduction_name(r) + " n=" +
                             std::to_string(n) + " d=" + std::to_string(d) + " c=" + std::to_string(c) +
                             " offset=" + std::to_string(offset);
    return make_call(name, s, [=]() {
        const int margin = 3;
        const float lambda = 0.5f;
        if (e == Entry::Forward)
            return culossLargeMarginSoftmaxForward(x->get(), w->get(), y->get(), n, d, c, calls::data_type, margin,
                                                   lambda, r, out->get(), logits->get(), ws->get(), ws_bytes,
                                                   err->get(), test::stream());
        if (e == Entry::Backward)
            return culossLargeMarginSoftmaxBackward(x->get(), w->get(), y->get(), n, d, c, calls::data_type, margin,
                                                    lambda, r, go, logits->get(), gf->get(), gw->get(), ws->get(),
                                                    ws_bytes, err->get(), test::stream());
        return culossLargeMarginSoftmaxForwardBackward(x->get(), w->get(), y->get(), n, d, c, calls::data_type, margin,
                                                       lambda, r, go, out->get(), logits->get(), gf->get(), gw->get(),
                                                       ws->get(), ws_bytes, err->get(), test::stream());
    });
}

// ------------------------------------------------------------------------------------------
// The [N, C, d1..dk] entry points (the classes `inner` apart): cross-entropy with class indices or
// soft targets (in the logits' layout), softmax focal. in_place: grad_logits is logits.

enum class SpatialLoss { CrossEntropy, Focal, CrossEntropyProbs };

inline constexpr SpatialLoss kSpatialLosses[] = {SpatialLoss::CrossEntropy, SpatialLoss::Focal,
                                                 SpatialLoss::CrossEntropyProbs};

inline Call spatial_call(SpatialLoss loss, Entry e, culossReduction_t r, int64_t n, int64_t c, int64_t inner,
                         int64_t offset, bool in_place, uint32_t seed) {
    auto s = std::make_shared<Store>();
    std::mt19937 rng(seed);
    const int64_t rows = n * inner;
    auto* x = s->f(normal(rng, n * c * inner), offset);
    std::vector<int32_t> y = labels(rng, rows, int32_t(c));
    if (rows > 2) y[1] = -100;  // an ignored position
    auto* t = s->i(y, offset);
    auto* probs = s->f(uniform(rng, n * c * inner, -0.25f, 1.f), offset);
    auto* w = s->f(uniform(rng, c, 0.2f, 2.f), offset);
    auto* gout = s->f(uniform(rng, rows, -1.f, 1.f), offset);
    auto* out = s->f(std::vector<float>(test::loss_length(r, rows), -7.f), offset);
    if (e != Entry::Backward) s->out("1 loss", out);
    auto* g = in_place ? x : s->f(std::vector<float>(n * c * inner, 12345.f), offset);
    if (e != Entry::Forward) s->out("2 grad", g);
    auto* err = s->out("3 error word", s->i({0}, 0));
    size_t ws_bytes = 0;
    if (loss == SpatialLoss::CrossEntropy)
        culossSoftmaxCrossEntropySpatialWorkspaceSize(n, c, inner, calls::data_type, r, &ws_bytes);
    else if (loss == SpatialLoss::Focal)
        culossSoftmaxFocalSpatialWorkspaceSize(n, c, inner, calls::data_type, r, &ws_bytes);
    else culossSoftmaxCrossEntropyProbsSpatialWorkspaceSize(n, c, inner, calls::data_type, r, &ws_bytes);
    auto* ws = s->f(std::vector<float>(ws_bytes / 4 + 4, 0.f), 0);
    const float* go = r == CULOSS_REDUCTION_NONE ? gout->get() : nullptr;
    const char* names[] = {"softmax_cross_entropy spatial", "softmax_focal spatial",
                           "softmax_cross_entropy (target_probs) spatial"};
    const std::string name = std::string(names[int(loss)]) + " " + entry_name(e) + " " + reduction_name(r) + " n=" +
                             std::to_string(n) + " c=" + std::to_string(c) + " inner=" + std::to_string(inner) +
                             " offset=" + std::to_string(offset) + (in_place ? " in place" : "");
    return make_call(name, s, [=]() -> culossStatus_t {
        void* wsp = ws->get();
        const culossStream_t st = test::stream();
        const culossDataType_t dt = calls::data_type;
        const float eps = 0.1f;
        if (loss == SpatialLoss::CrossEntropy) {
            if (e == Entry::Forward)
                return culossSoftmaxCrossEntropySpatialForward(x->get(), t->get(), n, c, inner, dt, w->get(), -100, eps,
                                                               r, out->get(), wsp, ws_bytes, err->get(), st);
            if (e == Entry::Backward)
                return culossSoftmaxCrossEntropySpatialBackward(x->get(), t->get(), n, c, inner, dt, w->get(), -100,
                                                                eps, r, go, g->get(), wsp, ws_bytes, err->get(), st);
            return culossSoftmaxCrossEntropySpatialForwardBackward(x->get(), t->get(), n, c, inner, dt, w->get(), -100,
                                                                   eps, r, go, out->get(), g->get(), wsp, ws_bytes,
                                                                   err->get(), st);
        }
        if (loss == SpatialLoss::Focal) {
            if (e == Entry::Forward)
                return culossSoftmaxFocalSpatialForward(x->get(), t->get(), n, c, inner, dt, w->get(), 0.f, 2.f, -100,
                                                        r, out->get(), wsp, ws_bytes, err->get(), st);
            if (e == Entry::Backward)
                return culossSoftmaxFocalSpatialBackward(x->get(), t->get(), n, c, inner, dt, w->get(), 0.f, 2.f, -100,
                                                         r, go, g->get(), wsp, ws_bytes, err->get(), st);
            return culossSoftmaxFocalSpatialForwardBackward(x->get(), t->get(), n, c, inner, dt, w->get(), 0.f, 2.f,
                                                            -100, r, go, out->get(), g->get(), wsp, ws_bytes,
                                                            err->get(), st);
        }
        if (e == Entry::Forward)
            return culossSoftmaxCrossEntropyProbsSpatialForward(x->get(), probs->get(), n, c, inner, dt, w->get(), eps,
                                                                r, out->get(), wsp, ws_bytes, st);
        if (e == Entry::Backward)
            return culossSoftmaxCrossEntropyProbsSpatialBackward(x->get(), probs->get(), n, c, inner, dt, w->get(),
                                                                 eps, r, go, g->get(), wsp, ws_bytes, st);
        return culossSoftmaxCrossEntropyProbsSpatialForwardBackward(x->get(), probs->get(), n, c, inner, dt, w->get(),
                                                                    eps, r, go, out->get(), g->get(), wsp, ws_bytes,
                                                                    st);
    });
}

}  // namespace calls
