// Triplet margin loss through the C API against a float64 reference: every entry point, every
// reduction, p in {0.5, 1, 1.5, 2, 3, inf}, swap, margins and eps, D from 1 to 20000 (every
// threads-per-row configuration, vector and scalar loads, the re-read past 8192), unaligned
// buffers, inactive rows, identical anchor and positive, the kinks PyTorch defines (loss exactly
// 0, a distance of 0, a component of 0, swap ties, p = inf ties) with PyTorch 1.13's values,
// N = 0, gradient subsets, bad arguments and bit-identical reruns. The same source runs against
// the emulated library and, on a GPU, against libculoss.so.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "culoss/culoss.h"
#include "reference.h"
#include "test_support.h"

namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

// kSmallLoss: distances near 90 and a loss near 0.004 (margin 1), the difference of the two.
enum Data { kRandom = 0, kSameAnchorPositive = 1, kSwapMatters = 2, kMostlyInactive = 3, kSmallLoss = 4 };

struct Case {
    int64_t n, d;
    float p;
    bool swap;
    float margin, eps;
    culossReduction_t reduction;
    int64_t offset;  // floats before every buffer's first element: 1 makes them all unaligned
    int data;
};

struct Reference {
    std::vector<double> loss;        // n values (NONE) or 1
    std::vector<double> ga, gp, gn;  // n * d each
};

// One distance in float64 (u - v + eps in float64, as PyTorch's float64 reference forms it), and
// its gradient by PyTorch 1.13's norm_backward rules.
double distance(const float* u, const float* v, int64_t d, double p, float eps, std::vector<double>& grad) {
    std::vector<double> x(d);
    for (int64_t j = 0; j < d; ++j) x[j] = double(u[j]) - double(v[j]) + double(eps);
    double dist = 0;
    if (std::isinf(p)) {
        for (double xi : x) dist = std::max(dist, std::fabs(xi));
    } else {
        for (double xi : x) dist += std::pow(std::fabs(xi), p);
        dist = std::pow(dist, 1.0 / p);
    }
    grad.assign(d, 0.0);
    if (std::isinf(p)) {
        int count = 0;
        for (double xi : x) count += std::fabs(xi) == dist;
        for (int64_t j = 0; j < d; ++j)
            if (std::fabs(x[j]) == dist && x[j] != 0) grad[j] = (x[j] > 0 ? 1.0 : -1.0) / count;
    } else if (dist > 0) {
        for (int64_t j = 0; j < d; ++j) {
            if (x[j] == 0) continue;
            grad[j] = (x[j] > 0 ? 1.0 : -1.0) * (p == 1 ? 1.0 : std::pow(std::fabs(x[j]) / dist, p - 1));
        }
    }
    return dist;
}

Reference reference(const Case& k, const float* a, const float* pos, const float* neg, const std::vector<float>& gout) {
    const int64_t n = k.n, d = k.d;
    Reference r;
    r.ga.assign(n * d, 0.0);
    r.gp.assign(n * d, 0.0);
    r.gn.assign(n * d, 0.0);
    std::vector<double> rows(n, 0.0), g_ap, g_an, g_pn;
    for (int64_t i = 0; i < n; ++i) {
        const float *ai = a + i * d, *pi = pos + i * d, *ni = neg + i * d;
        const double d_ap = distance(ai, pi, d, k.p, k.eps, g_ap);
        const double d_an = distance(ai, ni, d, k.p, k.eps, g_an);
        double d_neg = d_an, w_an = 1, w_pn = 0;
        if (k.swap) {
            const double d_pn = distance(pi, ni, d, k.p, k.eps, g_pn);
            if (d_pn < d_an) d_neg = d_pn, w_an = 0, w_pn = 1;
            else if (d_pn == d_an) w_an = w_pn = 0.5;
        }
        const double v = double(k.margin) + d_ap - d_neg;
        rows[i] = std::max(v, 0.0);
        if (v < 0) continue;
        const double g = test::upstream(k.reduction, gout, i, double(n));
        for (int64_t j = 0; j < d; ++j) {
            const double tan = w_an * g_an[j], tpn = w_pn ? w_pn * g_pn[j] : 0.0;
            r.ga[i * d + j] = g * (g_ap[j] - tan);
            r.gp[i * d + j] = g * (-g_ap[j] - tpn);
            r.gn[i * d + j] = g * (tan + tpn);
        }
    }
    r.loss = test::reduce(k.reduction, rows, double(n));
    return r;
}

struct Inputs {
    std::vector<float> a, p, n, gout;  // each with k.offset poison floats first
};

