// Large-margin softmax (L-Softmax, Liu et al., ICML 2016): forward, backward and the fused
// forward+backward.
//
// The passes (culoss.h gives the formula):
//  1. norms: |x_i| per row and |W_j| per class, in double.
//  2. the logits x W, a 16 x 16 tiled product summed in double; its epilogue replaces each row's
//     target logit by the margin form (from the double sum, not its float) and keeps, per row,
//     d f'_y / d f_y and the coefficients of the psi term along x_i and along W_y.
//  3. softmax cross-entropy on those rows, by the library's own entry points (its loss, and its
//     logit gradient G into the workspace).
//  4. per row, the target's gradient through f'_y: G_iy becomes G_iy d f'_y / d f_y, and the psi
//     term's coefficients are multiplied by G_iy.
//  5. grad_features = G W^T + (the psi term) x_i, and grad_weights = x^T G + (per class, the sum
//     of the psi term over the rows of that class, in row order) W_j: two more tiled products.
// Every sum is a double one in increasing index order (the tiles stage operands through shared
// memory; each output is one thread's sequential sum), so the results do not depend on the
// launch and equal the pure-Java backend's, which sums in the same order. The products are the
// simple kernels the issue allows: no tensor cores, no double buffering; see bench/ for what they
// reach.
#include <cmath>

#include "culoss/culoss.h"
#include "device.cuh"
#include "status.h"
#include "tensor_ranges.h"

namespace culoss {
namespace {

constexpr int kTile = 16;
constexpr int kTileThreads = kTile * kTile;
constexpr int kMaxMargin = 16;
constexpr int kRowThreads = 256;

// A matrix operand of a product: element (r, k) at p[r * row_step + k * col_step].
struct Matrix {
    const float* p;
    int64_t row_step, col_step;
};

// The boundaries cos(j pi / m), 0 < j < m, computed once on the host (a kernel's double cos
// would take the trigonometric slow path, with a stack frame, for every row).
struct Boundaries {
    double cos_at[kMaxMargin];
};

Boundaries boundaries(int m) {
    Boundaries b{};
    for (int j = 1; j < m; ++j) b.cos_at[j] = std::cos(j * 3.141592653589793 / m);
    return b;
}

// psi(theta) = (-1)^k cos(m theta) - 2k and d psi / d cos(theta), from cos(theta) alone:
// cos(m theta) = T_m(cos), d T_m / d cos = m U_{m-1}(cos) (the Chebyshev recurrences), k the
// boundaries at or above cos.
__device__ inline void psi_of(int m, const Boundaries& b, double cos_t, double* psi, double* dpsi) {
    int k = 0;
    for (int j = 1; j < m; ++j) {
        if (cos_t <= b.cos_at[j]) ++k;
    }
    double t_prev = 1.0, t = cos_t, u_prev = 0.0, u = 1.0;
    for (int q = 1; q < m; ++q) {
        const double t_next = 2.0 * cos_t * t - t_prev;
        t_prev = t;
        t = t_next;
        const double u_next = 2.0 * cos_t * u - u_prev;
        u_prev = u;
        u = u_next;
    }
    const double sign = (k & 1) ? -1.0 : 1.0;
    *psi = sign * t - 2.0 * k;
    *dpsi = sign * m * u;
}

// out[r, s] = sum_k A(r, k) B(k, s), r < rows, s < cols, k < inner, summed in double in
// increasing k; a block owns a 16 x 16 tile of out, and ep(r, s, sum) writes each entry. Tiles
// load along whichever index is contiguous in memory, so both plain and transposed operands
// are read coalesced.
template <class Epilogue>
__global__ void __launch_bounds__(kTileThreads)
    tiled_product_kernel(Matrix a, Matrix b, int64_t rows, int64_t cols, int64_t inner, int64_t col_tiles,
                         Epilogue ep) {
    CULOSS_SHARED(float, as, [kTile][kTile + 1]);
    CULOSS_SHARED(float, bs, [kTile][kTile + 1]);
    const int t = int(threadIdx.x);
    const int ty = t / kTile, tx = t % kTile;
    const int64_t r0 = int64_t(blockIdx.x) / col_tiles * kTile;
    const int64_t s0 = int64_t(blockIdx.x) % col_tiles * kTile;
    const int ar = a.col_step == 1 ? ty : tx, ak = a.col_step == 1 ? tx : ty;
    const int bk = b.col_step == 1 ? ty : tx, bc = b.col_step == 1 ? tx : ty;
    double acc = 0.0;
    for (int64_t k0 = 0; k0 < inner; k0 += kTile) {
        as[ar][ak] = r0 + ar < rows && k0 + ak < inner ? a.p[(r0 + ar) * a.row_step + (k0 + ak) * a.col_step] : 0.f;
        bs[bk][bc] = k0 + bk < inner && s0 + bc < cols ? b.p[(k0 + bk) * b.row_step + (s0 + bc) * b.col_step] : 0.f;
        __syncthreads();
        const int steps = int(inner - k0 < kTile ? inner - k0 : kTile);  // no padded terms in the sum
        for (int q = 0; q < steps; ++q) acc += double(as[ty][q]) * double(bs[q][tx]);
        __syncthreads();
    }
    if (r0 + ty < rows && s0 + tx < cols) ep(r0 + ty, s0 + tx, acc);
}

// Per row and per class: |x_i| (items [0, n)) and |W_j| (items [n, n + c)), in double.
__global__ void __launch_bounds__(kRowThreads)
    norms_kernel(const float* features, const float* weights, int64_t n, int64_t d, int64_t c, double* row_norm,
                 double* class_norm) {
    const int64_t item = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
    if (item < n) {
        double s = 0.0;
        for (int64_t k = 0; k < d; ++k) {
            const double v = features[item * d + k];
            s += v * v;
        }
        row_norm[item] = sqrt(s);
    } else if (item < n + c) {
        const int64_t j = item - n;
        double s = 0.0;
        for (int64_t k = 0; k < d; ++k) {
            const double v = weights[k * c + j];
            s += v * v;
        }
        class_norm[j] = sqrt(s);
    }
}

// What the backward needs of each row's target logit: d f'_y / d f_y, and the coefficients of
// the psi term's gradient along x_i and along W_y (multiplied by G_iy in pass 4).
struct RowTerms {
    double* slope;
    double* along_x;
    double* along_w;
};

// The logits' epilogue: the plain logit, or for the target the margin form.
struct MarginLogits {
    const int32_t* targets;
    const double* row_norm;
    const double* class_norm;
    int64_t c;
    int margin;
    Boundaries bounds;
    double lambda;
    float* logits;
    RowTerms terms;

