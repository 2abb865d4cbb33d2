// The C API against bad sizes and aliasing, through every loss entry point: each probe must be a
// status naming the argument (CULOSS_STATUS_INVALID_VALUE, before anything is launched), never a
// wrapped size, a write out of bounds or a wrong result.
//  - sizes whose bytes do not fit a size_t (a huge n or count, a huge row stride), and a tensor
//    that runs past the end of the address space, for the forward, backward, fused and update
//    calls; the workspace queries refuse sizes whose workspace or tensors do not fit;
//  - overlapping byte ranges: an output one float off an input, an output over another output,
//    over the error word or over the workspace; the in-place calls the header allows still run
//    and give the bits of the same call without the alias;
//  - the memory helpers: culossMalloc(SIZE_MAX - 100) fails with a null pointer; culossMemcpyAsync
//    and culossMemsetAsync refuse a null pointer with bytes > 0 and accept one with 0 bytes.
// The refused calls get small valid buffers (an arena of zeros: labels 0, floats 0) but for the
// one argument each probe breaks.
#include <cstdint>
#include <string>
#include <vector>

#include "calls.h"
#include "culoss/culoss.h"
#include "elementwise_losses.h"
#include "test_support.h"

namespace {

using test::Entry;

constexpr culossReduction_t NONE = CULOSS_REDUCTION_NONE;
constexpr culossReduction_t SUM = CULOSS_REDUCTION_SUM;
constexpr culossReduction_t MEAN = CULOSS_REDUCTION_MEAN;
constexpr culossDataType_t F32 = CULOSS_DATA_FLOAT32;
constexpr culossStatus_t INVALID = CULOSS_STATUS_INVALID_VALUE;

constexpr int64_t kHugeRows = (int64_t(1) << 61) + 4;   // 4 floats a row: 2^65 + 64 bytes
constexpr int64_t kHugeCount = (int64_t(1) << 62) + 64;  // floats: 2^64 + 256 bytes
constexpr int64_t kHugeStride = int64_t(1) << 62;        // two rows: past 2^64 bytes
constexpr int64_t kHugeQuery = (int64_t(1) << 62) + 1;   // n floats of workspace: past 2^64 bytes

// 256 bytes below the end of the address space: a tensor of 256 bytes or more there wraps.
template <class T>
T* at_the_top() {
    return reinterpret_cast<T*>(~uintptr_t(0) - 255);
}

// One device buffer cut into slots, each big enough for any tensor (and workspace) of the small
// shapes below; every slot starts 16-byte aligned.
class Arena {
public:
    static constexpr int kSlots = 12;
    static constexpr int64_t kSlotFloats = 4096;
    static constexpr size_t kSlotBytes = kSlotFloats * sizeof(float);

    Arena() : buf_(std::vector<float>(kSlots * kSlotFloats, 0.f)) {}
    float* f(int slot) const { return buf_.get() + slot * kSlotFloats; }
    int32_t* i(int slot) const { return reinterpret_cast<int32_t*>(f(slot)); }

private:
    test::DeviceBuffer<float> buf_;
};

// The detail names the overlap, the two tensors in either order.
void expect_overlap(test::Context& t, culossStatus_t st, const std::string& a, const std::string& b,
                    const std::string& what) {
    const std::string detail = culossGetLastErrorDetail();
    const bool named = detail == a + " overlaps " + b || detail == b + " overlaps " + a;
    t.expect(st == INVALID, what + ": status " + culossGetErrorString(st));
    t.expect(named, what + ": detail names " + a + " and " + b + ": '" + detail + "'");
}

// A refused call must leave the stream with nothing to do that fails.
void expect_stream_clean(test::Context& t, const std::string& what) {
    t.check_status(culossStreamSynchronize(test::stream()), what + " sync");
}

// ------------------------------------------------------------------------------------------
// The row losses (softmax cross-entropy, softmax focal, multi-class hinge): 4 rows of 16 classes.

struct Rows {
    calls::RowLoss kind;
    culossReduction_t r;
    const float* x;
    int64_t x_stride;
    const int32_t* y;
    int64_t n, c;
    const float* table;
    const float* gout;
    float* loss;
    float* grad;
    int64_t grad_stride;
    void* ws;
    size_t ws_bytes;
    int32_t* err;

    Rows(const Arena& m, calls::RowLoss kind_, culossReduction_t r_)
        : kind(kind_), r(r_), x(m.f(0)), x_stride(16), y(m.i(1)), n(4), c(16), table(m.f(2)), gout(m.f(3)),
          loss(m.f(4)), grad(m.f(5)), grad_stride(16), ws(m.f(8)), ws_bytes(Arena::kSlotBytes), err(m.i(9)) {}

    std::string name(Entry e) const {
        return std::string(calls::row_loss_name(kind)) + " " + test::entry_name(e) + " " +
               calls::reduction_name(r);
    }

    // The names the messages give the scores, their gradient and the per-class table.
    bool hinge() const { return kind == calls::RowLoss::MulticlassHinge; }
    const char* input() const { return hinge() ? "scores" : "logits"; }
    const char* grad_name() const { return hinge() ? "grad_scores" : "grad_logits"; }
    const char* table_name() const { return kind == calls::RowLoss::Focal ? "class_alpha" : "class_weights"; }
    bool has_table() const { return kind != calls::RowLoss::InterclassDistance; }

