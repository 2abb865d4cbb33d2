// Softmax cross-entropy through the C API against a float64 reference, on random and awkward
// shapes: every entry point, every reduction, weights, smoothing, ignore_index, row strides,
// unaligned rows, -inf and 1e4 logits, invalid targets, bad arguments and determinism.
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
    bool weights;
    float smoothing;
    int64_t ignore;  // CULOSS_NO_IGNORE_INDEX or a value
    culossReduction_t reduction;
    // 0 plain, 1 some -inf logits, 2 logits of magnitude 1e4, 3 confident rows (the target leads
    // the rest by 17 to 22: the loss is log(1 + tiny)), 4 masked classes (-1e9 and -FLT_MAX on
    // non-target classes, for label smoothing)
    int special;
};

struct Reference {
    std::vector<double> loss;  // n values (NONE) or 1
    std::vector<double> grad;  // n * c
};

// float64 reference, written from the formula (culoss.h), independent of the kernels.
Reference reference(const Case& k, const std::vector<float>& x, int64_t stride, const std::vector<int32_t>& y,
                    const std::vector<float>& w, const std::vector<float>& gout) {
    const int64_t n = k.n, c = k.c;
    const double e = k.smoothing;
    auto wt = [&](int64_t j) { return k.weights ? double(w[j]) : 1.0; };
    double wsum = 0;
    for (int64_t j = 0; j < c; ++j) wsum += wt(j);
    double denom = 0;
    for (int64_t i = 0; i < n; ++i)
        if (y[i] != k.ignore) denom += wt(y[i]);
    Reference r;
    r.grad.assign(n * c, 0.0);
    std::vector<double> rows(n, 0.0);
    for (int64_t i = 0; i < n; ++i) {
        if (y[i] == k.ignore) continue;
        const float* xi = x.data() + k.offset + i * stride;
        double m = -INFINITY;
        for (int64_t j = 0; j < c; ++j) m = std::max(m, double(xi[j]));
        double s = 0;
        for (int64_t j = 0; j < c; ++j) s += std::exp(double(xi[j]) - m);
        const double lse = m + std::log(s);
        double loss = (1 - e) * wt(y[i]) * (lse - xi[y[i]]);
        if (e > 0) {
            double smooth = 0;
            for (int64_t j = 0; j < c; ++j) smooth += wt(j) * (lse - xi[j]);
            loss += e / c * smooth;
        }
        rows[i] = loss;
        double g = 1.0;
        if (k.reduction == CULOSS_REDUCTION_NONE) g = gout[i];
        if (k.reduction == CULOSS_REDUCTION_MEAN) g = denom > 0 ? 1.0 / denom : 0.0;
        for (int64_t j = 0; j < c; ++j) {
            const double p = std::exp(double(xi[j]) - lse);
            double d = (1 - e) * wt(y[i]) * (p - (j == y[i])) + e / c * (wsum * p - wt(j));
            r.grad[i * c + j] = g * d;
        }
    }
    if (k.reduction == CULOSS_REDUCTION_NONE) {
        r.loss = rows;
    } else {
        double total = 0;
        for (double v : rows) total += v;
        if (k.reduction == CULOSS_REDUCTION_MEAN) total = denom > 0 ? total / denom : 0.0;
        r.loss = {total};
    }
    return r;
}

