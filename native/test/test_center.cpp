// Center loss through the C API against a float64 reference: every entry point (forward,
// backward with grad_features and/or grad_centers, the fused call, the center update), every
// reduction, with and without an upstream gradient, on awkward shapes (C = 1, D = 1, D = 3,
// D not a multiple of 4, unaligned rows, all samples in one class, classes without samples,
// multi-pass label sorts, many tiles), N = 0, bad labels (error word, guard values after every
// output untouched), bad arguments, in-place grad_features, and bit-identical reruns.
// The same source runs against the emulated library and, on a GPU, against libculoss.so.
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "culoss/culoss.h"
#include "test_support.h"

namespace {

constexpr float kGuard = 12345.f;
constexpr int64_t kGuardCount = 8;

enum LabelKind { kRandom, kOneClass, kEvenOnly, kFewClasses };

struct Case {
    int64_t n, d, c;
    int64_t offset;  // floats before every float buffer's data: 1 makes the rows unaligned
    culossReduction_t reduction;
    LabelKind labels;
    bool grad_output;  // pass an upstream gradient (else NULL: 1)
    float lambda, alpha;
    float far = 0.f;  // the centers sit this far from the features (which are about N(0, 1))
};

struct Inputs {
    std::vector<float> x, centers, gout;
    std::vector<int32_t> y;
};

Inputs make_inputs(const Case& k, std::mt19937& rng) {
    Inputs in;
    std::normal_distribution<float> normal(0.f, 1.f);
    in.x.resize(k.n * k.d);
    for (float& v : in.x) v = normal(rng);
    in.centers.resize(k.c * k.d);
    for (float& v : in.centers) v = k.far + 0.5f * normal(rng);
    in.y.resize(k.n);
    std::uniform_int_distribution<int32_t> cls(0, int32_t(k.c - 1));
    for (int32_t& v : in.y) {
        switch (k.labels) {
            case kRandom: v = cls(rng); break;
            case kOneClass: v = int32_t(k.c - 1); break;
            case kEvenOnly: v = (cls(rng) / 2) * 2; break;
            case kFewClasses: v = cls(rng) % 3 == 0 ? int32_t(k.c / 2) : cls(rng) % std::max<int32_t>(1, int32_t(k.c / 7)); break;
        }
    }
    std::uniform_real_distribution<float> uni(-1.f, 1.f);
    in.gout.resize(k.reduction == CULOSS_REDUCTION_NONE ? k.n : 1);
    for (float& v : in.gout) v = uni(rng);
    return in;
}

struct Reference {
    std::vector<double> loss, grad_features, grad_centers, centers_after;
};

// float64, from the formulas in culoss.h, independent of the kernels. Bad labels count for nothing.
Reference reference(const Case& k, const Inputs& in) {
    const int64_t n = k.n, d = k.d, c = k.c;
    Reference r;
    r.grad_features.assign(n * d, 0.0);
    r.grad_centers.assign(c * d, 0.0);
    std::vector<double> rows(n, 0.0), sums(c * d, 0.0);
    std::vector<int64_t> counts(c, 0);
    const double scale = k.reduction == CULOSS_REDUCTION_MEAN ? (n > 0 ? 1.0 / double(n) : 0.0) : 1.0;
    for (int64_t i = 0; i < n; ++i) {
        const int32_t y = in.y[i];
        if (y < 0 || y >= c) continue;
        ++counts[y];
        const double g = k.grad_output ? in.gout[k.reduction == CULOSS_REDUCTION_NONE ? i : 0] : 1.0;
        double sq = 0;
        for (int64_t j = 0; j < d; ++j) {
            const double diff = double(in.x[i * d + j]) - double(in.centers[y * d + j]);
            sq += diff * diff;
            r.grad_features[i * d + j] = k.lambda * g * scale * diff;
            r.grad_centers[y * d + j] -= k.lambda * g * scale * diff;
            sums[y * d + j] += -diff;  // c_j - x_i
        }
        rows[i] = 0.5 * k.lambda * sq;
    }
    if (k.reduction == CULOSS_REDUCTION_NONE) {
        r.loss = rows;
    } else {
        double total = 0;
        for (double v : rows) total += v;
        r.loss = {total * scale};
    }
    r.centers_after.resize(c * d);
    for (int64_t j = 0; j < c; ++j)
        for (int64_t e = 0; e < d; ++e)
            r.centers_after[j * d + e] = double(in.centers[j * d + e]) - k.alpha * sums[j * d + e] / double(1 + counts[j]);
    return r;
}

std::string describe(const Case& k) {
    char buf[200];
    std::snprintf(buf, sizeof buf, "n=%lld d=%lld c=%lld off=%lld red=%d labels=%d gout=%d", (long long)k.n,
                  (long long)k.d, (long long)k.c, (long long)k.offset, int(k.reduction), int(k.labels),
                  int(k.grad_output));
    return buf;
}

// A case's random inputs (drawn from `seed`), their reference, and device copies of the features,
// labels and centers with the case's workspace, for the tests that make their own sequences of
// calls: the fused call and the update on these buffers (no grad_output, no error word).
struct Fixture {
    Fixture(const Case& k_, uint32_t seed)
        : k(k_), in(random_inputs(k_, seed)), ref(reference(k_, in)), x(in.x), centers(in.centers), y(in.y),
          ws_bytes(workspace_bytes(k_)), ws(std::vector<char>(ws_bytes, 0)) {}
    culossStatus_t fused(float* loss, float* grad_features, float* grad_centers) const {
        return culossCenterLossForwardBackward(x.get(), y.get(), centers.get(), k.n, k.d, k.c, CULOSS_DATA_FLOAT32,
                                               k.lambda, k.reduction, nullptr, loss, grad_features, grad_centers,
                                               ws.get(), ws_bytes, nullptr, test::stream());
    }
    culossStatus_t update() const {
        return culossCenterLossUpdateCenters(x.get(), y.get(), centers.get(), k.n, k.d, k.c, CULOSS_DATA_FLOAT32,
                                             k.alpha, ws.get(), ws_bytes, nullptr, test::stream());
    }
    static Inputs random_inputs(const Case& k, uint32_t seed) {
        std::mt19937 rng(seed);
        return make_inputs(k, rng);
    }
    static size_t workspace_bytes(const Case& k) {
        size_t bytes = 0;
        culossCenterLossWorkspaceSize(k.n, k.d, k.c, CULOSS_DATA_FLOAT32, k.reduction, &bytes);
        return bytes;
    }
    const Case k;
    const Inputs in;
    const Reference ref;
    test::DeviceBuffer<float> x, centers;
    test::DeviceBuffer<int32_t> y;
    const size_t ws_bytes;
    test::DeviceBuffer<char> ws;
};

// A float buffer with `offset` guard floats before the data and kGuardCount after.
struct Guarded {
    Guarded(const std::vector<float>& data, int64_t offset_) : offset(offset_), size(int64_t(data.size())), buf(make(data, offset_)) {}
    static std::vector<float> make(const std::vector<float>& data, int64_t offset) {
        std::vector<float> all(offset + data.size() + kGuardCount, kGuard);
        std::copy(data.begin(), data.end(), all.begin() + offset);
        return all;
    }
    float* get() { return buf.get() + offset; }
    std::vector<float> data() const {
        const std::vector<float> all = buf.read();
        return std::vector<float>(all.begin() + offset, all.begin() + offset + size);
    }
    bool guards_intact() const {
        const std::vector<float> all = buf.read();
        for (int64_t i = 0; i < offset; ++i)
            if (all[i] != kGuard) return false;
        for (int64_t i = offset + size; i < int64_t(all.size()); ++i)
            if (all[i] != kGuard) return false;
        return true;
    }
    int64_t offset, size;
    test::DeviceBuffer<float> buf;
};

enum class Entry { Forward, BackwardF, BackwardC, BackwardFC, FusedF, FusedC, FusedFC, Update };

const char* entry_name(Entry e) {
    switch (e) {
        case Entry::Forward: return "forward";
        case Entry::BackwardF: return "backward(grad_features)";
        case Entry::BackwardC: return "backward(grad_centers)";
        case Entry::BackwardFC: return "backward(both)";
        case Entry::FusedF: return "fused(grad_features)";
        case Entry::FusedC: return "fused(grad_centers)";
        case Entry::FusedFC: return "fused(both)";
        case Entry::Update: return "update";
    }
    return "?";
}

double tolerance(const Case& k) { return k.n * k.d > 100000 || k.n > 2000 ? 2e-5 : 1e-5; }

void run_case(test::Context& t, const Case& k, Entry entry, uint32_t seed) {
    std::mt19937 rng(seed);
    const Inputs in = make_inputs(k, rng);
    const Reference ref = reference(k, in);
    const std::string what = describe(k) + " " + entry_name(entry);

    size_t ws_bytes = 0;
    t.check_status(culossCenterLossWorkspaceSize(k.n, k.d, k.c, CULOSS_DATA_FLOAT32, k.reduction, &ws_bytes),
                   what + " workspace");
    const int64_t loss_len = test::loss_length(k.reduction, k.n);
    Guarded x(in.x, k.offset), centers(in.centers, k.offset), gout(in.gout, k.offset),
        loss(std::vector<float>(loss_len, -7.f), k.offset), gf(std::vector<float>(k.n * k.d, -7.f), k.offset),
        gc(std::vector<float>(k.c * k.d, -7.f), k.offset);
    test::DeviceBuffer<int32_t> y(in.y), err(std::vector<int32_t>{0});
    test::DeviceBuffer<char> ws(std::vector<char>(ws_bytes + 16, 0));
    const float* go = k.grad_output ? gout.get() : nullptr;
    const bool want_f = entry == Entry::BackwardF || entry == Entry::BackwardFC || entry == Entry::FusedF || entry == Entry::FusedFC;
    const bool want_c = entry == Entry::BackwardC || entry == Entry::BackwardFC || entry == Entry::FusedC || entry == Entry::FusedFC;
    const bool want_loss = entry == Entry::Forward || entry == Entry::FusedF || entry == Entry::FusedC || entry == Entry::FusedFC;
    float* gfp = want_f ? gf.get() : nullptr;
    float* gcp = want_c ? gc.get() : nullptr;
    culossStatus_t st = CULOSS_STATUS_SUCCESS;
    switch (entry) {
        case Entry::Forward:
            st = culossCenterLossForward(x.get(), y.get(), centers.get(), k.n, k.d, k.c, CULOSS_DATA_FLOAT32,
                                         k.lambda, k.reduction,
                                         loss.get(), ws.get(), ws_bytes, err.get(), test::stream());
            break;
        case Entry::BackwardF:
        case Entry::BackwardC:
        case Entry::BackwardFC:
            st = culossCenterLossBackward(x.get(), y.get(), centers.get(), k.n, k.d, k.c, CULOSS_DATA_FLOAT32,
                                          k.lambda, k.reduction, go,
                                          gfp, gcp, ws.get(), ws_bytes, err.get(), test::stream());
            break;
        case Entry::FusedF:
        case Entry::FusedC:
        case Entry::FusedFC:
            st = culossCenterLossForwardBackward(x.get(), y.get(), centers.get(), k.n, k.d, k.c, CULOSS_DATA_FLOAT32,
                                                 k.lambda, k.reduction,
                                                 go, loss.get(), gfp, gcp, ws.get(), ws_bytes, err.get(), test::stream());
            break;
        case Entry::Update:
            st = culossCenterLossUpdateCenters(x.get(), y.get(), centers.get(), k.n, k.d, k.c, CULOSS_DATA_FLOAT32,
                                               k.alpha, ws.get(),
                                               ws_bytes, err.get(), test::stream());
            break;
    }
    t.check_status(st, what);
    t.check_status(culossStreamSynchronize(test::stream()), what + " sync");
    t.expect(err.read()[0] == 0, what + ": error word set for valid labels");
    const double tol = tolerance(k);
    if (want_loss) t.expect_close(loss.data(), ref.loss, tol, what + " loss");
    if (want_f) t.expect_close(gf.data(), ref.grad_features, tol, what + " grad_features");
    if (want_c) t.expect_close(gc.data(), ref.grad_centers, tol, what + " grad_centers");
    if (entry == Entry::Update) {
        t.expect_close(centers.data(), ref.centers_after, tol, what + " centers");
    } else {
        t.expect(centers.data() == in.centers, what + ": centers changed by a loss call");
    }
    t.expect(x.data() == in.x, what + ": features changed");
    t.expect(x.guards_intact() && centers.guards_intact() && loss.guards_intact() && gf.guards_intact() &&
                 gc.guards_intact(),
             what + ": wrote outside an output");
    if (!want_f) t.expect(gf.data() == std::vector<float>(k.n * k.d, -7.f), what + ": grad_features written");
}

void test_reference_cases(test::Context& t) {
    std::vector<Case> cases;
    // {n, d, c, offset, reduction, labels, grad_output, lambda, alpha}
    for (culossReduction_t r : test::kReductions) {
        cases.push_back({7, 4, 1, 0, r, kRandom, false, 1.f, 0.5f});         // C = 1
        cases.push_back({9, 1, 5, 0, r, kRandom, true, 0.3f, 0.5f});         // D = 1
        cases.push_back({13, 3, 4, 1, r, kEvenOnly, false, 1.f, 0.2f});      // D = 3, unaligned, absent classes
        cases.push_back({33, 8, 6, 0, r, kOneClass, true, 2.f, 1.f});        // all samples in one class
        cases.push_back({65, 5, 10, 0, r, kRandom, true, 1.f, 0.5f});        // two tiles
        cases.push_back({100, 64, 7, 1, r, kFewClasses, false, 0.5f, 0.5f}); // D % 4 == 0 but unaligned rows
        cases.push_back({300, 36, 100, 0, r, kRandom, true, 1.f, 0.7f});     // two sort passes
        cases.push_back({150, 130, 3, 0, r, kRandom, false, 1.f, 0.5f});     // D not a multiple of 4, > 128
    }
    const size_t light = cases.size();  // the cases below: the fused call and the update only
    cases.push_back({1100, 12, 50000, 0, CULOSS_REDUCTION_SUM, kRandom, true, 1.f, 0.5f});   // 3 sort passes, 2 chunks
#if !defined(__SANITIZE_THREAD__)
    // Bigger instances of paths the cases above take (a class crossing tiles, rows past a block,
    // vec4 rows): under ThreadSanitizer, which looks for races rather than digits, they cost minutes
    // and add no synchronisation that the cases above lack (ASan and the plain build run them).
    cases.push_back({5000, 2, 10, 0, CULOSS_REDUCTION_MEAN, kOneClass, false, 1.f, 0.5f});   // one class over 40 tiles
    cases.push_back({800, 260, 9, 1, CULOSS_REDUCTION_NONE, kFewClasses, true, 1.f, 0.5f});  // long rows, few classes
    cases.push_back({600, 512, 100, 0, CULOSS_REDUCTION_MEAN, kRandom, false, 0.01f, 0.5f}); // a bigger vec4 case
#endif
    // Every entry point with every reduction is covered, without running all 8 x 3 on every shape
    // (the emulator starts an OS thread per CUDA thread; CI runs this under ASan and TSan):
    // forward, backward(both) and fused(both) on every case; the update (independent of the
    // reduction) on the MEAN case of each shape; the single-gradient variants rotate.
    uint32_t seed = 1;
    const Entry rotating[] = {Entry::BackwardF, Entry::BackwardC, Entry::FusedF, Entry::FusedC};
    int turn = 0;
    for (size_t index = 0; index < cases.size(); ++index) {
        const Case& k = cases[index];
        if (index >= light) {
            run_case(t, k, Entry::FusedFC, seed++);
            run_case(t, k, Entry::Update, seed++);
            continue;
        }
        for (Entry e : {Entry::Forward, Entry::BackwardFC, Entry::FusedFC}) run_case(t, k, e, seed++);
        run_case(t, k, rotating[turn++ % 4], seed++);
        if (k.reduction == CULOSS_REDUCTION_MEAN) run_case(t, k, Entry::Update, seed++);
    }
}

void test_empty_batch(test::Context& t) {
    for (culossReduction_t r : test::kReductions) {
        size_t ws = 1;
        t.check_status(culossCenterLossWorkspaceSize(0, 3, 4, CULOSS_DATA_FLOAT32, r, &ws), "n=0 workspace");
        t.expect(ws == 0, "n=0 needs no workspace");
        test::DeviceBuffer<float> loss(std::vector<float>{-1.f}), gc(std::vector<float>(12, -1.f)),
            centers(std::vector<float>(12, 2.f));
        t.check_status(culossCenterLossForwardBackward(nullptr, nullptr, nullptr, 0, 3, 4, CULOSS_DATA_FLOAT32, 1.f,
                                                       r, nullptr,
                                                       r == CULOSS_REDUCTION_NONE ? nullptr : loss.get(), nullptr,
                                                       gc.get(), nullptr, 0, nullptr, test::stream()),
                       "n=0 fused");
        if (r != CULOSS_REDUCTION_NONE) t.expect(loss.read()[0] == 0.f, "n=0 loss is 0");
        t.expect(gc.read() == std::vector<float>(12, 0.f), "n=0 grad_centers is zero");
        t.check_status(culossCenterLossUpdateCenters(nullptr, nullptr, centers.get(), 0, 3, 4, CULOSS_DATA_FLOAT32,
                                                     0.5f, nullptr, 0,
                                                     nullptr, test::stream()),
                       "n=0 update");
        t.expect(centers.read() == std::vector<float>(12, 2.f), "n=0 update leaves the centers");
    }
}

// Labels outside [0, C): the error word is set, those rows count for nothing (not in the loss,
// zero gradient, no center moves for them), the mean still divides by n, and nothing is written
// outside any buffer (guards after each output; ASan watches the rest).
void test_bad_labels(test::Context& t) {
    const int64_t n = 9, d = 5, c = 4;
    Case k{n, d, c, 0, CULOSS_REDUCTION_MEAN, kRandom, false, 1.f, 0.5f};
    std::mt19937 rng(77);
    Inputs in = make_inputs(k, rng);
    in.y = {0, 4, 2, -1, 3, 1 << 30, 1, INT32_MIN, 2};
    const Reference ref = reference(k, in);  // skips the bad rows, divides by n
    size_t ws_bytes = 0;
    culossCenterLossWorkspaceSize(n, d, c, CULOSS_DATA_FLOAT32, k.reduction, &ws_bytes);
    for (Entry e : {Entry::Forward, Entry::BackwardFC, Entry::FusedFC, Entry::BackwardC, Entry::Update}) {
        const std::string what = std::string("bad labels ") + entry_name(e);
        Guarded x(in.x, 0), centers(in.centers, 0), loss(std::vector<float>{-7.f}, 0),
            gf(std::vector<float>(n * d, -7.f), 0), gc(std::vector<float>(c * d, -7.f), 0);
        test::DeviceBuffer<int32_t> y(in.y), err(std::vector<int32_t>{0});
        test::DeviceBuffer<char> ws(std::vector<char>(ws_bytes, 0));
        culossStatus_t st;
        if (e == Entry::Forward) {
            st = culossCenterLossForward(x.get(), y.get(), centers.get(), n, d, c, CULOSS_DATA_FLOAT32, 1.f,
                                         k.reduction, loss.get(),
                                         ws.get(), ws_bytes, err.get(), test::stream());
        } else if (e == Entry::BackwardFC) {
            st = culossCenterLossBackward(x.get(), y.get(), centers.get(), n, d, c, CULOSS_DATA_FLOAT32, 1.f,
                                          k.reduction, nullptr, gf.get(),
                                          gc.get(), ws.get(), ws_bytes, err.get(), test::stream());
        } else if (e == Entry::BackwardC) {
            st = culossCenterLossBackward(x.get(), y.get(), centers.get(), n, d, c, CULOSS_DATA_FLOAT32, 1.f,
                                          k.reduction, nullptr, nullptr,
                                          gc.get(), ws.get(), ws_bytes, err.get(), test::stream());
        } else if (e == Entry::FusedFC) {
            st = culossCenterLossForwardBackward(x.get(), y.get(), centers.get(), n, d, c, CULOSS_DATA_FLOAT32, 1.f,
                                                 k.reduction, nullptr,
                                                 loss.get(), gf.get(), gc.get(), ws.get(), ws_bytes, err.get(), test::stream());
        } else {
            st = culossCenterLossUpdateCenters(x.get(), y.get(), centers.get(), n, d, c, CULOSS_DATA_FLOAT32, k.alpha,
                                               ws.get(), ws_bytes,
                                               err.get(), test::stream());
        }
        t.check_status(st, what);
        t.expect(err.read()[0] == CULOSS_DEVICE_ERROR_BAD_TARGET, what + ": error word set");
        if (e == Entry::Forward || e == Entry::FusedFC) t.expect_close(loss.data(), ref.loss, 1e-5, what + " loss");
        if (e == Entry::BackwardFC || e == Entry::FusedFC) {
            const std::vector<float> g = gf.data();
            t.expect_close(g, ref.grad_features, 1e-5, what + " grad_features");
            bool zero = true;
            for (int64_t i : {1, 3, 5, 7})
                for (int64_t j = 0; j < d; ++j) zero &= g[i * d + j] == 0.f;
            t.expect(zero, what + ": bad rows have a zero gradient");
        }
        if (e == Entry::BackwardFC || e == Entry::FusedFC || e == Entry::BackwardC)
            t.expect_close(gc.data(), ref.grad_centers, 1e-5, what + " grad_centers");
        if (e == Entry::Update) t.expect_close(centers.data(), ref.centers_after, 1e-5, what + " centers");
        t.expect(x.guards_intact() && centers.guards_intact() && loss.guards_intact() && gf.guards_intact() &&
                     gc.guards_intact(),
                 what + ": wrote outside an output");
    }
}

// grad_features may alias features (the center gradient is summed before the row pass).
void test_in_place(test::Context& t) {
    const Fixture fixture({50, 6, 5, 0, CULOSS_REDUCTION_SUM, kRandom, false, 1.f, 0.5f}, 3);
    test::DeviceBuffer<float> loss(std::vector<float>{0.f}), gc(std::vector<float>(fixture.in.centers.size()));
    t.check_status(fixture.fused(loss.get(), fixture.x.get(), gc.get()), "in place");
    t.expect_close(loss.read(), fixture.ref.loss, 1e-5, "in place loss");
    t.expect_close(fixture.x.read(), fixture.ref.grad_features, 1e-5, "in place grad_features");
    t.expect_close(gc.read(), fixture.ref.grad_centers, 1e-5, "in place grad_centers");
}

void test_bad_arguments(test::Context& t) {
    std::vector<float> host(64, 0.f);
    test::DeviceBuffer<float> x(host), centers(host), loss(host), gf(host), gc(host);
    test::DeviceBuffer<int32_t> y(std::vector<int32_t>(8, 0));
    test::DeviceBuffer<char> ws(std::vector<char>(4096, 0));
    const auto NONE = CULOSS_REDUCTION_NONE, MEAN = CULOSS_REDUCTION_MEAN;
    const culossStatus_t INVALID = CULOSS_STATUS_INVALID_VALUE;
    float* X = x.get();
    int32_t* Y = y.get();
    float* C = centers.get();
    size_t bytes = 0;
    t.expect_refused(culossCenterLossWorkspaceSize(2, 4, 3, CULOSS_DATA_FLOAT32, NONE, nullptr), INVALID, "bytes");
    t.expect_refused(culossCenterLossWorkspaceSize(-1, 4, 3, CULOSS_DATA_FLOAT32, NONE, &bytes), INVALID, "n");
    t.expect_refused(culossCenterLossWorkspaceSize(2, 0, 3, CULOSS_DATA_FLOAT32, NONE, &bytes), INVALID, "d");
    t.expect_refused(culossCenterLossWorkspaceSize(2, 4, 0, CULOSS_DATA_FLOAT32, NONE, &bytes), INVALID, "num_classes");
    t.expect_refused(culossCenterLossWorkspaceSize(2, 4, 3, CULOSS_DATA_FLOAT32, culossReduction_t(3), &bytes), INVALID,
                     "reduction");
    t.expect_refused(culossCenterLossForward(X, Y, C, -1, 4, 3, CULOSS_DATA_FLOAT32, 1.f, NONE, loss.get(), nullptr, 0,
                                             nullptr, test::stream()),
                     INVALID, "n");
    t.expect_refused(culossCenterLossForward(X, Y, C, int64_t(1) << 31, 4, 3, CULOSS_DATA_FLOAT32, 1.f, NONE,
                                             loss.get(), nullptr, 0, nullptr,
                                             test::stream()),
                     INVALID, "n");
    t.expect_refused(culossCenterLossForward(X, Y, C, 2, 0, 3, CULOSS_DATA_FLOAT32, 1.f, NONE, loss.get(), nullptr, 0,
                                             nullptr, test::stream()),
                     INVALID, "d");
    t.expect_refused(culossCenterLossForward(X, Y, C, 2, 4, 0, CULOSS_DATA_FLOAT32, 1.f, NONE, loss.get(), nullptr, 0,
                                             nullptr, test::stream()),
                     INVALID, "num_classes");
    t.expect_refused(culossCenterLossForward(X, Y, C, 2, 4, int64_t(1) << 31, CULOSS_DATA_FLOAT32, 1.f, NONE,
                                             loss.get(), nullptr, 0, nullptr,
                                             test::stream()),
                     INVALID, "num_classes");
    t.expect_refused(culossCenterLossForward(X, Y, C, 2, int64_t(1) << 40, 3, CULOSS_DATA_FLOAT32, 1.f, NONE,
                                             loss.get(), nullptr, 0, nullptr,
                                             test::stream()),
                     INVALID, "d");
    t.expect_refused(culossCenterLossForward(X, Y, C, 2, 4, 3, CULOSS_DATA_FLOAT32, NAN, NONE, loss.get(), nullptr, 0,
                                             nullptr, test::stream()),
                     INVALID, "lambda");
    t.expect_refused(culossCenterLossForward(X, Y, C, 2, 4, 3, CULOSS_DATA_FLOAT32, INFINITY, NONE, loss.get(), nullptr,
                                             0, nullptr, test::stream()),
                     INVALID, "lambda");
    t.expect_refused(culossCenterLossForward(X, Y, C, 2, 4, 3, CULOSS_DATA_FLOAT32, 1.f, culossReduction_t(-1),
                                             loss.get(), nullptr, 0,
                                             nullptr, test::stream()),
                     INVALID, "reduction");
    t.expect_refused(culossCenterLossForward(nullptr, Y, C, 2, 4, 3, CULOSS_DATA_FLOAT32, 1.f, NONE, loss.get(),
                                             nullptr, 0, nullptr, test::stream()),
                     INVALID, "features");
    t.expect_refused(culossCenterLossForward(X, nullptr, C, 2, 4, 3, CULOSS_DATA_FLOAT32, 1.f, NONE, loss.get(),
                                             nullptr, 0, nullptr, test::stream()),
                     INVALID, "labels");
    t.expect_refused(culossCenterLossForward(X, Y, nullptr, 2, 4, 3, CULOSS_DATA_FLOAT32, 1.f, NONE, loss.get(),
                                             nullptr, 0, nullptr, test::stream()),
                     INVALID, "centers");
    t.expect_refused(culossCenterLossForward(X, Y, C, 2, 4, 3, CULOSS_DATA_FLOAT32, 1.f, NONE, nullptr, nullptr, 0,
                                             nullptr, test::stream()), INVALID,
                     "loss");
    t.expect_refused(culossCenterLossForward(X, Y, C, 2, 4, 3, CULOSS_DATA_FLOAT32, 1.f, MEAN, loss.get(), nullptr, 0,
                                             nullptr, test::stream()),
                     CULOSS_STATUS_WORKSPACE_TOO_SMALL, "workspace");
    t.expect_refused(culossCenterLossForward(X, Y, C, 2, 4, 3, CULOSS_DATA_FLOAT32, 1.f, MEAN, loss.get(), ws.get(), 4,
                                             nullptr, test::stream()),
                     CULOSS_STATUS_WORKSPACE_TOO_SMALL, "workspace");
    t.expect_refused(culossCenterLossForward(X, Y, C, 2, 4, 3, CULOSS_DATA_FLOAT32, 1.f, NONE, loss.get(), ws.get() + 8,
                                             1024, nullptr, test::stream()),
                     CULOSS_STATUS_MISALIGNED, "workspace");
    t.expect_refused(culossCenterLossForward(reinterpret_cast<const float*>(reinterpret_cast<const char*>(X) + 2), Y, C, 2,
                                             4, 3, CULOSS_DATA_FLOAT32, 1.f, NONE, loss.get(), nullptr, 0, nullptr,
                                                 test::stream()),
                     CULOSS_STATUS_MISALIGNED, "features");
    t.expect_refused(culossCenterLossForward(X, reinterpret_cast<const int32_t*>(reinterpret_cast<const char*>(Y) + 1), C,
                                             2, 4, 3, CULOSS_DATA_FLOAT32, 1.f, NONE, loss.get(), nullptr, 0, nullptr,
                                                 test::stream()),
                     CULOSS_STATUS_MISALIGNED, "labels");
    t.expect_refused(culossCenterLossForward(X, Y, reinterpret_cast<const float*>(reinterpret_cast<const char*>(C) + 2), 2,
                                             4, 3, CULOSS_DATA_FLOAT32, 1.f, NONE, loss.get(), nullptr, 0, nullptr,
                                                 test::stream()),
                     CULOSS_STATUS_MISALIGNED, "centers");
    t.expect_refused(culossCenterLossForward(X, Y, C, 2, 4, 3, CULOSS_DATA_FLOAT32, 1.f, NONE, loss.get(), nullptr, 0,
                                             reinterpret_cast<int32_t*>(reinterpret_cast<char*>(y.get()) + 2), test::stream()),
                     CULOSS_STATUS_MISALIGNED, "error_word");
    t.expect_refused(culossCenterLossBackward(X, Y, C, 2, 4, 3, CULOSS_DATA_FLOAT32, 1.f, NONE, nullptr, nullptr,
                                              nullptr, nullptr, 0, nullptr,
                                              test::stream()),
                     INVALID, "grad_features and grad_centers");
    t.expect_refused(culossCenterLossBackward(X, Y, C, 2, 4, 3, CULOSS_DATA_FLOAT32, 1.f, NONE, nullptr, gf.get(),
                                              gc.get(), nullptr, 0,
                                              nullptr, test::stream()),
                     CULOSS_STATUS_WORKSPACE_TOO_SMALL, "workspace");
    t.expect_refused(culossCenterLossBackward(X, Y, C, 2, 4, 3, CULOSS_DATA_FLOAT32, 1.f, NONE, nullptr, C, nullptr,
                                              nullptr, 0, nullptr,
                                              test::stream()),
                     INVALID, "grad_features overlaps centers");
    t.expect_refused(culossCenterLossBackward(X, Y, C, 2, 4, 3, CULOSS_DATA_FLOAT32, 1.f, NONE, nullptr, nullptr, C,
                                              ws.get(), 4096, nullptr,
                                              test::stream()),
                     INVALID, "grad_centers overlaps centers");
    t.expect_refused(culossCenterLossBackward(X, Y, C, 2, 4, 3, CULOSS_DATA_FLOAT32, 1.f, NONE, nullptr, nullptr, X,
                                              ws.get(), 4096, nullptr,
                                              test::stream()),
                     INVALID, "grad_centers overlaps features");
    t.expect_refused(culossCenterLossBackward(X, Y, C, 2, 4, 3, CULOSS_DATA_FLOAT32, 1.f, NONE, nullptr, gf.get(),
                                              gf.get(), ws.get(), 4096,
                                              nullptr, test::stream()),
                     INVALID, "grad_features overlaps grad_centers");
    t.expect_refused(culossCenterLossBackward(X, Y, C, 2, 4, 3, CULOSS_DATA_FLOAT32, 1.f, NONE,
                                              reinterpret_cast<const float*>(reinterpret_cast<const char*>(X) + 1),
                                              gf.get(), nullptr, nullptr, 0, nullptr, test::stream()),
                     CULOSS_STATUS_MISALIGNED, "grad_output");
    t.expect_refused(culossCenterLossBackward(X, Y, C, 2, 4, 3, CULOSS_DATA_FLOAT32, 1.f, NONE, nullptr,
                                              reinterpret_cast<float*>(reinterpret_cast<char*>(gf.get()) + 1), nullptr,
                                              nullptr, 0, nullptr, test::stream()),
                     CULOSS_STATUS_MISALIGNED, "grad_features");
    t.expect_refused(culossCenterLossForwardBackward(X, Y, C, 2, 4, 3, CULOSS_DATA_FLOAT32, 1.f, CULOSS_REDUCTION_SUM,
                                                     nullptr, nullptr, gf.get(),
                                                     nullptr, ws.get(), 4096, nullptr, test::stream()),
                     INVALID, "loss");
    t.expect_refused(culossCenterLossForwardBackward(X, Y, C, 2, 4, 3, CULOSS_DATA_FLOAT32, 1.f, MEAN, nullptr,
                                                     loss.get(), nullptr, nullptr,
                                                     ws.get(), 4096, nullptr, test::stream()),
                     INVALID, "grad_features and grad_centers");
    t.expect_refused(culossCenterLossUpdateCenters(X, Y, C, 2, 4, 3, CULOSS_DATA_FLOAT32, NAN, ws.get(), 4096, nullptr,
                                                   test::stream()), INVALID,
                     "alpha");
    t.expect_refused(culossCenterLossUpdateCenters(X, Y, nullptr, 2, 4, 3, CULOSS_DATA_FLOAT32, 0.5f, ws.get(), 4096,
                                                   nullptr, test::stream()),
                     INVALID, "centers");
    t.expect_refused(culossCenterLossUpdateCenters(nullptr, Y, C, 2, 4, 3, CULOSS_DATA_FLOAT32, 0.5f, ws.get(), 4096,
                                                   nullptr, test::stream()),
                     INVALID, "features");
    t.expect_refused(culossCenterLossUpdateCenters(X, nullptr, C, 2, 4, 3, CULOSS_DATA_FLOAT32, 0.5f, ws.get(), 4096,
                                                   nullptr, test::stream()),
                     INVALID, "labels");
    t.expect_refused(culossCenterLossUpdateCenters(X, Y, C, -2, 4, 3, CULOSS_DATA_FLOAT32, 0.5f, ws.get(), 4096,
                                                   nullptr, test::stream()), INVALID,
                     "n");
    t.expect_refused(culossCenterLossUpdateCenters(X, Y, C, 2, 4, 0, CULOSS_DATA_FLOAT32, 0.5f, ws.get(), 4096, nullptr,
                                                   test::stream()), INVALID,
                     "num_classes");
    t.expect_refused(culossCenterLossUpdateCenters(X, Y, X, 2, 4, 3, CULOSS_DATA_FLOAT32, 0.5f, ws.get(), 4096, nullptr,
                                                   test::stream()), INVALID,
                     "centers overlaps features");
    t.expect_refused(culossCenterLossUpdateCenters(X, Y, C, 2, 4, 3, CULOSS_DATA_FLOAT32, 0.5f, ws.get(), 8, nullptr,
                                                   test::stream()),
                     CULOSS_STATUS_WORKSPACE_TOO_SMALL, "workspace");
    t.expect_refused(culossCenterLossUpdateCenters(X, Y, C, 2, 4, 3, CULOSS_DATA_FLOAT32, 0.5f, nullptr, 4096, nullptr,
                                                   test::stream()),
                     CULOSS_STATUS_WORKSPACE_TOO_SMALL, "workspace");
}

// The update and the center gradient are bit-identical on every run (20 updates of the same
// centers, and reruns of the fused call), on a shape with many tiles and crossing classes.
void test_deterministic(test::Context& t) {
    const Fixture fixture({1500, 20, 37, 0, CULOSS_REDUCTION_MEAN, kFewClasses, false, 1.f, 0.5f}, 11);
    test::Reruns updates(t), fused(t);
    // Under ThreadSanitizer, which reports a race itself rather than by its effect on the bits, 4
    // updates and 2 fused runs.
    const int update_runs = int(20 / test::tsan_stride(5)), fused_runs = test::tsan_stride(5) > 1 ? 2 : 5;
    for (int run = 0; run < update_runs; ++run) {
        fixture.centers.write(fixture.in.centers);
        t.check_status(fixture.update(), "determinism update");
        updates.check("the center update", fixture.centers.read());
    }
    fixture.centers.write(fixture.in.centers);
    for (int run = 0; run < fused_runs; ++run) {
        test::DeviceBuffer<float> loss(std::vector<float>{0.f}), gf(std::vector<float>(fixture.in.x.size())),
            gc(std::vector<float>(fixture.in.centers.size()));
        t.check_status(fixture.fused(loss.get(), gf.get(), gc.get()), "determinism fused");
        fused.check("loss", loss.read());
        fused.check("grad_features", gf.read());
        fused.check("grad_centers", gc.read());
    }
}

// Loss, then update on the same stream: the loss sees the old centers (stream order).
void test_loss_then_update(test::Context& t) {
    const Fixture fixture({40, 4, 3, 0, CULOSS_REDUCTION_SUM, kRandom, false, 1.f, 0.5f}, 21);
    test::DeviceBuffer<float> loss(std::vector<float>{0.f}), gf(std::vector<float>(fixture.in.x.size()));
    t.check_status(fixture.fused(loss.get(), gf.get(), nullptr), "loss then update: loss");
    t.check_status(fixture.update(), "loss then update: update");
    t.expect_close(loss.read(), fixture.ref.loss, 1e-5, "loss then update: loss of the old centers");
    t.expect_close(gf.read(), fixture.ref.grad_features, 1e-5, "loss then update: gradient of the old centers");
    t.expect_close(fixture.centers.read(), fixture.ref.centers_after, 1e-5, "loss then update: new centers");
}

}  // namespace