    culossStatus_t call(Entry e) const {
        const culossStream_t s = test::stream();
        const float* go = gout;  // n values for NONE, else 1
        if (hinge()) {
            if (e == Entry::Forward)
                return culossMulticlassHingeForward(x, x_stride, y, n, c, F32, table, 1.f, 2, r, loss, ws, ws_bytes,
                                                    err, s);
            if (e == Entry::Backward)
                return culossMulticlassHingeBackward(x, x_stride, y, n, c, F32, table, 1.f, 2, r, go, grad, grad_stride,
                                                     ws, ws_bytes, err, s);
            return culossMulticlassHingeForwardBackward(x, x_stride, y, n, c, F32, table, 1.f, 2, r, go, loss, grad,
                                                        grad_stride, ws, ws_bytes, err, s);
        }
        if (kind == calls::RowLoss::InterclassDistance) {
            if (e == Entry::Forward)
                return culossInterclassDistanceForward(x, x_stride, y, n, c, F32, r, loss, ws, ws_bytes, err, s);
            if (e == Entry::Backward)
                return culossInterclassDistanceBackward(x, x_stride, y, n, c, F32, r, go, grad, grad_stride, ws,
                                                        ws_bytes, err, s);
            return culossInterclassDistanceForwardBackward(x, x_stride, y, n, c, F32, r, go, loss, grad, grad_stride,
                                                           ws, ws_bytes, err, s);
        }
        if (kind == calls::RowLoss::CrossEntropy) {
            if (e == Entry::Forward)
                return culossSoftmaxCrossEntropyForward(x, x_stride, y, n, c, F32, table, -100, 0.1f, r, loss, ws,
                                                        ws_bytes, err, s);
            if (e == Entry::Backward)
                return culossSoftmaxCrossEntropyBackward(x, x_stride, y, n, c, F32, table, -100, 0.1f, r, go, grad,
                                                         grad_stride, ws, ws_bytes, err, s);
            return culossSoftmaxCrossEntropyForwardBackward(x, x_stride, y, n, c, F32, table, -100, 0.1f, r, go, loss,
                                                            grad, grad_stride, ws, ws_bytes, err, s);
        }
        if (e == Entry::Forward)
            return culossSoftmaxFocalForward(x, x_stride, y, n, c, F32, table, 0.f, 2.f, -100, r, loss, ws, ws_bytes,
                                             err, s);
        if (e == Entry::Backward)
            return culossSoftmaxFocalBackward(x, x_stride, y, n, c, F32, table, 0.f, 2.f, -100, r, go, grad,
                                              grad_stride, ws, ws_bytes, err, s);
        return culossSoftmaxFocalForwardBackward(x, x_stride, y, n, c, F32, table, 0.f, 2.f, -100, r, go, loss, grad,
                                                 grad_stride, ws, ws_bytes, err, s);
    }

    culossStatus_t query(int64_t qn, int64_t qc, size_t* bytes) const {
        if (hinge()) return culossMulticlassHingeWorkspaceSize(qn, qc, F32, r, bytes);
        if (kind == calls::RowLoss::InterclassDistance) return culossInterclassDistanceWorkspaceSize(qn, qc, F32, r, bytes);
        return kind == calls::RowLoss::Focal ? culossSoftmaxFocalWorkspaceSize(qn, qc, F32, r, bytes)
                                             : culossSoftmaxCrossEntropyWorkspaceSize(qn, qc, F32, r, bytes);
    }
};

void test_rows(test::Context& t) {
    const Arena m;
    for (calls::RowLoss kind : {calls::RowLoss::CrossEntropy, calls::RowLoss::Focal, calls::RowLoss::MulticlassHinge,
                                calls::RowLoss::InterclassDistance}) {
        const Rows names(m, kind, NONE);
        const std::string table = names.table_name(), input = names.input(), grad_name = names.grad_name();
        for (Entry e : {Entry::Forward, Entry::Backward, Entry::Fused}) {
            const bool grad = e != Entry::Forward, loss = e != Entry::Backward;
            for (culossReduction_t r : {NONE, SUM, MEAN}) {
                const Rows ok(m, kind, r);
                const std::string what = ok.name(e);
                t.check_status(ok.call(e), what + ": the valid call");
                expect_stream_clean(t, what);

                Rows a = ok;
                a.n = kHugeRows, a.c = 4, a.x_stride = 4, a.grad_stride = 4;
                t.expect_refused(a.call(e), INVALID, input, what + ": n = 2^61 + 4, c = 4");
                a = ok;
                a.n = 2, a.x_stride = kHugeStride;
                t.expect_refused(a.call(e), INVALID, input, what + ": logits_stride = 2^62");
                a = ok;
                a.x = at_the_top<float>();
                t.expect_refused(a.call(e), INVALID, input, what + ": logits at the end of the address space");
                if (grad) {
                    a = ok;
                    a.n = 2, a.grad_stride = kHugeStride;
                    t.expect_refused(a.call(e), INVALID, grad_name, what + ": grad_stride = 2^62");
                    a = ok;
                    a.grad = at_the_top<float>();
                    t.expect_refused(a.call(e), INVALID, grad_name,
                                     what + ": grad_logits at the end of the address space");
                    a = ok;
                    a.grad = const_cast<float*>(ok.x) + 1;
                    expect_overlap(t, a.call(e), grad_name, input, what + ": grad_logits = logits + 1");
                    a = ok;
                    a.grad = const_cast<float*>(ok.x), a.grad_stride = 17;
                    expect_overlap(t, a.call(e), grad_name, input, what + ": grad_logits = logits, stride 17");
                    if (ok.has_table()) {
                        a = ok;
                        a.grad = const_cast<float*>(ok.table);
                        expect_overlap(t, a.call(e), grad_name, table, what + ": grad_logits over " + table);
                    }
                    a = ok;
                    a.err = reinterpret_cast<int32_t*>(ok.grad + 5);
                    expect_overlap(t, a.call(e), grad_name, "error_word", what + ": error_word in grad_logits");
                    if (r == NONE) {
                        a = ok;
                        a.grad = const_cast<float*>(ok.gout) + 1;
                        expect_overlap(t, a.call(e), grad_name, "grad_output", what + ": grad_logits = grad_output + 1");
                    } else {
                        a = ok;
                        a.grad = static_cast<float*>(ok.ws) + 4;
                        expect_overlap(t, a.call(e), grad_name, "workspace", what + ": grad_logits in the workspace");
                    }
                }
                if (loss) {
                    a = ok;
                    a.loss = const_cast<float*>(ok.x) + 1;
                    expect_overlap(t, a.call(e), "loss", input, what + ": loss = logits + 1");
                    a = ok;
                    a.err = reinterpret_cast<int32_t*>(ok.loss);
                    expect_overlap(t, a.call(e), "loss", "error_word", what + ": error_word = loss");
                    a = ok;
                    a.loss = reinterpret_cast<float*>(const_cast<int32_t*>(ok.y)) + 3;
                    expect_overlap(t, a.call(e), "loss", "targets", what + ": loss over targets");
                    if (r != NONE) {
                        a = ok;
                        a.loss = static_cast<float*>(ok.ws) + 3;
                        expect_overlap(t, a.call(e), "loss", "workspace", what + ": loss in the workspace");
                    }
                }
                if (grad && loss) {
                    a = ok;
                    a.loss = ok.grad;
                    expect_overlap(t, a.call(e), "loss", grad_name, what + ": loss = grad_logits");
                    a = ok;
                    a.loss = ok.grad + 3;
                    expect_overlap(t, a.call(e), "loss", grad_name, what + ": loss = grad_logits + 3");
                }
                expect_stream_clean(t, what + " after the refusals");
            }
        }
        // The queries: n = 2^62 + 1 rows of workspace wrapped to a few KB.
        for (culossReduction_t r : {SUM, MEAN}) {
            const Rows q(m, kind, r);
            size_t bytes = 0;
            t.expect_refused(q.query(kHugeQuery, 1, &bytes), INVALID, "n", q.name(Entry::Forward) + " query n = 2^62 + 1");
            t.expect_refused(q.query(kHugeRows, 4, &bytes), INVALID, input,
                             q.name(Entry::Forward) + " query n = 2^61 + 4, c = 4");
            bytes = 0;
            t.check_status(q.query(1000, 4, &bytes), q.name(Entry::Forward) + " query n = 1000");
            t.expect(bytes >= 4000, q.name(Entry::Forward) + " query n = 1000: " + std::to_string(bytes) + " bytes");
        }
    }
    // The alias the header allows: grad_logits = logits (the same stride), still right.
    uint32_t seed = 1000;
    for (calls::RowLoss loss : {calls::RowLoss::CrossEntropy, calls::RowLoss::Focal, calls::RowLoss::MulticlassHinge,
                                calls::RowLoss::InterclassDistance})
        for (culossReduction_t r : {NONE, SUM, MEAN})
            for (Entry e : {Entry::Backward, Entry::Fused}) {
                ++seed;
                calls::expect_same(t, calls::row_call(loss, e, r, 5, 12, 0, true, seed),
                                   calls::row_call(loss, e, r, 5, 12, 0, false, seed));
            }
}

// ------------------------------------------------------------------------------------------
// The elementwise losses: 64 elements.

enum class Ew { SigmoidFocal, SmoothL1, Huber, Mse };

struct Elementwise {
    Ew loss;
    culossReduction_t r;
    const float* x;
    const float* tg;
    int64_t count;
    const float* gout;
    float* out;
    float* grad;
    void* ws;
    size_t ws_bytes;

