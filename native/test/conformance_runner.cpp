// The reference cases (conformance/<loss>/*.json, the format of conformance/FORMAT.md) through the
// C API alone: the kernels checked against PyTorch's float64 values without the JVM. Every case
// runs the fused forward+backward with every gradient the format expects (for center, also the
// update on a copy of the centers; for the elementwise losses, also forward alone, backward alone
// and all three on unaligned buffers); the comparison rule is the format's.
//
//   conformance_runner DIR|FILE...
//
// Prints a line per case and "N passed, M failed"; exits 1 when a case failed, 77 without a device.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "culoss/culoss.h"
#include "test_support.h"

namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

// A malformed case: the file is wrong, not the kernels.
struct CaseError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct Tensor {
    std::vector<int64_t> shape;
    std::vector<double> data;

    int64_t dim(size_t i) const { return shape.at(i); }
    std::vector<float> floats() const { return std::vector<float>(data.begin(), data.end()); }
    std::vector<int32_t> ints(const std::string& name) const {
        std::vector<int32_t> out;
        for (size_t i = 0; i < data.size(); ++i) {
            const double v = data[i];
            if (v != std::rint(v) || v < INT32_MIN || v > INT32_MAX) {
                throw CaseError(name + "[" + std::to_string(i) + "] is not a 32-bit integer");
            }
            out.push_back(int32_t(v));
        }
        return out;
    }
};

std::string shape_text(const std::vector<int64_t>& shape) {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
}

// A number as the format writes it: a JSON number, or "inf", "-inf", "nan", or a decimal string.
double number(const json& v, const std::string& where) {
    if (v.is_number()) return v.get<double>();
    if (v.is_string()) {
        const std::string s = v.get<std::string>();
        if (s == "inf" || s == "+inf" || s == "Infinity") return INFINITY;
        if (s == "-inf" || s == "-Infinity") return -INFINITY;
        if (s == "nan" || s == "NaN") return NAN;
        size_t used = 0;
        try {
            const double d = std::stod(s, &used);
            if (used == s.size()) return d;
        } catch (const std::exception&) {
        }
    }
    throw CaseError(where + " (" + v.dump() + ") is not a number");
}

Tensor tensor(const json& v, const std::string& where) {
    if (!v.is_object() || !v.contains("shape") || !v.contains("data")) {
        throw CaseError(where + " is not {\"shape\": [...], \"data\": [...]}");
    }
    Tensor t;
    int64_t size = 1;
    for (const json& d : v["shape"]) {
        t.shape.push_back(d.get<int64_t>());
        size *= t.shape.back();
    }
    for (const json& x : v["data"]) t.data.push_back(number(x, where + ".data"));
    if (int64_t(t.data.size()) != size) {
        throw CaseError(where + " has " + std::to_string(t.data.size()) + " values for shape " + shape_text(t.shape));
    }
    return t;
}

// One case as read, with typed accessors that fail the case on a wrong kind or shape.
struct Case {
    std::string loss, name;
    json params = json::object();
    std::map<std::string, Tensor> inputs, expected;

    bool has_param(const std::string& p) const { return params.contains(p); }
    bool is_null(const std::string& p) const { return params.contains(p) && params[p].is_null(); }
    double num(const std::string& p, double fallback) const {
        return params.contains(p) ? number(params[p], "params." + p) : fallback;
    }
    bool flag(const std::string& p, bool fallback) const {
        if (!params.contains(p)) return fallback;
        if (params[p].is_boolean()) return params[p].get<bool>();
        const double v = num(p, 0);
        if (v == 0 || v == 1) return v == 1;
        throw CaseError("params." + p + " is not true or false");
    }
    culossReduction_t reduction(const char* fallback) const {
        const std::string r = params.contains("reduction") ? params["reduction"].get<std::string>() : fallback;
        if (r == "none") return CULOSS_REDUCTION_NONE;
        if (r == "sum") return CULOSS_REDUCTION_SUM;
        if (r == "mean") return CULOSS_REDUCTION_MEAN;
        throw CaseError("params.reduction \"" + r + "\" is not none, sum or mean");
    }
    const Tensor& input(const std::string& n) const {
        auto it = inputs.find(n);
        if (it == inputs.end()) throw CaseError("inputs." + n + " is missing");
        return it->second;
    }
    // A two-dimensional input; `dims` names its dimensions for the error ("[N, C]").
    const Tensor& matrix(const std::string& n, const char* dims) const {
        const Tensor& t = input(n);
        if (t.shape.size() != 2) throw CaseError("inputs." + n + " has shape " + shape_text(t.shape) + ", not " + dims);
        return t;
    }
    // A [N, K] input, or one unbatched sample [K] (PyTorch's unbatched inputs: n = 1, and every
    // per-sample tensor drops its N: the targets [], the loss of reduction none [], the
    // gradients [K]). `dims` names the batched dimensions for the error ("[N, C]").
    struct Batch {
        int64_t n, k;
        bool unbatched;
        // The shape of a per-sample tensor with `inner` dimensions after N.
        std::vector<int64_t> shape(std::vector<int64_t> inner = {}) const {
            if (!unbatched) inner.insert(inner.begin(), n);
            return inner;
        }
    };
    Batch batch(const std::string& n, const char* dims) const {
        const Tensor& t = input(n);
        if (t.shape.size() == 1) return Batch{1, t.shape[0], true};
        if (t.shape.size() != 2) {
            throw CaseError("inputs." + n + " has shape " + shape_text(t.shape) + ", not " + dims + " (or one row)");
        }
        return Batch{t.shape[0], t.shape[1], false};
    }
    const Tensor* optional(const std::string& n) const {
        auto it = inputs.find(n);
        return it == inputs.end() ? nullptr : &it->second;
    }
    void expect_shape(const std::string& n, const Tensor& t, const std::vector<int64_t>& shape) const {
        if (t.shape != shape) throw CaseError("inputs." + n + " has shape " + shape_text(t.shape) + ", not " +
                                              shape_text(shape));
    }
    // grad_output: the loss's shape for none; refused for sum and mean (the format uses 1 there).
    const Tensor* grad_output(culossReduction_t r, const std::vector<int64_t>& loss_shape) const {
        const Tensor* g = optional("grad_output");
        if (g && r != CULOSS_REDUCTION_NONE) throw CaseError("inputs.grad_output is only for reduction none");
        if (g) expect_shape("grad_output", *g, loss_shape);
        return g;
    }
};

// What a run produced, by the format's names, and the terms of its largest sum.
struct Outputs {
    std::map<std::string, Tensor> tensors;
    int64_t terms = 0;
};

// One output as read back from the device: its name in the format, its shape, its values.
struct Output {
    std::string name;
    std::vector<int64_t> shape;
    std::vector<float> values;
};

