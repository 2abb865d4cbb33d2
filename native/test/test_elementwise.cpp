// The elementwise losses (sigmoid focal, smooth L1, Huber) through the C API against a float64
// reference: every entry point x reduction x option, counts that are not multiples of 4,
// unaligned pointers (the scalar path) against aligned ones (the 16-byte path: same bits),
// saturated logits with gamma 0, 0.5 and 2, the smooth L1 / Huber boundaries (d == 0, |d| == beta),
// count 0, bad arguments (status + a detail naming them), and bit-identical reruns.
// The same source runs against the emulated library and, on a GPU, against libculoss.so.
// Every launch costs 256 OS threads in the emulator, so the cases are few and each covers a lot.
#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "culoss/culoss.h"
#include "elementwise_losses.h"
#include "test_support.h"

namespace {

using elementwise::Options;
using test::Entry;
using test::entry_name;
using Kind = elementwise::Loss;

std::string describe(const Options& o) {
    char buf[120];
    if (o.loss == Kind::SigmoidFocal) {
        std::snprintf(buf, sizeof buf, "sigmoid_focal alpha=%g gamma=%g", double(o.a), double(o.b));
    } else {
        std::snprintf(buf, sizeof buf, "%s %s=%g", elementwise::loss_name(o.loss),
                      o.loss == Kind::SmoothL1 ? "beta" : "delta", double(o.a));
    }
    return buf;
}

// ---- the C API, float32 ----

culossStatus_t workspace_size(Kind k, int64_t count, culossReduction_t r, size_t* bytes) {
    return elementwise::workspace_size(k, count, CULOSS_DATA_FLOAT32, r, bytes);
}

culossStatus_t call(Entry e, const Options& o, const float* x, const float* t, int64_t count, culossReduction_t r,
                    const float* gout, float* loss, float* grad, void* ws, size_t ws_bytes) {
    return elementwise::call(e, o, CULOSS_DATA_FLOAT32, x, t, count, r, gout, loss, grad, ws, ws_bytes);
}

// ---- float64 reference, from the textbook formulas (not the kernels' rewritten ones) ----

double softplus(double v) { return std::max(v, 0.0) + std::log1p(std::exp(-std::fabs(v))); }
double sigmoid(double v) { return v >= 0 ? 1 / (1 + std::exp(-v)) : std::exp(v) / (1 + std::exp(v)); }

// loss and d loss / dx of one element.
void element(const Options& o, double x, double t, double* loss, double* grad) {
    if (o.loss == Kind::SigmoidFocal) {
        const double alpha = o.a, gamma = o.b;
        const double p = sigmoid(x), q = sigmoid(-x);
        const double ce = t * softplus(-x) + (1 - t) * softplus(x);
        const double m = t * q + (1 - t) * p;  // 1 - p_t
        const double at = alpha >= 0 ? alpha * t + (1 - alpha) * (1 - t) : 1.0;
        const double mg = gamma == 0 ? 1.0 : std::pow(m, gamma);
        *loss = at * ce * mg;
        // d/dx [ce m^gamma] = (p - t) m^gamma + ce gamma m^(gamma-1) p q (1 - 2t); the second term
        // is 0 where gamma = 0 or m = 0 (there ce = 0 as well).
        const double dce = (1 - t) * p - t * q;
        const double second = (gamma == 0 || m == 0) ? 0.0 : ce * gamma * std::pow(m, gamma - 1) * p * q * (1 - 2 * t);
        *grad = at * (dce * mg + second);
    } else if (o.loss == Kind::SmoothL1) {
        const double beta = o.a, d = x - t, z = std::fabs(d);
        *loss = z < beta ? 0.5 * z * z / beta : z - 0.5 * beta;
        if (beta == 0) {
            *grad = d > 0 ? 1.0 : d < 0 ? -1.0 : 0.0;
        } else {
            *grad = d <= -beta ? -1.0 : d >= beta ? 1.0 : d / beta;
        }
    } else {
        const double delta = o.a, d = x - t, z = std::fabs(d);
        *loss = z < delta ? 0.5 * z * z : delta * (z - 0.5 * delta);
        *grad = d <= -delta ? -delta : d >= delta ? delta : d;
    }
}

struct Reference {
    std::vector<double> loss;  // count values (NONE) or 1
    std::vector<double> grad;
};

Reference reference(const Options& o, const std::vector<float>& x, const std::vector<float>& t, culossReduction_t r,
                    const std::vector<float>& gout, bool scalar_gout) {
    const size_t n = x.size();
    Reference ref;
    ref.grad.resize(n);
    std::vector<double> losses(n);
    const double g0 = scalar_gout ? double(gout[0]) : 1.0;
    for (size_t i = 0; i < n; ++i) {
        double l, g;
        element(o, x[i], t[i], &l, &g);
        losses[i] = l;
        double up = r == CULOSS_REDUCTION_NONE ? (gout.empty() ? 1.0 : double(gout[i])) : g0;
        if (r == CULOSS_REDUCTION_MEAN) up /= double(n);
        ref.grad[i] = up * g;
    }
    if (r == CULOSS_REDUCTION_NONE) {
        ref.loss = losses;
    } else {
        double total = 0;
        for (double v : losses) total += v;
        if (r == CULOSS_REDUCTION_MEAN) total = n ? total / double(n) : 0.0;
        // The float the exact result rounds to: past FLT_MAX, an infinity.
        if (std::fabs(total) > double(std::numeric_limits<float>::max())) total = std::copysign(INFINITY, total);
        ref.loss = {total};
    }
    return ref;
}

// ---- inputs ----

struct Inputs {
    std::vector<float> x, t;
};

// Random inputs with the special values each loss must get right mixed in.
Inputs make_inputs(const Options& o, int64_t count, std::mt19937& rng) {
    Inputs in;
    in.x.resize(count);
    in.t.resize(count);
    std::normal_distribution<float> normal(0.f, 2.f);
    std::uniform_real_distribution<float> uni(0.f, 1.f);
    for (int64_t i = 0; i < count; ++i) {
        in.x[i] = normal(rng);
        if (o.loss == Kind::SigmoidFocal) {
            const unsigned pick = rng() % 4;
            in.t[i] = pick == 0 ? 0.f : pick == 1 ? 1.f : uni(rng);  // hard and soft labels
            if (rng() % 16 == 0) in.x[i] = (rng() % 2 ? 1.f : -1.f) * (rng() % 2 ? 30.f : 100.f);
        } else {
            in.t[i] = normal(rng);
            const unsigned pick = rng() % 8;
            if (pick == 0) in.t[i] = in.x[i];  // d == 0
            if (pick == 1) {                   // |d| == option exactly (dyadic values)
                in.x[i] = float(int(rng() % 64) - 32) * 0.25f;
                in.t[i] = in.x[i] + (rng() % 2 ? o.a : -o.a);
            }
        }
    }
    return in;
}

// ---- one call against the reference ----

constexpr float kGuard = 12345.f;

// Runs `entry` on `count` elements placed `offset` floats into their buffers (offset 1: every
// pointer unaligned, the scalar path), checks the outputs and that nothing around them changed.
// pass_gout: a random grad_output (count values for NONE, else 1), or null. Returns the outputs
// for bit comparisons.
struct Outputs {
    std::vector<float> loss, grad;
};

Outputs run_case(test::Context& tc, const Options& o, Entry entry, culossReduction_t r, int64_t count, int64_t offset,
                 bool pass_gout, uint32_t seed, const Inputs* given = nullptr) {
    std::mt19937 rng(seed);
    const Inputs in = given ? *given : make_inputs(o, count, rng);
    std::vector<float> gout;
    std::uniform_real_distribution<float> uni(-1.f, 1.f);
    if (r == CULOSS_REDUCTION_NONE) {
        gout.resize(count);
        for (float& v : gout) v = uni(rng);
    } else {
        gout = {uni(rng) + 2.f};
    }
    const Reference ref = reference(o, in.x, in.t, r, pass_gout ? gout : std::vector<float>{}, pass_gout && r != CULOSS_REDUCTION_NONE);
    char what_buf[200];
    std::snprintf(what_buf, sizeof what_buf, "%s %s red=%d count=%lld offset=%lld gout=%d", describe(o).c_str(),
                  entry_name(entry), int(r), (long long)count, (long long)offset, int(pass_gout));
    const std::string what = what_buf;

    size_t ws_bytes = 0;
    tc.check_status(workspace_size(o.loss, count, r, &ws_bytes), what + " workspace");
    const int64_t loss_len = r == CULOSS_REDUCTION_NONE ? count : 1;
    auto placed = [&](const std::vector<float>& v) {  // guard, offset, data, guard
        std::vector<float> out(offset + v.size() + 4, kGuard);
        std::copy(v.begin(), v.end(), out.begin() + offset);
        return out;
    };
    test::DeviceBuffer<float> x(placed(in.x)), t(placed(in.t)), go(placed(gout)),
        loss(placed(std::vector<float>(loss_len, -7.f))), grad(placed(std::vector<float>(count, -7.f)));
    test::DeviceBuffer<char> ws(std::vector<char>(ws_bytes + 16, 0));
    const culossStatus_t st = call(entry, o, x.get() + offset, t.get() + offset, count, r,
                                   pass_gout ? go.get() + offset : nullptr, loss.get() + offset, grad.get() + offset,
                                   ws.get(), ws_bytes);
    tc.check_status(st, what);
    tc.check_status(culossStreamSynchronize(test::stream()), what + " sync");
    const double tol = count > 100000 ? 2e-5 : 1e-5;
    Outputs out;
    auto unplace = [&](const std::vector<float>& all, int64_t len, const char* name) {
        bool intact = true;
        for (int64_t i = 0; i < offset; ++i) intact &= all[i] == kGuard;
        for (int64_t i = offset + len; i < int64_t(all.size()); ++i) intact &= all[i] == kGuard;
        tc.expect(intact, what + ": wrote outside " + name);
        return std::vector<float>(all.begin() + offset, all.begin() + offset + len);
    };
    const std::vector<float> loss_all = loss.read(), grad_all = grad.read();
    if (entry != Entry::Backward) {
        out.loss = unplace(loss_all, loss_len, "loss");
        tc.expect_close(out.loss, ref.loss, tol, what + " loss");
    } else {
        tc.expect(loss_all == placed(std::vector<float>(loss_len, -7.f)), what + ": backward wrote the loss");
    }
    if (entry != Entry::Forward) {
        out.grad = unplace(grad_all, count, "grad");
        tc.expect_close(out.grad, ref.grad, tol, what + " grad");
    } else {
        tc.expect(grad_all == placed(std::vector<float>(count, -7.f)), what + ": forward wrote the gradient");
    }
    return out;
}

const Options kOptions[] = {
    {Kind::SigmoidFocal, 0.25f, 2.f},  {Kind::SigmoidFocal, -1.f, 0.f},   {Kind::SigmoidFocal, 0.25f, 0.5f},
    {Kind::SigmoidFocal, 0.75f, 1.f},  {Kind::SigmoidFocal, -1.f, 3.7f},  {Kind::SmoothL1, 1.f, 0.f},
    {Kind::SmoothL1, 0.f, 0.f}, {Kind::SmoothL1, 0.5f, 0.f}, {Kind::Huber, 1.f, 0.f},
    {Kind::Huber, 0.5f, 0.f},   {Kind::Huber, 2.5f, 0.f},
};

// Every option x entry x reduction once, the count, the alignment and the upstream gradient
// rotating through awkward values. Under ThreadSanitizer (every launch is 256 instrumented OS
// threads) every other option x reduction, all three entries each: every kernel is still run.
void test_matrix(test::Context& tc) {
    const int64_t counts[] = {1, 3, 4, 5, 7, 33, 1000, 4099, 9};
    const int stride = int(test::tsan_stride(2));
    uint32_t seed = 1;
    int k = 0, block = 0;
    for (const Options& o : kOptions)
        for (culossReduction_t r : test::kReductions) {
            const bool run = block++ % stride == 0;
            for (Entry e : {Entry::Forward, Entry::Backward, Entry::Fused}) {
                if (run) run_case(tc, o, e, r, counts[k % 9], (k / 2) % 2, k % 3 != 0, seed);
                ++seed;
                ++k;
            }
        }
}

// The 16-byte path and the scalar path give the same bits, loss and gradient, and so do reruns.
void test_alignment_and_determinism(test::Context& tc) {
    for (const Options& o : {kOptions[0], kOptions[5], kOptions[8]})
        for (culossReduction_t r : {CULOSS_REDUCTION_SUM, CULOSS_REDUCTION_NONE}) {
            const int64_t count = 5003;
            std::mt19937 rng(77);
            const Inputs in = make_inputs(o, count, rng);
            const Outputs aligned = run_case(tc, o, Entry::Fused, r, count, 0, true, 78, &in);
            const Outputs again = run_case(tc, o, Entry::Fused, r, count, 0, true, 78, &in);
            const Outputs unaligned = run_case(tc, o, Entry::Fused, r, count, 1, true, 78, &in);
            const std::string what = describe(o) + " red=" + std::to_string(int(r));
            tc.expect(test::same_bits(aligned.loss, again.loss),
                      what + ": loss bits differ between runs");
            tc.expect(aligned.grad == again.grad, what + ": gradient differs between runs");
            tc.expect(test::same_bits(aligned.loss, unaligned.loss),
                      what + ": loss bits differ between the aligned and the unaligned path");
            tc.expect(aligned.grad == unaligned.grad, what + ": gradient differs between the aligned and the unaligned path");
        }
}

// In place: the gradient written over the first input, the loss over the second (NONE), gives
// the bits of the out-of-place call, on both paths.
void test_in_place(test::Context& tc) {
    for (const Options& o : {kOptions[0], kOptions[5]})
        for (int64_t offset : {0, 1}) {
            const int64_t count = 103;
            std::mt19937 rng(11);
            const Inputs in = make_inputs(o, count, rng);
            const Outputs want = run_case(tc, o, Entry::Fused, CULOSS_REDUCTION_NONE, count, offset, false, 12, &in);
            std::vector<float> xs(offset, 0.f), ts(offset, 0.f);
            xs.insert(xs.end(), in.x.begin(), in.x.end());
            ts.insert(ts.end(), in.t.begin(), in.t.end());
            test::DeviceBuffer<float> x(xs), t(ts);
            tc.check_status(call(Entry::Fused, o, x.get() + offset, t.get() + offset, count, CULOSS_REDUCTION_NONE,
                                 nullptr, t.get() + offset, x.get() + offset, nullptr, 0),
                            describe(o) + " in place");
            const std::vector<float> g = x.read(), l = t.read();
            tc.expect(std::vector<float>(g.begin() + offset, g.end()) == want.grad, describe(o) + ": in-place gradient");
            tc.expect(std::vector<float>(l.begin() + offset, l.end()) == want.loss, describe(o) + ": in-place loss");
        }
}

// Saturated logits, both signs, hard and soft targets: finite, and right, for gamma 0, 0.5, 2 and
// alpha off / 0.25. One call per option covers every (x, t) pair.
void test_saturated_focal(test::Context& tc) {
    Inputs in;
    for (float x : {30.f, 100.f, 1e4f, 88.f, 17.f})
        for (float sign : {1.f, -1.f})
            for (float t : {0.f, 1.f, 0.3f, 0.999f}) {
                in.x.push_back(sign * x);
                in.t.push_back(t);
            }
    const int64_t count = int64_t(in.x.size());
    for (float gamma : {0.f, 0.5f, 2.f})
        for (float alpha : {-1.f, 0.25f}) {
            const Options o{Kind::SigmoidFocal, alpha, gamma};
            const Outputs out = run_case(tc, o, Entry::Fused, CULOSS_REDUCTION_NONE, count, 0, false, 5, &in);
            bool finite = true;
            for (float v : out.loss) finite &= std::isfinite(v);
            for (float v : out.grad) finite &= std::isfinite(v);
            tc.expect(finite, describe(o) + ": saturated logits give a non-finite loss or gradient");
            // Each element on its own, so that the big ones do not hide an error in the small ones:
            // relative 1e-4 or absolute 1e-30.
            for (int64_t i = 0; i < count; ++i) {
                double l, g;
                element(o, in.x[i], in.t[i], &l, &g);
                const bool ok = std::fabs(out.loss[i] - l) <= 1e-4 * std::fabs(l) + 1e-30 &&
                                std::fabs(out.grad[i] - g) <= 1e-4 * std::fabs(g) + 1e-30;
                if (!ok) {
                    tc.expect(false, describe(o) + " x=" + std::to_string(in.x[i]) + " t=" + std::to_string(in.t[i]) +
                                         ": loss " + std::to_string(out.loss[i]) + " vs " + std::to_string(l) + ", grad " +
                                         std::to_string(out.grad[i]) + " vs " + std::to_string(g));
                }
            }
            run_case(tc, o, Entry::Fused, CULOSS_REDUCTION_MEAN, count, 1, true, 6, &in);
        }
}

// The exact boundary values, element by element: PyTorch's gradient at d == 0 and |d| == beta.
void test_boundaries(test::Context& tc) {
    Inputs in;
    in.x = {0.f, 1.5f, -1.5f, 0.5f, -0.5f, 2.f, 3.f};
    in.t = {0.f, 1.5f, -1.5f, 0.f, 0.f, 1.5f, 1.f};  // d = 0, 0, 0, 0.5, -0.5, 0.5, 2
    struct Want {
        Options o;
        std::vector<float> loss, grad;
    };
    const Want wants[] = {
        {{Kind::SmoothL1, 0.f, 0.f}, {0, 0, 0, 0.5f, 0.5f, 0.5f, 2}, {0, 0, 0, 1, -1, 1, 1}},
        {{Kind::SmoothL1, 0.5f, 0.f}, {0, 0, 0, 0.25f, 0.25f, 0.25f, 1.75f}, {0, 0, 0, 1, -1, 1, 1}},
        {{Kind::SmoothL1, 1.f, 0.f}, {0, 0, 0, 0.125f, 0.125f, 0.125f, 1.5f}, {0, 0, 0, 0.5f, -0.5f, 0.5f, 1}},
        {{Kind::Huber, 0.5f, 0.f}, {0, 0, 0, 0.125f, 0.125f, 0.125f, 0.875f}, {0, 0, 0, 0.5f, -0.5f, 0.5f, 0.5f}},
        {{Kind::Huber, 2.f, 0.f}, {0, 0, 0, 0.125f, 0.125f, 0.125f, 2}, {0, 0, 0, 0.5f, -0.5f, 0.5f, 2}},
    };
    for (const Want& w : wants) {
        const int64_t count = int64_t(in.x.size());
        const std::vector<float> zeros(in.x.size(), 0.f);
        test::DeviceBuffer<float> x(in.x), t(in.t), loss(zeros), grad(zeros);
        tc.check_status(call(Entry::Fused, w.o, x.get(), t.get(), count, CULOSS_REDUCTION_NONE, nullptr, loss.get(),
                             grad.get(), nullptr, 0),
                        describe(w.o) + " boundaries");
        tc.expect(loss.read() == w.loss, describe(w.o) + ": boundary losses");
        tc.expect(grad.read() == w.grad, describe(w.o) + ": boundary gradients");
    }
}

void test_empty(test::Context& tc) {
    for (const Options& o : {kOptions[0], kOptions[5], kOptions[8]})
        for (culossReduction_t r : test::kReductions) {
            size_t ws = 1;
            tc.check_status(workspace_size(o.loss, 0, r, &ws), describe(o) + " count=0 workspace");
            tc.expect(ws == 0, describe(o) + " count=0 needs no workspace");
            test::DeviceBuffer<float> loss(std::vector<float>{-1.f});
            for (Entry e : {Entry::Forward, Entry::Backward, Entry::Fused}) {
                float* l = r == CULOSS_REDUCTION_NONE ? nullptr : loss.get();
                tc.check_status(call(e, o, nullptr, nullptr, 0, r, nullptr, l, nullptr, nullptr, 0),
                                describe(o) + " count=0 " + entry_name(e));
            }
            if (r != CULOSS_REDUCTION_NONE) tc.expect(loss.read()[0] == 0.f, describe(o) + " count=0: loss is 0");
        }
    // The backward needs no workspace even for SUM/MEAN.
    std::vector<float> host(8, 0.5f);
    test::DeviceBuffer<float> x(host), t(host), grad(host);
    for (const Options& o : {kOptions[0], kOptions[5], kOptions[8]})
        tc.check_status(call(Entry::Backward, o, x.get(), t.get(), 8, CULOSS_REDUCTION_MEAN, nullptr, nullptr,
                             grad.get(), nullptr, 0),
                        describe(o) + " backward without workspace");
}

// A million elements: many blocks, the grid saturating at its maximum, 16-byte path.
[[maybe_unused]] void test_large(test::Context& tc) {
    const Options o = kOptions[0];
    run_case(tc, o, Entry::Fused, CULOSS_REDUCTION_MEAN, (int64_t(1) << 20) + 3, 0, true, 99);
}

void test_bad_arguments(test::Context& tc) {
    std::vector<float> host(64, 0.f);
    test::DeviceBuffer<float> x(host), t(host), loss(host), grad(host);
    test::DeviceBuffer<char> ws(std::vector<char>(4096, 0));
    const auto NONE = CULOSS_REDUCTION_NONE, MEAN = CULOSS_REDUCTION_MEAN;
    const auto INVALID = CULOSS_STATUS_INVALID_VALUE, MISALIGNED = CULOSS_STATUS_MISALIGNED;
    const float* odd = reinterpret_cast<const float*>(reinterpret_cast<const char*>(x.get()) + 2);
    float* odd_out = reinterpret_cast<float*>(reinterpret_cast<char*>(grad.get()) + 2);
    for (const Options& o : {kOptions[0], kOptions[5], kOptions[8]}) {
        const std::string c = describe(o);
        const bool focal = o.loss == Kind::SigmoidFocal;
        const char* xn = focal ? "logits" : "input";
        const char* tn = focal ? "targets" : "target";
        const char* gn = focal ? "grad_logits" : "grad_input";
        size_t bytes = 0;
        tc.expect_refused(workspace_size(o.loss, 4, NONE, nullptr), INVALID, "bytes", c);
        tc.expect_refused(workspace_size(o.loss, -1, NONE, &bytes), INVALID, "count", c);
        tc.expect_refused(workspace_size(o.loss, 4, culossReduction_t(3), &bytes), INVALID, "reduction", c);
        for (Entry e : {Entry::Forward, Entry::Backward, Entry::Fused}) {
            const std::string ce = c + " " + entry_name(e);
            tc.expect_refused(call(e, o, x.get(), t.get(), -1, NONE, nullptr, loss.get(), grad.get(), nullptr, 0),
                              INVALID, "count", ce);
            tc.expect_refused(call(e, o, x.get(), t.get(), 4, culossReduction_t(-1), nullptr, loss.get(), grad.get(),
                                   nullptr, 0),
                              INVALID, "reduction", ce);
            tc.expect_refused(call(e, o, nullptr, t.get(), 4, NONE, nullptr, loss.get(), grad.get(), nullptr, 0),
                              INVALID, xn, ce);
            tc.expect_refused(call(e, o, x.get(), nullptr, 4, NONE, nullptr, loss.get(), grad.get(), nullptr, 0),
                              INVALID, tn, ce);
            tc.expect_refused(call(e, o, odd, t.get(), 4, NONE, nullptr, loss.get(), grad.get(), nullptr, 0),
                              MISALIGNED, xn, ce);
            tc.expect_refused(call(e, o, x.get(), odd, 4, NONE, nullptr, loss.get(), grad.get(), nullptr, 0),
                              MISALIGNED, tn, ce);
            if (e != Entry::Backward) {
                tc.expect_refused(call(e, o, x.get(), t.get(), 4, NONE, nullptr, nullptr, grad.get(), nullptr, 0),
                                  INVALID, "loss", ce);
                tc.expect_refused(call(e, o, x.get(), t.get(), 4, NONE, nullptr, odd_out, grad.get(), nullptr, 0),
                                  MISALIGNED, "loss", ce);
                tc.expect_refused(call(e, o, x.get(), t.get(), 4, MEAN, nullptr, loss.get(), grad.get(), nullptr, 0),
                                  CULOSS_STATUS_WORKSPACE_TOO_SMALL, "workspace", ce);
                tc.expect_refused(call(e, o, x.get(), t.get(), 4, MEAN, nullptr, loss.get(), grad.get(), ws.get(), 4),
                                  CULOSS_STATUS_WORKSPACE_TOO_SMALL, "workspace", ce);
                tc.expect_refused(call(e, o, x.get(), t.get(), 4, MEAN, nullptr, loss.get(), grad.get(),
                                       ws.get() + 4, 1024),
                                  MISALIGNED, "workspace", ce);
            }
            if (e != Entry::Forward) {
                tc.expect_refused(call(e, o, x.get(), t.get(), 4, NONE, nullptr, loss.get(), nullptr, nullptr, 0),
                                  INVALID, gn, ce);
                tc.expect_refused(call(e, o, x.get(), t.get(), 4, NONE, nullptr, loss.get(), odd_out, nullptr, 0),
                                  MISALIGNED, gn, ce);
                tc.expect_refused(call(e, o, x.get(), t.get(), 4, NONE, odd, loss.get(), grad.get(), nullptr, 0),
                                  MISALIGNED, "grad_output", ce);
            }
            // The loss's own options.
            auto with = [&](float a, float b) { return Options{o.loss, a, b}; };
            if (focal) {
                for (float bad : {NAN, INFINITY, -INFINITY})
                    tc.expect_refused(call(e, with(bad, 2.f), x.get(), t.get(), 4, NONE, nullptr, loss.get(),
                                           grad.get(), nullptr, 0),
                                      INVALID, "alpha", ce);
                for (float bad : {-0.5f, NAN, INFINITY})
                    tc.expect_refused(call(e, with(0.25f, bad), x.get(), t.get(), 4, NONE, nullptr, loss.get(),
                                           grad.get(), nullptr, 0),
                                      INVALID, "gamma", ce);
            } else if (o.loss == Kind::SmoothL1) {
                for (float bad : {-0.5f, NAN, -INFINITY})
                    tc.expect_refused(call(e, with(bad, 0.f), x.get(), t.get(), 4, NONE, nullptr, loss.get(),
                                           grad.get(), nullptr, 0),
                                      INVALID, "beta", ce);
            } else {
                for (float bad : {0.f, -0.5f, NAN})
                    tc.expect_refused(call(e, with(bad, 0.f), x.get(), t.get(), 4, NONE, nullptr, loss.get(),
                                           grad.get(), nullptr, 0),
                                      INVALID, "delta", ce);
            }
        }
    }
    // Nothing was launched by a rejected call.
    tc.expect(loss.read() == host && grad.read() == host, "a rejected call wrote an output");
}

}  // namespace