    Elementwise(const Arena& m, Ew loss_, culossReduction_t r_)
        : loss(loss_), r(r_), x(m.f(0)), tg(m.f(1)), count(64), gout(m.f(3)), out(m.f(4)), grad(m.f(5)), ws(m.f(8)),
          ws_bytes(Arena::kSlotBytes) {}

    const char* loss_name() const {
        return loss == Ew::Mse ? "mse" : elementwise::loss_name(options().loss);
    }
    const char* x_name() const { return loss == Ew::SigmoidFocal ? "logits" : "input"; }
    const char* t_name() const { return loss == Ew::SigmoidFocal ? "targets" : "target"; }
    const char* grad_name() const { return loss == Ew::SigmoidFocal ? "grad_logits" : "grad_input"; }
    std::string name(Entry e) const {
        return std::string(loss_name()) + " " + test::entry_name(e) + " " + calls::reduction_name(r);
    }

    elementwise::Options options() const {
        if (loss == Ew::SmoothL1) return {elementwise::Loss::SmoothL1, 0.7f, 0.f};
        if (loss == Ew::Huber) return {elementwise::Loss::Huber, 1.3f, 0.f};
        return {elementwise::Loss::SigmoidFocal, 0.25f, 2.f};
    }

    culossStatus_t call(Entry e) const {
        const float* go = gout;  // n values for NONE, else 1
        if (loss != Ew::Mse) return elementwise::call(e, options(), F32, x, tg, count, r, go, out, grad, ws, ws_bytes);
        const culossStream_t s = test::stream();
        if (e == Entry::Forward) return culossMseForward(x, tg, count, F32, r, out, ws, ws_bytes, s);
        if (e == Entry::Backward) return culossMseBackward(x, tg, count, F32, r, go, grad, ws, ws_bytes, s);
        return culossMseForwardBackward(x, tg, count, F32, r, go, out, grad, ws, ws_bytes, s);
    }

