// The logistic loss with PyTorch's tensor weights (culossLogisticWeighted...): a per-element weight
// and a per-class pos_weight over the last dimension, against a float64 reference of PyTorch's
// formula. Every entry point and reduction, weight and pos_weight each present or not, 16-byte and
// scalar loads (an offset of one float), counts across the driver's groups and blocks, confident
// logits (|x| = 30), zero and negative weights; without weights the bits of culossLogistic with the
// same scalar pos_weight; the gradient over the logits in place; the refusals the new arguments
// bring.
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "culoss/culoss.h"
#include "test_support.h"

namespace {

using test::Entry;
constexpr culossDataType_t F32 = CULOSS_DATA_FLOAT32;
constexpr culossReduction_t NONE = CULOSS_REDUCTION_NONE;

struct Inputs {
    std::vector<float> x, t, w, p, gout;
};

Inputs draw(int64_t count, int64_t classes, culossReduction_t r, uint32_t seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> normal(0.f, 3.f);
    std::uniform_real_distribution<float> unit(0.f, 1.f);
    Inputs in;
    for (int64_t i = 0; i < count; ++i) {
        in.x.push_back(i % 11 == 5 ? (i % 2 ? 30.f : -30.f) : normal(rng));  // confident logits too
        in.t.push_back(i % 7 == 0 ? -0.5f + 2.f * unit(rng) : float(rng() % 2));  // PyTorch allows any real
        in.w.push_back(i % 13 == 3 ? 0.f : i % 17 == 4 ? -0.75f : 2.f * unit(rng));
    }
    for (int64_t j = 0; j < classes; ++j) in.p.push_back(0.25f + 3.f * unit(rng));
    for (int64_t i = 0; i < test::loss_length(r, count); ++i) in.gout.push_back(normal(rng));
    return in;
}

// PyTorch's formula in double: w ((1 - t) x + lw (log1p(exp(-|x|)) + max(-x, 0))), lw = (p - 1) t + 1;
// the gradient w (lw sigmoid(x) - p t), times the upstream gradient (over count for MEAN).
void reference(const Inputs& in, bool weighted, bool per_class, int64_t classes, culossReduction_t r,
               std::vector<double>* loss, std::vector<double>* grad) {
    const size_t count = in.x.size();
    double total = 0;
    loss->clear();
    grad->assign(count, 0.0);
    for (size_t i = 0; i < count; ++i) {
        const double x = in.x[i], t = in.t[i], w = weighted ? in.w[i] : 1.0;
        const double p = per_class ? in.p[i % size_t(classes)] : 1.0;
        const double lw = (p - 1) * t + 1;
        const double l = w * ((1 - t) * x + lw * (std::log1p(std::exp(-std::fabs(x))) + std::max(-x, 0.0)));
        const double sig = 1 / (1 + std::exp(-x));
        const double up = r == NONE ? in.gout[i] : r == CULOSS_REDUCTION_MEAN ? 1.0 / double(count) : 1.0;
        (*grad)[i] = up * w * (lw * sig - p * t);
        if (r == NONE) loss->push_back(l);
        total += l;
    }
    if (r != NONE) loss->push_back(r == CULOSS_REDUCTION_MEAN && count ? total / double(count) : total);
}

culossStatus_t call(Entry e, const float* x, const float* t, const float* w, const float* p, int64_t count,
                    int64_t classes, culossReduction_t r, const float* go, float* loss, float* grad, void* ws,
                    size_t ws_bytes) {
    if (e == Entry::Forward)
        return culossLogisticWeightedForward(x, t, w, p, count, classes, F32, r, loss, ws, ws_bytes, test::stream());
    if (e == Entry::Backward)
        return culossLogisticWeightedBackward(x, t, w, p, count, classes, F32, r, go, grad, ws, ws_bytes,
                                              test::stream());
    return culossLogisticWeightedForwardBackward(x, t, w, p, count, classes, F32, r, go, loss, grad, ws, ws_bytes,
                                                 test::stream());
}

// A copy of `v` one float past a 16-byte boundary when offset is 1 (the scalar path).
struct Placed {
    test::DeviceBuffer<float> buf;
    int64_t offset;
    Placed(const std::vector<float>& v, int64_t off) : buf(with_offset(v, off)), offset(off) {}
    static std::vector<float> with_offset(const std::vector<float>& v, int64_t off) {
        std::vector<float> out(size_t(off), 0.f);
        out.insert(out.end(), v.begin(), v.end());
        if (out.empty()) out.push_back(0.f);
        return out;
    }
    float* get() const { return buf.get() + offset; }
    std::vector<float> read(size_t n) const {
        const std::vector<float> all = buf.read();
        return std::vector<float>(all.begin() + offset, all.begin() + offset + int64_t(n));
    }
};

void test_reference(test::Context& t) {
    const int64_t shapes[][2] = {{1, 1}, {7, 7}, {12, 4}, {1001, 7}, {4096, 16}, {20000, 100}};
    uint32_t seed = 1;
    for (const auto& s : shapes) {
        const int64_t count = s[0], classes = s[1];
        for (culossReduction_t r : test::kReductions) {
            const Inputs in = draw(count, classes, r, seed++);
            size_t ws_bytes = 0;
            t.check_status(culossLogisticWeightedWorkspaceSize(count, F32, r, &ws_bytes), "query");
            const test::DeviceBuffer<char> ws(std::vector<char>(ws_bytes + 16, 0));
            for (int mask = 0; mask < 4; ++mask) {
                const bool weighted = mask & 1, per_class = mask & 2;
                std::vector<double> ref_loss, ref_grad;
                reference(in, weighted, per_class, classes, r, &ref_loss, &ref_grad);
                for (int64_t offset : {0, 1}) {
                    if (offset && count < 1000 && mask != 3) continue;  // the scalar path: a few cases suffice
                    const Placed x(in.x, offset), tt(in.t, offset), w(in.w, offset), p(in.p, offset),
                        go(in.gout, offset), loss(std::vector<float>(ref_loss.size(), NAN), offset),
                        grad(std::vector<float>(size_t(count), NAN), offset);
                    for (Entry e : {Entry::Fused, Entry::Forward, Entry::Backward}) {
                        const std::string what = std::string(test::entry_name(e)) + " count " + std::to_string(count) +
                                                 " classes " + std::to_string(classes) + " reduction " +
                                                 std::to_string(int(r)) + (weighted ? " weight" : "") +
                                                 (per_class ? " pos_weight" : "") + (offset ? " unaligned" : "");
                        t.check_status(call(e, x.get(), tt.get(), weighted ? w.get() : nullptr,
                                            per_class ? p.get() : nullptr, count, classes, r,
                                            r == NONE ? go.get() : nullptr, loss.get(), grad.get(),
                                            static_cast<char*>(ws.get()), ws_bytes),
                                       what);
                        if (e != Entry::Backward) t.expect_close(loss.read(ref_loss.size()), ref_loss, 1e-5, what + " loss");
                        if (e != Entry::Forward) t.expect_close(grad.read(size_t(count)), ref_grad, 1e-5, what + " grad");
                    }
                }
            }
        }
    }
}

// No weight and every class's pos_weight p: culossLogistic with the scalar p, bit for bit.
void test_same_as_scalar(test::Context& t) {
    const int64_t count = 999, classes = 9;
    for (culossReduction_t r : test::kReductions) {
        Inputs in = draw(count, classes, r, 77);
        in.p.assign(size_t(classes), 2.5f);
        size_t ws_bytes = 0;
        t.check_status(culossLogisticWorkspaceSize(count, F32, r, &ws_bytes), "query");
        const test::DeviceBuffer<char> ws(std::vector<char>(ws_bytes + 16, 0));
        const test::DeviceBuffer<float> x(in.x), tt(in.t), p(in.p), go(in.gout),
            l1{std::vector<float>(size_t(test::loss_length(r, count)))},
            l2{std::vector<float>(size_t(test::loss_length(r, count)))},
            g1{std::vector<float>(size_t(count))}, g2{std::vector<float>(size_t(count))};
        const float* gop = r == NONE ? go.get() : nullptr;
        t.check_status(culossLogisticForwardBackward(x.get(), tt.get(), count, F32, 2.5f, r, gop, l1.get(), g1.get(),
                                                     ws.get(), ws_bytes, test::stream()),
                       "scalar");
        t.check_status(culossLogisticWeightedForwardBackward(x.get(), tt.get(), nullptr, p.get(), count, classes, F32, r,
                                                             gop, l2.get(), g2.get(), ws.get(), ws_bytes,
                                                             test::stream()),
                       "per class");
        t.expect(test::same_bits(l1.read(), l2.read()) && test::same_bits(g1.read(), g2.read()),
                 "a pos_weight of 2.5 for every class gives culossLogistic's bits, reduction " + std::to_string(int(r)));
    }
}

// The gradient over the logits in place: the bits of the separate call.
void test_in_place(test::Context& t) {
    const int64_t count = 1003, classes = 17;
    const Inputs in = draw(count, classes, CULOSS_REDUCTION_SUM, 5);
    size_t ws_bytes = 0;
    t.check_status(culossLogisticWeightedWorkspaceSize(count, F32, CULOSS_REDUCTION_SUM, &ws_bytes), "query");
    const test::DeviceBuffer<char> ws(std::vector<char>(ws_bytes + 16, 0));
    const test::DeviceBuffer<float> x(in.x), tt(in.t), w(in.w), p(in.p), loss{std::vector<float>(1)},
        grad{std::vector<float>(size_t(count))};
    t.check_status(culossLogisticWeightedForwardBackward(x.get(), tt.get(), w.get(), p.get(), count, classes, F32,
                                                         CULOSS_REDUCTION_SUM, nullptr, loss.get(), grad.get(),
                                                         ws.get(), ws_bytes, test::stream()),
                   "separate");
    const float separate = loss.read()[0];
    t.check_status(culossLogisticWeightedForwardBackward(x.get(), tt.get(), w.get(), p.get(), count, classes, F32,
                                                         CULOSS_REDUCTION_SUM, nullptr, loss.get(), x.get(), ws.get(),
                                                         ws_bytes, test::stream()),
                   "in place");
    t.expect(test::same_bits(x.read(), grad.read()) && loss.read()[0] == separate,
             "the gradient written over the logits is the separate call's");
}

void test_refusals(test::Context& t) {
    const test::DeviceBuffer<float> buf(std::vector<float>(64, 1.f));
    float* b = buf.get();
    const test::DeviceBuffer<char> ws(std::vector<char>(4096, 0));
    auto fwd = [&](const float* w, const float* p, int64_t count, int64_t classes, float* loss) {
        return culossLogisticWeightedForward(b, b + 8, w, p, count, classes, F32, NONE, loss, ws.get(), 4096,
                                             test::stream());
    };
    t.expect_refused(fwd(b + 16, b + 24, 8, 0, b + 32), CULOSS_STATUS_INVALID_VALUE, "classes", "classes 0");
    t.expect_refused(fwd(b + 16, b + 24, 8, 3, b + 32), CULOSS_STATUS_INVALID_VALUE, "multiple of classes",
                     "count 8, classes 3");
    t.expect_refused(fwd(b + 16, b + 24, 8, 4, b + 20), CULOSS_STATUS_INVALID_VALUE, "weight", "loss over weight");
    t.expect_refused(fwd(b + 16, b + 24, 8, 4, b + 26), CULOSS_STATUS_INVALID_VALUE, "pos_weight",
                     "loss over pos_weight");
    t.expect_refused(fwd(reinterpret_cast<const float*>(reinterpret_cast<const char*>(b + 16) + 2), nullptr, 8, 4,
                         b + 32),
                     CULOSS_STATUS_MISALIGNED, "weight", "weight misaligned");
    t.expect_refused(fwd(b + 16, b + 24, -4, 4, b + 32), CULOSS_STATUS_INVALID_VALUE, "count", "count -4");
    t.check_status(fwd(b + 16, b + 24, 0, 5, nullptr), "no elements, nothing to write");
    t.check_status(culossStreamSynchronize(test::stream()), "sync after the refusals");
}

}  // namespace

int main() {
    return test::run_suite("logistic_weighted", {test_reference, test_same_as_scalar, test_in_place, test_refusals});
}
