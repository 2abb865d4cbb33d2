// The [N, C, d1..dk] entry points of softmax cross-entropy (class indices and soft targets) and
// softmax focal (class dimension 1,
// the classes `inner` apart) against the row entry points on the same logits transposed to
// [N * inner, C] rows: the same loss per (sample, position), so the same values to rounding (the
// row kernel adds a row's terms in a tree, the strided one in order). Every reduction and entry
// point, class weights / alpha, label smoothing, ignored and bad targets, inner = 1, empty
// shapes, the gradient over the logits (in place), and the refusals the extra size brings.
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "culoss/culoss.h"
#include "test_support.h"

namespace {

using test::Entry;
constexpr culossDataType_t F32 = CULOSS_DATA_FLOAT32;

struct Shape {
    int64_t n, c, inner;
};

struct Options {
    bool focal;
    bool table;       // class weights (cross-entropy) or per-class alpha (focal)
    float smoothing;  // cross-entropy only
    bool probs = false;  // cross-entropy with soft targets (target_probs in the logits' layout)
};

struct Inputs {
    std::vector<float> x;   // [n, c, inner]
    std::vector<int32_t> y;  // [n, inner]
    std::vector<float> p;    // [n, c, inner] soft targets, rows not summing to 1
    std::vector<float> table, gout;
};

Inputs draw(const Shape& s, culossReduction_t r, uint32_t seed, bool bad_target) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> normal(0.f, 2.f);
    std::uniform_real_distribution<float> uniform(0.25f, 2.f);
    Inputs in;
    const int64_t rows = s.n * s.inner;
    for (int64_t i = 0; i < s.n * s.c * s.inner; ++i) in.x.push_back(normal(rng));
    for (int64_t i = 0; i < rows; ++i) in.y.push_back(int32_t(rng() % uint32_t(s.c)));
    std::uniform_real_distribution<float> prob(-0.125f, 1.f);
    for (int64_t i = 0; i < s.n * s.c * s.inner; ++i) in.p.push_back(prob(rng));
    if (rows > 2) in.y[1] = -100;  // an ignored row
    if (bad_target && rows > 3) in.y[3] = int32_t(s.c);
    for (int64_t j = 0; j < s.c; ++j) in.table.push_back(uniform(rng));
    for (int64_t i = 0; i < test::loss_length(r, rows); ++i) in.gout.push_back(normal(rng));
    return in;
}

// [n, c, inner] to [n * inner, c]: row (b, k) holds class j of sample b at position k.
std::vector<float> to_rows(const std::vector<float>& x, const Shape& s) {
    std::vector<float> out(x.size());
    for (int64_t b = 0; b < s.n; ++b)
        for (int64_t j = 0; j < s.c; ++j)
            for (int64_t k = 0; k < s.inner; ++k)
                out[size_t((b * s.inner + k) * s.c + j)] = x[size_t((b * s.c + j) * s.inner + k)];
    return out;
}

std::vector<float> from_rows(const std::vector<float>& rows, const Shape& s) {
    std::vector<float> out(rows.size());
    for (int64_t b = 0; b < s.n; ++b)
        for (int64_t j = 0; j < s.c; ++j)
            for (int64_t k = 0; k < s.inner; ++k)
                out[size_t((b * s.c + j) * s.inner + k)] = rows[size_t((b * s.inner + k) * s.c + j)];
    return out;
}

struct Outputs {
    std::vector<float> loss, grad;
    int32_t error_word = 0;
    culossStatus_t status = CULOSS_STATUS_SUCCESS;
};

