// Softmax cross-entropy with soft targets (culossSoftmaxCrossEntropyProbs...) through the C API
// against a float64 reference: every entry point and reduction, class weights, label smoothing,
// target rows that are distributions, one-hot, unnormalized or signed, row strides, unaligned
// rows, every row path (a warp per row with 16-byte and scalar loads, 256- and 512-thread
// blocks), logits of magnitude 1e4, bad arguments and determinism. The plan is softmax_rows.h's;
// the target probabilities travel in rows::Inputs::y as their bits (n * c of them), which the
// entry point reads back as floats.
#include <cmath>
#include <cstdio>
#include <cstring>
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

enum class Targets { Distribution, OneHot, Unnormalized, Signed };

struct Case : rows::CaseBase {  // {n, c, pad, offset, ignore (unused: NO), reduction, per_class, ...}
    float smoothing;
    Targets targets;
    bool big;  // logits of magnitude 1e4
};

float prob(const rows::Inputs& in, int64_t k) {
    float v;
    std::memcpy(&v, &in.y[k], sizeof v);
    return v;
}

const float* probs_of(const int32_t* y) { return reinterpret_cast<const float*>(y); }

// float64 reference, written from the formula (culoss.h): a_j = w_j ((1 - e) t_j + e / C),
// loss_i = sum_j a_j (lse - x_j), gradient p_j sum(a) - a_j; the mean divides by n.
rows::Reference reference(const Case& k, const rows::Inputs& in) {
    const int64_t n = k.n, c = k.c;
    const double e = k.smoothing;
    rows::Reference r;
    r.grad.assign(n * c, 0.0);
    std::vector<double> losses(n, 0.0), a(c);
    for (int64_t i = 0; i < n; ++i) {
        const float* xi = in.x.data() + k.offset + i * in.stride;
        const double lse = rows::log_sum_exp(xi, c);
        double total = 0;
        for (int64_t j = 0; j < c; ++j) {
            const double w = k.per_class ? double(in.per_class[j]) : 1.0;
            a[j] = w * ((1 - e) * prob(in, i * c + j) + e / c);
            total += a[j];
            losses[i] += a[j] * (lse - xi[j]);
        }
        const double g = test::upstream(k.reduction, in.gout, i, double(n));
        for (int64_t j = 0; j < c; ++j) r.grad[i * c + j] = g * (std::exp(double(xi[j]) - lse) * total - a[j]);
    }
    r.loss = test::reduce(k.reduction, losses, double(n));
    return r;
}

rows::Inputs make_inputs(const Case& k, std::mt19937& rng) {
    rows::Inputs in = rows::random_rows(k, k.big, false, rng);
    std::vector<float> t(k.n * k.c, 0.f);
    std::uniform_real_distribution<float> uni(0.f, 1.f);
    for (int64_t i = 0; i < k.n; ++i) {
        float* row = t.data() + i * k.c;
        switch (k.targets) {
            case Targets::OneHot:
                row[in.y[i]] = 1.f;
                break;
            case Targets::Distribution: {
                double sum = 0;
                for (int64_t j = 0; j < k.c; ++j) sum += row[j] = std::exp(3.f * uni(rng));
                for (int64_t j = 0; j < k.c; ++j) row[j] = float(row[j] / sum);
                break;
            }
            case Targets::Unnormalized:
                for (int64_t j = 0; j < k.c; ++j) row[j] = 1.5f * uni(rng);
                break;
            case Targets::Signed:
                for (int64_t j = 0; j < k.c; ++j) row[j] = 1.5f * uni(rng) - 0.5f;
                break;
        }
    }
    in.y.resize(t.size());
    std::memcpy(in.y.data(), t.data(), t.size() * sizeof(float));
    rows::random_per_class_and_gout(k, in, rng);
    return in;
}

std::string describe(const Case& k) {
    char buf[200];
    std::snprintf(buf, sizeof buf, "probs n=%lld c=%lld pad=%lld off=%lld w=%d e=%g targets=%d big=%d red=%d",
                  (long long)k.n, (long long)k.c, (long long)k.pad, (long long)k.offset, int(k.per_class),
                  double(k.smoothing), int(k.targets), int(k.big), int(k.reduction));
    return buf;
}

culossStatus_t workspace_size(const Case& k, size_t* bytes) {
    return culossSoftmaxCrossEntropyProbsWorkspaceSize(k.n, k.c, CULOSS_DATA_FLOAT32, k.reduction, bytes);
}

