// Softmax focal loss through the C API against a float64 reference, on random and awkward
// shapes: every entry point, every reduction, scalar and per-class alpha, gamma 0 / in (0, 1) /
// 2 / 3.5, ignore_index, row strides, unaligned rows, -inf and 1e4 logits, one class, the
// block-per-row sizes, near-certain rows, invalid targets, bad arguments and determinism.
// The same source runs against the emulated library and, on a GPU, against libculoss.so.
#include <cmath>
#include <cstdio>
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
    float alpha;  // the scalar alpha (when !per_class)
    float gamma;
    // 0 plain, 1 some -inf non-target logits, 2 logits of magnitude 1e4, 3 every target class 0,
    // 4 confident rows (the target leads the rest by 17 to 22)
    int special;
};

// float64 reference, from the formula (culoss.h), independent of the kernels:
//   loss = -a_y q^g log p_y, grad_k = F (p_k - [k == y]), F = a_y (q^g - g p_y q^(g-1) log p_y).
// F's 0 * inf limits (q = 0: F = a_y q^g (1 + g) -> a_y [g == 0]; p_y = 0: F = a_y) are taken
// explicitly; elsewhere F is the formula as written.
rows::Reference reference(const Case& k, const rows::Inputs& in) {
    const int64_t n = k.n, c = k.c;
    const double g = k.gamma;
    auto counts = [&](int64_t i) { return in.y[i] != k.ignore && in.y[i] >= 0 && in.y[i] < c; };
    double count = 0;
    for (int64_t i = 0; i < n; ++i) count += counts(i);
    rows::Reference r;
    r.grad.assign(n * c, 0.0);
    std::vector<double> losses(n, 0.0);
    for (int64_t i = 0; i < n; ++i) {
        if (!counts(i)) continue;
        const float* xi = in.x.data() + k.offset + i * in.stride;
        const int64_t t = in.y[i];
        const double lse = rows::log_sum_exp(xi, c);
        // q = 1 - p_y as the sum of the other classes' probabilities, so that it keeps its digits
        // when p_y is near 1 (x_y - lse itself cancels there, even in double).
        double q = 0;
        for (int64_t j = 0; j < c; ++j)
            if (j != t) q += std::exp(double(xi[j]) - lse);
        const double lp = q < 0.5 ? std::log1p(-q) : double(xi[t]) - lse;
        const double p = std::exp(lp);
        const double ay = k.per_class ? double(in.per_class[t]) : double(k.alpha);
        losses[i] = -ay * std::pow(q, g) * lp;
        double f;
        if (q == 0) {
            f = g == 0 ? ay : 0.0;
        } else if (p == 0) {
            f = ay * std::pow(q, g);
        } else {
            f = ay * (std::pow(q, g) - g * p * std::pow(q, g - 1) * lp);
        }
        const double up = test::upstream(k.reduction, in.gout, i, count);
        for (int64_t j = 0; j < c; ++j) {
            const double pj = std::exp(double(xi[j]) - lse);
            r.grad[i * c + j] = up * f * (j == t ? -q : pj);
        }
    }
    r.loss = test::reduce(k.reduction, losses, count);
    return r;
}

rows::Inputs make_inputs(const Case& k, std::mt19937& rng) {
    rows::Inputs in = rows::random_rows(k, k.special == 2, k.special == 3, rng);
    if (k.special == 1) rows::minus_inf_logits(k, in, true, rng);
    if (k.special == 4) {
        std::uniform_real_distribution<float> lead(17.f, 22.f);
        for (int64_t i = 0; i < k.n; ++i) {
            if (in.y[i] < 0 || in.y[i] >= k.c) continue;
            float* row = in.x.data() + k.offset + i * in.stride;
            row[in.y[i]] = std::nearbyint((k.c == 1 ? 0.f : rows::top_other(row, k.c, in.y[i])) + lead(rng));
        }
    }
    rows::random_per_class_and_gout(k, in, rng);
    return in;
}