// One call: spatial (x [n, c, inner]) or rows (x [n * inner, c]); in_place writes the gradient
// over the logits.
Outputs call(const Options& o, const Shape& s, bool spatial, Entry e, culossReduction_t r, const Inputs& in,
             const std::vector<float>& x, bool in_place) {
    const int64_t rows = s.n * s.inner;
    test::DeviceBuffer<float> dx(x), dtab(in.table), dgo(in.gout),
        dloss(std::vector<float>(size_t(test::loss_length(r, rows)), -7.f)), dgrad(std::vector<float>(x.size(), 9.f));
    test::DeviceBuffer<int32_t> dy(in.y), word(std::vector<int32_t>(1, 0));
    test::DeviceBuffer<float> dp(spatial ? in.p : to_rows(in.p, s));
    size_t bytes = 0;
    const culossStatus_t q =
        o.probs ? (spatial ? culossSoftmaxCrossEntropyProbsSpatialWorkspaceSize(s.n, s.c, s.inner, F32, r, &bytes)
                           : culossSoftmaxCrossEntropyProbsWorkspaceSize(rows, s.c, F32, r, &bytes))
        : spatial ? (o.focal ? culossSoftmaxFocalSpatialWorkspaceSize(s.n, s.c, s.inner, F32, r, &bytes)
                           : culossSoftmaxCrossEntropySpatialWorkspaceSize(s.n, s.c, s.inner, F32, r, &bytes))
                : (o.focal ? culossSoftmaxFocalWorkspaceSize(rows, s.c, F32, r, &bytes)
                           : culossSoftmaxCrossEntropyWorkspaceSize(rows, s.c, F32, r, &bytes));
    Outputs out;
    if (q != CULOSS_STATUS_SUCCESS) {
        out.status = q;
        return out;
    }
    test::DeviceBuffer<char> ws(std::vector<char>(bytes + 16));
    const float* tab = o.table ? dtab.get() : nullptr;
    const float* go = r == CULOSS_REDUCTION_NONE ? dgo.get() : nullptr;
    float* loss = e == Entry::Backward ? nullptr : dloss.get();
    float* grad = e == Entry::Forward ? nullptr : in_place ? dx.get() : dgrad.get();
    const culossStream_t st = test::stream();
    const float alpha = 0.25f, gamma = 2.f;
    const int64_t ig = -100;
    culossStatus_t status;
    if (o.probs && spatial) {
        status = e == Entry::Forward
                     ? culossSoftmaxCrossEntropyProbsSpatialForward(dx.get(), dp.get(), s.n, s.c, s.inner, F32, tab,
                                                                    o.smoothing, r, loss, ws.get(), bytes, st)
                 : e == Entry::Backward
                     ? culossSoftmaxCrossEntropyProbsSpatialBackward(dx.get(), dp.get(), s.n, s.c, s.inner, F32, tab,
                                                                     o.smoothing, r, go, grad, ws.get(), bytes, st)
                     : culossSoftmaxCrossEntropyProbsSpatialForwardBackward(dx.get(), dp.get(), s.n, s.c, s.inner, F32,
                                                                            tab, o.smoothing, r, go, loss, grad,
                                                                            ws.get(), bytes, st);
    } else if (o.probs) {
        status = culossSoftmaxCrossEntropyProbsForwardBackward(dx.get(), s.c, dp.get(), rows, s.c, F32, tab,
                                                               o.smoothing, r, go, dloss.get(), dgrad.get(), s.c,
                                                               ws.get(), bytes, st);
    } else if (spatial && o.focal) {
        status = e == Entry::Forward ? culossSoftmaxFocalSpatialForward(dx.get(), dy.get(), s.n, s.c, s.inner, F32, tab,
                                                                        alpha, gamma, ig, r, loss, ws.get(), bytes,
                                                                        word.get(), st)
                 : e == Entry::Backward
                     ? culossSoftmaxFocalSpatialBackward(dx.get(), dy.get(), s.n, s.c, s.inner, F32, tab, alpha, gamma,
                                                         ig, r, go, grad, ws.get(), bytes, word.get(), st)
                     : culossSoftmaxFocalSpatialForwardBackward(dx.get(), dy.get(), s.n, s.c, s.inner, F32, tab, alpha,
                                                                gamma, ig, r, go, loss, grad, ws.get(), bytes,
                                                                word.get(), st);
    } else if (spatial) {
        status = e == Entry::Forward
                     ? culossSoftmaxCrossEntropySpatialForward(dx.get(), dy.get(), s.n, s.c, s.inner, F32, tab, ig,
                                                               o.smoothing, r, loss, ws.get(), bytes, word.get(), st)
                 : e == Entry::Backward
                     ? culossSoftmaxCrossEntropySpatialBackward(dx.get(), dy.get(), s.n, s.c, s.inner, F32, tab, ig,
                                                                o.smoothing, r, go, grad, ws.get(), bytes, word.get(),
                                                                st)
                     : culossSoftmaxCrossEntropySpatialForwardBackward(dx.get(), dy.get(), s.n, s.c, s.inner, F32, tab,
                                                                       ig, o.smoothing, r, go, loss, grad, ws.get(),
                                                                       bytes, word.get(), st);
    } else if (o.focal) {
        status = culossSoftmaxFocalForwardBackward(dx.get(), s.c, dy.get(), rows, s.c, F32, tab, alpha, gamma, ig, r,
                                                   go, dloss.get(), dgrad.get(), s.c, ws.get(), bytes, word.get(), st);
    } else {
        status = culossSoftmaxCrossEntropyForwardBackward(dx.get(), s.c, dy.get(), rows, s.c, F32, tab, ig,
                                                          o.smoothing, r, go, dloss.get(), dgrad.get(), s.c, ws.get(),
                                                          bytes, word.get(), st);
    }
    out.status = status;
    out.loss = dloss.read();
    out.grad = in_place && e != Entry::Forward ? dx.read() : dgrad.read();
    out.error_word = word.read()[0];
    return out;
}