culossStatus_t entry_point(const Case& k, Entry entry, const rows::Args& a) {
    const float* t = probs_of(a.targets);
    if (entry == Entry::Forward)
        return culossSoftmaxCrossEntropyProbsForward(a.logits, a.stride, t, k.n, k.c, a.dtype, a.per_class,
                                                     k.smoothing, k.reduction, a.loss, a.ws, a.ws_bytes,
                                                     test::stream());
    if (entry == Entry::Backward)
        return culossSoftmaxCrossEntropyProbsBackward(a.logits, a.stride, t, k.n, k.c, a.dtype, a.per_class,
                                                      k.smoothing, k.reduction, a.grad_output, a.grad,
                                                      a.grad_stride, a.ws, a.ws_bytes, test::stream());
    return culossSoftmaxCrossEntropyProbsForwardBackward(a.logits, a.stride, t, k.n, k.c, a.dtype, a.per_class,
                                                         k.smoothing, k.reduction, a.grad_output, a.loss, a.grad,
                                                         a.grad_stride, a.ws, a.ws_bytes, test::stream());
}

void test_reference_cases(test::Context& t) {
    std::vector<Case> cases;
    using T = Targets;
    // {n, c, pad, offset, ignore, reduction, per_class, smoothing, targets, big}
    for (culossReduction_t r : test::kReductions) {
        cases.push_back({5, 1, 0, 0, NO, r, false, 0.f, T::Distribution, false});
        cases.push_back({6, 1, 0, 0, NO, r, true, 0.f, T::Unnormalized, false});
        cases.push_back({7, 3, 0, 0, NO, r, true, 0.1f, T::Distribution, false});
        cases.push_back({9, 4, 0, 0, NO, r, false, 0.f, T::OneHot, false});
        cases.push_back({33, 7, 2, 1, NO, r, true, 0.2f, T::Signed, false});
        cases.push_back({64, 33, 0, 0, NO, r, false, 0.3f, T::Unnormalized, false});
        cases.push_back({17, 128, 4, 0, NO, r, true, 0.f, T::Distribution, true});
        cases.push_back({6, 1000, 0, 1, NO, r, true, 0.1f, T::Signed, false});
        cases.push_back({4, 1025, 3, 0, NO, r, false, 0.f, T::OneHot, false});
        cases.push_back({3, 4097, 0, 0, NO, r, true, 0.1f, T::Distribution, false});
        cases.push_back({2, 20000, 1, 1, NO, r, false, 0.05f, T::Unnormalized, true});
    }
    cases.push_back({1000, 10, 0, 0, NO, CULOSS_REDUCTION_MEAN, true, 0.f, T::Distribution, false});
    rows::run_cases(t, cases, 11);
}

void test_empty_batch(test::Context& t) {
    rows::expect_empty_batch(
        t,
        [](culossReduction_t r, size_t* bytes) {
            return culossSoftmaxCrossEntropyProbsWorkspaceSize(0, 5, CULOSS_DATA_FLOAT32, r, bytes);
        },
        [](culossReduction_t r, float* loss) {
            return culossSoftmaxCrossEntropyProbsForwardBackward(nullptr, 5, nullptr, 0, 5, CULOSS_DATA_FLOAT32,
                                                                 nullptr, 0.f, r, nullptr, loss, nullptr, 5, nullptr,
                                                                 0, test::stream());
        });
}

void test_bad_arguments(test::Context& t) {
    const Case k{2, 4, 0, 0, NO, CULOSS_REDUCTION_NONE, false, 0.f, Targets::Distribution, false};
    rows::expect_common_refusals(t, k, "target_probs");
    for (float smoothing : {1.5f, -0.1f, NAN})
        rows::expect_refused(t, k, Entry::Forward, CULOSS_STATUS_INVALID_VALUE, "label_smoothing",
                             [smoothing](Case& c, rows::Args&) { c.smoothing = smoothing; });
    rows::expect_refused(t, k, Entry::Forward, CULOSS_STATUS_MISALIGNED, "target_probs",
                         [](Case&, rows::Args& a) { a.targets = reinterpret_cast<const int32_t*>(
                                                        rows::misaligned(probs_of(a.targets), 2)); });
    // The gradient may lie over the logits only; no output over the targets.
    rows::expect_refused(t, k, Entry::Backward, CULOSS_STATUS_INVALID_VALUE, "target_probs",
                         [](Case&, rows::Args& a) { a.grad = const_cast<float*>(probs_of(a.targets)); });
    rows::expect_refused(t, k, Entry::Forward, CULOSS_STATUS_INVALID_VALUE, "target_probs",
                         [](Case&, rows::Args& a) { a.loss = const_cast<float*>(probs_of(a.targets)) + 3; });
}

void test_deterministic(test::Context& t) {
    rows::expect_deterministic(t, Case{3000, 37, 0, 0, NO, CULOSS_REDUCTION_MEAN, true, 0.1f, Targets::Signed, false});
}

}  // namespace

int main() {
    return test::run_suite("softmax_cross_entropy_probs",
                           {test_bad_arguments, test_empty_batch, test_deterministic, test_reference_cases});
}