Inputs make_inputs(const Case& k, std::mt19937& rng) {
    Inputs in;
    const size_t len = size_t(k.offset + k.n * k.d);
    const float nan = std::numeric_limits<float>::quiet_NaN();
    in.a.assign(len, nan);  // the offset floats are poison
    in.p.assign(len, nan);
    in.n.assign(len, nan);
    std::normal_distribution<float> normal(0.f, 1.f);
    for (int64_t i = 0; i < k.n; ++i) {
        for (int64_t j = 0; j < k.d; ++j) {
            const size_t at = size_t(k.offset + i * k.d + j);
            const float a = normal(rng);
            float p = normal(rng), n = normal(rng);
            if (k.data == kSameAnchorPositive && i % 2 == 0) p = a;
            if (k.data == kSwapMatters) n = (i % 2 == 0 ? p : a) + 0.3f * normal(rng);
            if (k.data == kMostlyInactive) n = a + 8.f * normal(rng);
            in.a[at] = a;
            in.p[at] = p;
            in.n[at] = n;
        }
    }
    if (k.data == kSmallLoss) {
        auto pnorm = [&](const std::vector<double>& x) {
            double sum = 0;
            for (double v : x) sum += std::pow(std::fabs(v), double(k.p));
            return std::pow(sum, 1.0 / double(k.p));
        };
        for (int64_t i = 0; i < k.n; ++i) {
            std::vector<double> u(k.d), v(k.d);
            for (int64_t j = 0; j < k.d; ++j) u[j] = normal(rng), v[j] = normal(rng);
            const double su = 90.0 / pnorm(u), sv = (90.0 + double(k.margin) - 0.004) / pnorm(v);
            for (int64_t j = 0; j < k.d; ++j) {
                const size_t at = size_t(k.offset + i * k.d + j);
                in.p[at] = float(double(in.a[at]) + u[j] * su);
                in.n[at] = float(double(in.a[at]) + v[j] * sv);
            }
        }
    }
    std::uniform_real_distribution<float> uni(-1.f, 1.f);
    in.gout.resize(k.n);
    for (float& v : in.gout) v = uni(rng);
    return in;
}

std::string describe(const Case& k) {
    char buf[200];
    std::snprintf(buf, sizeof buf, "n=%lld d=%lld p=%g swap=%d margin=%g eps=%g red=%d off=%lld data=%d",
                  (long long)k.n, (long long)k.d, double(k.p), int(k.swap), double(k.margin), double(k.eps),
                  int(k.reduction), (long long)k.offset, k.data);
    return buf;
}

using test::Entry;
// Which gradients a backward asks for (bit 0 anchor, 1 positive, 2 negative).
constexpr int kAllGrads = 7;