std::string describe(const Case& k) {
    char buf[240];
    std::snprintf(buf, sizeof buf, "n=%lld c=%lld pad=%lld off=%lld alpha=%s gamma=%g ignore=%s red=%d special=%d",
                  (long long)k.n, (long long)k.c, (long long)k.pad, (long long)k.offset,
                  k.per_class ? "per-class" : std::to_string(k.alpha).c_str(), double(k.gamma),
                  k.ignore == CULOSS_NO_IGNORE_INDEX ? "none" : std::to_string(k.ignore).c_str(), int(k.reduction),
                  k.special);
    return buf;
}

culossStatus_t workspace_size(const Case& k, size_t* bytes) {
    return culossSoftmaxFocalWorkspaceSize(k.n, k.c, CULOSS_DATA_FLOAT32, k.reduction, bytes);
}

culossStatus_t entry_point(const Case& k, Entry entry, const rows::Args& a) {
    if (entry == Entry::Forward)
        return culossSoftmaxFocalForward(a.logits, a.stride, a.targets, k.n, k.c, a.dtype, a.per_class, k.alpha,
                                         k.gamma, k.ignore, k.reduction, a.loss, a.ws, a.ws_bytes, a.error_word,
                                         test::stream());
    if (entry == Entry::Backward)
        return culossSoftmaxFocalBackward(a.logits, a.stride, a.targets, k.n, k.c, a.dtype, a.per_class, k.alpha,
                                          k.gamma, k.ignore, k.reduction, a.grad_output, a.grad, a.grad_stride, a.ws,
                                          a.ws_bytes, a.error_word, test::stream());
    return culossSoftmaxFocalForwardBackward(a.logits, a.stride, a.targets, k.n, k.c, a.dtype, a.per_class, k.alpha,
                                             k.gamma, k.ignore, k.reduction, a.grad_output, a.loss, a.grad,
                                             a.grad_stride, a.ws, a.ws_bytes, a.error_word, test::stream());
}

void test_reference_cases(test::Context& t) {
    std::vector<Case> cases;
    // {n, c, pad, offset, ignore, reduction, per_class, alpha, gamma, special}
    for (culossReduction_t r : test::kReductions) {
        cases.push_back({5, 1, 0, 0, NO, r, false, 0.25f, 2.f, 0});         // one class: p = 1, loss 0
        cases.push_back({7, 3, 0, 0, -100, r, true, 1.f, 2.f, 0});          // per-class alpha, ignored rows
        cases.push_back({9, 4, 0, 0, 2, r, false, 0.25f, 0.5f, 0});         // ignore a real class
        cases.push_back({33, 7, 2, 1, -100, r, true, 1.f, 3.5f, 1});        // strided, unaligned, -inf logits
        cases.push_back({40, 33, 0, 0, NO, r, false, 1.f, 0.f, 3});         // gamma 0, every target class 0
        cases.push_back({17, 128, 4, 0, NO, r, true, 1.f, 1.f, 2});         // 1e4 logits
        cases.push_back({3, 1025, 3, 1, -100, r, false, 0.5f, 2.f, 1});     // a block per row, unaligned
    }
    cases.push_back({500, 10, 0, 0, -100, CULOSS_REDUCTION_MEAN, true, 1.f, 2.f, 0});  // two reduce levels
    cases.push_back({2, 4097, 0, 0, -100, CULOSS_REDUCTION_MEAN, true, 1.f, 2.f, 0});  // 256 threads per row
    cases.push_back({2, 50000, 1, 0, NO, CULOSS_REDUCTION_NONE, false, 0.25f, 0.5f, 1});  // 512, past the cache
    rows::run_cases(t, cases, 1);
}