    culossStatus_t query(int64_t qcount, size_t* bytes) const {
        if (loss == Ew::Mse) return culossMseWorkspaceSize(qcount, F32, r, bytes);
        return elementwise::workspace_size(options().loss, qcount, F32, r, bytes);
    }
};

// MSE is not in calls.h's catalog: its allowed aliases against the same call without them, here.
void expect_mse_in_place(test::Context& t, const Arena& m, Entry e, culossReduction_t r) {
    std::vector<float> x(64), tg(64), gout(64);
    for (int k = 0; k < 64; ++k) x[k] = 0.1f * float(k % 7) - 0.3f, tg[k] = 0.05f * float(k % 5), gout[k] = 1.f - 0.01f * float(k);
    const test::DeviceBuffer<float> dx(x), dt(tg), dg(gout), dloss(std::vector<float>(64, -7.f)),
        dgrad(std::vector<float>(64, -7.f));
    Elementwise plain(m, Ew::Mse, r);
    plain.x = dx.get(), plain.tg = dt.get(), plain.gout = dg.get(), plain.out = dloss.get(), plain.grad = dgrad.get();
    const std::string what = plain.name(e) + " in place";
    t.check_status(plain.call(e), what + ": without the alias");
    const std::vector<float> want_loss = dloss.read(), want_grad = dgrad.read();
    // The gradient over the input and, with NONE, the loss over the target.
    Elementwise aliased = plain;
    aliased.grad = dx.get();
    aliased.out = r == NONE ? dt.get() : dloss.get();
    dloss.write(std::vector<float>(64, -7.f));
    t.check_status(aliased.call(e), what);
    const bool writes_grad = e != Entry::Forward, writes_per_element_loss = e != Entry::Backward && r == NONE;
    if (writes_grad) t.expect(test::same_bits(dx.read(), want_grad), what + ": the gradient over the input");
    if (writes_per_element_loss) t.expect(test::same_bits(dt.read(), want_loss), what + ": the loss over the target");
    if (e != Entry::Backward && r != NONE) t.expect(test::same_bits(dloss.read(), want_loss), what + ": the loss");
}

void test_elementwise(test::Context& t) {
    const Arena m;
    for (Ew loss : {Ew::SigmoidFocal, Ew::SmoothL1, Ew::Huber, Ew::Mse}) {
        for (Entry e : {Entry::Forward, Entry::Backward, Entry::Fused}) {
            const bool grad = e != Entry::Forward, writes_loss = e != Entry::Backward;
            for (culossReduction_t r : {NONE, SUM, MEAN}) {
                const Elementwise ok(m, loss, r);
                const std::string what = ok.name(e);
                const std::string x = ok.x_name(), tg = ok.t_name(), g = ok.grad_name();
                t.check_status(ok.call(e), what + ": the valid call");
                expect_stream_clean(t, what);

                Elementwise a = ok;
                a.count = kHugeCount;
                t.expect_refused(a.call(e), INVALID, x, what + ": count = 2^62 + 64");
                a = ok;
                a.x = at_the_top<float>();
                t.expect_refused(a.call(e), INVALID, x, what + ": " + x + " at the end of the address space");
                a = ok;
                a.tg = at_the_top<float>();
                t.expect_refused(a.call(e), INVALID, tg, what + ": " + tg + " at the end of the address space");
                if (grad) {
                    a = ok;
                    a.grad = const_cast<float*>(ok.tg) + 1;
                    expect_overlap(t, a.call(e), g, tg, what + ": " + g + " = " + tg + " + 1");
                    a = ok;
                    a.grad = const_cast<float*>(ok.gout) + (r == NONE ? 1 : 0);
                    expect_overlap(t, a.call(e), g, "grad_output", what + ": " + g + " over grad_output");
                }
                if (writes_loss) {
                    a = ok;
                    a.out = const_cast<float*>(ok.x) + 1;
                    expect_overlap(t, a.call(e), "loss", x, what + ": loss = " + x + " + 1");
                    if (r != NONE) {
                        a = ok;
                        a.out = const_cast<float*>(ok.x);  // one value is no input of the same length
                        expect_overlap(t, a.call(e), "loss", x, what + ": the reduced loss over " + x);
                        a = ok;
                        a.out = static_cast<float*>(ok.ws) + 1;
                        expect_overlap(t, a.call(e), "loss", "workspace", what + ": loss in the workspace");
                    }
                }
                if (grad && writes_loss) {
                    a = ok;
                    a.out = ok.grad + (r == NONE ? 0 : 5);
                    expect_overlap(t, a.call(e), "loss", g, what + ": loss over " + g);
                    if (r == NONE) {
                        a = ok;
                        a.out = const_cast<float*>(ok.x), a.grad = const_cast<float*>(ok.x);
                        expect_overlap(t, a.call(e), "loss", g, what + ": loss and " + g + " both over " + x);
                    }
                }
                expect_stream_clean(t, what + " after the refusals");
            }
        }
        const Elementwise q(m, loss, SUM);
        size_t bytes = 0;
        t.expect_refused(q.query(kHugeCount, &bytes), INVALID, "count", q.name(Entry::Forward) + " query count = 2^62 + 64");
        t.check_status(q.query(1 << 20, &bytes), q.name(Entry::Forward) + " query count = 2^20");
    }
    // The aliases the header allows, still right.
    uint32_t seed = 2000;
    for (calls::Elementwise loss : {calls::Elementwise::SigmoidFocal, calls::Elementwise::SmoothL1, calls::Elementwise::Huber})
        for (culossReduction_t r : {NONE, SUM, MEAN})
            for (Entry e : {Entry::Forward, Entry::Backward, Entry::Fused}) {
                const calls::Alias alias = e == Entry::Forward ? calls::Alias::LossOverInput : calls::Alias::GradOverTarget;
                if (e == Entry::Forward && r != NONE) continue;  // a reduced loss overwrites nothing
                ++seed;
                calls::expect_same(t, calls::elementwise_call(loss, e, r, 67, 0, alias, seed),
                                   calls::elementwise_call(loss, e, r, 67, 0, calls::Alias::None, seed));
            }
    for (culossReduction_t r : {NONE, SUM, MEAN})
        for (Entry e : {Entry::Forward, Entry::Backward, Entry::Fused}) expect_mse_in_place(t, m, e, r);
}

// ------------------------------------------------------------------------------------------
// Triplet margin: 4 rows of 16. No alias is allowed.

struct Triplet {
    culossReduction_t r;
    const float *a, *p, *ng;
    int64_t n, d;
    const float* gout;
    float *loss, *ga, *gp, *gn;
    void* ws;
    size_t ws_bytes;