// Runs one entry point on given inputs and compares with the reference; the gradient buffers'
// poison before the first element and after the last must be intact.
void run_inputs(test::Context& t, const Case& k, const Inputs& in, Entry entry, int grads, const std::string& what,
                const Reference* given = nullptr) {
    const Reference computed = given ? Reference{} : reference(k, in.a.data() + k.offset, in.p.data() + k.offset,
                                                               in.n.data() + k.offset, in.gout);
    const Reference& ref = given ? *given : computed;
    size_t ws_bytes = 0;
    t.check_status(culossTripletMarginWorkspaceSize(k.n, k.d, CULOSS_DATA_FLOAT32, k.reduction, &ws_bytes),
                   what + " workspace");
    const int64_t loss_len = test::loss_length(k.reduction, k.n);
    const float poison = 12345.f;
    std::vector<float> grad_init(size_t(k.offset + k.n * k.d + 4), poison);
    test::DeviceBuffer<float> a(in.a), p(in.p), n(in.n), gout(in.gout), loss(std::vector<float>(loss_len, -7.f)),
        ga(grad_init), gp(grad_init), gn(grad_init);
    test::DeviceBuffer<char> ws(std::vector<char>(ws_bytes + 16, 0));
    const float* go = k.reduction == CULOSS_REDUCTION_NONE ? gout.get() : nullptr;
    float* g[3] = {grads & 1 ? ga.get() + k.offset : nullptr, grads & 2 ? gp.get() + k.offset : nullptr,
                   grads & 4 ? gn.get() + k.offset : nullptr};
    const float *xa = a.get() + k.offset, *xp = p.get() + k.offset, *xn = n.get() + k.offset;
    culossStatus_t st = CULOSS_STATUS_SUCCESS;
    switch (entry) {
        case Entry::Update:  // triplet margin has none: a test that asks for it fails
            st = CULOSS_STATUS_NOT_SUPPORTED;
            break;
        case Entry::Forward:
            st = culossTripletMarginForward(xa, xp, xn, k.n, k.d, CULOSS_DATA_FLOAT32, k.margin, k.p, k.eps, k.swap,
                                            k.reduction,
                                            loss.get(), ws.get(), ws_bytes, test::stream());
            break;
        case Entry::Backward:  // needs no workspace
            st = culossTripletMarginBackward(xa, xp, xn, k.n, k.d, CULOSS_DATA_FLOAT32, k.margin, k.p, k.eps, k.swap,
                                             k.reduction, go,
                                             g[0], g[1], g[2], nullptr, 0, test::stream());
            break;
        case Entry::Fused:
            st = culossTripletMarginForwardBackward(xa, xp, xn, k.n, k.d, CULOSS_DATA_FLOAT32, k.margin, k.p, k.eps,
                                                    k.swap, k.reduction,
                                                    go, loss.get(), g[0], g[1], g[2], ws.get(), ws_bytes, test::stream());
            break;
    }
    t.check_status(st, what);
    t.check_status(culossStreamSynchronize(test::stream()), what + " sync");
    const double tol = k.n * k.d > 100000 ? 2e-5 : 1e-5;
    if (entry != Entry::Backward) {
        t.expect_close(loss.read(), ref.loss, tol, what + " loss");
    }
    if (entry == Entry::Forward) return;
    const std::vector<double>* refs[3] = {&ref.ga, &ref.gp, &ref.gn};
    const char* names[3] = {" grad_anchor", " grad_positive", " grad_negative"};
    test::DeviceBuffer<float>* bufs[3] = {&ga, &gp, &gn};
    for (int w = 0; w < 3; ++w) {
        const std::vector<float> all = bufs[w]->read();
        bool intact = true;
        for (int64_t i = 0; i < k.offset; ++i) intact &= all[i] == poison;
        for (size_t i = size_t(k.offset + k.n * k.d); i < all.size(); ++i) intact &= all[i] == poison;
        if (!(grads & (1 << w))) {
            for (float v : all) intact &= v == poison;
            t.expect(intact, what + names[w] + ": written although not asked for");
            continue;
        }
        t.expect(intact, what + names[w] + ": wrote outside the buffer");
        const std::vector<float> got(all.begin() + k.offset, all.begin() + k.offset + k.n * k.d);
        t.expect_close(got, *refs[w], tol, what + names[w]);
    }
}

void run_case(test::Context& t, const Case& k, Entry entry, uint32_t seed, int grads = kAllGrads) {
    std::mt19937 rng(seed);
    const Inputs in = make_inputs(k, rng);
    const std::string what = describe(k) + " " + test::entry_name(entry);
    run_inputs(t, k, in, entry, grads, what);
}

void test_reference_cases(test::Context& t) {
    std::vector<Case> cases;
    // {n, d, p, swap, margin, eps, reduction, offset, data}
    int r = 0;
    auto red = [&] { return test::kReductions[r++ % 3]; };
    for (culossReduction_t x : test::kReductions) {
        cases.push_back({7, 1, 2.f, false, 1.f, 1e-6f, x, 0, kRandom});
        cases.push_back({9, 3, 1.f, true, 1.f, 1e-6f, x, 0, kSwapMatters});
        cases.push_back({11, 5, 1.5f, false, 0.5f, 1e-6f, x, 1, kRandom});
        cases.push_back({33, 16, 3.f, true, 1.f, 1e-6f, x, 0, kSwapMatters});
        cases.push_back({40, 64, 2.f, false, 1.f, 1e-6f, x, 0, kSameAnchorPositive});
        cases.push_back({5, 512, 2.f, true, 2.f, 1e-6f, x, 0, kRandom});
        cases.push_back({3, 4097, 2.f, false, 1.f, 1e-6f, x, 0, kRandom});
    }
    // Every p on a spread of shapes (each threads-per-row configuration, vector and scalar).
    const float ps[] = {0.5f, 1.f, 1.5f, 2.f, 3.f, kInf};
    const int64_t ds[][2] = {{4, 1},   {8, 0},    {60, 0},   {100, 1},  {128, 0},  {255, 0},
                             {256, 0}, {513, 0}, {1000, 0}, {2048, 1}, {2049, 0}, {8192, 0}};
    int s = 0;
    for (float p : ps) {
        for (int i = 0; i < 4; ++i, ++s) {
            const int64_t d = ds[s % 12][0], off = ds[s % 12][1];
            const int64_t n = d >= 2048 ? 2 : d >= 500 ? 5 : 37;
            const int data = s % 4;
            cases.push_back({n, d, p, s % 2 == 1 || data == kSwapMatters, s % 3 == 0 ? 0.5f : 1.f,
                             s % 5 == 0 ? 0.f : 1e-6f, red(), off, data});
        }
    }
    cases.push_back({64, 32, 2.f, false, 1.f, 1e-6f, CULOSS_REDUCTION_MEAN, 0, kMostlyInactive});
    cases.push_back({64, 7, 1.f, true, 1.f, 1e-6f, CULOSS_REDUCTION_NONE, 1, kMostlyInactive});
    cases.push_back({20, 33, 2.f, false, -0.5f, 0.25f, CULOSS_REDUCTION_SUM, 0, kRandom});  // negative margin, big eps
    cases.push_back({20, 12, 2.f, true, 1.f, -0.1f, CULOSS_REDUCTION_NONE, 0, kSwapMatters});  // negative eps
    cases.push_back({200, 12, 2.f, true, 1.f, 1e-6f, CULOSS_REDUCTION_MEAN, 0, kSwapMatters});
    cases.push_back({5000, 4, 2.f, false, 1.f, 1e-6f, CULOSS_REDUCTION_SUM, 0, kRandom});  // two partial sums
    // Forward and backward run the fused kernel with some outputs off: every entry point on every
    // third case is enough for them, the fused call runs on all.
    uint32_t seed = 1;
    for (size_t i = 0; i < cases.size(); ++i) {
        run_case(t, cases[i], Entry::Fused, seed++);
        if (i % 3 == 0) {
            run_case(t, cases[i], Entry::Forward, seed++);
            run_case(t, cases[i], Entry::Backward, seed++);
        }
    }
}