Outputs outputs(int64_t terms, std::initializer_list<Output> list) {
    Outputs out;
    out.terms = terms;
    for (const Output& o : list) {
        out.tensors[o.name] = Tensor{o.shape, std::vector<double>(o.values.begin(), o.values.end())};
    }
    return out;
}

// A device copy of an optional float input (null when absent), kept alive for the call.
struct Optional {
    std::unique_ptr<test::DeviceBuffer<float>> buf;
    explicit Optional(const Tensor* host) {
        if (host) buf = std::make_unique<test::DeviceBuffer<float>>(host->floats());
    }
    float* get() const { return buf ? buf->get() : nullptr; }
};

void check(culossStatus_t st, const char* call) {
    if (st != CULOSS_STATUS_SUCCESS) {
        throw std::runtime_error(std::string(call) + ": " + culossGetErrorString(st) + " (" +
                                 culossGetLastErrorDetail() + ")");
    }
}

// The workspace a loss asks for: allocate(query(..., &bytes)) checks the query and allocates.
struct Workspace {
    size_t bytes = 0;
    std::unique_ptr<test::DeviceBuffer<char>> buf;
    void allocate(culossStatus_t query) {
        check(query, "workspace size");
        buf = std::make_unique<test::DeviceBuffer<char>>(std::vector<char>(bytes));
    }
    void* get() const { return buf->get(); }
};

// The error word a labelled loss sets for a bad label: a case never has one, so a set word fails it.
void check_error_word(const test::DeviceBuffer<int32_t>& word) {
    if (word.read()[0] != 0) throw std::runtime_error("the kernels reported a bad label (INVALID_TARGET)");
}

std::vector<int64_t> loss_shape(culossReduction_t r, std::vector<int64_t> per_sample) {
    return r == CULOSS_REDUCTION_NONE ? per_sample : std::vector<int64_t>{};
}

// ------------------------------------------------------------------ the losses over softmax rows

enum class Rows { CrossEntropy, Focal };

// Cross-entropy with soft targets (target_probs in the logits' shape): every row counts. Logits
// [N, C] or [C] through the Probs entry points, [N, C, d1..dk] through the ProbsSpatial ones
// (inner = d1 * ... * dk, a none loss [N, d1..dk]).
Outputs run_probs(const Case& c) {
    const culossReduction_t r = c.reduction("mean");
    const Tensor& logits = c.input("logits");
    if (c.optional("targets")) throw CaseError("inputs.targets and inputs.target_probs are both given");
    c.expect_shape("target_probs", c.input("target_probs"), logits.shape);
    const bool spatial = logits.shape.size() >= 3;
    int64_t n = 0, k = 0, inner = 1;
    std::vector<int64_t> per_sample;
    if (spatial) {
        n = logits.shape[0];
        k = logits.shape[1];
        per_sample = {n};
        for (size_t a = 2; a < logits.shape.size(); ++a) {
            inner *= logits.shape[a];
            per_sample.push_back(logits.shape[a]);
        }
    } else {
        const Case::Batch b = c.batch("logits", "[N, C]");
        n = b.n;
        k = b.k;
        per_sample = b.shape();
    }
    const Tensor* table = c.optional("class_weights");
    if (table) c.expect_shape("class_weights", *table, {k});
    const Tensor* gout = c.grad_output(r, per_sample);
    const Optional dtab(table), dgo(gout);
    test::DeviceBuffer<float> dx(logits.floats()), dt(c.input("target_probs").floats()),
        dloss(std::vector<float>(test::loss_length(r, n * inner))), dgrad(std::vector<float>(size_t(n * k * inner)));
    const float e = float(c.num("label_smoothing", 0));
    Workspace ws;
    if (spatial) {
        ws.allocate(culossSoftmaxCrossEntropyProbsSpatialWorkspaceSize(n, k, inner, CULOSS_DATA_FLOAT32, r, &ws.bytes));
        check(culossSoftmaxCrossEntropyProbsSpatialForwardBackward(dx.get(), dt.get(), n, k, inner, CULOSS_DATA_FLOAT32,
                                                                   dtab.get(), e, r, dgo.get(), dloss.get(), dgrad.get(),
                                                                   ws.get(), ws.bytes, test::stream()),
              "culossSoftmaxCrossEntropyProbsSpatialForwardBackward");
    } else {
        ws.allocate(culossSoftmaxCrossEntropyProbsWorkspaceSize(n, k, CULOSS_DATA_FLOAT32, r, &ws.bytes));
        check(culossSoftmaxCrossEntropyProbsForwardBackward(dx.get(), k, dt.get(), n, k, CULOSS_DATA_FLOAT32, dtab.get(),
                                                            e, r, dgo.get(), dloss.get(), dgrad.get(), k, ws.get(),
                                                            ws.bytes, test::stream()),
              "culossSoftmaxCrossEntropyProbsForwardBackward");
    }
    return outputs(n * k * inner,
                   {{"loss", loss_shape(r, per_sample), dloss.read()}, {"grad_logits", logits.shape, dgrad.read()}});
}