    Triplet(const Arena& m, culossReduction_t r_)
        : r(r_), a(m.f(0)), p(m.f(1)), ng(m.f(2)), n(4), d(16), gout(m.f(3)), loss(m.f(4)), ga(m.f(5)), gp(m.f(6)),
          gn(m.f(7)), ws(m.f(8)), ws_bytes(Arena::kSlotBytes) {}

    std::string name(Entry e) const {
        return std::string("triplet_margin ") + test::entry_name(e) + " " + calls::reduction_name(r);
    }

    culossStatus_t call(Entry e) const {
        const culossStream_t s = test::stream();
        const float* go = gout;  // n values for NONE, else 1
        if (e == Entry::Forward)
            return culossTripletMarginForward(a, p, ng, n, d, F32, 1.f, 2.f, 1e-6f, 1, r, loss, ws, ws_bytes, s);
        if (e == Entry::Backward)
            return culossTripletMarginBackward(a, p, ng, n, d, F32, 1.f, 2.f, 1e-6f, 1, r, go, ga, gp, gn, ws,
                                               ws_bytes, s);
        return culossTripletMarginForwardBackward(a, p, ng, n, d, F32, 1.f, 2.f, 1e-6f, 1, r, go, loss, ga, gp, gn, ws,
                                                  ws_bytes, s);
    }
};

void test_triplet(test::Context& t) {
    const Arena m;
    for (Entry e : {Entry::Forward, Entry::Backward, Entry::Fused}) {
        const bool grad = e != Entry::Forward, loss = e != Entry::Backward;
        for (culossReduction_t r : {NONE, SUM, MEAN}) {
            const Triplet ok(m, r);
            const std::string what = ok.name(e);
            t.check_status(ok.call(e), what + ": the valid call");
            expect_stream_clean(t, what);

            Triplet a = ok;
            a.n = kHugeRows, a.d = 4;
            t.expect_refused(a.call(e), INVALID, "anchor", what + ": n = 2^61 + 4, d = 4");
            a = ok;
            a.ng = at_the_top<float>();
            t.expect_refused(a.call(e), INVALID, "negative", what + ": negative at the end of the address space");
            if (grad) {
                a = ok;
                a.gn = const_cast<float*>(ok.gout) + (r == NONE ? 1 : 0);
                expect_overlap(t, a.call(e), "grad_negative", "grad_output", what + ": grad_negative over grad_output");
                a = ok;
                a.gp = at_the_top<float>();
                t.expect_refused(a.call(e), INVALID, "grad_positive", what + ": grad_positive at the end of the address space");
                a = ok;
                a.ga = ok.gp + 1;
                expect_overlap(t, a.call(e), "grad_anchor", "grad_positive", what + ": grad_anchor = grad_positive + 1");
            }
            if (loss) {
                a = ok;
                a.loss = const_cast<float*>(ok.a) + 1;
                expect_overlap(t, a.call(e), "loss", "anchor", what + ": loss = anchor + 1");
                if (r != NONE) {
                    a = ok;
                    a.loss = static_cast<float*>(ok.ws) + 2;
                    expect_overlap(t, a.call(e), "loss", "workspace", what + ": loss in the workspace");
                    a = ok;
                    a.ws = const_cast<float*>(ok.p);
                    expect_overlap(t, a.call(e), "workspace", "positive", what + ": the workspace over positive");
                }
            }
            if (grad && loss) {
                a = ok;
                a.loss = ok.ga;
                expect_overlap(t, a.call(e), "loss", "grad_anchor", what + ": loss = grad_anchor");
            }
            expect_stream_clean(t, what + " after the refusals");
        }
    }
    size_t bytes = 0;
    t.expect_refused(culossTripletMarginWorkspaceSize(kHugeQuery, 1, F32, SUM, &bytes), INVALID, "n",
                     "triplet_margin query n = 2^62 + 1");
    t.expect_refused(culossTripletMarginWorkspaceSize(kHugeRows, 4, F32, NONE, &bytes), INVALID, "anchor",
                     "triplet_margin query n = 2^61 + 4, d = 4");
    t.check_status(culossTripletMarginWorkspaceSize(1000, 4, F32, SUM, &bytes), "triplet_margin query n = 1000");
}

// ------------------------------------------------------------------------------------------
// Center loss and the center update: 4 rows of 16, 3 classes.

struct Center {
    culossReduction_t r;
    const float* x;
    const int32_t* y;
    float* centers;
    int64_t n, d, c;
    const float* gout;
    float *loss, *gf, *gc;
    void* ws;
    size_t ws_bytes;
    int32_t* err;

    Center(const Arena& m, culossReduction_t r_)
        : r(r_), x(m.f(0)), y(m.i(1)), centers(m.f(2)), n(4), d(16), c(3), gout(m.f(3)), loss(m.f(4)), gf(m.f(5)),
          gc(m.f(6)), ws(m.f(8)), ws_bytes(Arena::kSlotBytes), err(m.i(9)) {}

    std::string name(Entry e) const {
        return std::string("center ") + test::entry_name(e) + (e == Entry::Update ? "" : std::string(" ") + calls::reduction_name(r));
    }