// A long row: a block of 512 per row, most of it re-read in the gradient pass.
// Long rows whose loss is small against the distances (0.004 against 90: the loss is the
// difference of two sums of thousands of terms), on every path (lanes, a warp, blocks, past the
// register cache), p = 1, 2 and a general p, single rows too, held to the usual tolerance.
void test_small_loss(test::Context& t) {
    uint32_t seed = 800;
    size_t index = 0;
    const size_t stride = test::tsan_stride(5);  // 5 is prime to the 3 reductions and 2 row counts
    for (int64_t d : {64, 300, 4096, 20000})
        for (float p : {1.f, 2.f, 3.f})
            for (int64_t n : {1, 3})
                for (culossReduction_t r : test::kReductions) {
                    if (index++ % stride != 0) continue;
                    const Case k{n, d, p, false, 1.f, 1e-6f, r, int64_t(seed % 2), kSmallLoss};
                    run_case(t, k, Entry::Fused, seed++);
                    if (d == 4096) run_case(t, k, Entry::Forward, seed++);
                }
}

void test_long_rows(test::Context& t) {
    run_case(t, {2, 20000, 2.f, true, 1.f, 1e-6f, CULOSS_REDUCTION_MEAN, 0, kSwapMatters}, Entry::Fused, 99);
    run_case(t, {2, 20001, 1.5f, false, 1.f, 1e-6f, CULOSS_REDUCTION_NONE, 0, kRandom}, Entry::Fused, 98);
}

// Backward with a subset of the gradients, and one gradient unaligned (the scalar path).
void test_gradient_subsets(test::Context& t) {
    uint32_t seed = 500;
    for (int grads : {1, 2, 4, 3, 6, 5}) {
        const Case k{13, 24, 2.f, true, 1.f, 1e-6f, CULOSS_REDUCTION_SUM, 0, kSwapMatters};
        run_case(t, k, Entry::Backward, seed++, grads);
        run_case(t, k, Entry::Fused, seed++, grads);
    }
}

// Inputs aligned, one gradient buffer offset by a float: the whole call takes the scalar path.
void test_one_unaligned_gradient(test::Context& t) {
    const Case k{10, 16, 2.f, false, 1.f, 1e-6f, CULOSS_REDUCTION_NONE, 0, kRandom};
    std::mt19937 rng(77);
    const Inputs in = make_inputs(k, rng);
    const Reference ref = reference(k, in.a.data(), in.p.data(), in.n.data(), in.gout);
    test::DeviceBuffer<float> a(in.a), p(in.p), n(in.n), gout(in.gout), loss(std::vector<float>(k.n)),
        ga(std::vector<float>(k.n * k.d + 1)), gp(std::vector<float>(k.n * k.d)), gn(std::vector<float>(k.n * k.d));
    t.check_status(culossTripletMarginForwardBackward(a.get(), p.get(), n.get(), k.n, k.d, CULOSS_DATA_FLOAT32,
                                                      k.margin, k.p, k.eps, 0,
                                                      k.reduction, gout.get(), loss.get(), ga.get() + 1, gp.get(),
                                                      gn.get(), nullptr, 0, test::stream()),
                   "unaligned grad_anchor");
    const std::vector<float> all = ga.read();
    t.expect_close(std::vector<float>(all.begin() + 1, all.end()), ref.ga, 1e-5, "unaligned grad_anchor: values");
    t.expect_close(gp.read(), ref.gp, 1e-5, "unaligned grad_anchor: grad_positive");
    t.expect_close(loss.read(), ref.loss, 1e-5, "unaligned grad_anchor: loss");
}