// The update with alpha = 1 and the centers far from the batch: c - alpha sum (c - x_i) / (1 + n)
// cancels about n-fold there. Every path (lanes with and without 16-byte loads, a warp), one
// sample and many per class.
void test_far_centers(test::Context& t) {
    uint32_t seed = 900;
    for (float alpha : {1.f, 0.5f})
        for (float far : {1000.f, -3000.f})
            for (int64_t offset : {0, 1}) {
                run_case(t, {1, 12, 3, offset, CULOSS_REDUCTION_SUM, kRandom, false, 0.5f, alpha, far}, Entry::Update, seed++);
                run_case(t, {300, 12, 5, offset, CULOSS_REDUCTION_SUM, kRandom, false, 0.5f, alpha, far}, Entry::Update, seed++);
                run_case(t, {20000, 12, 3, offset, CULOSS_REDUCTION_SUM, kRandom, false, 0.5f, alpha, far}, Entry::Update, seed++);
                run_case(t, {64, 3, 2, offset, CULOSS_REDUCTION_MEAN, kOneClass, true, 0.5f, alpha, far}, Entry::FusedFC, seed++);
            }
}

int main() {
    return test::run_suite("center", {test_bad_arguments, test_empty_batch, test_bad_labels, test_in_place,
                                      test_loss_then_update, test_deterministic, test_reference_cases,
                                      test_far_centers});
}
