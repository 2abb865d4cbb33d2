// The test plan the two losses over softmax rows (test_softmax_cross_entropy, test_softmax_focal)
// share: strided rows of logits with poison in the padding, one entry point on device copies of
// them with the gradient's padding watched, the comparison with a float64 reference, and
// bit-identical reruns. What differs between the losses, each test file defines for its own Case
// (derived from rows::CaseBase), found by argument-dependent lookup:
//   rows::Inputs make_inputs(const Case&, std::mt19937&);
//   rows::Reference reference(const Case&, const rows::Inputs&);
//   std::string describe(const Case&);
//   culossStatus_t workspace_size(const Case&, size_t* bytes);
//   culossStatus_t entry_point(const Case&, test::Entry, const rows::Args&);  // with the case's options
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "culoss/culoss.h"
#include "test_support.h"

namespace rows {

using test::Entry;

// The ignore_index of a case without one, short for the case tables.
inline constexpr int64_t NO = CULOSS_NO_IGNORE_INDEX;

// What a case of either loss has: n rows of c logits at row stride c + pad, `offset` floats into
// their buffer (offset 1 makes every row unaligned), the ignore_index, the reduction, and whether
// the call passes the per-class table (cross-entropy's class weights, focal's class alpha).
// The reduction of a case, held as an int: a refusal test passes the C API a value outside the
// enum (7), which stored in a culossReduction_t would be undefined behaviour (UBSan reports the
// load). It converts to culossReduction_t where the calls take one.
struct Reduction {
    int value;
    Reduction(culossReduction_t r) : value(r) {}
    static Reduction out_of_range(int v) {
        Reduction r(CULOSS_REDUCTION_NONE);
        r.value = v;
        return r;
    }
    operator culossReduction_t() const { return culossReduction_t(value); }
};

struct CaseBase {
    int64_t n, c;
    int64_t pad;
    int64_t offset;
    int64_t ignore;  // CULOSS_NO_IGNORE_INDEX or a value
    Reduction reduction;
    bool per_class;
};

struct Inputs {
    std::vector<float> x;  // offset + n * stride floats, NaN in the padding
    std::vector<float> per_class;  // c values: the class weights (cross-entropy) or alpha (focal)
    std::vector<float> gout;       // n values
    std::vector<int32_t> y;
    int64_t stride;
};

struct Reference {
    std::vector<double> loss;  // n values (NONE) or 1
    std::vector<double> grad;  // n * c
};

// Logits from N(0, 2) (with +-1e4 added when `big`), then targets: uniform classes (class 0 for
// every row when `class0`), a quarter of them ignore_index when there is one. Drawn first, in
// this order, so that a case's seed gives the same rows whatever the loss draws next.
inline Inputs random_rows(const CaseBase& s, bool big, bool class0, std::mt19937& rng) {
    Inputs in;
    in.stride = s.c + s.pad;
    in.x.assign(s.offset + s.n * in.stride, std::numeric_limits<float>::quiet_NaN());  // padding is poison
    std::normal_distribution<float> normal(0.f, 2.f);
    std::uniform_int_distribution<int32_t> cls(0, int32_t(s.c - 1));
    for (int64_t i = 0; i < s.n; ++i)
        for (int64_t j = 0; j < s.c; ++j) {
            float v = normal(rng);
            if (big) v = (rng() % 2 ? 1e4f : -1e4f) + normal(rng);
            in.x[s.offset + i * in.stride + j] = v;
        }
    in.y.resize(s.n);
    for (int64_t i = 0; i < s.n; ++i) {
        in.y[i] = class0 ? 0 : cls(rng);
        if (s.ignore != CULOSS_NO_IGNORE_INDEX && rng() % 4 == 0) in.y[i] = int32_t(s.ignore);
    }
    return in;
}

// -inf on about a third of the non-target logits (never a whole row); `applied` false draws the
// same numbers and changes nothing.
inline void minus_inf_logits(const CaseBase& s, Inputs& in, bool applied, std::mt19937& rng) {
    for (int64_t i = 0; i < s.n; ++i)
        for (int64_t j = 0; j < s.c; ++j)
            if (j != in.y[i] && rng() % 3 == 0 && applied) in.x[s.offset + i * in.stride + j] = -INFINITY;
}

// The per-class table from U(0.1, 2) and grad_output from U(-0.9, 1), drawn last.
inline void random_per_class_and_gout(const CaseBase& s, Inputs& in, std::mt19937& rng) {
    std::uniform_real_distribution<float> uni(0.1f, 2.f);
    in.per_class.resize(s.c);
    for (float& v : in.per_class) v = uni(rng);
    in.gout.resize(s.n);
    for (float& v : in.gout) v = uni(rng) - 1.f;
}

// The largest of a row's other logits than `target` (-inf when there is none).
inline float top_other(const float* row, int64_t c, int64_t target) {
    float top = -INFINITY;
    for (int64_t j = 0; j < c; ++j)
        if (j != target) top = std::max(top, row[j]);
    return top;
}

// log sum_j exp(row[j]) in float64, the softmax's normalizer.
inline double log_sum_exp(const float* row, int64_t c) {
    double m = -INFINITY;
    for (int64_t j = 0; j < c; ++j) m = std::max(m, double(row[j]));
    double s = 0;
    for (int64_t j = 0; j < c; ++j) s += std::exp(double(row[j]) - m);
    return m + std::log(s);
}

// The device pointers of one call, for the loss's entry point.
struct Args {
    const float* logits;
    int64_t stride;  // of the logits
    const int32_t* targets;
    const float* per_class;    // null unless the case passes the table
    const float* grad_output;  // null unless NONE
    float* loss;
    float* grad;
    int64_t grad_stride;
    void* ws;
    size_t ws_bytes;
    int32_t* error_word;
    culossDataType_t dtype = CULOSS_DATA_FLOAT32;
};

struct Outputs {
    std::vector<float> loss, grad;  // grad: n * c, padding stripped
    int32_t error_word;
};

// Runs one entry point of case `s` on device copies of `in`; checks the status, that the
// gradient's padding between rows is untouched, and that a forward writes no gradient at all.
template <class Case>
Outputs call(test::Context& t, const Case& s, const Inputs& in, Entry entry, const std::string& what) {
    const culossReduction_t r = s.reduction;
    size_t ws_bytes = 0;
    t.check_status(workspace_size(s, &ws_bytes), what + " workspace");
    constexpr float kPoison = 12345.f;
    test::DeviceBuffer<float> x(in.x), table(in.per_class), gout(in.gout),
        loss(std::vector<float>(test::loss_length(r, s.n), -7.f)),
        grad(std::vector<float>(s.offset + s.n * in.stride, kPoison));
    test::DeviceBuffer<int32_t> y(in.y), err(std::vector<int32_t>{0});
    test::DeviceBuffer<char> ws(std::vector<char>(ws_bytes + 16, 0));
    const Args args{x.get() + s.offset, in.stride, y.get(), s.per_class ? table.get() : nullptr,
                    r == CULOSS_REDUCTION_NONE ? gout.get() : nullptr, loss.get(), grad.get() + s.offset, in.stride,
                    ws.get(), ws_bytes, err.get()};
    t.check_status(entry_point(s, entry, args), what);
    t.check_status(culossStreamSynchronize(test::stream()), what + " sync");
    Outputs out;
    out.error_word = err.read()[0];
    out.loss = loss.read();
    const std::vector<float> all = grad.read();
    out.grad.resize(s.n * s.c);
    bool padding_intact = true;
    for (int64_t i = 0; i < s.n; ++i) {
        for (int64_t j = 0; j < s.c; ++j) out.grad[i * s.c + j] = all[s.offset + i * in.stride + j];
        for (int64_t j = s.c; j < in.stride; ++j) padding_intact &= all[s.offset + i * in.stride + j] == kPoison;
    }
    for (int64_t i = 0; i < s.offset; ++i) padding_intact &= all[i] == kPoison;
    if (entry == Entry::Forward) {
        bool untouched = true;
        for (float v : all) untouched &= v == kPoison;
        t.expect(untouched, what + ": the forward wrote a gradient");
    } else {
        t.expect(padding_intact, what + ": wrote into the row padding");
    }
    return out;
}

// FORMAT.md's tolerance: 1e-5, 2e-5 past 10^5 terms.
inline double tolerance(const CaseBase& s) { return s.n * s.c > 100000 ? 2e-5 : 1e-5; }

// One random case (inputs drawn from `seed`) through one entry point, against the reference.
template <class Case>
void run_case(test::Context& t, const Case& k, Entry entry, uint32_t seed) {
    std::mt19937 rng(seed);
    const Inputs in = make_inputs(k, rng);
    const Reference ref = reference(k, in);
    const std::string what = describe(k) + " " + test::entry_name(entry);
    const Outputs out = call(t, k, in, entry, what);
    t.expect(out.error_word == 0, what + ": error word set for valid targets");
    if (entry != Entry::Backward) t.expect_close(out.loss, ref.loss, tolerance(k), what + " loss");
    if (entry != Entry::Forward) t.expect_close(out.grad, ref.grad, tolerance(k), what + " grad");
}

// Every `stride`-th case through every entry point, with seeds counting up from `seed`.
template <class Case>
void run_cases(test::Context& t, const std::vector<Case>& cases, uint32_t seed, size_t stride = 1) {
    for (size_t i = 0; i < cases.size(); i += stride)
        for (Entry e : {Entry::Forward, Entry::Backward, Entry::Fused}) run_case(t, cases[i], e, seed++);
}

// The sum/mean reductions add in a fixed order: three fused runs of `k` give the same bits.
template <class Case>
void expect_deterministic(test::Context& t, const Case& k) {
    std::mt19937 rng(5);
    const Inputs in = make_inputs(k, rng);
    test::Reruns reruns(t);
    for (int run = 0; run < 3; ++run) {
        const Outputs out = call(t, k, in, Entry::Fused, "determinism");
        reruns.check("loss", out.loss);
        reruns.check("gradient", out.grad);
    }
}

// N = 0 with SUM and MEAN: no workspace, and the fused call, every pointer null but the loss's,
// writes a loss of 0. workspace_size(r, &bytes) and fused(r, loss) call the loss with N = 0.
template <class WorkspaceSize, class Fused>
void expect_empty_batch(test::Context& t, WorkspaceSize workspace_size, Fused fused) {
    for (culossReduction_t r : {CULOSS_REDUCTION_SUM, CULOSS_REDUCTION_MEAN}) {
        test::DeviceBuffer<float> loss(std::vector<float>{-1.f});
        size_t ws = 1;
        t.check_status(workspace_size(r, &ws), "n=0 workspace");
        t.expect(ws == 0, "n=0 needs no workspace");
        t.check_status(fused(r, loss.get()), "n=0 fused");
        t.expect(loss.read()[0] == 0.f, "n=0 loss is 0");
    }
}

// Targets outside [0, C) that are not ignore_index, in a case of 6 rows and 5 classes whose
// ignore_index is -100: the error word is set, those rows count for nothing (the loss and
// gradient are those of the valid rows alone, as if the bad ones were ignored), and nothing is
// written out of bounds (ASan watches).
template <class Case>
void expect_invalid_targets_ignored(test::Context& t, const Case& k, const std::vector<float>& per_class,
                                    Entry entry) {
    Inputs in{std::vector<float>(k.n * k.c), per_class, {}, {0, 5, 2, -1, 4, 1 << 30}, k.c};
    for (size_t i = 0; i < in.x.size(); ++i) in.x[i] = float(i % 7) * 0.3f;
    const std::string what = std::string("invalid targets (") + test::entry_name(entry) + ")";
    const Outputs out = call(t, k, in, entry, what);
    t.expect(out.error_word == CULOSS_DEVICE_ERROR_BAD_TARGET, what + ": the error word is set");
    for (int32_t& v : in.y)
        if (v < 0 || v >= k.c) v = -100;
    const Reference ref = reference(k, in);
    t.expect_close(out.loss, ref.loss, 1e-5, what + ": loss of the valid rows");
    if (entry != Entry::Forward) t.expect_close(out.grad, ref.grad, 1e-5, what + ": gradient (zero on the bad rows)");
}

// A valid call of 2 rows of 4 classes on small zeroed buffers (no table, no grad_output, no
// workspace, no error word), for the bad-argument tests: each changes one thing and expects it
// refused.
struct SmallCall {
    const std::vector<float> zeros = std::vector<float>(64, 0.f);
    test::DeviceBuffer<float> x{zeros}, loss{zeros}, grad{zeros};
    test::DeviceBuffer<int32_t> y{std::vector<int32_t>(8, 0)};
    Args args() const { return {x.get(), 4, y.get(), nullptr, nullptr, loss.get(), grad.get(), 4, nullptr, 0, nullptr}; }
};

// A float pointer `bytes` past `p`: misaligned for any float access.
inline const float* misaligned(const float* p, int bytes) {
    return reinterpret_cast<const float*>(reinterpret_cast<const char*>(p) + bytes);
}

// `entry` of the valid case `k` (2 rows, 4 classes, NONE) on a SmallCall, after `change(case, args)`
// made one argument bad: refused with `want` and a detail naming `argument`.
template <class Case, class Change>
void expect_refused(test::Context& t, const Case& k, Entry entry, culossStatus_t want, const char* argument,
                    Change change) {
    const SmallCall call;
    Case bad = k;
    Args args = call.args();
    change(bad, args);
    t.expect_refused(entry_point(bad, entry, args), want, argument);
}

// The argument rules every loss over softmax rows keeps, each bad argument alone in a valid call
// of `k`; `targets` is the name of Args::targets in the messages.
template <class Case>
void expect_common_refusals(test::Context& t, const Case& k, const char* targets = "targets") {
    const culossStatus_t invalid = CULOSS_STATUS_INVALID_VALUE;
    const Entry forward = Entry::Forward;
    expect_refused(t, k, forward, invalid, "n", [](Case& c, Args&) { c.n = -1; });
    expect_refused(t, k, forward, invalid, "c", [](Case& c, Args&) { c.c = 0; });
    expect_refused(t, k, forward, invalid, "logits_stride", [](Case&, Args& a) { a.stride = 3; });
    expect_refused(t, k, forward, invalid, "logits", [](Case&, Args& a) { a.logits = nullptr; });
    expect_refused(t, k, forward, invalid, targets, [](Case&, Args& a) { a.targets = nullptr; });
    expect_refused(t, k, forward, invalid, "reduction", [](Case& c, Args&) { c.reduction = Reduction::out_of_range(7); });
    expect_refused(t, k, forward, invalid, "loss", [](Case&, Args& a) { a.loss = nullptr; });
    expect_refused(t, k, forward, CULOSS_STATUS_WORKSPACE_TOO_SMALL, "workspace",
                   [](Case& c, Args&) { c.reduction = CULOSS_REDUCTION_MEAN; });
    expect_refused(t, k, forward, CULOSS_STATUS_MISALIGNED, "logits",
                   [](Case&, Args& a) { a.logits = misaligned(a.logits, 2); });
    expect_refused(t, k, Entry::Backward, invalid, "grad_logits", [](Case&, Args& a) { a.grad = nullptr; });
    expect_refused(t, k, Entry::Backward, invalid, "grad_stride", [](Case&, Args& a) { a.grad_stride = 3; });
}

}  // namespace rows