// The kinks, with the values PyTorch 1.13 gives (F.triplet_margin_loss, float64 autograd,
// reduction sum, printed with repr), for inputs where float32 and float64 agree exactly. Both the
// kernel and this file's reference are compared with them.
void test_pytorch_kinks(test::Context& t) {
    struct Kink {
        const char* name;
        float p;
        bool swap;
        float margin, eps;
        std::vector<float> a, pos, neg;
        double loss;
        std::vector<double> ga, gp, gn;
    };
    const std::vector<Kink> kinks = {
        // margin + d_ap - d_an == 0 exactly: the gradient still passes (clamp_min's rule).
        {"loss exactly 0", 2.f, false, 1.f, 0.f, {0, 0}, {1, 0}, {2, 0}, 0.0, {0, 0}, {1, 0}, {-1, 0}},
        // swap tie d(a, n) == d(p, n): half and half (torch.min's rule).
        {"swap tie", 2.f, true, 1.f, 0.f, {1, 0}, {0, 1}, {0, 0}, 1.414213562373095,
         {0.20710678118654746, -0.7071067811865475}, {-0.7071067811865475, 0.20710678118654746}, {0.5, 0.5}},
        // a - p + eps == 0: d_ap = 0 and its gradient is 0, for every p.
        {"zero distance p=1", 1.f, false, 10.f, 0.5f, {1, 2}, {1.5f, 2.5f}, {3, 0}, 6.0, {1, -1}, {0, 0}, {-1, 1}},
        {"zero distance p=1.5", 1.5f, false, 10.f, 0.5f, {1, 2}, {1.5f, 2.5f}, {3, 0}, 6.775587510078182,
         {0.6820564686643998, -0.8805311147700873}, {0, 0}, {-0.6820564686643998, 0.8805311147700873}},
        {"zero distance p=2", 2.f, false, 10.f, 0.5f, {1, 2}, {1.5f, 2.5f}, {3, 0}, 7.08452405257735,
         {0.5144957554275265, -0.8574929257125441}, {0, 0}, {-0.5144957554275265, 0.8574929257125441}},
        {"zero distance p=inf", kInf, false, 10.f, 0.5f, {1, 2}, {1.5f, 2.5f}, {3, 0}, 7.5, {0, -1}, {0, 0}, {0, 1}},
        // one component of a - p + eps is 0: its gradient is 0 (sign(0) = 0 for p = 1).
        {"zero component p=1", 1.f, false, 10.f, 0.5f, {1, 2}, {1.5f, 0.5f}, {3, 0}, 8.0, {1, 0}, {0, -1}, {-1, 1}},
        {"zero component p=1.5", 1.5f, false, 10.f, 0.5f, {1, 2}, {1.5f, 0.5f}, {3, 0}, 8.775587510078182,
         {0.6820564686643998, 0.11946888522991272}, {0, -1}, {-0.6820564686643998, 0.8805311147700873}},
        {"zero component p=3", 3.f, false, 10.f, 0.5f, {1, 2}, {1.5f, 0.5f}, {3, 0}, 9.331598351278055,
         {0.31599493208549345, 0.12223629976251815}, {0, -1}, {-0.31599493208549345, 0.8777637002374818}},
        {"zero component p=0.5", 0.5f, false, 10.f, 0.5f, {1, 2}, {1.5f, 0.5f}, {3, 0}, 4.127016653792585,
         {2.290994448735806, -0.7745966692414832}, {0, -1}, {-2.290994448735806, 1.7745966692414832}},
        // p = inf with two components of largest magnitude: the gradient splits between them.
        {"inf tie", kInf, false, 10.f, 0.f, {0, 0, 0}, {1, -1, 0.5f}, {3, 0, 0}, 8.0, {0.5, 0.5, 0}, {0.5, -0.5, 0},
         {-1, 0, 0}},
    };
    for (const Kink& kk : kinks) {
        // One row: none with an upstream gradient of 1 is PyTorch's sum.
        const Case k{1, int64_t(kk.a.size()), kk.p, kk.swap, kk.margin, kk.eps, CULOSS_REDUCTION_NONE, 0, kRandom};
        const Inputs in{kk.a, kk.pos, kk.neg, {1.f}};
        const Reference torch{{kk.loss}, kk.ga, kk.gp, kk.gn};
        const Reference ref = reference(k, in.a.data(), in.p.data(), in.n.data(), in.gout);
        auto near = [](const std::vector<double>& x, const std::vector<double>& y) {
            for (size_t i = 0; i < x.size(); ++i)
                if (std::fabs(x[i] - y[i]) > 1e-12 * std::max(1.0, std::fabs(y[i]))) return false;
            return x.size() == y.size();
        };
        t.expect(near(ref.loss, torch.loss) && near(ref.ga, torch.ga) && near(ref.gp, torch.gp) &&
                     near(ref.gn, torch.gn),
                 std::string(kk.name) + ": the test's reference differs from PyTorch");
        run_inputs(t, k, in, Entry::Fused, kAllGrads, std::string("kink ") + kk.name, &torch);
    }
}