// Logits [N, C] or [C] through the row entry points, or [N, C, d1..dk] (the class dimension
// second) through the Spatial ones: inner = d1 * ... * dk, targets and a none loss [N, d1..dk].
// The gradient has the logits' shape either way.
Outputs run_rows(const Case& c, Rows kind) {
    const bool ce = kind == Rows::CrossEntropy;
    const culossReduction_t r = c.reduction("mean");
    const Tensor& logits = c.input("logits");
    const bool spatial = logits.shape.size() >= 3;
    int64_t n = 0, k = 0, inner = 1;
    std::vector<int64_t> per_sample;
    if (spatial) {
        n = logits.dim(0), k = logits.dim(1);
        per_sample = {n};
        for (size_t a = 2; a < logits.shape.size(); ++a) {
            per_sample.push_back(logits.shape[a]);
            inner *= logits.shape[a];
        }
    } else {
        const Case::Batch b = c.batch("logits", "[N, C]");
        n = b.n, k = b.k, per_sample = b.shape();
    }
    c.expect_shape("targets", c.input("targets"), per_sample);
    const char* table_name = ce ? "class_weights" : "class_alpha";
    const Tensor* table = c.optional(table_name);
    if (table) c.expect_shape(table_name, *table, {k});
    const Tensor* gout = c.grad_output(r, per_sample);
    int64_t ignore = ce ? -100 : CULOSS_NO_IGNORE_INDEX;
    if (c.has_param("ignore_index")) {
        ignore = c.is_null("ignore_index") ? CULOSS_NO_IGNORE_INDEX : int64_t(c.num("ignore_index", 0));
    }
    float alpha = 1.f;
    if (!ce) {
        if (c.is_null("alpha") != (table != nullptr)) {
            throw CaseError("inputs.class_alpha is given exactly when params.alpha is null");
        }
        if (!table) alpha = float(c.num("alpha", 1));
    }
    const float smoothing = float(c.num("label_smoothing", 0)), gamma = float(c.num("gamma", 2));

    const Optional dtab(table), dgo(gout);
    const int64_t rows = n * inner;
    test::DeviceBuffer<float> dx(logits.floats()), dloss(std::vector<float>(test::loss_length(r, rows))),
        dgrad(std::vector<float>(size_t(rows * k)));
    test::DeviceBuffer<int32_t> dy(c.input("targets").ints("inputs.targets")), word(std::vector<int32_t>(1));
    Workspace ws;
    const auto F32 = CULOSS_DATA_FLOAT32;
    if (spatial) {
        ws.allocate(ce ? culossSoftmaxCrossEntropySpatialWorkspaceSize(n, k, inner, F32, r, &ws.bytes)
                       : culossSoftmaxFocalSpatialWorkspaceSize(n, k, inner, F32, r, &ws.bytes));
        check(ce ? culossSoftmaxCrossEntropySpatialForwardBackward(dx.get(), dy.get(), n, k, inner, F32, dtab.get(),
                                                                   ignore, smoothing, r, dgo.get(), dloss.get(),
                                                                   dgrad.get(), ws.get(), ws.bytes, word.get(),
                                                                   test::stream())
                 : culossSoftmaxFocalSpatialForwardBackward(dx.get(), dy.get(), n, k, inner, F32, dtab.get(), alpha,
                                                            gamma, ignore, r, dgo.get(), dloss.get(), dgrad.get(),
                                                            ws.get(), ws.bytes, word.get(), test::stream()),
              ce ? "culossSoftmaxCrossEntropySpatialForwardBackward" : "culossSoftmaxFocalSpatialForwardBackward");
    } else {
        ws.allocate(ce ? culossSoftmaxCrossEntropyWorkspaceSize(n, k, F32, r, &ws.bytes)
                       : culossSoftmaxFocalWorkspaceSize(n, k, F32, r, &ws.bytes));
        check(ce ? culossSoftmaxCrossEntropyForwardBackward(dx.get(), k, dy.get(), n, k, F32, dtab.get(), ignore,
                                                            smoothing, r, dgo.get(), dloss.get(), dgrad.get(), k,
                                                            ws.get(), ws.bytes, word.get(), test::stream())
                 : culossSoftmaxFocalForwardBackward(dx.get(), k, dy.get(), n, k, F32, dtab.get(), alpha, gamma,
                                                     ignore, r, dgo.get(), dloss.get(), dgrad.get(), k, ws.get(),
                                                     ws.bytes, word.get(), test::stream()),
              ce ? "culossSoftmaxCrossEntropyForwardBackward" : "culossSoftmaxFocalForwardBackward");
    }
    check_error_word(word);
    return outputs(rows * k, {{"loss", loss_shape(r, per_sample), dloss.read()}, {"grad_logits", logits.shape, dgrad.read()}});
}

// ------------------------------------------------------------------ multi-class hinge

// The fused call, then the forward alone and the backward alone, which must give the same.
Outputs run_multiclass_hinge(const Case& c) {
    const culossReduction_t r = c.reduction("mean");
    const Tensor& scores = c.input("scores");
    const Case::Batch b = c.batch("scores", "[N, C]");
    const int64_t n = b.n, k = b.k;
    c.expect_shape("targets", c.input("targets"), b.shape());
    const Tensor* table = c.optional("class_weights");
    if (table) c.expect_shape("class_weights", *table, {k});
    const Tensor* gout = c.grad_output(r, b.shape());
    const double p = c.num("p", 1);
    if (p != 1 && p != 2) throw CaseError("params.p is not 1 or 2");
    const float margin = float(c.num("margin", 1));

    const Optional dtab(table), dgo(gout);
    test::DeviceBuffer<float> dx(scores.floats()), dloss(std::vector<float>(test::loss_length(r, n))),
        dgrad(std::vector<float>(size_t(n * k))), dloss2(std::vector<float>(test::loss_length(r, n))),
        dgrad2(std::vector<float>(size_t(n * k)));
    test::DeviceBuffer<int32_t> dy(c.input("targets").ints("inputs.targets")), word(std::vector<int32_t>(1));
    Workspace ws;
    ws.allocate(culossMulticlassHingeWorkspaceSize(n, k, CULOSS_DATA_FLOAT32, r, &ws.bytes));
    check(culossMulticlassHingeForwardBackward(dx.get(), k, dy.get(), n, k, CULOSS_DATA_FLOAT32, dtab.get(), margin,
                                               int(p), r, dgo.get(), dloss.get(), dgrad.get(), k, ws.get(), ws.bytes,
                                               word.get(), test::stream()),
          "culossMulticlassHingeForwardBackward");
    check(culossMulticlassHingeForward(dx.get(), k, dy.get(), n, k, CULOSS_DATA_FLOAT32, dtab.get(), margin, int(p), r,
                                       dloss2.get(), ws.get(), ws.bytes, word.get(), test::stream()),
          "culossMulticlassHingeForward");
    check(culossMulticlassHingeBackward(dx.get(), k, dy.get(), n, k, CULOSS_DATA_FLOAT32, dtab.get(), margin, int(p),
                                        r, dgo.get(), dgrad2.get(), k, ws.get(), ws.bytes, word.get(), test::stream()),
          "culossMulticlassHingeBackward");
    check_error_word(word);
    const std::vector<float> loss = dloss.read(), grad = dgrad.read();
    if (!test::same_bits(loss, dloss2.read()) || !test::same_bits(grad, dgrad2.read())) {
        throw std::runtime_error("the forward or the backward alone differs from the fused call");
    }
    return outputs(n * k, {{"loss", loss_shape(r, b.shape()), loss}, {"grad_scores", b.shape({k}), grad}});
}

// ------------------------------------------------------------------ class-distance weighted cross-entropy