    culossStatus_t call(Entry e) const {
        const culossStream_t s = test::stream();
        const float* go = gout;  // n values for NONE, else 1
        switch (e) {
            case Entry::Forward:
                return culossCenterLossForward(x, y, centers, n, d, c, F32, 0.5f, r, loss, ws, ws_bytes, err, s);
            case Entry::Backward:
                return culossCenterLossBackward(x, y, centers, n, d, c, F32, 0.5f, r, go, gf, gc, ws, ws_bytes, err, s);
            case Entry::Fused:
                return culossCenterLossForwardBackward(x, y, centers, n, d, c, F32, 0.5f, r, go, loss, gf, gc, ws,
                                                       ws_bytes, err, s);
            default:
                return culossCenterLossUpdateCenters(x, y, centers, n, d, c, F32, 0.5f, ws, ws_bytes, err, s);
        }
    }
};

void test_center(test::Context& t) {
    const Arena m;
    for (Entry e : {Entry::Forward, Entry::Backward, Entry::Fused, Entry::Update}) {
        const bool grad = e == Entry::Backward || e == Entry::Fused, loss = e == Entry::Forward || e == Entry::Fused;
        for (culossReduction_t r : {NONE, SUM, MEAN}) {
            if (e == Entry::Update && r != SUM) continue;  // the update has no reduction
            const Center ok(m, r);
            const std::string what = ok.name(e);
            t.check_status(ok.call(e), what + ": the valid call");
            expect_stream_clean(t, what);

            Center a = ok;
            a.d = kHugeStride;  // the center loss caps d * max(n, num_classes) at 2^40 elements
            t.expect_refused(a.call(e), INVALID, "d", what + ": d = 2^62");
            a = ok;
            a.x = at_the_top<float>();
            t.expect_refused(a.call(e), INVALID, "features", what + ": features at the end of the address space");
            a = ok;
            a.err = reinterpret_cast<int32_t*>(const_cast<float*>(ok.x) + 7);
            expect_overlap(t, a.call(e), "error_word", "features", what + ": error_word in features");
            if (grad) {
                a = ok;
                a.gc = ok.centers + 1;
                expect_overlap(t, a.call(e), "grad_centers", "centers", what + ": grad_centers = centers + 1");
                a = ok;
                a.gf = const_cast<float*>(ok.x) + 1;
                expect_overlap(t, a.call(e), "grad_features", "features", what + ": grad_features = features + 1");
                a = ok;
                a.gf = ok.gc + 4;
                expect_overlap(t, a.call(e), "grad_features", "grad_centers", what + ": grad_features = grad_centers + 4");
                a = ok;
                a.gc = static_cast<float*>(ok.ws) + 8;
                expect_overlap(t, a.call(e), "grad_centers", "workspace", what + ": grad_centers in the workspace");
                a = ok;
                a.gf = reinterpret_cast<float*>(const_cast<int32_t*>(ok.y)) + 1;
                expect_overlap(t, a.call(e), "grad_features", "labels", what + ": grad_features over labels");
            }
            if (loss) {
                a = ok;
                a.loss = const_cast<float*>(ok.x) + 1;
                expect_overlap(t, a.call(e), "loss", "features", what + ": loss = features + 1");
                a = ok;
                a.err = reinterpret_cast<int32_t*>(ok.loss);
                expect_overlap(t, a.call(e), "loss", "error_word", what + ": error_word = loss");
                if (r != NONE) {
                    a = ok;
                    a.loss = static_cast<float*>(ok.ws) + 1;
                    expect_overlap(t, a.call(e), "loss", "workspace", what + ": loss in the workspace");
                }
            }
            if (grad && loss) {
                a = ok;
                a.loss = ok.gf + 1;
                expect_overlap(t, a.call(e), "loss", "grad_features", what + ": loss in grad_features");
            }
            if (e == Entry::Update) {
                a = ok;
                a.centers = const_cast<float*>(ok.x) + 1;
                expect_overlap(t, a.call(e), "centers", "features", what + ": centers = features + 1");
                a = ok;
                a.centers = static_cast<float*>(ok.ws) + 16;
                expect_overlap(t, a.call(e), "centers", "workspace", what + ": centers in the workspace");
                a = ok;
                a.err = reinterpret_cast<int32_t*>(ok.centers + 5);
                expect_overlap(t, a.call(e), "centers", "error_word", what + ": error_word in centers");
            }
            expect_stream_clean(t, what + " after the refusals");
        }
    }
    size_t bytes = 0;
    t.expect_refused(culossCenterLossWorkspaceSize(kHugeQuery, 1, 1, F32, SUM, &bytes), INVALID, "n",
                     "center query n = 2^62 + 1");
    t.expect_refused(culossCenterLossWorkspaceSize(4, kHugeStride, 3, F32, SUM, &bytes), INVALID, "d",
                     "center query d = 2^62");
    // The alias the header allows: grad_features = features, still right.
    uint32_t seed = 3000;
    for (culossReduction_t r : {NONE, SUM, MEAN})
        for (Entry e : {Entry::Backward, Entry::Fused}) {
            ++seed;
            calls::expect_same(t, calls::center_call(e, r, 30, 12, 5, 0, true, seed),
                               calls::center_call(e, r, 30, 12, 5, 0, false, seed));
        }
}

// ------------------------------------------------------------------------------------------
// Large-margin softmax: 4 rows of 16 features, 5 classes. No alias is allowed.

struct LargeMargin {
    culossReduction_t r;
    const float *x, *w;
    const int32_t* y;
    int64_t n, d, c;
    int margin;
    float lambda;
    const float* gout;
    float *loss, *logits, *gf, *gw;
    void* ws;
    size_t ws_bytes;
    int32_t* err;

    LargeMargin(const Arena& m, culossReduction_t r_)
        : r(r_), x(m.f(0)), w(m.f(1)), y(m.i(2)), n(4), d(16), c(5), margin(2), lambda(0.f), gout(m.f(3)),
          loss(m.f(4)), logits(m.f(5)), gf(m.f(6)), gw(m.f(7)), ws(m.f(8)), ws_bytes(Arena::kSlotBytes), err(m.i(9)) {}

    std::string name(Entry e) const {
        return std::string("large_margin_softmax ") + test::entry_name(e) + " " + calls::reduction_name(r);
    }