void test_empty_batch(test::Context& t) {
    for (culossReduction_t r : test::kReductions) {
        test::DeviceBuffer<float> loss(std::vector<float>{-1.f});
        size_t ws = 1;
        t.check_status(culossTripletMarginWorkspaceSize(0, 5, CULOSS_DATA_FLOAT32, r, &ws), "n=0 workspace");
        t.expect(ws == 0, "n=0 needs no workspace");
        t.check_status(culossTripletMarginForwardBackward(nullptr, nullptr, nullptr, 0, 5, CULOSS_DATA_FLOAT32, 1.f,
                                                          2.f, 1e-6f, 1, r,
                                                          nullptr, r == CULOSS_REDUCTION_NONE ? nullptr : loss.get(),
                                                          nullptr, nullptr, nullptr, nullptr, 0, test::stream()),
                       "n=0 fused");
        t.check_status(culossTripletMarginForward(nullptr, nullptr, nullptr, 0, 5, CULOSS_DATA_FLOAT32, 1.f, 2.f,
                                                  1e-6f, 0, r,
                                                  r == CULOSS_REDUCTION_NONE ? nullptr : loss.get(), nullptr, 0,
                                                  test::stream()),
                       "n=0 forward");
        t.check_status(culossTripletMarginBackward(nullptr, nullptr, nullptr, 0, 5, CULOSS_DATA_FLOAT32, 1.f, 2.f,
                                                   1e-6f, 0, r, nullptr,
                                                   nullptr, nullptr, nullptr, nullptr, 0, test::stream()),
                       "n=0 backward");
        const float want = r == CULOSS_REDUCTION_NONE ? -1.f : 0.f;
        t.expect(loss.read()[0] == want, "n=0 loss is 0 (untouched for none)");
    }
}

// A NaN component makes its row's loss NaN (clamp_min keeps NaN) and leaves the other rows exact.
void test_nan_propagates(test::Context& t) {
    const Case k{4, 6, 2.f, true, 1.f, 1e-6f, CULOSS_REDUCTION_NONE, 0, kRandom};
    std::mt19937 rng(3);
    Inputs in = make_inputs(k, rng);
    const Reference ref = reference(k, in.a.data(), in.p.data(), in.n.data(), in.gout);
    in.n[2 * k.d + 3] = std::numeric_limits<float>::quiet_NaN();
    test::DeviceBuffer<float> a(in.a), p(in.p), n(in.n), loss(std::vector<float>(k.n));
    t.check_status(culossTripletMarginForward(a.get(), p.get(), n.get(), k.n, k.d, CULOSS_DATA_FLOAT32, k.margin, k.p,
                                              k.eps, 1,
                                              k.reduction, loss.get(), nullptr, 0, test::stream()),
                   "nan forward");
    const std::vector<float> got = loss.read();
    t.expect(std::isnan(got[2]), "NaN in negative row 2 gives a NaN loss");
    for (int i : {0, 1, 3}) t.expect(std::fabs(got[i] - ref.loss[i]) <= 1e-5 * (1 + ref.loss[i]), "other rows exact");
}