// Confident rows (loss and 1 - p_y near 1e-8) on every path, single rows too.
void test_regimes(test::Context& t) {
    std::vector<Case> cases;
    for (culossReduction_t r : test::kReductions)
        for (int64_t n : {1, 3}) {
            // {n, c, pad, offset, ignore, reduction, per_class, alpha, gamma, special}
            cases.push_back({n, 4, 0, 0, NO, r, false, 0.25f, 2.f, 4});
            cases.push_back({n, 1000, 0, 0, NO, r, true, 1.f, 0.5f, 4});
            cases.push_back({n, 1000, 0, 1, NO, r, false, 0.25f, 0.f, 4});
            cases.push_back({n, 5000, 0, 0, NO, r, true, 1.f, 2.f, 4});
            cases.push_back({n, 20000, 0, 1, NO, r, false, 0.25f, 1.f, 4});
            cases.push_back({n, 20000, 0, 0, NO, r, true, 0.5f, 2.f, 4});  // 512 threads, 16-byte loads
        }
    // Every fifth case under ThreadSanitizer (5 is prime to the 6 shapes of a block).
    rows::run_cases(t, cases, 9000, test::tsan_stride(5));
}

void test_empty_batch(test::Context& t) {
    rows::expect_empty_batch(
        t,
        [](culossReduction_t r, size_t* bytes) {
            return culossSoftmaxFocalWorkspaceSize(0, 5, CULOSS_DATA_FLOAT32, r, bytes);
        },
        [](culossReduction_t r, float* loss) {
            return culossSoftmaxFocalForwardBackward(nullptr, 5, nullptr, 0, 5, CULOSS_DATA_FLOAT32, nullptr, 1.f, 2.f,
                                                     -100, r, nullptr, loss, nullptr, 5, nullptr, 0, nullptr,
                                                     test::stream());
        });
    t.check_status(culossSoftmaxFocalForward(nullptr, 5, nullptr, 0, 5, CULOSS_DATA_FLOAT32, nullptr, 1.f, 2.f, -100,
                                             CULOSS_REDUCTION_NONE, nullptr, nullptr, 0, nullptr, test::stream()),
                   "n=0 forward, NONE, no output");
}

// Every row ignored: loss 0 and a zero gradient for every reduction (the mean divides by no row).
void test_all_ignored(test::Context& t) {
    for (culossReduction_t r : test::kReductions) {
        const Case k{6, 5, 0, 0, 3, r, true, 1.f, 2.f, 0};
        std::mt19937 rng(7);
        rows::Inputs in = make_inputs(k, rng);
        for (int32_t& v : in.y) v = 3;
        const std::string what = "all rows ignored, red=" + std::to_string(int(r));
        const rows::Outputs out = rows::call(t, k, in, Entry::Fused, what);
        bool zero = true;
        for (float v : out.loss) zero &= v == 0.f;
        for (float v : out.grad) zero &= v == 0.f;
        t.expect(zero, what + ": loss and gradient are 0");
    }
}

// gamma = 0 is cross-entropy weighted by alpha_y, row by row (NONE and SUM; the means differ:
// focal divides by the row count, cross-entropy by the weight sum).
void test_gamma0_is_cross_entropy(test::Context& t) {
    for (culossReduction_t r : {CULOSS_REDUCTION_NONE, CULOSS_REDUCTION_SUM}) {
        for (bool per_class : {false, true}) {
            const Case k{40, 9, 0, 0, -100, r, per_class, 0.75f, 0.f, 0};
            std::mt19937 rng(11);
            const rows::Inputs in = make_inputs(k, rng);
            const std::string what = std::string("gamma 0 vs cross-entropy, ") + (per_class ? "per-class" : "scalar") +
                                     " alpha, red=" + std::to_string(int(r));
            const rows::Outputs focal = rows::call(t, k, in, Entry::Fused, what);
            std::vector<float> w(k.c, k.alpha);
            if (per_class) w = in.per_class;
            size_t ws_bytes = 0;
            culossSoftmaxCrossEntropyWorkspaceSize(k.n, k.c, CULOSS_DATA_FLOAT32, r, &ws_bytes);
            test::DeviceBuffer<float> x(in.x), dw(w), gout(in.gout),
                loss(std::vector<float>(test::loss_length(r, k.n))), grad(std::vector<float>(k.n * k.c));
            test::DeviceBuffer<int32_t> y(in.y);
            test::DeviceBuffer<char> ws(std::vector<char>(ws_bytes + 16, 0));
            t.check_status(culossSoftmaxCrossEntropyForwardBackward(
                               x.get(), k.c, y.get(), k.n, k.c, CULOSS_DATA_FLOAT32, dw.get(), k.ignore, 0.f, r,
                               r == CULOSS_REDUCTION_NONE ? gout.get() : nullptr, loss.get(), grad.get(), k.c,
                               ws.get(), ws_bytes, nullptr, test::stream()),
                           what + " (cross-entropy)");
            const std::vector<float> ce_loss = loss.read(), ce_grad = grad.read();
            t.expect_close(focal.loss, std::vector<double>(ce_loss.begin(), ce_loss.end()), 2e-6, what + ": loss");
            t.expect_close(focal.grad, std::vector<double>(ce_grad.begin(), ce_grad.end()), 2e-6, what + ": grad");
        }
    }
}