std::vector<double> wide(const std::vector<float>& v) { return std::vector<double>(v.begin(), v.end()); }

void test_against_rows(test::Context& t) {
    const Shape shapes[] = {{2, 5, 7}, {3, 10, 1}, {1, 3, 33}, {2, 1000, 3}, {4, 1, 6}, {0, 4, 5}, {3, 4, 0}};
    const Options options[] = {{false, false, 0.f},       {false, true, 0.1f}, {true, false, 0.f},
                               {true, true, 0.f},         {false, false, 0.f, true}, {false, true, 0.2f, true}};
    uint32_t seed = 1;
    // Under ThreadSanitizer every other (shape, options, reduction) in turn: each policy and shape
    // still runs the strided kernel there, at half the time (the digits are the other builds').
    const size_t stride = test::tsan_stride(2);
    size_t turn = 0;
    for (const Shape& s : shapes)
        for (const Options& o : options)
            for (culossReduction_t r : test::kReductions) {
                if (turn++ % stride != 0 && &s != &shapes[0]) continue;
                const bool bad = seed % 5 == 0;
                const Inputs in = draw(s, r, seed++, bad);
                const Outputs rows = call(o, s, false, Entry::Fused, r, in, to_rows(in.x, s), false);
                // every entry point and the in-place gradient on the first shape, the fused call on the others
                const bool all = &s == &shapes[0];
                for (Entry e : {Entry::Forward, Entry::Backward, Entry::Fused})
                    for (bool in_place : {false, true}) {
                        if ((in_place && e == Entry::Forward) || (!all && (e != Entry::Fused || in_place))) continue;
                        const std::string what = std::string(o.focal ? "focal" : o.probs ? "probs" : "cross_entropy") + " [" +
                                                 std::to_string(s.n) + ", " + std::to_string(s.c) + ", " +
                                                 std::to_string(s.inner) + "] " + test::entry_name(e) + " r=" +
                                                 std::to_string(int(r)) + (o.table ? " table" : "") +
                                                 (in_place ? " in place" : "") + (bad ? " bad target" : "");
                        const Outputs got = call(o, s, true, e, r, in, in.x, in_place);
                        t.check_status(got.status, what);
                        t.expect(got.error_word == rows.error_word, what + ": the error word");
                        if (e != Entry::Backward) t.expect_close(got.loss, wide(rows.loss), 2e-6, what + ": loss");
                        if (e != Entry::Forward) {
                            t.expect_close(got.grad, wide(from_rows(rows.grad, s)), 2e-6, what + ": grad_logits");
                        }
                    }
            }
}