// The fused call, then the forward alone and the backward alone, which must give the same.
Outputs run_interclass_distance(const Case& c) {
    const culossReduction_t r = c.reduction("mean");
    const Tensor& logits = c.input("logits");
    const Case::Batch b = c.batch("logits", "[N, C]");
    const int64_t n = b.n, k = b.k;
    c.expect_shape("targets", c.input("targets"), b.shape());
    const Tensor* gout = c.grad_output(r, b.shape());
    const Optional dgo(gout);
    test::DeviceBuffer<float> dx(logits.floats()), dloss(std::vector<float>(test::loss_length(r, n))),
        dgrad(std::vector<float>(size_t(n * k))), dloss2(std::vector<float>(test::loss_length(r, n))),
        dgrad2(std::vector<float>(size_t(n * k)));
    test::DeviceBuffer<int32_t> dy(c.input("targets").ints("inputs.targets")), word(std::vector<int32_t>(1));
    Workspace ws;
    ws.allocate(culossInterclassDistanceWorkspaceSize(n, k, CULOSS_DATA_FLOAT32, r, &ws.bytes));
    check(culossInterclassDistanceForwardBackward(dx.get(), k, dy.get(), n, k, CULOSS_DATA_FLOAT32, r, dgo.get(),
                                                  dloss.get(), dgrad.get(), k, ws.get(), ws.bytes, word.get(),
                                                  test::stream()),
          "culossInterclassDistanceForwardBackward");
    check(culossInterclassDistanceForward(dx.get(), k, dy.get(), n, k, CULOSS_DATA_FLOAT32, r, dloss2.get(), ws.get(),
                                          ws.bytes, word.get(), test::stream()),
          "culossInterclassDistanceForward");
    check(culossInterclassDistanceBackward(dx.get(), k, dy.get(), n, k, CULOSS_DATA_FLOAT32, r, dgo.get(),
                                           dgrad2.get(), k, ws.get(), ws.bytes, word.get(), test::stream()),
          "culossInterclassDistanceBackward");
    check_error_word(word);
    const std::vector<float> loss = dloss.read(), grad = dgrad.read();
    if (!test::same_bits(loss, dloss2.read()) || !test::same_bits(grad, dgrad2.read())) {
        throw std::runtime_error("the forward or the backward alone differs from the fused call");
    }
    return outputs(n * k, {{"loss", loss_shape(r, b.shape()), loss}, {"grad_logits", b.shape({k}), grad}});
}

// ------------------------------------------------------------------ zero-one (forward only)

Outputs run_zero_one(const Case& c) {
    const culossReduction_t r = c.reduction("mean");
    const Tensor& scores = c.matrix("scores", "[N, C]");
    const int64_t n = scores.dim(0), k = scores.dim(1);
    c.expect_shape("targets", c.input("targets"), {n});
    test::DeviceBuffer<float> dx(scores.floats()), dloss(std::vector<float>(test::loss_length(r, n)));
    test::DeviceBuffer<int32_t> dy(c.input("targets").ints("inputs.targets")), word(std::vector<int32_t>(1));
    Workspace ws;
    ws.allocate(culossZeroOneWorkspaceSize(n, k, CULOSS_DATA_FLOAT32, r, &ws.bytes));
    check(culossZeroOneForward(dx.get(), k, dy.get(), n, k, CULOSS_DATA_FLOAT32, r, dloss.get(), ws.get(), ws.bytes,
                               word.get(), test::stream()),
          "culossZeroOneForward");
    check_error_word(word);
    return outputs(n, {{"loss", loss_shape(r, {n}), dloss.read()}});
}

// ------------------------------------------------------------------ the elementwise losses

// An elementwise loss as the format names it: its tensors, its default reduction, its options
// (name and default, in the order its C functions take them, between dtype and reduction) and its
// four entry points. Every elementwise loss's C functions have that one form (culoss.h), so a new
// one is a row of elementwise_losses() below and nothing else here.
struct Elementwise {
    // One entry point (not Update) with the options as an array, on test::stream().
    using Call = std::function<culossStatus_t(test::Entry, const float* x, const float* t, int64_t count,
                                              const float* options, culossReduction_t r, const float* gout,
                                              float* loss, float* grad, void* ws, size_t ws_bytes)>;
    std::string x, t, grad, reduction;
    std::vector<std::pair<std::string, double>> options;
    culossStatus_t (*workspace_size)(int64_t, culossDataType_t, culossReduction_t, size_t*);
    Call call;
    // The option whose JSON null means its default (logistic's pos_weight: none), or null.
    const char* null_means_default = nullptr;
};

template <class F>
struct Arity;
template <class R, class... A>
struct Arity<R(A...)> {
    static constexpr size_t value = sizeof...(A);
};

template <class Fwd, class Bwd, class Fused, size_t... I>
Elementwise::Call call_with(Fwd* fwd, Bwd* bwd, Fused* fused, std::index_sequence<I...>) {
    return [=](test::Entry e, const float* x, const float* t, int64_t count, const float* o, culossReduction_t r,
               const float* gout, float* loss, float* grad, void* ws, size_t ws_bytes) {
        const culossDataType_t dt = CULOSS_DATA_FLOAT32;
        const culossStream_t st = test::stream();
        if (e == test::Entry::Forward) return fwd(x, t, count, dt, o[I]..., r, loss, ws, ws_bytes, st);
        if (e == test::Entry::Backward) return bwd(x, t, count, dt, o[I]..., r, gout, grad, ws, ws_bytes, st);
        return fused(x, t, count, dt, o[I]..., r, gout, loss, grad, ws, ws_bytes, st);
    };
}

// The three entry points, whatever their number of float options: the ForwardBackward's arguments
// but the 11 every one has.
template <class Fwd, class Bwd, class Fused>
Elementwise::Call entry_points(Fwd* fwd, Bwd* bwd, Fused* fused) {
    return call_with(fwd, bwd, fused, std::make_index_sequence<Arity<Fused>::value - 11>{});
}

#define ELEMENTWISE_ENTRY_POINTS(Name)                                                                    \
    culoss##Name##WorkspaceSize, entry_points(culoss##Name##Forward, culoss##Name##Backward,              \
                                              culoss##Name##ForwardBackward)

const std::map<std::string, Elementwise>& elementwise_losses() {
    static const std::map<std::string, Elementwise> all = {
        {"sigmoid_focal", {"logits", "targets", "grad_logits", "none", {{"alpha", 0.25}, {"gamma", 2}},
                           ELEMENTWISE_ENTRY_POINTS(SigmoidFocal)}},
        {"smooth_l1", {"input", "target", "grad_input", "mean", {{"beta", 1}}, ELEMENTWISE_ENTRY_POINTS(SmoothL1)}},
        {"huber", {"input", "target", "grad_input", "mean", {{"delta", 1}}, ELEMENTWISE_ENTRY_POINTS(Huber)}},
        {"mse", {"input", "target", "grad_input", "mean", {}, ELEMENTWISE_ENTRY_POINTS(Mse)}},
        {"l1", {"input", "target", "grad_input", "mean", {}, ELEMENTWISE_ENTRY_POINTS(L1)}},
        {"exponential", {"scores", "targets", "grad_scores", "mean", {}, ELEMENTWISE_ENTRY_POINTS(Exponential)}},
        {"hinge", {"scores", "targets", "grad_scores", "mean", {{"margin", 1}}, ELEMENTWISE_ENTRY_POINTS(Hinge)}},
        {"logistic", {"logits", "targets", "grad_logits", "mean", {{"pos_weight", 1}}, ELEMENTWISE_ENTRY_POINTS(Logistic),
                      "pos_weight"}},
    };
    return all;
}