    culossStatus_t call(Entry e) const {
        const culossStream_t s = test::stream();
        if (e == Entry::Forward)
            return culossLargeMarginSoftmaxForward(x, w, y, n, d, c, F32, margin, lambda, r, loss, logits, ws, ws_bytes,
                                                   err, s);
        if (e == Entry::Backward)
            return culossLargeMarginSoftmaxBackward(x, w, y, n, d, c, F32, margin, lambda, r, gout, logits, gf, gw, ws,
                                                    ws_bytes, err, s);
        return culossLargeMarginSoftmaxForwardBackward(x, w, y, n, d, c, F32, margin, lambda, r, gout, loss, logits, gf,
                                                       gw, ws, ws_bytes, err, s);
    }
};

void test_large_margin(test::Context& t) {
    const Arena m;
    for (Entry e : {Entry::Forward, Entry::Backward, Entry::Fused}) {
        const bool grad = e != Entry::Forward, loss = e != Entry::Backward;
        for (culossReduction_t r : {NONE, SUM, MEAN}) {
            const LargeMargin ok(m, r);
            const std::string what = ok.name(e);
            t.check_status(ok.call(e), what + ": the valid call");
            expect_stream_clean(t, what);

            LargeMargin a = ok;
            a.d = kHugeStride;
            t.expect_refused(a.call(e), INVALID, "d", what + ": d = 2^62");
            for (int margin : {0, 17, -3}) {
                a = ok;
                a.margin = margin;
                t.expect_refused(a.call(e), INVALID, "margin", what + ": margin " + std::to_string(margin));
            }
            for (float lambda : {-0.5f, NAN, INFINITY}) {
                a = ok;
                a.lambda = lambda;
                t.expect_refused(a.call(e), INVALID, "lambda", what + ": lambda " + std::to_string(lambda));
            }
            a = ok;
            a.w = at_the_top<float>();
            t.expect_refused(a.call(e), INVALID, "weights", what + ": weights at the end of the address space");
            a = ok;
            a.err = reinterpret_cast<int32_t*>(const_cast<float*>(ok.x) + 7);
            expect_overlap(t, a.call(e), "error_word", "features", what + ": error_word in features");
            a = ok;
            a.logits = const_cast<float*>(ok.w) + 3;
            expect_overlap(t, a.call(e), "modified_logits", "weights", what + ": modified_logits over weights");
            a = ok;
            a.logits = static_cast<float*>(ok.ws) + 4;
            expect_overlap(t, a.call(e), "modified_logits", "workspace", what + ": modified_logits in the workspace");
            if (grad) {
                a = ok;
                a.gf = const_cast<float*>(ok.x);  // exactly over: still refused, the products read the features whole
                expect_overlap(t, a.call(e), "grad_features", "features", what + ": grad_features = features");
                a = ok;
                a.gw = const_cast<float*>(ok.w);
                expect_overlap(t, a.call(e), "grad_weights", "weights", what + ": grad_weights = weights");
                a = ok;
                a.gf = ok.gw + 4;
                expect_overlap(t, a.call(e), "grad_features", "grad_weights", what + ": grad_features = grad_weights + 4");
                a = ok;
                a.gw = reinterpret_cast<float*>(const_cast<int32_t*>(ok.y)) + 1;
                expect_overlap(t, a.call(e), "grad_weights", "targets", what + ": grad_weights over targets");
                a = ok;
                a.logits = ok.gf + 2;
                expect_overlap(t, a.call(e), "modified_logits", "grad_features", what + ": modified_logits in grad_features");
            }
            if (loss) {
                a = ok;
                a.loss = const_cast<float*>(ok.x) + 1;
                expect_overlap(t, a.call(e), "loss", "features", what + ": loss = features + 1");
                a = ok;
                a.loss = ok.logits + 1;
                expect_overlap(t, a.call(e), "loss", "modified_logits", what + ": loss in modified_logits");
                a = ok;
                a.loss = static_cast<float*>(ok.ws) + 2;
                expect_overlap(t, a.call(e), "loss", "workspace", what + ": loss in the workspace");
            }
            expect_stream_clean(t, what + " after the refusals");
        }
    }
    size_t bytes = 0;
    t.expect_refused(culossLargeMarginSoftmaxWorkspaceSize(kHugeQuery, 1, 1, F32, SUM, &bytes), INVALID, "n",
                     "large_margin_softmax query n = 2^62 + 1");
    t.expect_refused(culossLargeMarginSoftmaxWorkspaceSize(INT32_MAX, 4, INT32_MAX, F32, SUM, &bytes), INVALID,
                     "more bytes than a size_t holds", "large_margin_softmax query n = c = 2^31 - 1");
    for (int bad : {3, -1}) {
        t.expect_refused(culossLargeMarginSoftmaxWorkspaceSize(4, 3, 5, F32, culossReduction_t(bad), &bytes), INVALID,
                         "reduction", "large_margin_softmax query, reduction " + std::to_string(bad));
    }
}

// ------------------------------------------------------------------------------------------
// The memory helpers.

void test_memory(test::Context& t) {
    void* p = reinterpret_cast<void*>(uintptr_t(0x1234));
    const culossStatus_t st = culossMalloc(&p, SIZE_MAX - 100);
    t.expect(st == CULOSS_STATUS_OUT_OF_MEMORY,
             std::string("culossMalloc(SIZE_MAX - 100) is out of memory: ") + culossGetErrorString(st));
    t.expect(p == nullptr, "culossMalloc(SIZE_MAX - 100) leaves a null pointer");
    if (st == CULOSS_STATUS_SUCCESS) culossFree(p);
    t.check_status(culossMalloc(&p, 64), "culossMalloc(64) after the refusal");
    culossFree(p);

    const test::DeviceBuffer<float> buf(std::vector<float>(16, 1.f));
    std::vector<float> host(16, 0.f);
    for (int kind : {0, 1, 2}) {
        const std::string what = "culossMemcpyAsync kind " + std::to_string(kind);
        t.expect_refused(culossMemcpyAsync(nullptr, buf.get(), 64, kind, test::stream()), INVALID, "dst", what + " dst null");
        t.expect_refused(culossMemcpyAsync(buf.get(), nullptr, 64, kind, test::stream()), INVALID, "src", what + " src null");
        t.check_status(culossMemcpyAsync(nullptr, nullptr, 0, kind, test::stream()), what + " 0 bytes, null");
    }
    t.expect_refused(culossMemsetAsync(nullptr, 0, 64, test::stream()), INVALID, "dst", "culossMemsetAsync dst null");
    t.check_status(culossMemsetAsync(nullptr, 0, 0, test::stream()), "culossMemsetAsync 0 bytes, null");
    // A range past 2^57 that wraps nothing is no real buffer either (found by the fuzzer: a call
    // whose other tensors happened to lie below such a range was accepted and read past them).
    t.expect_refused(culossMemsetAsync(buf.get(), 0, size_t(1) << 57, test::stream()), INVALID, "dst",
                     "culossMemsetAsync of 2^57 bytes");
    t.check_status(culossStreamSynchronize(test::stream()), "memory helpers sync");
    t.expect(buf.read() == std::vector<float>(16, 1.f), "the refused copies and sets wrote nothing");
}

// Tensors whose sizes carry them past the highest address a process maps (2^57) are refused
// naming the tensor, whatever lies around them: rows 2^55 floats apart, targets and outputs
// allocated anywhere. A range that ends below the limit is the caller's promise, not checked.
void test_past_the_address_limit(test::Context& t) {
    const test::DeviceBuffer<float> x(std::vector<float>(64, 0.5f)), loss(std::vector<float>(8, 0.f));
    const test::DeviceBuffer<int32_t> y(std::vector<int32_t>(8, 0)), word(std::vector<int32_t>(1, 0));
    const int64_t stride = int64_t(1) << 55;  // 4 rows of floats 2^55 apart: 2^59 bytes
    t.expect_refused(culossSoftmaxCrossEntropyForward(x.get(), stride, y.get(), 4, 6, F32, nullptr, -100, 0.f, NONE,
                                                      loss.get(), nullptr, 0, word.get(), test::stream()),
                     INVALID, "logits", "logits rows 2^55 floats apart");
    t.expect_refused(culossSoftmaxCrossEntropyProbsSpatialForward(x.get(), x.get(), int64_t(1) << 50, 3, 64, F32,
                                                                  nullptr, 0.f, NONE, loss.get(), nullptr, 0,
                                                                  test::stream()),
                     INVALID, "logits", "[2^50, 3, 64] logits");
    t.check_status(culossStreamSynchronize(test::stream()), "past the limit sync");
    t.expect(loss.read() == std::vector<float>(8, 0.f), "the refused calls wrote nothing");
}

}  // namespace

