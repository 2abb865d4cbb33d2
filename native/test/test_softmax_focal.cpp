// Softmax focal loss through the C API against a float64 reference, on random and awkward
// shapes: every entry point, every reduction, scalar and per-class alpha, gamma 0 / in (0, 1) /
// 2 / 3.5, ignore_index, row strides, unaligned rows, -inf and 1e4 logits, one class, the
// block-per-row sizes, near-certain rows, invalid targets, bad arguments and determinism.
// The same source runs against the emulated library and, on a GPU, against libculoss.so.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "culoss/culoss.h"
#include "test_support.h"

namespace {

struct Case {
    int64_t n, c;
    int64_t pad;     // row stride = c + pad
    int64_t offset;  // floats before the first row: offset 1 makes every row unaligned
    bool class_alpha;
    float alpha;  // the scalar alpha (when !class_alpha)
    float gamma;
    int64_t ignore;  // CULOSS_NO_IGNORE_INDEX or a value
    culossReduction_t reduction;
    // 0 plain, 1 some -inf non-target logits, 2 logits of magnitude 1e4, 3 every target class 0,
    // 4 confident rows (the target leads the rest by 17 to 22)
    int special;
};

struct Reference {
    std::vector<double> loss;  // n values (NONE) or 1
    std::vector<double> grad;  // n * c
};

// float64 reference, from the formula (culoss.h), independent of the kernels:
//   loss = -a_y q^g log p_y, grad_k = F (p_k - [k == y]), F = a_y (q^g - g p_y q^(g-1) log p_y).
// F's 0 * inf limits (q = 0: F = a_y q^g (1 + g) -> a_y [g == 0]; p_y = 0: F = a_y) are taken
// explicitly; elsewhere F is the formula as written.
Reference reference(const Case& k, const std::vector<float>& x, int64_t stride, const std::vector<int32_t>& y,
                    const std::vector<float>& a, const std::vector<float>& gout) {
    const int64_t n = k.n, c = k.c;
    const double g = k.gamma;
    auto counts = [&](int64_t i) { return y[i] != k.ignore && y[i] >= 0 && y[i] < c; };
    double count = 0;
    for (int64_t i = 0; i < n; ++i) count += counts(i);
    Reference r;
    r.grad.assign(n * c, 0.0);
    std::vector<double> rows(n, 0.0);
    for (int64_t i = 0; i < n; ++i) {
        if (!counts(i)) continue;
        const float* xi = x.data() + k.offset + i * stride;
        const int64_t t = y[i];
        double m = -INFINITY;
        for (int64_t j = 0; j < c; ++j) m = std::max(m, double(xi[j]));
        double s = 0;
        for (int64_t j = 0; j < c; ++j) s += std::exp(double(xi[j]) - m);
        const double lse = m + std::log(s);
        // q = 1 - p_y as the sum of the other classes' probabilities, so that it keeps its digits
        // when p_y is near 1 (x_y - lse itself cancels there, even in double).
        double q = 0;
        for (int64_t j = 0; j < c; ++j)
            if (j != t) q += std::exp(double(xi[j]) - lse);
        const double lp = q < 0.5 ? std::log1p(-q) : double(xi[t]) - lse;
        const double p = std::exp(lp);
        const double ay = k.class_alpha ? double(a[t]) : double(k.alpha);
        rows[i] = -ay * std::pow(q, g) * lp;
        double f;
        if (q == 0) {
            f = g == 0 ? ay : 0.0;
        } else if (p == 0) {
            f = ay * std::pow(q, g);
        } else {
            f = ay * (std::pow(q, g) - g * p * std::pow(q, g - 1) * lp);
        }
        double up = 1.0;
        if (k.reduction == CULOSS_REDUCTION_NONE) up = gout[i];
        if (k.reduction == CULOSS_REDUCTION_MEAN) up = count > 0 ? 1.0 / count : 0.0;
        for (int64_t j = 0; j < c; ++j) {
            const double pj = std::exp(double(xi[j]) - lse);
            r.grad[i * c + j] = up * f * (j == t ? -q : pj);
        }
    }
    if (k.reduction == CULOSS_REDUCTION_NONE) {
        r.loss = rows;
    } else {
        double total = 0;
        for (double v : rows) total += v;
        if (k.reduction == CULOSS_REDUCTION_MEAN) total = count > 0 ? total / count : 0.0;
        r.loss = {total};
    }
    return r;
}

struct Inputs {
    std::vector<float> x, a, gout;
    std::vector<int32_t> y;
    int64_t stride;
};

Inputs make_inputs(const Case& k, std::mt19937& rng) {
    Inputs in;
    in.stride = k.c + k.pad;
    in.x.assign(k.offset + k.n * in.stride, std::numeric_limits<float>::quiet_NaN());  // padding is poison
    std::normal_distribution<float> normal(0.f, 2.f);
    std::uniform_int_distribution<int32_t> cls(0, int32_t(k.c - 1));
    for (int64_t i = 0; i < k.n; ++i)
        for (int64_t j = 0; j < k.c; ++j) {
            float v = normal(rng);
            if (k.special == 2) v = (rng() % 2 ? 1e4f : -1e4f) + normal(rng);
            in.x[k.offset + i * in.stride + j] = v;
        }
    in.y.resize(k.n);
    for (int64_t i = 0; i < k.n; ++i) {
        in.y[i] = k.special == 3 ? 0 : cls(rng);
        if (k.ignore != CULOSS_NO_IGNORE_INDEX && rng() % 4 == 0) in.y[i] = int32_t(k.ignore);
    }
    if (k.special == 1) {  // -inf on some non-target logits, never a whole row
        for (int64_t i = 0; i < k.n; ++i)
            for (int64_t j = 0; j < k.c; ++j)
                if (j != in.y[i] && rng() % 3 == 0) in.x[k.offset + i * in.stride + j] = -INFINITY;
    }
    if (k.special == 4) {
        std::uniform_real_distribution<float> lead(17.f, 22.f);
        for (int64_t i = 0; i < k.n; ++i) {
            if (in.y[i] < 0 || in.y[i] >= k.c) continue;
            float* row = in.x.data() + k.offset + i * in.stride;
            float top = -INFINITY;
            for (int64_t j = 0; j < k.c; ++j)
                if (j != in.y[i]) top = std::max(top, row[j]);
            row[in.y[i]] = std::nearbyint((k.c == 1 ? 0.f : top) + lead(rng));
        }
    }
    std::uniform_real_distribution<float> uni(0.1f, 2.f);
    in.a.resize(k.c);
    for (float& v : in.a) v = uni(rng);
    in.gout.resize(k.n);
    for (float& v : in.gout) v = uni(rng) - 1.f;
    return in;
}

std::string describe(const Case& k) {
    char buf[240];
    std::snprintf(buf, sizeof buf, "n=%lld c=%lld pad=%lld off=%lld alpha=%s gamma=%g ignore=%s red=%d special=%d",
                  (long long)k.n, (long long)k.c, (long long)k.pad, (long long)k.offset,
                  k.class_alpha ? "per-class" : std::to_string(k.alpha).c_str(), double(k.gamma),
                  k.ignore == CULOSS_NO_IGNORE_INDEX ? "none" : std::to_string(k.ignore).c_str(), int(k.reduction),
                  k.special);
    return buf;
}

enum class Entry { Forward, Backward, Fused };

struct Outputs {
    std::vector<float> loss, grad;  // grad: n * c, padding stripped
    int32_t error_word;
};

// Runs one entry point on given inputs; checks the status and that the gradient padding between
// rows is untouched.
Outputs call(test::Context& t, const Case& k, const Inputs& in, Entry entry, const std::string& what) {
    size_t ws_bytes = 0;
    t.check_status(culossSoftmaxFocalWorkspaceSize(k.n, k.c, CULOSS_DATA_FLOAT32, k.reduction, &ws_bytes),
                   what + " workspace");
    const int64_t loss_len = k.reduction == CULOSS_REDUCTION_NONE ? k.n : 1;
    const int64_t grad_stride = in.stride;
    std::vector<float> grad_init(k.offset + k.n * grad_stride, 12345.f);

    test::DeviceBuffer<float> x(in.x), a(in.a), gout(in.gout), loss(std::vector<float>(loss_len, -7.f)),
        grad(grad_init);
    test::DeviceBuffer<int32_t> y(in.y), err(std::vector<int32_t>{0});
    test::DeviceBuffer<char> ws(std::vector<char>(ws_bytes + 16, 0));
    const float* alpha = k.class_alpha ? a.get() : nullptr;
    const float* go = k.reduction == CULOSS_REDUCTION_NONE ? gout.get() : nullptr;
    float* g = grad.get() + k.offset;
    const float* xs = x.get() + k.offset;
    culossStatus_t st = CULOSS_STATUS_SUCCESS;
    switch (entry) {
        case Entry::Forward:
            st = culossSoftmaxFocalForward(xs, in.stride, y.get(), k.n, k.c, CULOSS_DATA_FLOAT32, alpha, k.alpha,
                                           k.gamma, k.ignore,
                                           k.reduction, loss.get(), ws.get(), ws_bytes, err.get(), test::stream());
            break;
        case Entry::Backward:
            st = culossSoftmaxFocalBackward(xs, in.stride, y.get(), k.n, k.c, CULOSS_DATA_FLOAT32, alpha, k.alpha,
                                            k.gamma, k.ignore,
                                            k.reduction, go, g, grad_stride, ws.get(), ws_bytes, err.get(), test::stream());
            break;
        case Entry::Fused:
            st = culossSoftmaxFocalForwardBackward(xs, in.stride, y.get(), k.n, k.c, CULOSS_DATA_FLOAT32, alpha,
                                                   k.alpha, k.gamma,
                                                   k.ignore, k.reduction, go, loss.get(), g, grad_stride, ws.get(),
                                                   ws_bytes, err.get(), test::stream());
            break;
    }
    t.check_status(st, what);
    t.check_status(culossStreamSynchronize(test::stream()), what + " sync");
    Outputs out;
    out.error_word = err.read()[0];
    out.loss = loss.read();
    const std::vector<float> all = grad.read();
    out.grad.resize(k.n * k.c);
    bool padding_intact = true;
    for (int64_t i = 0; i < k.n; ++i) {
        for (int64_t j = 0; j < k.c; ++j) out.grad[i * k.c + j] = all[k.offset + i * grad_stride + j];
        for (int64_t j = k.c; j < grad_stride; ++j) padding_intact &= all[k.offset + i * grad_stride + j] == 12345.f;
    }
    for (int64_t i = 0; i < k.offset; ++i) padding_intact &= all[i] == 12345.f;
    if (entry == Entry::Forward) {
        bool untouched = true;
        for (float v : all) untouched &= v == 12345.f;
        t.expect(untouched, what + ": the forward wrote a gradient");
    } else {
        t.expect(padding_intact, what + ": wrote into the row padding");
    }
    return out;
}

void run_case(test::Context& t, const Case& k, Entry entry, uint32_t seed) {
    std::mt19937 rng(seed);
    const Inputs in = make_inputs(k, rng);
    const Reference ref = reference(k, in.x, in.stride, in.y, in.a, in.gout);
    const std::string what =
        describe(k) + (entry == Entry::Forward ? " forward" : entry == Entry::Backward ? " backward" : " fused");
    const Outputs out = call(t, k, in, entry, what);
    t.expect(out.error_word == 0, what + ": error word set for valid targets");
    const double tol = k.n * k.c > 100000 ? 2e-5 : 1e-5;
    if (entry != Entry::Backward) t.expect_close(out.loss, ref.loss, tol, what + " loss");
    if (entry != Entry::Forward) t.expect_close(out.grad, ref.grad, tol, what + " grad");
}

void test_reference_cases(test::Context& t) {
    const culossReduction_t reds[] = {CULOSS_REDUCTION_NONE, CULOSS_REDUCTION_SUM, CULOSS_REDUCTION_MEAN};
    const int64_t NO = CULOSS_NO_IGNORE_INDEX;
    std::vector<Case> cases;
    // {n, c, pad, offset, class_alpha, alpha, gamma, ignore, reduction, special}
    for (culossReduction_t r : reds) {
        cases.push_back({5, 1, 0, 0, false, 0.25f, 2.f, NO, r, 0});         // one class: p = 1, loss 0
        cases.push_back({7, 3, 0, 0, true, 1.f, 2.f, -100, r, 0});          // per-class alpha, ignored rows
        cases.push_back({9, 4, 0, 0, false, 0.25f, 0.5f, 2, r, 0});         // ignore a real class
        cases.push_back({33, 7, 2, 1, true, 1.f, 3.5f, -100, r, 1});        // strided, unaligned, -inf logits
        cases.push_back({40, 33, 0, 0, false, 1.f, 0.f, NO, r, 3});         // gamma 0, every target class 0
        cases.push_back({17, 128, 4, 0, true, 1.f, 1.f, NO, r, 2});         // 1e4 logits
        cases.push_back({3, 1025, 3, 1, false, 0.5f, 2.f, -100, r, 1});     // a block per row, unaligned
    }
    cases.push_back({500, 10, 0, 0, true, 1.f, 2.f, -100, CULOSS_REDUCTION_MEAN, 0});  // two reduce levels
    cases.push_back({2, 4097, 0, 0, true, 1.f, 2.f, -100, CULOSS_REDUCTION_MEAN, 0});  // 256 threads per row
    cases.push_back({2, 50000, 1, 0, false, 0.25f, 0.5f, NO, CULOSS_REDUCTION_NONE, 1});  // 512, past the cache
    uint32_t seed = 1;
    for (const Case& k : cases)
        for (Entry e : {Entry::Forward, Entry::Backward, Entry::Fused}) run_case(t, k, e, seed++);
}

// Confident rows (loss and 1 - p_y near 1e-8) on every path, single rows too.
void test_regimes(test::Context& t) {
    const int64_t NO = CULOSS_NO_IGNORE_INDEX;
    std::vector<Case> cases;
    for (culossReduction_t r : {CULOSS_REDUCTION_NONE, CULOSS_REDUCTION_SUM, CULOSS_REDUCTION_MEAN})
        for (int64_t n : {1, 3}) {
            // {n, c, pad, offset, class_alpha, alpha, gamma, ignore, reduction, special}
            cases.push_back({n, 4, 0, 0, false, 0.25f, 2.f, NO, r, 4});
            cases.push_back({n, 1000, 0, 0, true, 1.f, 0.5f, NO, r, 4});
            cases.push_back({n, 1000, 0, 1, false, 0.25f, 0.f, NO, r, 4});
            cases.push_back({n, 5000, 0, 0, true, 1.f, 2.f, NO, r, 4});
            cases.push_back({n, 20000, 0, 1, false, 0.25f, 1.f, NO, r, 4});
            cases.push_back({n, 20000, 0, 0, true, 0.5f, 2.f, NO, r, 4});  // 512 threads, 16-byte loads
        }
    uint32_t seed = 9000;
    // Every fifth case under ThreadSanitizer (5 is prime to the 6 shapes of a block).
    for (size_t i = 0; i < cases.size(); i += test::tsan_stride(5))
        for (Entry e : {Entry::Forward, Entry::Backward, Entry::Fused}) run_case(t, cases[i], e, seed++);
}

void test_empty_batch(test::Context& t) {
    for (culossReduction_t r : {CULOSS_REDUCTION_SUM, CULOSS_REDUCTION_MEAN}) {
        test::DeviceBuffer<float> loss(std::vector<float>{-1.f});
        size_t ws = 1;
        t.check_status(culossSoftmaxFocalWorkspaceSize(0, 5, CULOSS_DATA_FLOAT32, r, &ws), "n=0 workspace");
        t.expect(ws == 0, "n=0 needs no workspace");
        t.check_status(culossSoftmaxFocalForwardBackward(nullptr, 5, nullptr, 0, 5, CULOSS_DATA_FLOAT32, nullptr, 1.f,
                                                         2.f, -100, r,
                                                         nullptr, loss.get(), nullptr, 5, nullptr, 0, nullptr,
                                                         test::stream()),
                       "n=0 fused");
        t.expect(loss.read()[0] == 0.f, "n=0 loss is 0");
    }
    t.check_status(culossSoftmaxFocalForward(nullptr, 5, nullptr, 0, 5, CULOSS_DATA_FLOAT32, nullptr, 1.f, 2.f, -100,
                                             CULOSS_REDUCTION_NONE, nullptr, nullptr, 0, nullptr, test::stream()),
                   "n=0 forward, NONE, no output");
}

// Every row ignored: loss 0 and a zero gradient for every reduction (the mean divides by no row).
void test_all_ignored(test::Context& t) {
    for (culossReduction_t r : {CULOSS_REDUCTION_NONE, CULOSS_REDUCTION_SUM, CULOSS_REDUCTION_MEAN}) {
        const Case k{6, 5, 0, 0, true, 1.f, 2.f, 3, r, 0};
        std::mt19937 rng(7);
        Inputs in = make_inputs(k, rng);
        for (int32_t& v : in.y) v = 3;
        const std::string what = "all rows ignored, red=" + std::to_string(int(r));
        const Outputs out = call(t, k, in, Entry::Fused, what);
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
            const Case k{40, 9, 0, 0, per_class, 0.75f, 0.f, -100, r, 0};
            std::mt19937 rng(11);
            const Inputs in = make_inputs(k, rng);
            const std::string what = std::string("gamma 0 vs cross-entropy, ") + (per_class ? "per-class" : "scalar") +
                                     " alpha, red=" + std::to_string(int(r));
            const Outputs focal = call(t, k, in, Entry::Fused, what);
            std::vector<float> w(k.c, k.alpha);
            if (per_class) w = in.a;
            size_t ws_bytes = 0;
            culossSoftmaxCrossEntropyWorkspaceSize(k.n, k.c, CULOSS_DATA_FLOAT32, r, &ws_bytes);
            test::DeviceBuffer<float> x(in.x), dw(w), gout(in.gout),
                loss(std::vector<float>(r == CULOSS_REDUCTION_NONE ? k.n : 1)), grad(std::vector<float>(k.n * k.c));
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
                Case k{1, c, 0, 0, false, 0.25f, gamma, CULOSS_NO_IGNORE_INDEX, CULOSS_REDUCTION_NONE, 0};
                Inputs in;
                in.stride = c;
                in.x.assign(c, 3.f - gap);
                in.x[c / 2] = 3.f;
                if (c > 2) in.x[0] = 3.f - gap - 1.5f;
                in.y = {int32_t(c / 2)};
                in.gout = {1.f};
                in.a = std::vector<float>(c, 1.f);
                const Reference ref = reference(k, in.x, in.stride, in.y, in.a, in.gout);
                char what[160];
                std::snprintf(what, sizeof what, "near-certain row: gamma=%g c=%lld gap=%g", double(gamma), (long long)c,
                              double(gap));
                const Outputs out = call(t, k, in, Entry::Fused, what);
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
        const Case k{2, 4, 0, 0, false, 0.5f, gamma, CULOSS_NO_IGNORE_INDEX, CULOSS_REDUCTION_NONE, 0};
        Inputs in;
        in.stride = 4;
        in.x = {0.5f, -INFINITY, 1.f, -1.f, 0.3f, 0.2f, 0.1f, 0.f};
        in.y = {1, 2};
        in.gout = {1.f, 0.5f};
        in.a = std::vector<float>(4, 1.f);
        const Reference ref = reference(k, in.x, in.stride, in.y, in.a, in.gout);
        const std::string what = "-inf target logit, gamma=" + std::to_string(gamma);
        const Outputs out = call(t, k, in, Entry::Fused, what);
        t.expect(std::isinf(out.loss[0]) && out.loss[0] > 0, what + ": loss is +inf");
        t.expect_close(out.grad, ref.grad, 1e-5, what + " grad");
    }
}

// Targets outside [0, C) that are not ignore_index: the error word is set, those rows count
// for nothing (nor in the mean's count), the other rows are exact, nothing is written out of
// bounds (ASan watches).
void test_invalid_targets(test::Context& t) {
    const int64_t n = 6, c = 5;
    std::vector<float> x(n * c);
    for (size_t i = 0; i < x.size(); ++i) x[i] = float(i % 7) * 0.3f;
    const std::vector<float> a = {0.5f, 1.f, 2.f, 0.25f, 1.5f};
    std::vector<int32_t> y = {0, 5, 2, -1, 4, 1 << 30};
    for (Entry e : {Entry::Fused, Entry::Forward}) {
        size_t ws_bytes = 0;
        culossSoftmaxFocalWorkspaceSize(n, c, CULOSS_DATA_FLOAT32, CULOSS_REDUCTION_MEAN, &ws_bytes);
        test::DeviceBuffer<float> dx(x), da(a), loss(std::vector<float>{0.f}), grad(std::vector<float>(n * c, 9.f));
        test::DeviceBuffer<int32_t> dy(y), err(std::vector<int32_t>{0});
        test::DeviceBuffer<char> ws(std::vector<char>(ws_bytes, 0));
        const culossStatus_t st =
            e == Entry::Fused
                ? culossSoftmaxFocalForwardBackward(dx.get(), c, dy.get(), n, c, CULOSS_DATA_FLOAT32, da.get(), 1.f,
                                                    2.f, -100,
                                                    CULOSS_REDUCTION_MEAN, nullptr, loss.get(), grad.get(), c,
                                                    ws.get(), ws_bytes, err.get(), test::stream())
                : culossSoftmaxFocalForward(dx.get(), c, dy.get(), n, c, CULOSS_DATA_FLOAT32, da.get(), 1.f, 2.f, -100,
                                            CULOSS_REDUCTION_MEAN, loss.get(), ws.get(), ws_bytes, err.get(), test::stream());
        const std::string what = e == Entry::Fused ? "invalid targets (fused)" : "invalid targets (forward)";
        t.check_status(st, what);
        t.expect(err.read()[0] == CULOSS_DEVICE_ERROR_BAD_TARGET, what + ": the error word is set");
        // The valid rows alone, as if the bad ones were ignored.
        std::vector<int32_t> masked = y;
        for (int32_t& v : masked)
            if (v < 0 || v >= c) v = -100;
        const Case k{n, c, 0, 0, true, 1.f, 2.f, -100, CULOSS_REDUCTION_MEAN, 0};
        const Reference ref = reference(k, x, c, masked, a, {});
        t.expect_close(loss.read(), ref.loss, 1e-5, what + ": loss of the valid rows over their count");
        if (e == Entry::Fused) t.expect_close(grad.read(), ref.grad, 1e-5, what + ": gradient (zero on the bad rows)");
    }
}

void test_bad_arguments(test::Context& t) {
    std::vector<float> host(64, 0.f);
    test::DeviceBuffer<float> x(host), loss(host), grad(host);
    test::DeviceBuffer<int32_t> y(std::vector<int32_t>(8, 0));
    auto expect_invalid = [&](culossStatus_t st, culossStatus_t want, const char* argument) {
        const std::string detail = culossGetLastErrorDetail();
        t.expect(st == want, std::string("bad ") + argument + ": status " + culossGetErrorString(st));
        t.expect(detail.find(argument) != std::string::npos,
                 std::string("detail names ") + argument + ": '" + detail + "'");
    };
    const auto NONE = CULOSS_REDUCTION_NONE;
    const auto INVALID = CULOSS_STATUS_INVALID_VALUE;
    auto fwd = [&](const float* logits, int64_t stride, const int32_t* targets, int64_t n, int64_t c,
                   const float* class_alpha, float alpha, float gamma, culossReduction_t r, float* out, void* ws,
                   size_t ws_bytes) {
        return culossSoftmaxFocalForward(logits, stride, targets, n, c, CULOSS_DATA_FLOAT32, class_alpha, alpha,
                                         gamma, -100, r, out, ws,
                                         ws_bytes, nullptr, test::stream());
    };
    size_t bytes = 0;
    expect_invalid(culossSoftmaxFocalWorkspaceSize(-1, 4, CULOSS_DATA_FLOAT32, NONE, &bytes), INVALID, "n");
    expect_invalid(culossSoftmaxFocalWorkspaceSize(2, 0, CULOSS_DATA_FLOAT32, NONE, &bytes), INVALID, "c");
    expect_invalid(culossSoftmaxFocalWorkspaceSize(2, 4, CULOSS_DATA_FLOAT32, culossReduction_t(3), &bytes), INVALID,
                   "reduction");
    expect_invalid(culossSoftmaxFocalWorkspaceSize(2, 4, CULOSS_DATA_FLOAT32, NONE, nullptr), INVALID, "bytes");
    expect_invalid(fwd(x.get(), 4, y.get(), -1, 4, nullptr, 1.f, 2.f, NONE, loss.get(), nullptr, 0), INVALID, "n");
    expect_invalid(fwd(x.get(), 4, y.get(), 2, 0, nullptr, 1.f, 2.f, NONE, loss.get(), nullptr, 0), INVALID, "c");
    expect_invalid(fwd(x.get(), 3, y.get(), 2, 4, nullptr, 1.f, 2.f, NONE, loss.get(), nullptr, 0), INVALID,
                   "logits_stride");
    expect_invalid(fwd(nullptr, 4, y.get(), 2, 4, nullptr, 1.f, 2.f, NONE, loss.get(), nullptr, 0), INVALID, "logits");
    expect_invalid(fwd(x.get(), 4, nullptr, 2, 4, nullptr, 1.f, 2.f, NONE, loss.get(), nullptr, 0), INVALID,
                   "targets");
    expect_invalid(fwd(x.get(), 4, y.get(), 2, 4, nullptr, 1.f, -0.5f, NONE, loss.get(), nullptr, 0), INVALID, "gamma");
    expect_invalid(fwd(x.get(), 4, y.get(), 2, 4, nullptr, 1.f, NAN, NONE, loss.get(), nullptr, 0), INVALID, "gamma");
    expect_invalid(fwd(x.get(), 4, y.get(), 2, 4, nullptr, 1.f, INFINITY, NONE, loss.get(), nullptr, 0), INVALID,
                   "gamma");
    expect_invalid(fwd(x.get(), 4, y.get(), 2, 4, nullptr, NAN, 2.f, NONE, loss.get(), nullptr, 0), INVALID, "alpha");
    expect_invalid(fwd(x.get(), 4, y.get(), 2, 4, nullptr, 1.f, 2.f, culossReduction_t(7), loss.get(), nullptr, 0),
                   INVALID, "reduction");
    expect_invalid(fwd(x.get(), 4, y.get(), 2, 4, nullptr, 1.f, 2.f, NONE, nullptr, nullptr, 0), INVALID, "loss");
    expect_invalid(fwd(x.get(), 4, y.get(), 2, 4, nullptr, 1.f, 2.f, CULOSS_REDUCTION_MEAN, loss.get(), nullptr, 0),
                   CULOSS_STATUS_WORKSPACE_TOO_SMALL, "workspace");
    expect_invalid(fwd(reinterpret_cast<const float*>(reinterpret_cast<const char*>(x.get()) + 2), 4, y.get(), 2, 4,
                       nullptr, 1.f, 2.f, NONE, loss.get(), nullptr, 0),
                   CULOSS_STATUS_MISALIGNED, "logits");
    expect_invalid(fwd(x.get(), 4, y.get(), 2, 4, reinterpret_cast<const float*>(reinterpret_cast<const char*>(x.get()) + 1),
                       1.f, 2.f, NONE, loss.get(), nullptr, 0),
                   CULOSS_STATUS_MISALIGNED, "class_alpha");
    expect_invalid(culossSoftmaxFocalBackward(x.get(), 4, y.get(), 2, 4, CULOSS_DATA_FLOAT32, nullptr, 1.f, 2.f, -100,
                                              NONE, nullptr,
                                              nullptr, 4, nullptr, 0, nullptr, test::stream()),
                   INVALID, "grad_logits");
    expect_invalid(culossSoftmaxFocalBackward(x.get(), 4, y.get(), 2, 4, CULOSS_DATA_FLOAT32, nullptr, 1.f, 2.f, -100,
                                              NONE, nullptr,
                                              grad.get(), 3, nullptr, 0, nullptr, test::stream()),
                   INVALID, "grad_stride");
    expect_invalid(culossSoftmaxFocalForwardBackward(x.get(), 4, y.get(), 2, 4, CULOSS_DATA_FLOAT32, nullptr, 1.f,
                                                     2.f, -100, NONE,
                                                     nullptr, nullptr, grad.get(), 4, nullptr, 0, nullptr, test::stream()),
                   INVALID, "loss");
    expect_invalid(culossSoftmaxFocalForwardBackward(x.get(), 4, y.get(), 2, 4, CULOSS_DATA_FLOAT32, nullptr, 1.f,
                                                     2.f, -100, NONE,
                                                     nullptr, loss.get(), nullptr, 4, nullptr, 0, nullptr, test::stream()),
                   INVALID, "grad_logits");
    expect_invalid(culossSoftmaxFocalForwardBackward(x.get(), 4, y.get(), 2, 4, CULOSS_DATA_FLOAT32, nullptr, 1.f,
                                                     2.f, -100, NONE,
                                                     nullptr, loss.get(), x.get(), 5, nullptr, 0, nullptr, test::stream()),
                   INVALID, "grad_logits aliases logits");
    // A NaN alpha is fine when class_alpha replaces it.
    t.check_status(fwd(x.get(), 4, y.get(), 2, 4, x.get(), NAN, 2.f, NONE, loss.get(), nullptr, 0),
                   "alpha NaN with class_alpha");
}

// The sum/mean reductions add in a fixed order: two runs give the same bits.
void test_deterministic(test::Context& t) {
    const Case k{3000, 37, 0, 0, true, 1.f, 2.f, -100, CULOSS_REDUCTION_MEAN, 0};
    std::mt19937 rng(5);
    const Inputs in = make_inputs(k, rng);
    std::vector<float> first_loss, first_grad;
    for (int run = 0; run < 3; ++run) {
        const Outputs out = call(t, k, in, Entry::Fused, "determinism");
        if (run == 0) {
            first_loss = out.loss;
            first_grad = out.grad;
        } else {
            t.expect(std::memcmp(first_loss.data(), out.loss.data(), sizeof(float)) == 0, "loss bits differ between runs");
            t.expect(first_grad == out.grad, "gradient differs between runs");
        }
    }
}

}  // namespace

int main() {
    test::Context t;
    if (!t.device_available()) return 77;
    test_bad_arguments(t);
    test_empty_batch(t);
    test_all_ignored(t);
    test_invalid_targets(t);
    test_gamma0_is_cross_entropy(t);
    test_near_certain_rows(t);
    test_target_minus_inf(t);
    test_deterministic(t);
    test_reference_cases(t);
    test_regimes(t);
    return t.finish("softmax_focal");
}