// Wide ranges whose intermediates a float kernel overflows although the result fits: smooth L1
// with beta = 1e30 and |d| up to 1e22 (0.5 d d overflows, 0.5 d d / beta does not), and a mean
// of 4096 losses near 3e35 (their float sum overflows, their mean does not).
void test_wide_range(test::Context& tc) {
    std::mt19937 rng(31);
    std::uniform_real_distribution<float> exponent(19.f, 22.f), spread(1.f, 1.5f);
    std::normal_distribution<float> normal(0.f, 1.f);
    Inputs huge_beta;
    for (int i = 0; i < 1001; ++i) {
        huge_beta.x.push_back((i % 2 ? 1.f : -1.f) * std::pow(10.f, exponent(rng)));
        huge_beta.t.push_back(normal(rng));
    }
    Inputs big, saturated;
    for (int i = 0; i < 4096; ++i) {
        big.x.push_back((i % 3 ? 3e35f : -3e35f) * spread(rng));
        big.t.push_back(normal(rng));
        saturated.x.push_back((i % 2 ? 1e36f : -1e36f) * spread(rng));
        saturated.t.push_back(i % 2 ? 0.f : 1.f);  // the wrong side: loss about alpha_t |x|
    }
    struct Regime {
        Options o;
        const Inputs* in;
    };
    const Regime regimes[] = {{{Kind::SmoothL1, 1e30f, 0.f}, &huge_beta},
                              {{Kind::SmoothL1, 1.f, 0.f}, &big},
                              {{Kind::Huber, 1.f, 0.f}, &big},
                              {{Kind::SigmoidFocal, 0.25f, 2.f}, &saturated},
                              {{Kind::SigmoidFocal, -1.f, 0.f}, &saturated}};
    uint32_t seed = 500;
    for (const Regime& g : regimes)
        for (culossReduction_t r : test::kReductions)
            for (Entry e : {Entry::Forward, Entry::Backward, Entry::Fused})
                for (int64_t offset : {0, 1})
                    run_case(tc, g.o, e, r, int64_t(g.in->x.size()), offset, true, seed++, g.in);
}

int main() {
    return test::run_suite("elementwise", {test_bad_arguments, test_empty, test_boundaries, test_saturated_focal,
                                           test_matrix, test_alignment_and_determinism, test_in_place, test_wide_range,
#if !defined(__SANITIZE_THREAD__)
                                           // about a second in the emulator, much more under ThreadSanitizer
                                           test_large,
#endif
                                          });
}