// ------------------------------------------------------------------------------------------
// Enum arguments out of range: a C caller may pass any int. Each is refused naming it; reading
// one is no undefined behaviour (UBSan's enum check runs in the ASan build), because the enums
// have int as their underlying type in C++.

void test_enum_values(test::Context& t) {
    for (int bad : {3, 7, -1, 255}) {
        const auto reduction = culossReduction_t(bad);
        const std::string what = "reduction " + std::to_string(bad);
        size_t bytes = 0;
        t.expect_refused(culossSoftmaxCrossEntropyWorkspaceSize(4, 3, CULOSS_DATA_FLOAT32, reduction, &bytes), INVALID,
                         "reduction", what + ", cross-entropy query");
        t.expect_refused(culossTripletMarginWorkspaceSize(4, 3, CULOSS_DATA_FLOAT32, reduction, &bytes), INVALID,
                         "reduction", what + ", triplet query");
        t.expect_refused(culossMseWorkspaceSize(12, CULOSS_DATA_FLOAT32, reduction, &bytes), INVALID, "reduction",
                         what + ", MSE query");
        t.expect_refused(culossCenterLossWorkspaceSize(4, 3, 5, CULOSS_DATA_FLOAT32, reduction, &bytes), INVALID,
                         "reduction", what + ", center query");
    }
    size_t bytes = 0;
    t.expect(culossMseWorkspaceSize(12, culossDataType_t(9), CULOSS_REDUCTION_SUM, &bytes) != CULOSS_STATUS_SUCCESS,
             "data type 9 is refused");
    for (int bad : {9, -1, 1000}) {
        t.expect(std::string(culossGetErrorString(culossStatus_t(bad))) == "unknown culoss status",
                 "status " + std::to_string(bad) + " is an unknown status");
    }
}

// A missing workspace says so, and how many bytes the call needs.
void test_null_workspace(test::Context& t) {
    const test::DeviceBuffer<float> x(std::vector<float>(8, 1.f)), y(std::vector<float>(8, 0.f)), loss(std::vector<float>(1));
    size_t needed = 0;
    t.check_status(culossMseWorkspaceSize(8, CULOSS_DATA_FLOAT32, CULOSS_REDUCTION_SUM, &needed), "MSE query");
    const culossStatus_t st = culossMseForward(x.get(), y.get(), 8, CULOSS_DATA_FLOAT32, CULOSS_REDUCTION_SUM,
                                               loss.get(), nullptr, needed, test::stream());
    t.expect_refused(st, CULOSS_STATUS_WORKSPACE_TOO_SMALL, "workspace is null, needs " + std::to_string(needed) + " bytes",
                     "MSE forward, SUM, no workspace");
}

int main() {
    return test::run_suite("hardening", {test_memory, test_past_the_address_limit, test_enum_values, test_null_workspace, test_rows, test_elementwise, test_triplet, test_center,
                                         test_large_margin});
}