    __device__ void operator()(int64_t r, int64_t s, double u) const {
        float out = float(u);
        if (targets[r] == s) {  // a bad target matches no class: its row stays plain
            const double inv = 1.0 / (1.0 + lambda);
            const double product = row_norm[r] * class_norm[s];
            if (product > 0.0) {
                double cos_t = u / product;  // clamped so that a NaN stays NaN (fmin/fmax would drop it)
                if (cos_t > 1.0) cos_t = 1.0;
                if (cos_t < -1.0) cos_t = -1.0;
                double psi, dpsi;
                psi_of(margin, bounds, cos_t, &psi, &dpsi);
                out = float((lambda * u + product * psi) * inv);
                const double coef = (psi - cos_t * dpsi) * inv;
                terms.slope[r] = (lambda + dpsi) * inv;
                terms.along_x[r] = coef * class_norm[s] / row_norm[r];
                terms.along_w[r] = coef * row_norm[r] / class_norm[s];
            } else {
                out = float(lambda * u * inv);
                terms.slope[r] = lambda * inv;
                terms.along_x[r] = 0.0;
                terms.along_w[r] = 0.0;
            }
        }
        logits[r * c + s] = out;
    }
};

// Pass 4, a thread per row.
__global__ void __launch_bounds__(kRowThreads)
    target_chain_kernel(const int32_t* targets, int64_t n, int64_t c, float* grad_logits, RowTerms terms) {
    const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i >= n) return;
    const int32_t y = targets[i];
    if (y < 0 || y >= c) {  // the cross-entropy pass flagged it and zeroed its gradient row
        terms.along_x[i] = 0.0;
        terms.along_w[i] = 0.0;
        return;
    }
    const double gy = grad_logits[i * c + y];
    grad_logits[i * c + y] = float(gy * terms.slope[i]);
    terms.along_x[i] = gy * terms.along_x[i];
    terms.along_w[i] = gy * terms.along_w[i];
}

// Per class, the psi term's coefficients of its rows, added in row order, and whether it has
// any row: a thread per class (every thread reads the same target at once).
__global__ void __launch_bounds__(kRowThreads)
    class_sums_kernel(const int32_t* targets, int64_t n, int64_t c, const double* along_w, double* class_sum,
                      double* class_rows) {
    const int64_t j = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
    if (j >= c) return;
    double s = 0.0, rows = 0.0;
    for (int64_t i = 0; i < n; ++i) {
        if (targets[i] == j) {
            s += along_w[i];
            rows += 1.0;
        }
    }
    class_sum[j] = s;
    class_rows[j] = rows;
}

struct FeatureGrad {
    const float* features;
    const double* along_x;
    int64_t d;
    float* out;
    __device__ void operator()(int64_t r, int64_t s, double acc) const {
        out[r * d + s] = float(acc + along_x[r] * double(features[r * d + s]));
    }
};

// A class no row targets has no psi term at all (not 0 times its weights, which is NaN for an
// infinite weight: PyTorch's graph has no such term either).
struct WeightGrad {
    const float* weights;
    const double* class_sum;
    const double* class_rows;
    int64_t c;
    float* out;
    __device__ void operator()(int64_t r, int64_t s, double acc) const {
        out[r * c + s] = float(class_rows[s] > 0.0 ? acc + class_sum[s] * double(weights[r * c + s]) : acc);
    }
};

template <class Epilogue>
culossStatus_t product(Matrix a, Matrix b, int64_t rows, int64_t cols, int64_t inner, const Epilogue& ep,
                       culossStream_t stream) {
    const int64_t row_tiles = (rows + kTile - 1) / kTile, col_tiles = (cols + kTile - 1) / kTile;
    return CULOSS_LAUNCH(tiled_product_kernel<Epilogue>, row_tiles * col_tiles, kTileThreads, stream, a, b, rows,
                         cols, inner, col_tiles, ep);
}

int64_t blocks_of(int64_t items) { return (items + kRowThreads - 1) / kRowThreads; }

// The workspace: doubles first (norms, row terms, class sums and row counts), then the modified logits when
// the caller wants none, the logit gradient, and the cross-entropy's own.
struct Regions {
    Size norms, terms, class_sums, logits, grad, ce, total;
};

Regions regions(int64_t n, int64_t c, size_t ce_bytes) {
    Regions r;
    r.norms = round_up16((Size(n) + Size(c)) * Size(sizeof(double)));
    r.terms = round_up16(Size(n) * Size(3 * sizeof(double)));
    r.class_sums = round_up16(Size(c) * Size(2 * sizeof(double)));
    r.logits = round_up16(Size(n) * Size(c) * Size(sizeof(float)));
    r.grad = r.logits;
    r.ce = round_up16(Size(ce_bytes));
    r.total = r.norms + r.terms + r.class_sums + r.logits + r.grad + r.ce;
    return r;
}

culossStatus_t check_shape(int64_t n, int64_t d, int64_t c) {
    CULOSS_REQUIRE(n >= 0, CULOSS_STATUS_INVALID_VALUE, "n (%lld) is negative", (long long)n);
    CULOSS_REQUIRE(d >= 1, CULOSS_STATUS_INVALID_VALUE, "d (%lld) is less than 1", (long long)d);
    CULOSS_REQUIRE(c >= 1, CULOSS_STATUS_INVALID_VALUE, "c (%lld) is less than 1", (long long)c);
    CULOSS_REQUIRE(n <= INT32_MAX, CULOSS_STATUS_INVALID_VALUE, "n (%lld) is more than 2^31 - 1", (long long)n);
    CULOSS_REQUIRE(d <= INT32_MAX, CULOSS_STATUS_INVALID_VALUE, "d (%lld) is more than 2^31 - 1", (long long)d);
    CULOSS_REQUIRE(c <= INT32_MAX, CULOSS_STATUS_INVALID_VALUE, "c (%lld) is more than 2^31 - 1", (long long)c);
    return CULOSS_STATUS_SUCCESS;
}

culossStatus_t workspace_bytes(int64_t n, int64_t d, int64_t c, culossReduction_t reduction, Size* out) {
    CULOSS_TRY(check_shape(n, d, c));
    CULOSS_REQUIRE(reduction >= CULOSS_REDUCTION_NONE && reduction <= CULOSS_REDUCTION_MEAN,
                   CULOSS_STATUS_INVALID_VALUE, "reduction (%d) is not NONE, SUM or MEAN", int(reduction));
    size_t ce = 0;
    CULOSS_TRY(culossSoftmaxCrossEntropyWorkspaceSize(n, c, CULOSS_DATA_FLOAT32, reduction, &ce));
    *out = regions(n, c, ce).total;
    return CULOSS_STATUS_SUCCESS;
}

culossStatus_t run(const float* features, const float* weights, const int32_t* targets, int64_t n, int64_t d,
                   int64_t c, int margin, float lambda, culossReduction_t reduction, const float* grad_output,
                   float* loss, float* modified_logits, float* grad_features, float* grad_weights, void* workspace,
                   size_t workspace_size, int32_t* error_word, culossStream_t stream) {
    clear_detail();
    Size needed;
    CULOSS_TRY(workspace_bytes(n, d, c, reduction, &needed));
    CULOSS_REQUIRE(margin >= 1 && margin <= kMaxMargin, CULOSS_STATUS_INVALID_VALUE, "margin (%d) is not in [1, %d]",
                   margin, kMaxMargin);
    CULOSS_REQUIRE(std::isfinite(lambda) && lambda >= 0.f, CULOSS_STATUS_INVALID_VALUE,
                   "lambda (%g) is not finite and at least 0", double(lambda));
    CULOSS_REQUIRE(features != nullptr || n == 0, CULOSS_STATUS_INVALID_VALUE, "features is null");
    CULOSS_REQUIRE(weights != nullptr, CULOSS_STATUS_INVALID_VALUE, "weights is null");
    CULOSS_REQUIRE(targets != nullptr || n == 0, CULOSS_STATUS_INVALID_VALUE, "targets is null");
    CULOSS_REQUIRE_ALIGNED(features, 4);
    CULOSS_REQUIRE_ALIGNED(weights, 4);
    CULOSS_REQUIRE_ALIGNED(targets, 4);
    CULOSS_REQUIRE_ALIGNED(grad_output, 4);
    CULOSS_REQUIRE_ALIGNED(loss, 4);
    CULOSS_REQUIRE_ALIGNED(modified_logits, 4);
    CULOSS_REQUIRE_ALIGNED(grad_features, 4);
    CULOSS_REQUIRE_ALIGNED(grad_weights, 4);
    CULOSS_REQUIRE_ALIGNED(error_word, 4);
    CULOSS_REQUIRE_ALIGNED(workspace, 16);
    const bool reduced = reduction != CULOSS_REDUCTION_NONE;
    const bool grads = grad_features || grad_weights;
    TensorRanges ranges;  // no output over any input: both products read both inputs whole
    ranges.input("features", features, contiguous(n * d));
    ranges.input("weights", weights, contiguous(d * c));
    ranges.input("targets", targets, contiguous(n, sizeof(int32_t)));
    ranges.input("grad_output", grads ? grad_output : nullptr, contiguous(reduced ? 1 : n));
    ranges.output("loss", loss, contiguous(reduced ? 1 : n));
    ranges.output("modified_logits", modified_logits, strided_rows(n, c, c));
    ranges.output("grad_features", grad_features, strided_rows(n, d, d));
    ranges.output("grad_weights", grad_weights, strided_rows(d, c, c));
    ranges.output("error_word", error_word, contiguous(1, sizeof(int32_t)));
    CULOSS_TRY(ranges.check());
    CULOSS_TRY(ranges.workspace(workspace, workspace_size, needed));
    CULOSS_TRY(ranges.check());
    const culossStatus_t ready = device_ready();
    if (ready != CULOSS_STATUS_SUCCESS) return ready;

    if (n == 0) {  // no rows: a reduced loss of 0, no weight gradient
        if (loss && reduced) CULOSS_TRY(culossMemsetAsync(loss, 0, sizeof(float), stream));
        if (grad_weights) CULOSS_TRY(culossMemsetAsync(grad_weights, 0, size_t(d * c) * sizeof(float), stream));
        return CULOSS_STATUS_SUCCESS;
    }

    size_t ce_bytes = 0;
    CULOSS_TRY(culossSoftmaxCrossEntropyWorkspaceSize(n, c, CULOSS_DATA_FLOAT32, reduction, &ce_bytes));
    const Regions reg = regions(n, c, ce_bytes);
    char* ws = static_cast<char*>(workspace);
    double* row_norm = reinterpret_cast<double*>(ws);
    double* class_norm = row_norm + n;
    ws += reg.norms.value;
    const RowTerms terms{reinterpret_cast<double*>(ws), reinterpret_cast<double*>(ws) + n,
                         reinterpret_cast<double*>(ws) + 2 * n};
    ws += reg.terms.value;
    double* class_sum = reinterpret_cast<double*>(ws);
    ws += reg.class_sums.value;
    float* logits = modified_logits ? modified_logits : reinterpret_cast<float*>(ws);
    ws += reg.logits.value;
    float* grad_logits = reinterpret_cast<float*>(ws);
    ws += reg.grad.value;
    void* ce_ws = ce_bytes ? ws : nullptr;

    CULOSS_TRY(CULOSS_LAUNCH(norms_kernel, blocks_of(n + c), kRowThreads, stream, features, weights, n, d, c, row_norm,
                             class_norm));
    const MarginLogits margin_logits{targets, row_norm, class_norm, c, margin, boundaries(margin), double(lambda),
                                     logits, terms};
    CULOSS_TRY(product(Matrix{features, d, 1}, Matrix{weights, c, 1}, n, c, d, margin_logits, stream));

    if (loss && grads) {
        CULOSS_TRY(culossSoftmaxCrossEntropyForwardBackward(logits, c, targets, n, c, CULOSS_DATA_FLOAT32, nullptr,
                                                            CULOSS_NO_IGNORE_INDEX, 0.f, reduction, grad_output, loss,
                                                            grad_logits, c, ce_ws, ce_bytes, error_word, stream));
    } else if (loss) {
        return culossSoftmaxCrossEntropyForward(logits, c, targets, n, c, CULOSS_DATA_FLOAT32, nullptr,
                                                CULOSS_NO_IGNORE_INDEX, 0.f, reduction, loss, ce_ws, ce_bytes,
                                                error_word, stream);
    } else {
        CULOSS_TRY(culossSoftmaxCrossEntropyBackward(logits, c, targets, n, c, CULOSS_DATA_FLOAT32, nullptr,
                                                     CULOSS_NO_IGNORE_INDEX, 0.f, reduction, grad_output,
                                                     grad_logits, c, ce_ws, ce_bytes, error_word, stream));
    }
    if (!grads) return CULOSS_STATUS_SUCCESS;

    CULOSS_TRY(CULOSS_LAUNCH(target_chain_kernel, blocks_of(n), kRowThreads, stream, targets, n, c, grad_logits,
                             terms));
    if (grad_features) {  // G W^T: A(i, j) = G[i, j], B(j, k) = W[k, j]
        CULOSS_TRY(product(Matrix{grad_logits, c, 1}, Matrix{weights, 1, c}, n, d, c,
                           FeatureGrad{features, terms.along_x, d, grad_features}, stream));
    }
    if (grad_weights) {  // x^T G: A(k, i) = x[i, k], B(i, j) = G[i, j]
        CULOSS_TRY(CULOSS_LAUNCH(class_sums_kernel, blocks_of(c), kRowThreads, stream, targets, n, c, terms.along_w,
                                 class_sum, class_sum + c));
        CULOSS_TRY(product(Matrix{features, 1, d}, Matrix{grad_logits, c, 1}, d, c, n,
                           WeightGrad{weights, class_sum, class_sum + c, c, grad_weights}, stream));
    }
    return CULOSS_STATUS_SUCCESS;
}

}  // namespace
}  // namespace culoss

