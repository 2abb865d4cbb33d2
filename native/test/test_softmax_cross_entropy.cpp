// Softmax cross-entropy through the C API against a float64 reference, on random and awkward
// shapes: every entry point, every reduction, weights, smoothing, ignore_index, row strides,
// unaligned rows, -inf and 1e4 logits, invalid targets, bad arguments and determinism.
// The same source runs against the emulated library and, on a GPU, against libculoss.so.
#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "culoss/culoss.h"
#include "reference.h"
#include "softmax_rows.h"
#include "test_support.h"

namespace {

using rows::NO;
using test::Entry;

struct Case : rows::CaseBase {  // {n, c, pad, offset, ignore, reduction, per_class, ...}
    float smoothing;
    // 0 plain, 1 some -inf logits, 2 logits of magnitude 1e4, 3 confident rows (the target leads
    // the rest by 17 to 22: the loss is log(1 + tiny)), 4 masked classes (-1e9 and -FLT_MAX on
    // non-target classes, for label smoothing)
    int special;
};

// float64 reference, written from the formula (culoss.h), independent of the kernels.
rows::Reference reference(const Case& k, const rows::Inputs& in) {
    const int64_t n = k.n, c = k.c;
    const double e = k.smoothing;
    auto wt = [&](int64_t j) { return k.per_class ? double(in.per_class[j]) : 1.0; };
    double wsum = 0;
    for (int64_t j = 0; j < c; ++j) wsum += wt(j);
    double denom = 0;
    for (int64_t i = 0; i < n; ++i)
        if (in.y[i] != k.ignore) denom += wt(in.y[i]);
    rows::Reference r;
    r.grad.assign(n * c, 0.0);
    std::vector<double> losses(n, 0.0);
    for (int64_t i = 0; i < n; ++i) {
        const int64_t y = in.y[i];
        if (y == k.ignore) continue;
        const float* xi = in.x.data() + k.offset + i * in.stride;
        const double lse = rows::log_sum_exp(xi, c);
        losses[i] = (1 - e) * wt(y) * (lse - xi[y]);
        if (e > 0) {
            double smooth = 0;
            for (int64_t j = 0; j < c; ++j) smooth += wt(j) * (lse - xi[j]);
            losses[i] += e / c * smooth;
        }
        const double g = test::upstream(k.reduction, in.gout, i, denom);
        for (int64_t j = 0; j < c; ++j) {
            const double p = std::exp(double(xi[j]) - lse);
            r.grad[i * c + j] = g * ((1 - e) * wt(y) * (p - (j == y)) + e / c * (wsum * p - wt(j)));
        }
    }
    r.loss = test::reduce(k.reduction, losses, denom);
    return r;
}

rows::Inputs make_inputs(const Case& k, std::mt19937& rng) {
    rows::Inputs in = rows::random_rows(k, k.special == 2, false, rng);
    if (k.special == 3) {
        std::uniform_real_distribution<float> lead(17.f, 22.f);
        for (int64_t i = 0; i < k.n; ++i) {
            if (in.y[i] < 0 || in.y[i] >= k.c) continue;
            float* row = in.x.data() + k.offset + i * in.stride;
            for (int64_t j = 0; j < k.c; ++j) row[j] = std::nearbyint(row[j] * 0.5f);  // small integers, as [17, 1, 0, -2]
            row[in.y[i]] = (k.c == 1 ? 0.f : rows::top_other(row, k.c, in.y[i])) + std::nearbyint(lead(rng));
        }
    }
    if (k.special == 4) {
        for (int64_t i = 0; i < k.n; ++i)
            for (int64_t j = 0, masked = 0; j < k.c && masked < 3; ++j) {
                if (j == in.y[i] || rng() % 3 != 0) continue;
                in.x[k.offset + i * in.stride + j] = masked == 1 ? -1e9f : -std::numeric_limits<float>::max();
                ++masked;
            }
    }
    // Not with label smoothing, whose loss over every class is then infinite.
    if (k.special == 1) rows::minus_inf_logits(k, in, k.smoothing == 0.f, rng);
    rows::random_per_class_and_gout(k, in, rng);
    return in;
}

std::string describe(const Case& k) {
    char buf[200];
    std::snprintf(buf, sizeof buf, "n=%lld c=%lld pad=%lld off=%lld w=%d e=%g ignore=%s red=%d special=%d",
                  (long long)k.n, (long long)k.c, (long long)k.pad, (long long)k.offset, int(k.per_class),
                  double(k.smoothing), k.ignore == CULOSS_NO_IGNORE_INDEX ? "none" : std::to_string(k.ignore).c_str(),
                  int(k.reduction), k.special);
    return buf;
}

culossStatus_t workspace_size(const Case& k, size_t* bytes) {
    return culossSoftmaxCrossEntropyWorkspaceSize(k.n, k.c, CULOSS_DATA_FLOAT32, k.reduction, bytes);
}

culossStatus_t entry_point(const Case& k, Entry entry, const rows::Args& a) {
    if (entry == Entry::Forward)
        return culossSoftmaxCrossEntropyForward(a.logits, a.stride, a.targets, k.n, k.c, a.dtype, a.per_class,
                                                k.ignore, k.smoothing, k.reduction, a.loss, a.ws, a.ws_bytes,
                                                a.error_word, test::stream());
    if (entry == Entry::Backward)
        return culossSoftmaxCrossEntropyBackward(a.logits, a.stride, a.targets, k.n, k.c, a.dtype, a.per_class,
                                                 k.ignore, k.smoothing, k.reduction, a.grad_output, a.grad,
                                                 a.grad_stride, a.ws, a.ws_bytes, a.error_word, test::stream());
    return culossSoftmaxCrossEntropyForwardBackward(a.logits, a.stride, a.targets, k.n, k.c, a.dtype, a.per_class,
                                                    k.ignore, k.smoothing, k.reduction, a.grad_output, a.loss, a.grad,
                                                    a.grad_stride, a.ws, a.ws_bytes, a.error_word, test::stream());
}

void test_reference_cases(test::Context& t) {
    std::vector<Case> cases;
    // {n, c, pad, offset, ignore, reduction, per_class, smoothing, special}
    for (culossReduction_t r : test::kReductions) {
        cases.push_back({5, 1, 0, 0, NO, r, false, 0.f, 0});
        cases.push_back({7, 3, 0, 0, -100, r, true, 0.1f, 0});
        cases.push_back({9, 4, 0, 0, 2, r, false, 0.f, 0});
        cases.push_back({33, 7, 2, 1, -100, r, true, 0.2f, 0});
        cases.push_back({64, 33, 0, 0, NO, r, false, 0.3f, 1});
        cases.push_back({17, 128, 4, 0, NO, r, true, 0.f, 2});
        cases.push_back({6, 1000, 0, 1, 5, r, true, 0.1f, 0});
        cases.push_back({4, 1025, 3, 0, -100, r, false, 0.f, 1});
        cases.push_back({3, 4097, 0, 0, -100, r, true, 0.1f, 0});
        cases.push_back({2, 20000, 1, 1, NO, r, false, 0.05f, 2});
    }
    cases.push_back({1000, 10, 0, 0, -100, CULOSS_REDUCTION_MEAN, true, 0.f, 0});
    cases.push_back({2, 50000, 0, 0, NO, CULOSS_REDUCTION_MEAN, true, 0.1f, 0});
    cases.push_back({2, 40000, 0, 1, NO, CULOSS_REDUCTION_NONE, false, 0.f, 1});
    rows::run_cases(t, cases, 1);
}

// The regimes that cost a float kernel its digits, held to the usual tolerance on every path
// (a warp per row with scalar and 16-byte loads, 256- and 512-thread blocks), single rows too
// (a norm over a batch would hide one bad row): confident rows, whose loss log(1 + tiny) a
// log of a float sum near 1 loses ([17, 1, 0, -2] with target 0 has loss 1.6e-7), and masked
// classes under label smoothing, whose terms are of size FLT_MAX.
void test_regimes(test::Context& t) {
    std::vector<Case> cases;
    struct Regime {
        int64_t c, offset;
        bool weights;
        float smoothing;
        int special;
    };
    const Regime regimes[] = {
        {4, 0, false, 0.f, 3},    {7, 0, true, 0.f, 3},     {1000, 0, false, 0.f, 3}, {1000, 1, true, 0.f, 3},
        {5000, 0, false, 0.f, 3}, {20000, 1, true, 0.f, 3}, {4, 0, true, 0.1f, 4},    {7, 0, false, 0.1f, 4},
        {1000, 0, true, 0.2f, 4}, {1000, 1, false, 0.1f, 4}, {3000, 0, true, 0.1f, 4}, {20000, 1, true, 0.1f, 4},
    };
    for (culossReduction_t r : test::kReductions)
        for (int64_t n : {1, 3})
            for (const Regime& g : regimes)
                cases.push_back({n, g.c, 0, g.offset, NO, r, g.weights, g.smoothing, g.special});
    // Every fifth case under ThreadSanitizer (5 is prime to the 12 shapes of a block).
    rows::run_cases(t, cases, 7000, test::tsan_stride(5));
}

// A long row (a block per row, most of it past the register cache) at a vocabulary's size.
void test_vocabulary_row(test::Context& t) {
    rows::run_case(t, Case{1, 262144, 0, 0, NO, CULOSS_REDUCTION_MEAN, false, 0.1f, 0}, Entry::Fused, 99);
}

void test_empty_batch(test::Context& t) {
    rows::expect_empty_batch(
        t,
        [](culossReduction_t r, size_t* bytes) {
            return culossSoftmaxCrossEntropyWorkspaceSize(0, 5, CULOSS_DATA_FLOAT32, r, bytes);
        },
        [](culossReduction_t r, float* loss) {
            return culossSoftmaxCrossEntropyForwardBackward(nullptr, 5, nullptr, 0, 5, CULOSS_DATA_FLOAT32, nullptr,
                                                            -100, 0.f, r, nullptr, loss, nullptr, 5, nullptr, 0,
                                                            nullptr, test::stream());
        });
}

void test_invalid_targets(test::Context& t) {
    rows::expect_invalid_targets_ignored(t, Case{6, 5, 0, 0, -100, CULOSS_REDUCTION_MEAN, false, 0.f, 0}, {},
                                         Entry::Fused);
}

void test_bad_arguments(test::Context& t) {
    const Case k{2, 4, 0, 0, -100, CULOSS_REDUCTION_NONE, false, 0.f, 0};
    rows::expect_common_refusals(t, k);
    for (float smoothing : {1.5f, NAN})
        rows::expect_refused(t, k, Entry::Forward, CULOSS_STATUS_INVALID_VALUE, "label_smoothing",
                             [smoothing](Case& c, rows::Args&) { c.smoothing = smoothing; });
}

void test_deterministic(test::Context& t) {
    rows::expect_deterministic(t, Case{3000, 37, 0, 0, -100, CULOSS_REDUCTION_MEAN, true, 0.1f, 0});
}

}  // namespace

int main() {
    return test::run_suite("softmax_cross_entropy", {test_bad_arguments, test_empty_batch, test_invalid_targets,
                                                     test_deterministic, test_reference_cases, test_vocabulary_row,
                                                     test_regimes});
}