void test_bad_arguments(test::Context& t) {
    std::vector<float> host(64, 0.f);
    test::DeviceBuffer<float> a(host), p(host), n(host), loss(host), ga(host), gp(host), gn(host);
    test::DeviceBuffer<char> ws(std::vector<char>(4096, 0));
    const auto NONE = CULOSS_REDUCTION_NONE;
    const auto INV = CULOSS_STATUS_INVALID_VALUE;
    auto fwd = [&](const float* x, const float* y, const float* z, int64_t rows, int64_t d, float margin, float pn,
                   float eps, culossReduction_t r, float* l, void* w = nullptr, size_t wb = 0) {
        return culossTripletMarginForward(x, y, z, rows, d, CULOSS_DATA_FLOAT32, margin, pn, eps, 0, r, l, w, wb,
                                          test::stream());
    };
    auto bwd = [&](float* x, float* y, float* z, const float* ia = nullptr) {
        return culossTripletMarginBackward(ia ? ia : a.get(), p.get(), n.get(), 2, 4, CULOSS_DATA_FLOAT32, 1.f, 2.f,
                                           1e-6f, 0, NONE,
                                           nullptr, x, y, z, nullptr, 0, test::stream());
    };
    t.expect_refused(fwd(a.get(), p.get(), n.get(), -1, 4, 1.f, 2.f, 1e-6f, NONE, loss.get()), INV, "n");
    t.expect_refused(fwd(a.get(), p.get(), n.get(), 2, 0, 1.f, 2.f, 1e-6f, NONE, loss.get()), INV, "d");
    t.expect_refused(fwd(a.get(), p.get(), n.get(), int64_t(1) << 40, int64_t(1) << 40, 1.f, 2.f, 1e-6f, NONE,
                         loss.get()),
                     INV, "anchor");  // its bytes do not fit a size_t
    t.expect_refused(fwd(a.get(), p.get(), n.get(), 2, 4, 1.f, 2.f, 1e-6f, culossReduction_t(3), loss.get()), INV,
                     "reduction");
    t.expect_refused(fwd(a.get(), p.get(), n.get(), 2, 4, 1.f, 0.f, 1e-6f, NONE, loss.get()), INV, "p");
    t.expect_refused(fwd(a.get(), p.get(), n.get(), 2, 4, 1.f, -1.f, 1e-6f, NONE, loss.get()), INV, "p");
    t.expect_refused(fwd(a.get(), p.get(), n.get(), 2, 4, 1.f, NAN, 1e-6f, NONE, loss.get()), INV, "p");
    t.expect_refused(fwd(a.get(), p.get(), n.get(), 2, 4, NAN, 2.f, 1e-6f, NONE, loss.get()), INV, "margin");
    t.expect_refused(fwd(a.get(), p.get(), n.get(), 2, 4, kInf, 2.f, 1e-6f, NONE, loss.get()), INV, "margin");
    t.expect_refused(fwd(a.get(), p.get(), n.get(), 2, 4, 1.f, 2.f, NAN, NONE, loss.get()), INV, "eps");
    t.expect_refused(fwd(a.get(), p.get(), n.get(), 2, 4, 1.f, 2.f, -kInf, NONE, loss.get()), INV, "eps");
    t.expect_refused(fwd(nullptr, p.get(), n.get(), 2, 4, 1.f, 2.f, 1e-6f, NONE, loss.get()), INV, "anchor");
    t.expect_refused(fwd(a.get(), nullptr, n.get(), 2, 4, 1.f, 2.f, 1e-6f, NONE, loss.get()), INV, "positive");
    t.expect_refused(fwd(a.get(), p.get(), nullptr, 2, 4, 1.f, 2.f, 1e-6f, NONE, loss.get()), INV, "negative");
    t.expect_refused(fwd(a.get(), p.get(), n.get(), 2, 4, 1.f, 2.f, 1e-6f, NONE, nullptr), INV, "loss");
    t.expect_refused(fwd(a.get(), p.get(), n.get(), 2, 4, 1.f, 2.f, 1e-6f, CULOSS_REDUCTION_MEAN, loss.get()),
                     CULOSS_STATUS_WORKSPACE_TOO_SMALL, "workspace");
    t.expect_refused(fwd(a.get(), p.get(), n.get(), 2, 4, 1.f, 2.f, 1e-6f, CULOSS_REDUCTION_SUM, loss.get(), ws.get(), 4),
                     CULOSS_STATUS_WORKSPACE_TOO_SMALL, "workspace");
    t.expect_refused(fwd(a.get(), p.get(), n.get(), 2, 4, 1.f, 2.f, 1e-6f, CULOSS_REDUCTION_SUM, loss.get(),
                         ws.get() + 4, 1024),
                     CULOSS_STATUS_MISALIGNED, "workspace");
    const float* odd = reinterpret_cast<const float*>(reinterpret_cast<const char*>(a.get()) + 2);
    t.expect_refused(fwd(odd, p.get(), n.get(), 2, 4, 1.f, 2.f, 1e-6f, NONE, loss.get()), CULOSS_STATUS_MISALIGNED,
                     "anchor");
    t.expect_refused(bwd(nullptr, nullptr, nullptr), INV, "grad_anchor, grad_positive and grad_negative");
    t.expect_refused(bwd(reinterpret_cast<float*>(reinterpret_cast<char*>(ga.get()) + 2), nullptr, nullptr),
                     CULOSS_STATUS_MISALIGNED, "grad_anchor");
    t.expect_refused(bwd(ga.get(), nullptr, nullptr, ga.get()), INV, "grad_anchor overlaps anchor");
    t.expect_refused(bwd(nullptr, p.get() + 7, nullptr), INV, "grad_positive overlaps positive");
    t.expect_refused(bwd(nullptr, nullptr, a.get() + 4), INV, "grad_negative overlaps anchor");
    t.expect_refused(bwd(ga.get(), nullptr, ga.get() + 7), INV, "grad_anchor overlaps grad_negative");
    t.expect_refused(culossTripletMarginForwardBackward(a.get(), p.get(), n.get(), 2, 4, CULOSS_DATA_FLOAT32, 1.f, 2.f,
                                                        1e-6f, 0, NONE,
                                                        nullptr, nullptr, ga.get(), gp.get(), gn.get(), nullptr, 0,
                                                        test::stream()),
                     INV, "loss");
    t.expect_refused(culossTripletMarginForwardBackward(a.get(), p.get(), n.get(), 2, 4, CULOSS_DATA_FLOAT32, 1.f, 2.f,
                                                        1e-6f, 0, NONE,
                                                        nullptr, loss.get(), nullptr, nullptr, nullptr, nullptr, 0,
                                                        test::stream()),
                     INV, "grad_anchor");
    t.expect_refused(culossTripletMarginWorkspaceSize(2, 4, CULOSS_DATA_FLOAT32, NONE, nullptr), INV, "bytes");
    size_t bytes = 0;
    t.expect_refused(culossTripletMarginWorkspaceSize(-1, 4, CULOSS_DATA_FLOAT32, NONE, &bytes), INV, "n");
    t.expect_refused(culossTripletMarginWorkspaceSize(2, 0, CULOSS_DATA_FLOAT32, NONE, &bytes), INV, "d");
    t.expect_refused(culossTripletMarginWorkspaceSize(2, 4, CULOSS_DATA_FLOAT32, culossReduction_t(-1), &bytes), INV,
                     "reduction");
    // Adjacent, non-overlapping rows of one allocation are fine.
    t.check_status(bwd(ga.get(), ga.get() + 8, ga.get() + 16), "adjacent gradients in one buffer");
    t.check_status(culossTripletMarginForward(a.get(), p.get(), n.get(), 2, 4, CULOSS_DATA_FLOAT32, 1.f, kInf, -2.f,
                                              1, NONE, loss.get(),
                                              nullptr, 0, test::stream()),
                   "p = inf and a negative eps are accepted");
}