void test_refusals(test::Context& t) {
    size_t bytes = 0;
    t.expect_refused(culossSoftmaxCrossEntropySpatialWorkspaceSize(4, 3, -1, F32, CULOSS_REDUCTION_SUM, &bytes),
                     CULOSS_STATUS_INVALID_VALUE, "inner", "query, inner = -1");
    t.expect_refused(culossSoftmaxFocalSpatialWorkspaceSize(int64_t(1) << 40, 3, int64_t(1) << 40, F32,
                                                            CULOSS_REDUCTION_SUM, &bytes),
                     CULOSS_STATUS_INVALID_VALUE, "logits", "query, n * inner = 2^80");
    const Shape s{2, 3, 4};
    const Inputs in = draw(s, CULOSS_REDUCTION_SUM, 7, false);
    test::DeviceBuffer<float> dx(in.x), dloss(std::vector<float>(1)), dgrad(in.x);
    test::DeviceBuffer<int32_t> dy(in.y);
    test::DeviceBuffer<char> ws(std::vector<char>(4096));
    const culossStream_t st = test::stream();
    t.expect_refused(culossSoftmaxCrossEntropySpatialForwardBackward(dx.get(), dy.get(), 2, 3, -4, F32, nullptr, -100,
                                                                     0.f, CULOSS_REDUCTION_SUM, nullptr, dloss.get(),
                                                                     dgrad.get(), ws.get(), 4096, nullptr, st),
                     CULOSS_STATUS_INVALID_VALUE, "inner", "inner = -4");
    t.expect_refused(culossSoftmaxCrossEntropySpatialForwardBackward(dx.get(), dy.get(), int64_t(1) << 62, 3, 8, F32,
                                                                     nullptr, -100, 0.f, CULOSS_REDUCTION_SUM, nullptr,
                                                                     dloss.get(), dgrad.get(), ws.get(), 4096, nullptr,
                                                                     st),
                     CULOSS_STATUS_INVALID_VALUE, "logits", "n * inner = 2^65");
    // the gradient one float past the logits: an overlap, not the exact alias
    t.expect_refused(culossSoftmaxFocalSpatialBackward(dx.get(), dy.get(), 1, 3, 4, F32, nullptr, 0.25f, 2.f, -100,
                                                       CULOSS_REDUCTION_SUM, nullptr, dx.get() + 1, ws.get(), 4096,
                                                       nullptr, st),
                     CULOSS_STATUS_INVALID_VALUE, "grad_logits", "grad_logits = logits + 1");
    // soft targets are the logits' layout: target_probs over the gradient is an overlap
    test::DeviceBuffer<float> dp(in.x);
    t.expect_refused(culossSoftmaxCrossEntropyProbsSpatialForwardBackward(dx.get(), dgrad.get(), 2, 3, 4, F32, nullptr,
                                                                          0.f, CULOSS_REDUCTION_SUM, nullptr,
                                                                          dloss.get(), dgrad.get(), ws.get(), 4096, st),
                     CULOSS_STATUS_INVALID_VALUE, "target_probs", "target_probs = grad_logits");
    t.expect_refused(culossSoftmaxCrossEntropyProbsSpatialForward(dx.get(), dp.get(), 2, 3, -1, F32, nullptr, 0.f,
                                                                  CULOSS_REDUCTION_SUM, dloss.get(), ws.get(), 4096,
                                                                  st),
                     CULOSS_STATUS_INVALID_VALUE, "inner", "probs, inner = -1");
    t.expect_refused(culossSoftmaxCrossEntropyProbsSpatialBackward(dx.get(), dp.get(), 2, 3, 4, F32, nullptr, 1.5f,
                                                                   CULOSS_REDUCTION_SUM, nullptr, dgrad.get(),
                                                                   ws.get(), 4096, st),
                     CULOSS_STATUS_INVALID_VALUE, "label_smoothing", "probs, label_smoothing = 1.5");
    // targets are n * inner: a targets buffer over the loss is an overlap
    t.expect_refused(culossSoftmaxCrossEntropySpatialForward(dx.get(), dy.get(), 2, 3, 4, F32, nullptr, -100, 0.f,
                                                             CULOSS_REDUCTION_NONE,
                                                             reinterpret_cast<float*>(dy.get()) + 7, nullptr, 0,
                                                             nullptr, st),
                     CULOSS_STATUS_INVALID_VALUE, "loss", "loss over the last targets");
    t.check_status(culossStreamSynchronize(st), "after the refusals");
}

}  // namespace

int main() { return test::run_suite("spatial", {test_against_rows, test_refusals}); }