extern "C" {

culossStatus_t culossLargeMarginSoftmaxWorkspaceSize(int64_t n, int64_t d, int64_t c, culossDataType_t dtype,
                                                     culossReduction_t reduction, size_t* bytes) {
    CULOSS_REQUIRE_FLOAT32(dtype);
    culoss::clear_detail();
    CULOSS_REQUIRE(bytes != nullptr, CULOSS_STATUS_INVALID_VALUE, "bytes is null");
    culoss::Size needed;
    CULOSS_TRY(culoss::workspace_bytes(n, d, c, reduction, &needed));
    CULOSS_REQUIRE(needed.fits, CULOSS_STATUS_INVALID_VALUE,
                   "the workspace of these sizes is more bytes than a size_t holds");
    *bytes = needed.value;
    return CULOSS_STATUS_SUCCESS;
}

culossStatus_t culossLargeMarginSoftmaxForward(const float* features, const float* weights, const int32_t* targets,
                                               int64_t n, int64_t d, int64_t c, culossDataType_t dtype, int margin,
                                               float lambda, culossReduction_t reduction, float* loss,
                                               float* modified_logits, void* workspace, size_t workspace_bytes,
                                               int32_t* error_word, culossStream_t stream) {
    CULOSS_REQUIRE_FLOAT32(dtype);
    CULOSS_REQUIRE(loss != nullptr || (n == 0 && reduction == CULOSS_REDUCTION_NONE), CULOSS_STATUS_INVALID_VALUE,
                   "loss is null");
    return culoss::run(features, weights, targets, n, d, c, margin, lambda, reduction, nullptr, loss, modified_logits,
                       nullptr, nullptr, workspace, workspace_bytes, error_word, stream);
}

culossStatus_t culossLargeMarginSoftmaxBackward(const float* features, const float* weights, const int32_t* targets,
                                                int64_t n, int64_t d, int64_t c, culossDataType_t dtype, int margin,
                                                float lambda, culossReduction_t reduction, const float* grad_output,
                                                float* modified_logits, float* grad_features, float* grad_weights,
                                                void* workspace, size_t workspace_bytes, int32_t* error_word,
                                                culossStream_t stream) {
    CULOSS_REQUIRE_FLOAT32(dtype);
    CULOSS_REQUIRE(grad_features != nullptr || grad_weights != nullptr, CULOSS_STATUS_INVALID_VALUE,
                   "grad_features and grad_weights are both null");
    return culoss::run(features, weights, targets, n, d, c, margin, lambda, reduction, grad_output, nullptr,
                       modified_logits, grad_features, grad_weights, workspace, workspace_bytes, error_word, stream);
}

culossStatus_t culossLargeMarginSoftmaxForwardBackward(const float* features, const float* weights,
                                                       const int32_t* targets, int64_t n, int64_t d, int64_t c,
                                                       culossDataType_t dtype, int margin, float lambda,
                                                       culossReduction_t reduction, const float* grad_output,
                                                       float* loss, float* modified_logits, float* grad_features,
                                                       float* grad_weights, void* workspace, size_t workspace_bytes,
                                                       int32_t* error_word, culossStream_t stream) {
    CULOSS_REQUIRE_FLOAT32(dtype);
    CULOSS_REQUIRE(loss != nullptr || (n == 0 && reduction == CULOSS_REDUCTION_NONE), CULOSS_STATUS_INVALID_VALUE,
                   "loss is null");
    CULOSS_REQUIRE(grad_features != nullptr || grad_weights != nullptr, CULOSS_STATUS_INVALID_VALUE,
                   "grad_features and grad_weights are both null");
    return culoss::run(features, weights, targets, n, d, c, margin, lambda, reduction, grad_output, loss,
                       modified_logits, grad_features, grad_weights, workspace, workspace_bytes, error_word, stream);
}

}  // extern "C"