// A float tensor in device memory `offset` floats into its buffer: offset 1 makes it unaligned.
struct Placed {
    test::DeviceBuffer<float> buf;
    int64_t offset, size;
    Placed(const std::vector<float>& v, int64_t offset)
        : buf(padded(v, offset)), offset(offset), size(int64_t(v.size())) {}
    static std::vector<float> padded(std::vector<float> v, int64_t offset) {
        v.insert(v.begin(), size_t(offset), NAN);
        return v;
    }
    float* get() const { return buf.get() + offset; }
    // NaN everywhere, so that an output the call does not write cannot pass for one it wrote.
    void clear() const { buf.write(std::vector<float>(size_t(offset + size), NAN)); }
    std::vector<float> read() const {
        const std::vector<float> all = buf.read();
        return std::vector<float>(all.begin() + offset, all.end());
    }
};

std::string compare(const Tensor& out, const Tensor& ref, int64_t terms, double* rel);

// An entry point other than the one a case is judged by: each output it wrote (the loss for the
// forward, `grad` for the backward, both for the fused call) must agree with the expected values.
void expect_agrees(const Case& c, const Outputs& out, test::Entry e, const std::string& grad, int64_t terms,
                   const std::string& what) {
    for (const std::string& name : {std::string("loss"), grad}) {
        const bool written = e == test::Entry::Fused || (name == "loss") == (e == test::Entry::Forward);
        auto ref = c.expected.find(name);
        double rel = 0;
        const std::string problem =
            written && ref != c.expected.end() ? compare(out.tensors.at(name), ref->second, terms, &rel) : "";
        if (!problem.empty()) throw std::runtime_error(what + ": " + name + ": " + problem);
    }
}

// The fused call on aligned buffers gives the outputs the case is judged by. Every other way to
// reach the kernels (forward alone, backward alone, each with 16-byte loads on aligned buffers and
// the scalar path on buffers one float off) must agree with the expected values as well.
Outputs run_elementwise(const Case& c, const Elementwise& loss) {
    const culossReduction_t r = c.reduction(loss.reduction.c_str());
    const Tensor& xt = c.input(loss.x);
    c.expect_shape(loss.t, c.input(loss.t), xt.shape);
    const Tensor* gout = c.grad_output(r, xt.shape);
    const int64_t count = int64_t(xt.data.size());
    Workspace ws;
    ws.allocate(loss.workspace_size(count, CULOSS_DATA_FLOAT32, r, &ws.bytes));
    std::vector<float> options;
    for (const auto& [name, fallback] : loss.options) {
        const bool absent = loss.null_means_default && name == loss.null_means_default && c.is_null(name);
        options.push_back(float(absent ? fallback : c.num(name, fallback)));
    }
    const std::vector<float> nothing;
    Outputs fused;
    for (const int64_t offset : {0, 1}) {
        const Placed dx(xt.floats(), offset), dt(c.input(loss.t).floats(), offset),
            dgo(gout ? gout->floats() : nothing, offset),
            dloss(std::vector<float>(test::loss_length(r, count)), offset), dgrad(std::vector<float>(count), offset);
        for (const test::Entry e : {test::Entry::Fused, test::Entry::Forward, test::Entry::Backward}) {
            const std::string what = std::string(test::entry_name(e)) + (offset ? " on unaligned buffers" : "");
            dloss.clear();
            dgrad.clear();
            check(loss.call(e, dx.get(), dt.get(), count, options.data(), r, gout ? dgo.get() : nullptr, dloss.get(),
                            dgrad.get(), ws.get(), ws.bytes),
                  what.c_str());
            const Outputs out = outputs(count, {{"loss", loss_shape(r, xt.shape), dloss.read()},
                                                {loss.grad, xt.shape, dgrad.read()}});
            if (e == test::Entry::Fused && offset == 0) {
                fused = out;
                continue;
            }
            expect_agrees(c, out, e, loss.grad, count, what);
        }
    }
    return fused;
}

// The logistic loss with PyTorch's tensors (culossLogisticWeighted...): a per-element `weight` of
// the logits' shape, a per-class `pos_weight` [last dimension] (or the scalar option as one class).
// As run_elementwise: the fused call on aligned buffers judges the case; the forward and the
// backward alone, and every entry point on buffers one float off, must agree with it too.
Outputs run_logistic_weighted(const Case& c) {
    const culossReduction_t r = c.reduction("mean");
    const Tensor& xt = c.input("logits");
    c.expect_shape("targets", c.input("targets"), xt.shape);
    const Tensor* weight = c.optional("weight");
    if (weight) c.expect_shape("weight", *weight, xt.shape);
    const Tensor* pos_weight = c.optional("pos_weight");
    std::vector<float> p;
    if (pos_weight) {
        c.expect_shape("pos_weight", *pos_weight, {xt.shape.empty() ? 1 : xt.shape.back()});
        p = pos_weight->floats();
    } else if (!c.is_null("pos_weight")) {
        p = {float(c.num("pos_weight", 1))};
    }
    const int64_t classes = p.empty() ? 1 : int64_t(p.size());
    const Tensor* gout = c.grad_output(r, xt.shape);
    const int64_t count = int64_t(xt.data.size());
    Workspace ws;
    ws.allocate(culossLogisticWeightedWorkspaceSize(count, CULOSS_DATA_FLOAT32, r, &ws.bytes));
    const std::vector<float> nothing;
    Outputs fused;
    for (const int64_t offset : {0, 1}) {
        const Placed dx(xt.floats(), offset), dt(c.input("targets").floats(), offset),
            dw(weight ? weight->floats() : nothing, offset), dp(p, offset),
            dgo(gout ? gout->floats() : nothing, offset),
            dloss(std::vector<float>(test::loss_length(r, count)), offset), dgrad(std::vector<float>(count), offset);
        const float* w = weight ? dw.get() : nullptr;
        const float* pw = p.empty() ? nullptr : dp.get();
        const float* go = gout ? dgo.get() : nullptr;
        for (const test::Entry e : {test::Entry::Fused, test::Entry::Forward, test::Entry::Backward}) {
            const std::string what = std::string(test::entry_name(e)) + (offset ? " on unaligned buffers" : "");
            dloss.clear();
            dgrad.clear();
            const culossDataType_t dt32 = CULOSS_DATA_FLOAT32;
            const culossStatus_t st =
                e == test::Entry::Fused
                    ? culossLogisticWeightedForwardBackward(dx.get(), dt.get(), w, pw, count, classes, dt32, r, go,
                                                            dloss.get(), dgrad.get(), ws.get(), ws.bytes, test::stream())
                : e == test::Entry::Forward
                    ? culossLogisticWeightedForward(dx.get(), dt.get(), w, pw, count, classes, dt32, r, dloss.get(),
                                                    ws.get(), ws.bytes, test::stream())
                    : culossLogisticWeightedBackward(dx.get(), dt.get(), w, pw, count, classes, dt32, r, go,
                                                     dgrad.get(), ws.get(), ws.bytes, test::stream());
            check(st, what.c_str());
            const Outputs out = outputs(count, {{"loss", loss_shape(r, xt.shape), dloss.read()},
                                                {"grad_logits", xt.shape, dgrad.read()}});
            if (e == test::Entry::Fused && offset == 0) {
                fused = out;
                continue;
            }
            expect_agrees(c, out, e, "grad_logits", count, what);
        }
    }
    return fused;
}