struct Inputs {
    std::vector<float> x, w, gout;
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
        in.y[i] = cls(rng);
        if (k.ignore != CULOSS_NO_IGNORE_INDEX && rng() % 4 == 0) in.y[i] = int32_t(k.ignore);
    }
    if (k.special == 3) {
        std::uniform_real_distribution<float> lead(17.f, 22.f);
        for (int64_t i = 0; i < k.n; ++i) {
            if (in.y[i] < 0 || in.y[i] >= k.c) continue;
            float* row = in.x.data() + k.offset + i * in.stride;
            for (int64_t j = 0; j < k.c; ++j) row[j] = std::nearbyint(row[j] * 0.5f);  // small integers, as [17, 1, 0, -2]
            float top = -INFINITY;
            for (int64_t j = 0; j < k.c; ++j)
                if (j != in.y[i]) top = std::max(top, row[j]);
            row[in.y[i]] = (k.c == 1 ? 0.f : top) + std::nearbyint(lead(rng));
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
    if (k.special == 1) {  // -inf on some non-target logits, never a whole row
        for (int64_t i = 0; i < k.n; ++i)
            for (int64_t j = 0; j < k.c; ++j)
                if (j != in.y[i] && rng() % 3 == 0 && k.smoothing == 0.f) in.x[k.offset + i * in.stride + j] = -INFINITY;
    }
    std::uniform_real_distribution<float> uni(0.1f, 2.f);
    in.w.resize(k.c);
    for (float& v : in.w) v = uni(rng);
    in.gout.resize(k.n);
    for (float& v : in.gout) v = uni(rng) - 1.f;
    return in;
}

std::string describe(const Case& k) {
    char buf[200];
    std::snprintf(buf, sizeof buf, "n=%lld c=%lld pad=%lld off=%lld w=%d e=%g ignore=%s red=%d special=%d",
                  (long long)k.n, (long long)k.c, (long long)k.pad, (long long)k.offset, int(k.weights),
                  double(k.smoothing), k.ignore == CULOSS_NO_IGNORE_INDEX ? "none" : std::to_string(k.ignore).c_str(),
                  int(k.reduction), k.special);
    return buf;
}

enum class Entry { Forward, Backward, Fused };

// Runs one entry point and compares with the reference. Also checks that the gradient padding
// between rows is untouched.
void run_case(test::Context& t, const Case& k, Entry entry, uint32_t seed) {
    std::mt19937 rng(seed);
    const Inputs in = make_inputs(k, rng);
    const Reference ref = reference(k, in.x, in.stride, in.y, in.w, in.gout);
    const std::string what = describe(k) + (entry == Entry::Forward ? " forward" : entry == Entry::Backward ? " backward" : " fused");

    size_t ws_bytes = 0;
    t.check_status(culossSoftmaxCrossEntropyWorkspaceSize(k.n, k.c, CULOSS_DATA_FLOAT32, k.reduction, &ws_bytes),
                   what + " workspace");
    const int64_t loss_len = k.reduction == CULOSS_REDUCTION_NONE ? k.n : 1;
    const int64_t grad_stride = in.stride;
    std::vector<float> grad_init(k.offset + k.n * grad_stride, 12345.f);

    test::DeviceBuffer<float> x(in.x), w(in.w), gout(in.gout), loss(std::vector<float>(loss_len, -7.f)),
        grad(grad_init);
    test::DeviceBuffer<int32_t> y(in.y), err(std::vector<int32_t>{0});
    test::DeviceBuffer<char> ws(std::vector<char>(ws_bytes + 16, 0));
    const float* weights = k.weights ? w.get() : nullptr;
    const float* go = k.reduction == CULOSS_REDUCTION_NONE ? gout.get() : nullptr;
    float* g = grad.get() + k.offset;
    culossStatus_t st = CULOSS_STATUS_SUCCESS;
    switch (entry) {
        case Entry::Forward:
            st = culossSoftmaxCrossEntropyForward(x.get() + k.offset, in.stride, y.get(), k.n, k.c,
                                                  CULOSS_DATA_FLOAT32, weights, k.ignore,
                                                  k.smoothing, k.reduction, loss.get(), ws.get(), ws_bytes, err.get(),
                                                  test::stream());
            break;
        case Entry::Backward:
            st = culossSoftmaxCrossEntropyBackward(x.get() + k.offset, in.stride, y.get(), k.n, k.c,
                                                   CULOSS_DATA_FLOAT32, weights, k.ignore,
                                                   k.smoothing, k.reduction, go, g, grad_stride, ws.get(), ws_bytes,
                                                   err.get(), test::stream());
            break;
        case Entry::Fused:
            st = culossSoftmaxCrossEntropyForwardBackward(x.get() + k.offset, in.stride, y.get(), k.n, k.c,
                                                          CULOSS_DATA_FLOAT32, weights,
                                                          k.ignore, k.smoothing, k.reduction, go, loss.get(), g,
                                                          grad_stride, ws.get(), ws_bytes, err.get(), test::stream());
            break;
    }
    t.check_status(st, what);
    t.check_status(culossStreamSynchronize(test::stream()), what + " sync");
    t.expect(err.read()[0] == 0, what + ": error word set for valid targets");
    if (entry != Entry::Backward) {
        const std::vector<float> got = loss.read();
        t.expect_close(got, ref.loss, k.n * k.c > 100000 ? 2e-5 : 1e-5, what + " loss");
    }
    if (entry != Entry::Forward) {
        const std::vector<float> all = grad.read();
        std::vector<float> got(k.n * k.c);
        bool padding_intact = true;
        for (int64_t i = 0; i < k.n; ++i) {
            for (int64_t j = 0; j < k.c; ++j) got[i * k.c + j] = all[k.offset + i * grad_stride + j];
            for (int64_t j = k.c; j < grad_stride; ++j) padding_intact &= all[k.offset + i * grad_stride + j] == 12345.f;
        }
        for (int64_t i = 0; i < k.offset; ++i) padding_intact &= all[i] == 12345.f;
        t.expect(padding_intact, what + ": wrote into the row padding");
        t.expect_close(got, ref.grad, k.n * k.c > 100000 ? 2e-5 : 1e-5, what + " grad");
    }
}

void test_reference_cases(test::Context& t) {
    const culossReduction_t reds[] = {CULOSS_REDUCTION_NONE, CULOSS_REDUCTION_SUM, CULOSS_REDUCTION_MEAN};
    const int64_t NO = CULOSS_NO_IGNORE_INDEX;
    std::vector<Case> cases;
    // {n, c, pad, offset, weights, smoothing, ignore, reduction, special}
    for (culossReduction_t r : reds) {
        cases.push_back({5, 1, 0, 0, false, 0.f, NO, r, 0});
        cases.push_back({7, 3, 0, 0, true, 0.1f, -100, r, 0});
        cases.push_back({9, 4, 0, 0, false, 0.f, 2, r, 0});
        cases.push_back({33, 7, 2, 1, true, 0.2f, -100, r, 0});
        cases.push_back({64, 33, 0, 0, false, 0.3f, NO, r, 1});
        cases.push_back({17, 128, 4, 0, true, 0.f, NO, r, 2});
        cases.push_back({6, 1000, 0, 1, true, 0.1f, 5, r, 0});
        cases.push_back({4, 1025, 3, 0, false, 0.f, -100, r, 1});
        cases.push_back({3, 4097, 0, 0, true, 0.1f, -100, r, 0});
        cases.push_back({2, 20000, 1, 1, false, 0.05f, NO, r, 2});
    }
    cases.push_back({1000, 10, 0, 0, true, 0.f, -100, CULOSS_REDUCTION_MEAN, 0});
    cases.push_back({2, 50000, 0, 0, true, 0.1f, NO, CULOSS_REDUCTION_MEAN, 0});
    cases.push_back({2, 40000, 0, 1, false, 0.f, NO, CULOSS_REDUCTION_NONE, 1});
    uint32_t seed = 1;
    for (const Case& k : cases)
        for (Entry e : {Entry::Forward, Entry::Backward, Entry::Fused}) run_case(t, k, e, seed++);
}

// The regimes that cost a float kernel its digits, held to the usual tolerance on every path
// (a warp per row with scalar and 16-byte loads, 256- and 512-thread blocks), single rows too
// (a norm over a batch would hide one bad row): confident rows, whose loss log(1 + tiny) a
// log of a float sum near 1 loses ([17, 1, 0, -2] with target 0 has loss 1.6e-7), and masked
// classes under label smoothing, whose terms are of size FLT_MAX.
void test_regimes(test::Context& t) {
    const culossReduction_t reds[] = {CULOSS_REDUCTION_NONE, CULOSS_REDUCTION_SUM, CULOSS_REDUCTION_MEAN};
    const int64_t NO = CULOSS_NO_IGNORE_INDEX;
    std::vector<Case> cases;
    for (culossReduction_t r : reds)
        for (int64_t n : {1, 3}) {
            // {n, c, pad, offset, weights, smoothing, ignore, reduction, special}
            cases.push_back({n, 4, 0, 0, false, 0.f, NO, r, 3});
            cases.push_back({n, 7, 0, 0, true, 0.f, NO, r, 3});
            cases.push_back({n, 1000, 0, 0, false, 0.f, NO, r, 3});
            cases.push_back({n, 1000, 0, 1, true, 0.f, NO, r, 3});
            cases.push_back({n, 5000, 0, 0, false, 0.f, NO, r, 3});
            cases.push_back({n, 20000, 0, 1, true, 0.f, NO, r, 3});
            cases.push_back({n, 4, 0, 0, true, 0.1f, NO, r, 4});
            cases.push_back({n, 7, 0, 0, false, 0.1f, NO, r, 4});
            cases.push_back({n, 1000, 0, 0, true, 0.2f, NO, r, 4});
            cases.push_back({n, 1000, 0, 1, false, 0.1f, NO, r, 4});
            cases.push_back({n, 3000, 0, 0, true, 0.1f, NO, r, 4});
            cases.push_back({n, 20000, 0, 1, true, 0.1f, NO, r, 4});
        }
    uint32_t seed = 7000;
    // Every fifth case under ThreadSanitizer (5 is prime to the 12 shapes of a block).
    for (size_t i = 0; i < cases.size(); i += test::tsan_stride(5))
        for (Entry e : {Entry::Forward, Entry::Backward, Entry::Fused}) run_case(t, cases[i], e, seed++);
}

// A long row (a block per row, most of it past the register cache) at a vocabulary's size.
void test_vocabulary_row(test::Context& t) {
    run_case(t, {1, 262144, 0, 0, false, 0.1f, CULOSS_NO_IGNORE_INDEX, CULOSS_REDUCTION_MEAN, 0}, Entry::Fused, 99);
}

void test_empty_batch(test::Context& t) {
    for (culossReduction_t r : {CULOSS_REDUCTION_SUM, CULOSS_REDUCTION_MEAN}) {
        test::DeviceBuffer<float> loss(std::vector<float>{-1.f});
        size_t ws = 1;
        t.check_status(culossSoftmaxCrossEntropyWorkspaceSize(0, 5, CULOSS_DATA_FLOAT32, r, &ws), "n=0 workspace");
        t.expect(ws == 0, "n=0 needs no workspace");
        t.check_status(culossSoftmaxCrossEntropyForwardBackward(nullptr, 5, nullptr, 0, 5, CULOSS_DATA_FLOAT32,
                                                                nullptr, -100, 0.f, r,
                                                                nullptr, loss.get(), nullptr, 5, nullptr, 0, nullptr,
                                                                test::stream()),
                       "n=0 fused");
        t.expect(loss.read()[0] == 0.f, "n=0 loss is 0");
    }
}

// Targets outside [0, C) that are not ignore_index: the error word is set, those rows count
// for nothing, the other rows are exact, nothing is written out of bounds (ASan watches).
void test_invalid_targets(test::Context& t) {
    const int64_t n = 6, c = 5;
    std::vector<float> x(n * c);
    for (size_t i = 0; i < x.size(); ++i) x[i] = float(i % 7) * 0.3f;
    std::vector<int32_t> y = {0, 5, 2, -1, 4, 1 << 30};
    size_t ws_bytes = 0;
    culossSoftmaxCrossEntropyWorkspaceSize(n, c, CULOSS_DATA_FLOAT32, CULOSS_REDUCTION_MEAN, &ws_bytes);
    test::DeviceBuffer<float> dx(x), loss(std::vector<float>{0.f}), grad(std::vector<float>(n * c, 9.f));
    test::DeviceBuffer<int32_t> dy(y), err(std::vector<int32_t>{0});
    test::DeviceBuffer<char> ws(std::vector<char>(ws_bytes, 0));
    t.check_status(culossSoftmaxCrossEntropyForwardBackward(dx.get(), c, dy.get(), n, c, CULOSS_DATA_FLOAT32, nullptr,
                                                            -100, 0.f,
                                                            CULOSS_REDUCTION_MEAN, nullptr, loss.get(), grad.get(), c,
                                                            ws.get(), ws_bytes, err.get(), test::stream()),
                   "invalid targets");
    t.expect(err.read()[0] == CULOSS_DEVICE_ERROR_BAD_TARGET, "invalid targets set the error word");
    // The valid rows alone, as if the bad ones were ignored.
    std::vector<int32_t> masked = y;
    for (int32_t& v : masked)
        if (v < 0 || v >= c) v = -100;
    Case k{n, c, 0, 0, false, 0.f, -100, CULOSS_REDUCTION_MEAN, 0};
    const Reference ref = reference(k, x, c, masked, {}, {});
    t.expect_close(loss.read(), ref.loss, 1e-5, "invalid targets: loss of the valid rows");
    t.expect_close(grad.read(), ref.grad, 1e-5, "invalid targets: gradient (zero on the bad rows)");
}

void test_bad_arguments(test::Context& t) {
    std::vector<float> host(64, 0.f);
    test::DeviceBuffer<float> x(host), loss(host), grad(host);
    test::DeviceBuffer<int32_t> y(std::vector<int32_t>(8, 0));
    auto expect_invalid = [&](culossStatus_t st, culossStatus_t want, const char* argument) {
        const std::string detail = culossGetLastErrorDetail();
        t.expect(st == want, std::string("bad ") + argument + ": status " + culossGetErrorString(st));
        t.expect(detail.find(argument) != std::string::npos, std::string("detail names ") + argument + ": '" + detail + "'");
    };
    const auto NONE = CULOSS_REDUCTION_NONE;
    expect_invalid(culossSoftmaxCrossEntropyForward(x.get(), 4, y.get(), -1, 4, CULOSS_DATA_FLOAT32, nullptr, -100,
                                                    0.f, NONE, loss.get(),
                                                    nullptr, 0, nullptr, test::stream()),
                   CULOSS_STATUS_INVALID_VALUE, "n");
    expect_invalid(culossSoftmaxCrossEntropyForward(x.get(), 4, y.get(), 2, 0, CULOSS_DATA_FLOAT32, nullptr, -100,
                                                    0.f, NONE, loss.get(),
                                                    nullptr, 0, nullptr, test::stream()),
                   CULOSS_STATUS_INVALID_VALUE, "c");
    expect_invalid(culossSoftmaxCrossEntropyForward(x.get(), 3, y.get(), 2, 4, CULOSS_DATA_FLOAT32, nullptr, -100,
                                                    0.f, NONE, loss.get(),
                                                    nullptr, 0, nullptr, test::stream()),
                   CULOSS_STATUS_INVALID_VALUE, "logits_stride");
    expect_invalid(culossSoftmaxCrossEntropyForward(nullptr, 4, y.get(), 2, 4, CULOSS_DATA_FLOAT32, nullptr, -100,
                                                    0.f, NONE, loss.get(),
                                                    nullptr, 0, nullptr, test::stream()),
                   CULOSS_STATUS_INVALID_VALUE, "logits");
    expect_invalid(culossSoftmaxCrossEntropyForward(x.get(), 4, nullptr, 2, 4, CULOSS_DATA_FLOAT32, nullptr, -100,
                                                    0.f, NONE, loss.get(),
                                                    nullptr, 0, nullptr, test::stream()),
                   CULOSS_STATUS_INVALID_VALUE, "targets");
    expect_invalid(culossSoftmaxCrossEntropyForward(x.get(), 4, y.get(), 2, 4, CULOSS_DATA_FLOAT32, nullptr, -100,
                                                    1.5f, NONE, loss.get(),
                                                    nullptr, 0, nullptr, test::stream()),
                   CULOSS_STATUS_INVALID_VALUE, "label_smoothing");
    expect_invalid(culossSoftmaxCrossEntropyForward(x.get(), 4, y.get(), 2, 4, CULOSS_DATA_FLOAT32, nullptr, -100,
                                                    NAN, NONE, loss.get(),
                                                    nullptr, 0, nullptr, test::stream()),
                   CULOSS_STATUS_INVALID_VALUE, "label_smoothing");
    expect_invalid(culossSoftmaxCrossEntropyForward(x.get(), 4, y.get(), 2, 4, CULOSS_DATA_FLOAT32, nullptr, -100, 0.f,
                                                    culossReduction_t(7), loss.get(), nullptr, 0, nullptr, test::stream()),
                   CULOSS_STATUS_INVALID_VALUE, "reduction");
    expect_invalid(culossSoftmaxCrossEntropyForward(x.get(), 4, y.get(), 2, 4, CULOSS_DATA_FLOAT32, nullptr, -100,
                                                    0.f, NONE, nullptr,
                                                    nullptr, 0, nullptr, test::stream()),
                   CULOSS_STATUS_INVALID_VALUE, "loss");
    expect_invalid(culossSoftmaxCrossEntropyForward(x.get(), 4, y.get(), 2, 4, CULOSS_DATA_FLOAT32, nullptr, -100, 0.f,
                                                    CULOSS_REDUCTION_MEAN, loss.get(), nullptr, 0, nullptr, test::stream()),
                   CULOSS_STATUS_WORKSPACE_TOO_SMALL, "workspace");
    expect_invalid(culossSoftmaxCrossEntropyForward(reinterpret_cast<const float*>(reinterpret_cast<const char*>(x.get()) + 2),
                                                    4, y.get(), 2, 4, CULOSS_DATA_FLOAT32, nullptr, -100, 0.f, NONE,
                                                        loss.get(), nullptr, 0,
                                                    nullptr, test::stream()),
                   CULOSS_STATUS_MISALIGNED, "logits");
    expect_invalid(culossSoftmaxCrossEntropyBackward(x.get(), 4, y.get(), 2, 4, CULOSS_DATA_FLOAT32, nullptr, -100,
                                                     0.f, NONE, nullptr,
                                                     nullptr, 4, nullptr, 0, nullptr, test::stream()),
                   CULOSS_STATUS_INVALID_VALUE, "grad_logits");
    expect_invalid(culossSoftmaxCrossEntropyBackward(x.get(), 4, y.get(), 2, 4, CULOSS_DATA_FLOAT32, nullptr, -100,
                                                     0.f, NONE, nullptr,
                                                     grad.get(), 3, nullptr, 0, nullptr, test::stream()),
                   CULOSS_STATUS_INVALID_VALUE, "grad_stride");
}

// The sum/mean reductions add in a fixed order: two runs give the same bits.
void test_deterministic(test::Context& t) {
    const Case k{3000, 37, 0, 0, true, 0.1f, -100, CULOSS_REDUCTION_MEAN, 0};
    std::mt19937 rng(5);
    const Inputs in = make_inputs(k, rng);
    size_t ws_bytes = 0;
    culossSoftmaxCrossEntropyWorkspaceSize(k.n, k.c, CULOSS_DATA_FLOAT32, k.reduction, &ws_bytes);
    std::vector<float> first_loss, first_grad;
    for (int run = 0; run < 3; ++run) {
        test::DeviceBuffer<float> x(in.x), w(in.w), loss(std::vector<float>{0.f}), grad(std::vector<float>(k.n * k.c));
        test::DeviceBuffer<int32_t> y(in.y);
        test::DeviceBuffer<char> ws(std::vector<char>(ws_bytes, 0));
        t.check_status(culossSoftmaxCrossEntropyForwardBackward(x.get(), k.c, y.get(), k.n, k.c, CULOSS_DATA_FLOAT32,
                                                                w.get(), k.ignore,
                                                                k.smoothing, k.reduction, nullptr, loss.get(),
                                                                grad.get(), k.c, ws.get(), ws_bytes, nullptr, test::stream()),
                       "determinism");
        if (run == 0) {
            first_loss = loss.read();
            first_grad = grad.read();
        } else {
            t.expect(std::memcmp(first_loss.data(), loss.read().data(), sizeof(float)) == 0, "loss bits differ between runs");
            t.expect(first_grad == grad.read(), "gradient differs between runs");
        }
    }
}

}  // namespace

int main() {
    test::Context t;
    if (!t.device_available()) return 77;
    test_bad_arguments(t);
    test_empty_batch(t);
    test_invalid_targets(t);
    test_deterministic(t);
    test_reference_cases(t);
    test_vocabulary_row(t);
    test_regimes(t);
    return t.finish("softmax_cross_entropy");
}