// p_y = 1 - 1e-7 and below: 1 - p_y must keep its digits (a sum of exponentials that includes
// the target cannot: 1 + 1e-7 is one float ulp above 1), and gamma = 0.5 must not turn
// q^(gamma-1) into inf. Single rows, so each row's loss is compared on its own.
void test_near_certain_rows(test::Context& t) {
    for (float gamma : {0.5f, 0.f, 2.f}) {
        for (int64_t c : {int64_t(2), int64_t(5), int64_t(2000)}) {
            for (float gap : {16.1f, 18.f, 25.f, 40.f, 120.f}) {  // p_y ~ 1 - (C-1) e^-gap
                Case k{1, c, 0, 0, CULOSS_NO_IGNORE_INDEX, CULOSS_REDUCTION_NONE, false, 0.25f, gamma, 0};
                rows::Inputs in;
                in.stride = c;
                in.x.assign(c, 3.f - gap);
                in.x[c / 2] = 3.f;
                if (c > 2) in.x[0] = 3.f - gap - 1.5f;
                in.y = {int32_t(c / 2)};
                in.gout = {1.f};
                in.per_class = std::vector<float>(c, 1.f);
                const rows::Reference ref = reference(k, in);
                char what[160];
                std::snprintf(what, sizeof what, "near-certain row: gamma=%g c=%lld gap=%g", double(gamma), (long long)c,
                              double(gap));
                const rows::Outputs out = rows::call(t, k, in, Entry::Fused, what);
                bool finite = std::isfinite(out.loss[0]);
                for (float v : out.grad) finite &= std::isfinite(v);
                t.expect(finite, std::string(what) + ": finite");
                t.expect(out.loss[0] >= 0.f, std::string(what) + ": loss >= 0");
                // Below the float range (e^-120 for C = 2000 is 1e-49) the loss is 0 in float.
                if (ref.loss[0] > 1e-30) t.expect_close(out.loss, ref.loss, 1e-5, std::string(what) + " loss");
                t.expect_close(out.grad, ref.grad, 1e-5, std::string(what) + " grad");
            }
        }
    }
}

// A -inf target logit: p_y = 0, the loss is +inf, the gradient is finite (F = alpha q^gamma).
void test_target_minus_inf(test::Context& t) {
    for (float gamma : {0.f, 0.5f, 2.f}) {
        const Case k{2, 4, 0, 0, CULOSS_NO_IGNORE_INDEX, CULOSS_REDUCTION_NONE, false, 0.5f, gamma, 0};
        // {x, per_class, gout, y, stride}
        const rows::Inputs in{
            {0.5f, -INFINITY, 1.f, -1.f, 0.3f, 0.2f, 0.1f, 0.f}, std::vector<float>(4, 1.f), {1.f, 0.5f}, {1, 2}, 4};
        const rows::Reference ref = reference(k, in);
        const std::string what = "-inf target logit, gamma=" + std::to_string(gamma);
        const rows::Outputs out = rows::call(t, k, in, Entry::Fused, what);
        t.expect(std::isinf(out.loss[0]) && out.loss[0] > 0, what + ": loss is +inf");
        t.expect_close(out.grad, ref.grad, 1e-5, what + " grad");
    }
}