// ------------------------------------------------------------------ the L1 and L2 penalties

// lambda * sum |w| or lambda / 2 * sum w^2 over `params` (any shape): a [] loss and grad_params of
// the params' shape (no upstream gradient in the format). As run_elementwise: the fused call on
// aligned buffers judges the case, and every entry point on aligned and unaligned buffers must
// agree with the expected values too.
Outputs run_penalty(const Case& c, bool l1) {
    using Fused = culossStatus_t (*)(const float*, int64_t, culossDataType_t, float, const float*, float*, float*,
                                     void*, size_t, culossStream_t);
    const Fused fused_call = l1 ? culossL1PenaltyForwardBackward : culossL2PenaltyForwardBackward;
    const auto forward = l1 ? culossL1PenaltyForward : culossL2PenaltyForward;
    const auto backward = l1 ? culossL1PenaltyBackward : culossL2PenaltyBackward;
    const Tensor& w = c.input("params");
    const int64_t count = int64_t(w.data.size());
    const float lambda = float(c.num("lambda", 1));
    Workspace ws;
    ws.allocate(l1 ? culossL1PenaltyWorkspaceSize(count, CULOSS_DATA_FLOAT32, &ws.bytes)
                   : culossL2PenaltyWorkspaceSize(count, CULOSS_DATA_FLOAT32, &ws.bytes));
    Outputs fused;
    for (const int64_t offset : {0, 1}) {
        const Placed dw(w.floats(), offset), dloss(std::vector<float>(1), offset),
            dgrad(std::vector<float>(size_t(count)), offset);
        const float* go = nullptr;
        for (const test::Entry e : {test::Entry::Fused, test::Entry::Forward, test::Entry::Backward}) {
            const std::string what = std::string(test::entry_name(e)) + (offset ? " on unaligned buffers" : "");
            dloss.clear();
            dgrad.clear();
            const culossStatus_t st =
                e == test::Entry::Fused
                    ? fused_call(dw.get(), count, CULOSS_DATA_FLOAT32, lambda, go, dloss.get(), dgrad.get(), ws.get(),
                                 ws.bytes, test::stream())
                : e == test::Entry::Forward
                    ? forward(dw.get(), count, CULOSS_DATA_FLOAT32, lambda, dloss.get(), ws.get(), ws.bytes,
                              test::stream())
                    : backward(dw.get(), count, CULOSS_DATA_FLOAT32, lambda, go, dgrad.get(), ws.get(), ws.bytes,
                               test::stream());
            check(st, what.c_str());
            const Outputs out = outputs(count, {{"loss", {}, dloss.read()}, {"grad_params", w.shape, dgrad.read()}});
            if (e == test::Entry::Fused && offset == 0) {
                fused = out;
                continue;
            }
            expect_agrees(c, out, e, "grad_params", count, what);
        }
    }
    return fused;
}

// ------------------------------------------------------------------ triplet margin

Outputs run_triplet(const Case& c) {
    const culossReduction_t r = c.reduction("mean");
    const Tensor& a = c.input("anchor");
    const Case::Batch b = c.batch("anchor", "[N, D]");
    const int64_t n = b.n, d = b.k;
    c.expect_shape("positive", c.input("positive"), b.shape({d}));
    c.expect_shape("negative", c.input("negative"), b.shape({d}));
    const Optional dgo(c.grad_output(r, b.shape()));
    const std::vector<float> zeros(size_t(n * d));
    test::DeviceBuffer<float> da(a.floats()), dp(c.input("positive").floats()), dn(c.input("negative").floats()),
        dloss(std::vector<float>(test::loss_length(r, n))), ga(zeros), gp(zeros), gn(zeros);
    Workspace ws;
    ws.allocate(culossTripletMarginWorkspaceSize(n, d, CULOSS_DATA_FLOAT32, r, &ws.bytes));
    check(culossTripletMarginForwardBackward(da.get(), dp.get(), dn.get(), n, d, CULOSS_DATA_FLOAT32,
                                             float(c.num("margin", 1)), float(c.num("p", 2)),
                                             float(c.num("eps", 1e-6)), c.flag("swap", false) ? 1 : 0, r, dgo.get(),
                                             dloss.get(), ga.get(), gp.get(), gn.get(), ws.get(), ws.bytes,
                                             test::stream()),
          "culossTripletMarginForwardBackward");
    return outputs(n * d, {{"loss", loss_shape(r, b.shape()), dloss.read()}, {"grad_anchor", b.shape({d}), ga.read()},
                           {"grad_positive", b.shape({d}), gp.read()}, {"grad_negative", b.shape({d}), gn.read()}});
}

// ------------------------------------------------------------------ center

Outputs run_center(const Case& c) {
    const culossReduction_t r = c.reduction("mean");
    const Tensor& f = c.matrix("features", "[N, D]");
    const int64_t n = f.dim(0), d = f.dim(1);
    c.expect_shape("labels", c.input("labels"), {n});
    const Tensor& centers = c.input("centers");
    if (centers.shape.size() != 2 || centers.dim(1) != d) {
        throw CaseError("inputs.centers has shape " + shape_text(centers.shape) + ", not [C, " + std::to_string(d) + "]");
    }
    const int64_t k = centers.dim(0);
    const Optional dgo(c.grad_output(r, {n}));
    test::DeviceBuffer<float> dx(f.floats()), dc(centers.floats()), dloss(std::vector<float>(test::loss_length(r, n))),
        gf(std::vector<float>(size_t(n * d))), gc(std::vector<float>(size_t(k * d)));
    test::DeviceBuffer<int32_t> dy(c.input("labels").ints("inputs.labels")), word(std::vector<int32_t>(1));
    Workspace ws;
    ws.allocate(culossCenterLossWorkspaceSize(n, d, k, CULOSS_DATA_FLOAT32, r, &ws.bytes));
    const float lambda = float(c.num("lambda", 1)), alpha = float(c.num("alpha", 0.5));
    check(culossCenterLossForwardBackward(dx.get(), dy.get(), dc.get(), n, d, k, CULOSS_DATA_FLOAT32, lambda, r,
                                          dgo.get(), dloss.get(), gf.get(), gc.get(), ws.get(), ws.bytes, word.get(),
                                          test::stream()),
          "culossCenterLossForwardBackward");
    check(culossCenterLossUpdateCenters(dx.get(), dy.get(), dc.get(), n, d, k, CULOSS_DATA_FLOAT32, alpha, ws.get(),
                                        ws.bytes, word.get(), test::stream()),
          "culossCenterLossUpdateCenters");
    check_error_word(word);
    return outputs(n * d, {{"loss", loss_shape(r, {n}), dloss.read()}, {"grad_features", {n, d}, gf.read()},
                           {"grad_centers", {k, d}, gc.read()}, {"centers_after_update", {k, d}, dc.read()}});
}