// The sum/mean reductions add in a fixed order: reruns give the same bits.
void test_deterministic(test::Context& t) {
    const Case k{4500, 8, 2.f, true, 1.f, 1e-6f, CULOSS_REDUCTION_MEAN, 0, kSwapMatters};  // two partial sums
    std::mt19937 rng(5);
    const Inputs in = make_inputs(k, rng);
    size_t ws_bytes = 0;
    culossTripletMarginWorkspaceSize(k.n, k.d, CULOSS_DATA_FLOAT32, k.reduction, &ws_bytes);
    test::Reruns reruns(t);
    for (int run = 0; run < 2; ++run) {
        test::DeviceBuffer<float> a(in.a), p(in.p), n(in.n), loss(std::vector<float>{0.f}),
            ga(std::vector<float>(k.n * k.d)), gp(std::vector<float>(k.n * k.d)), gn(std::vector<float>(k.n * k.d));
        test::DeviceBuffer<char> ws(std::vector<char>(ws_bytes, 0));
        t.check_status(culossTripletMarginForwardBackward(a.get(), p.get(), n.get(), k.n, k.d, CULOSS_DATA_FLOAT32,
                                                          k.margin, k.p, k.eps,
                                                          1, k.reduction, nullptr, loss.get(), ga.get(), gp.get(),
                                                          gn.get(), ws.get(), ws_bytes, test::stream()),
                       "determinism");
        reruns.check("loss", loss.read());
        reruns.check("grad_anchor", ga.read());
        reruns.check("grad_positive", gp.read());
        reruns.check("grad_negative", gn.read());
    }
}

}  // namespace

int main() {
    return test::run_suite("triplet_margin", {test_bad_arguments, test_empty_batch, test_pytorch_kinks,
                                              test_nan_propagates, test_gradient_subsets, test_one_unaligned_gradient,
                                              test_deterministic, test_reference_cases, test_long_rows,
                                              test_small_loss});
}