// Invalid targets count for nothing, nor in the mean's count.
void test_invalid_targets(test::Context& t) {
    for (Entry e : {Entry::Fused, Entry::Forward})
        rows::expect_invalid_targets_ignored(t, Case{6, 5, 0, 0, -100, CULOSS_REDUCTION_MEAN, true, 1.f, 2.f, 0},
                                             {0.5f, 1.f, 2.f, 0.25f, 1.5f}, e);
}

void test_bad_arguments(test::Context& t) {
    const auto NONE = CULOSS_REDUCTION_NONE;
    const auto INVALID = CULOSS_STATUS_INVALID_VALUE;
    size_t bytes = 0;
    t.expect_refused(culossSoftmaxFocalWorkspaceSize(-1, 4, CULOSS_DATA_FLOAT32, NONE, &bytes), INVALID, "n");
    t.expect_refused(culossSoftmaxFocalWorkspaceSize(2, 0, CULOSS_DATA_FLOAT32, NONE, &bytes), INVALID, "c");
    t.expect_refused(culossSoftmaxFocalWorkspaceSize(2, 4, CULOSS_DATA_FLOAT32, culossReduction_t(3), &bytes), INVALID,
                     "reduction");
    t.expect_refused(culossSoftmaxFocalWorkspaceSize(2, 4, CULOSS_DATA_FLOAT32, NONE, nullptr), INVALID, "bytes");
    const Case k{2, 4, 0, 0, -100, NONE, false, 1.f, 2.f, 0};
    rows::expect_common_refusals(t, k);
    for (float gamma : {-0.5f, NAN, INFINITY})
        rows::expect_refused(t, k, Entry::Forward, INVALID, "gamma",
                             [gamma](Case& c, rows::Args&) { c.gamma = gamma; });
    rows::expect_refused(t, k, Entry::Forward, INVALID, "alpha", [](Case& c, rows::Args&) { c.alpha = NAN; });
    rows::expect_refused(t, k, Entry::Forward, CULOSS_STATUS_MISALIGNED, "class_alpha", [](Case& c, rows::Args& a) {
        c.per_class = true;
        a.per_class = rows::misaligned(a.logits, 1);
    });
    rows::expect_refused(t, k, Entry::Fused, INVALID, "loss", [](Case&, rows::Args& a) { a.loss = nullptr; });
    rows::expect_refused(t, k, Entry::Fused, INVALID, "grad_logits", [](Case&, rows::Args& a) { a.grad = nullptr; });
    rows::expect_refused(t, k, Entry::Fused, INVALID, "grad_logits overlaps logits", [](Case&, rows::Args& a) {
        a.grad = const_cast<float*>(a.logits);
        a.grad_stride = 5;
    });
    // A NaN alpha is fine when class_alpha replaces it.
    const rows::SmallCall call;
    rows::Args with_table = call.args();
    with_table.per_class = with_table.logits;
    t.check_status(entry_point(Case{2, 4, 0, 0, -100, NONE, true, NAN, 2.f, 0}, Entry::Forward, with_table),
                   "alpha NaN with class_alpha");
}

void test_deterministic(test::Context& t) {
    rows::expect_deterministic(t, Case{3000, 37, 0, 0, -100, CULOSS_REDUCTION_MEAN, true, 1.f, 2.f, 0});
}

}  // namespace

int main() {
    return test::run_suite("softmax_focal",
                           {test_bad_arguments, test_empty_batch, test_all_ignored, test_invalid_targets,
                            test_gamma0_is_cross_entropy, test_near_certain_rows, test_target_minus_inf,
                            test_deterministic, test_reference_cases, test_regimes});
}