// ------------------------------------------------------------------ large-margin softmax

// The fused call (with the modified logits) judges the case; forward alone and backward alone
// (each gradient by itself) must agree with the expected values too.
Outputs run_large_margin_softmax(const Case& c) {
    const culossReduction_t r = c.reduction("mean");
    const Tensor& f = c.matrix("features", "[N, D]");
    const Tensor& w = c.matrix("weights", "[D, C]");
    const int64_t n = f.dim(0), d = f.dim(1), k = w.dim(1);
    if (w.dim(0) != d) throw CaseError("inputs.weights has shape " + shape_text(w.shape) + ", not [D, C] with D " +
                                       std::to_string(d));
    c.expect_shape("targets", c.input("targets"), {n});
    const int margin = int(c.num("margin", 2));
    const float lambda = float(c.num("lambda", 0));
    const Optional dgo(c.grad_output(r, {n}));
    test::DeviceBuffer<float> dx(f.floats()), dw(w.floats()), dloss(std::vector<float>(test::loss_length(r, n))),
        dlogits(std::vector<float>(size_t(n * k))), gf(std::vector<float>(size_t(n * d))),
        gw(std::vector<float>(size_t(d * k)));
    test::DeviceBuffer<int32_t> dy(c.input("targets").ints("inputs.targets")), word(std::vector<int32_t>(1));
    Workspace ws;
    ws.allocate(culossLargeMarginSoftmaxWorkspaceSize(n, d, k, CULOSS_DATA_FLOAT32, r, &ws.bytes));
    const auto read = [&] {
        return outputs(n * std::max<int64_t>(d, k),
                       {{"loss", loss_shape(r, {n}), dloss.read()}, {"modified_logits", {n, k}, dlogits.read()},
                        {"grad_features", {n, d}, gf.read()}, {"grad_weights", {d, k}, gw.read()}});
    };
    check(culossLargeMarginSoftmaxForwardBackward(dx.get(), dw.get(), dy.get(), n, d, k, CULOSS_DATA_FLOAT32, margin,
                                                  lambda, r, dgo.get(), dloss.get(), dlogits.get(), gf.get(), gw.get(),
                                                  ws.get(), ws.bytes, word.get(), test::stream()),
          "culossLargeMarginSoftmaxForwardBackward");
    const Outputs fused = read();
    const auto clear = [](test::DeviceBuffer<float>& b, size_t size) { b.write(std::vector<float>(size, NAN)); };
    clear(dloss, size_t(test::loss_length(r, n)));
    check(culossLargeMarginSoftmaxForward(dx.get(), dw.get(), dy.get(), n, d, k, CULOSS_DATA_FLOAT32, margin, lambda,
                                          r, dloss.get(), nullptr, ws.get(), ws.bytes, word.get(), test::stream()),
          "culossLargeMarginSoftmaxForward");
    expect_agrees(c, read(), test::Entry::Forward, "grad_features", n * d, "forward");
    for (const bool features : {true, false}) {
        clear(gf, size_t(n * d));
        clear(gw, size_t(d * k));
        check(culossLargeMarginSoftmaxBackward(dx.get(), dw.get(), dy.get(), n, d, k, CULOSS_DATA_FLOAT32, margin,
                                               lambda, r, dgo.get(), nullptr, features ? gf.get() : nullptr,
                                               features ? nullptr : gw.get(), ws.get(), ws.bytes, word.get(),
                                               test::stream()),
              "culossLargeMarginSoftmaxBackward");
        expect_agrees(c, read(), test::Entry::Backward, features ? "grad_features" : "grad_weights",
                      features ? n * d : n * k, features ? "backward (features)" : "backward (weights)");
    }
    check_error_word(word);
    return fused;
}

// ------------------------------------------------------------------ the losses this runner knows

struct Loss {
    std::set<std::string> params, inputs, required;
    std::function<Outputs(const Case&)> run;
};

const std::map<std::string, Loss>& losses() {
    static std::map<std::string, Loss> all = {
        {"softmax_cross_entropy",
         {{"reduction", "label_smoothing", "ignore_index"}, {"logits", "targets", "target_probs", "class_weights", "grad_output"},
          {"loss", "grad_logits"},
          [](const Case& c) { return c.optional("target_probs") ? run_probs(c) : run_rows(c, Rows::CrossEntropy); }}},
        {"softmax_focal",
         {{"gamma", "reduction", "alpha", "ignore_index"}, {"logits", "targets", "class_alpha", "grad_output"},
          {"loss", "grad_logits"}, [](const Case& c) { return run_rows(c, Rows::Focal); }}},
        {"multiclass_hinge",
         {{"margin", "p", "reduction"}, {"scores", "targets", "class_weights", "grad_output"},
          {"loss", "grad_scores"}, run_multiclass_hinge}},
        {"zero_one", {{"reduction"}, {"scores", "targets"}, {"loss"}, run_zero_one}},
        {"interclass_distance",
         {{"reduction"}, {"logits", "targets", "grad_output"}, {"loss", "grad_logits"}, run_interclass_distance}},
        {"l1_penalty", {{"lambda"}, {"params"}, {"loss", "grad_params"}, [](const Case& c) { return run_penalty(c, true); }}},
        {"l2_penalty", {{"lambda"}, {"params"}, {"loss", "grad_params"}, [](const Case& c) { return run_penalty(c, false); }}},
        {"triplet_margin",
         {{"margin", "p", "eps", "swap", "reduction"}, {"anchor", "positive", "negative", "grad_output"},
          {"loss", "grad_anchor", "grad_positive", "grad_negative"}, run_triplet}},
        {"center",
         {{"lambda", "alpha", "reduction"}, {"features", "labels", "centers", "grad_output"},
          {"loss", "grad_features", "centers_after_update"}, run_center}},
        {"large_margin_softmax",
         {{"margin", "lambda", "reduction"}, {"features", "weights", "targets", "grad_output"},
          {"loss", "modified_logits", "grad_features", "grad_weights"}, run_large_margin_softmax}},
    };
    static const bool with_elementwise = [] {
        for (const auto& [name, e] : elementwise_losses()) {
            Loss l{{"reduction"}, {e.x, e.t, "grad_output"}, {"loss", e.grad},
                   [&e = e](const Case& c) { return run_elementwise(c, e); }};
            for (const auto& option : e.options) l.params.insert(option.first);
            if (name == "logistic") {  // PyTorch's weight tensors take entry points of their own
                l.inputs.insert({"weight", "pos_weight"});
                l.run = [&e = e](const Case& c) {
                    return c.optional("weight") || c.optional("pos_weight") ? run_logistic_weighted(c)
                                                                            : run_elementwise(c, e);
                };
            }
            all.emplace(name, std::move(l));
        }
        return true;
    }();
    (void)with_elementwise;
    return all;
}

// ------------------------------------------------------------------ reading and judging a case

std::string names(const std::set<std::string>& s) {
    std::string out = "[";
    for (const std::string& x : s) out += (out.size() > 1 ? ", " : "") + x;
    return out + "]";
}

Case read_case(const fs::path& file) {
    std::ifstream in(file);
    json j;
    try {
        j = json::parse(in);
    } catch (const json::exception& e) {
        throw CaseError(std::string("not JSON: ") + e.what());
    }
    if (!j.is_object()) throw CaseError("not a JSON object");
    static const std::set<std::string> fields = {"loss", "name", "dtype", "params", "inputs", "expected"};
    for (auto it = j.begin(); it != j.end(); ++it) {
        if (!fields.count(it.key())) throw CaseError("unknown field \"" + it.key() + "\"");
    }
    Case c;
    if (!j.contains("loss") || !j["loss"].is_string()) throw CaseError("no \"loss\"");
    c.loss = j["loss"].get<std::string>();
    c.name = j.contains("name") ? j["name"].get<std::string>() : file.stem().string();
    if (j.contains("dtype") && j["dtype"] != "float32") {
        throw CaseError("dtype " + j["dtype"].dump() + ": this runner computes float32 cases only");
    }
    if (j.contains("params")) c.params = j["params"];
    for (const char* part : {"inputs", "expected"}) {
        if (!j.contains(part) || !j[part].is_object()) throw CaseError(std::string("no \"") + part + "\"");
        auto& into = std::string(part) == "inputs" ? c.inputs : c.expected;
        for (auto it = j[part].begin(); it != j[part].end(); ++it) {
            into[it.key()] = tensor(it.value(), std::string(part) + "." + it.key());
        }
    }
    return c;
}

// The format's rule: relative L2 error within 1e-5 (2e-5 past 10^5 terms), NaN and inf in place.
std::string compare(const Tensor& out, const Tensor& ref, int64_t terms, double* rel) {
    const double tol = (terms > 100000 || ref.data.size() > 100000) ? 2e-5 : 1e-5;
    if (out.shape != ref.shape) return "shape " + shape_text(out.shape) + " produced, " + shape_text(ref.shape) + " expected";
    double diff2 = 0, ref2 = 0;
    for (size_t i = 0; i < ref.data.size(); ++i) {
        const double r = ref.data[i], o = out.data[i];
        if (!std::isfinite(r)) {
            if (std::isnan(r) ? !std::isnan(o) : o != r) {
                return "at " + std::to_string(i) + " expected " + std::to_string(r) + ", got " + std::to_string(o);
            }
            continue;
        }
        if (!std::isfinite(o)) return "at " + std::to_string(i) + " expected " + std::to_string(r) + ", got " + std::to_string(o);
        diff2 += (o - r) * (o - r);
        ref2 += r * r;
    }
    *rel = std::sqrt(diff2) / std::max(std::sqrt(ref2), 1e-12);
    if (*rel > tol) {
        char buf[96];
        std::snprintf(buf, sizeof buf, "relative error %.3e > %.0e", *rel, tol);
        return buf;
    }
    return "";
}

// "" when the case passes; else why it failed.
std::string judge(const fs::path& file, std::string* name, double* worst) {
    Case c;
    try {
        c = read_case(file);
        *name = c.name;
        auto it = losses().find(c.loss);
        if (it == losses().end()) throw CaseError("unknown loss \"" + c.loss + "\"");
        const Loss& loss = it->second;
        for (auto p = c.params.begin(); p != c.params.end(); ++p) {
            if (!loss.params.count(p.key())) throw CaseError("unknown param " + p.key() + " (it takes " + names(loss.params) + ")");
        }
        for (auto& [k, v] : c.inputs) {
            if (!loss.inputs.count(k)) throw CaseError("unknown input " + k + " (it takes " + names(loss.inputs) + ")");
        }
        for (const std::string& e : loss.required) {
            if (!c.expected.count(e)) throw CaseError("expected " + e + " missing");
        }
        const Outputs out = loss.run(c);
        std::string problems;
        for (auto& [k, ref] : c.expected) {
            auto o = out.tensors.find(k);
            if (o == out.tensors.end()) {
                problems += (problems.empty() ? "" : "; ") + k + ": the runner cannot produce it";
                continue;
            }
            double rel = 0;
            const std::string p = compare(o->second, ref, out.terms, &rel);
            if (!p.empty()) problems += (problems.empty() ? "" : "; ") + k + ": " + p;
            *worst = std::max(*worst, rel);
        }
        return problems;
    } catch (const CaseError& e) {
        return std::string("malformed case: ") + e.what();
    } catch (const std::exception& e) {
        return e.what();
    }
}

}  // namespace

int main(int argc, char** argv) {
    test::Context t;
    if (!t.device_available()) return 77;
    std::vector<fs::path> files;
    for (int i = 1; i < argc; ++i) {
        const fs::path p(argv[i]);
        if (fs::is_regular_file(p)) {
            files.push_back(p);
            continue;
        }
        for (const auto& e : fs::recursive_directory_iterator(p)) {
            if (e.is_regular_file() && e.path().extension() == ".json") files.push_back(e.path());
        }
    }
    std::sort(files.begin(), files.end());
    int passed = 0, failed = 0;
    for (const fs::path& f : files) {
        std::string name = f.stem().string();
        double worst = 0;
        const std::string problem = judge(f, &name, &worst);
        if (problem.empty()) {
            ++passed;
            std::printf("PASS %s (largest relative error %.1e)\n", name.c_str(), worst);
        } else {
            ++failed;
            std::printf("FAIL %s (%s): %s\n", name.c_str(), f.string().c_str(), problem.c_str());
        }
    }
    std::printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 && passed > 0 ? 0 : 1;
}
