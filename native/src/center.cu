// Center loss (Wen et al., ECCV 2016): forward, backward, the fused forward+backward, and the
// center update.
//
// The loss pass: a group of lanes (a power of two up to a warp, chosen from D) owns a row; it
// reads the feature row and its center once (16-byte loads when D % 4 == 0 and the buffers are
// aligned, scalar otherwise), reduces ||x_i - c_{y_i}||^2 within the group and writes the
// feature gradient in the same pass. sum/mean add the per-row losses with deterministic_sum.
//
// The per-class sums (the center gradient and the center update) are deterministic: no float
// atomics anywhere, so the same inputs give the same bits on every run.
//  1. A stable LSD radix sort of the sample indices by key (the label; C for a label outside
//     [0, C), which sorts those rows to the end where nothing reads them), using integer work
//     only: 6-bit digits, ceil(bit_width(C) / 6) passes (one pass up to C = 63, two up to 4095,
//     three up to 262143). Each pass splits the n keys into chunks of 1024 (8 consecutive keys
//     per thread, 128 threads); a histogram kernel counts each chunk's digits; one block scans the
//     [64 digits][chunks] table digit-major; a scatter kernel gives every key its stable place:
//     the scanned table entry of its (digit, chunk), plus the count of the same digit held by
//     earlier threads of its chunk (a block scan of a [64][128] table in shared memory), plus its
//     rank among the thread's own earlier keys. The table is 64 ints per 1024 keys whatever C is,
//     which is why this is a radix sort rather than a one-pass counting sort with a
//     [chunks][C] table (50 000 classes would make that table 200 KB per chunk).
//     Then class_start[j] = the first sorted position with key >= j (C + 2 entries), so class j
//     holds sorted positions [class_start[j], class_start[j + 1]) and n_j is their count.
//  2. A segmented sum over the sorted order in tiles of T positions (T a function of n only: at
//     least 16, and doubled until there are at most 2048 tiles, so that both passes below stay
//     short for any class distribution, including all n samples in one class, and small batches
//     still spread over many blocks). A block owns a tile, its threads the columns (coalesced row
//     reads), and walks the tile's positions in order, adding w_i * (c_j - x_i) per column (x_i
//     for the update). A class that lies inside the tile is finished there; a class that crosses
//     a tile boundary leaves its partial row in the workspace (slot 0: the tile's first class,
//     begun in an earlier tile; slot 1: a class begun in this tile that goes on past it). A
//     second kernel finishes each crossing class in the tile where it ends, adding its partials
//     in tile order.
// Each class's sum is therefore always added in the order (sorted index, tile), a function of the
// labels and n only.
#include <algorithm>
#include <climits>

#include "culoss/culoss.h"
#include "device.cuh"
#include "reduce.cuh"
#include "status.h"
#include "tensor_ranges.h"

namespace culoss {
namespace {

// ------------------------------------------------------------------------------------------
// Small vectors of VEC floats (VEC = 4: one 16-byte load).

__host__ __device__ __forceinline__ int64_t imin(int64_t a, int64_t b) { return a < b ? a : b; }

// ------------------------------------------------------------------------------------------
// The loss pass.

constexpr int kRowThreads = 256;

struct RowArgs {
    const float* features;
    const int32_t* labels;
    const float* centers;
    int64_t n, d, c;
    float lambda;
    int reduction;
    float scale;               // 1/n for MEAN, else 1
    const float* grad_output;  // null: 1
    float* row_loss;           // per-row losses (the user's output for NONE, workspace else) or null
    float* grad;               // grad_features, or null
    int32_t* error_word;       // may be null
    int tpr;                   // lanes per row: a power of two, at most 32
};

template <int VEC>
__global__ void __launch_bounds__(kRowThreads) center_rows_kernel(RowArgs a) {
    const int tpr = a.tpr;
    const int lane = int(threadIdx.x) % tpr;
    const int64_t row = int64_t(blockIdx.x) * (blockDim.x / tpr) + threadIdx.x / tpr;
    // No early return: every lane of a warp reaches the shuffles below.
    const bool in_range = row < a.n;
    const int32_t label = in_range ? __ldg(a.labels + row) : 0;
    const bool counted = in_range && label >= 0 && label < a.c;
    if (in_range && !counted && lane == 0 && a.error_word) {
        atomicOr(a.error_word, int32_t(CULOSS_DEVICE_ERROR_BAD_TARGET));
    }
    const int64_t units = a.d / VEC;
    float acc = 0.f;
    if (counted) {
        float coef = 0.f;
        if (a.grad) {
            const float g = a.grad_output ? __ldg(a.grad_output + (a.reduction == CULOSS_REDUCTION_NONE ? row : 0)) : 1.f;
            coef = a.lambda * (g * a.scale);
        }
        const float* x = a.features + row * a.d;
        const float* cy = a.centers + int64_t(label) * a.d;
        float* gr = a.grad ? a.grad + row * a.d : nullptr;
        for (int64_t u = lane; u < units; u += tpr) {
            const Chunk<VEC> xv = load_chunk<VEC>(x + u * VEC);
            const Chunk<VEC> cv = load_chunk<VEC>(cy + u * VEC);
            Chunk<VEC> out;
#pragma unroll
            for (int e = 0; e < VEC; ++e) {
                const float diff = xv.v[e] - cv.v[e];
                acc += diff * diff;
                out.v[e] = coef * diff;
            }
            if (gr) store_chunk<VEC>(gr + u * VEC, out);
        }
    } else if (in_range && a.grad) {  // a bad label: the row counts for nothing
        float* gr = a.grad + row * a.d;
        Chunk<VEC> zero;
#pragma unroll
        for (int e = 0; e < VEC; ++e) zero.v[e] = 0.f;
        for (int64_t u = lane; u < units; u += tpr) store_chunk<VEC>(gr + u * VEC, zero);
    }
    for (int offset = tpr / 2; offset > 0; offset >>= 1) acc += shfl_xor(acc, offset);
    if (in_range && lane == 0 && a.row_loss) a.row_loss[row] = (0.5f * a.lambda) * acc;
}

struct RowLoss {
    const float* row_loss;
    __device__ float operator()(int64_t i) const { return row_loss[i]; }
};

struct FinishLoss {
    float* loss;
    float divisor;  // n for MEAN, else 0 (no division)
    __device__ void operator()(double total) const { *loss = float(divisor > 0.f ? total / double(divisor) : total); }
};

// ------------------------------------------------------------------------------------------
// The stable radix sort of the sample indices by label.

constexpr int kSortBits = 6;
constexpr int kBuckets = 1 << kSortBits;
constexpr int kSortThreads = 128;
constexpr int kSortItems = 8;
constexpr int kSortChunk = kSortThreads * kSortItems;
constexpr int kScanThreads = 256;
static_assert(kBuckets <= kSortThreads, "the scatter kernel gives each digit a thread");

struct SortPass {
    const int32_t* labels;  // pass 0: keys from the labels, values the indices; else null
    const int32_t* keys_in;
    const int32_t* vals_in;
    int32_t* keys_out;
    int32_t* vals_out;
    int32_t* table;  // [kBuckets][chunks]
    int64_t n;
    int32_t c;
    int shift;
    int64_t chunks;
    int32_t* error_word;
};

__device__ __forceinline__ int32_t sort_key(const SortPass& p, int64_t i) {
    if (p.labels) {
        const int32_t y = __ldg(p.labels + i);
        return y >= 0 && y < p.c ? y : p.c;
    }
    return p.keys_in[i];
}

__device__ __forceinline__ int digit_of(int32_t key, int shift) { return (key >> shift) & (kBuckets - 1); }

// Exclusive prefix sum over the block (blockDim.x a multiple of 32, at most 1024).
__device__ int32_t block_exclusive_scan(int32_t v) {
    CULOSS_SHARED(int32_t, warp_totals, [32]);
    const int lane = int(threadIdx.x % 32);
    const int warp = int(threadIdx.x / 32);
    int32_t x = v;
    for (int offset = 1; offset < 32; offset <<= 1) {
        const int32_t y = __shfl_sync(kFullMask, x, lane >= offset ? lane - offset : lane);
        if (lane >= offset) x += y;
    }
    if (lane == 31) warp_totals[warp] = x;
    __syncthreads();
    int32_t before = 0;
    for (int w = 0; w < warp; ++w) before += warp_totals[w];
    __syncthreads();  // warp_totals may be written again by a later call
    return before + x - v;
}

__global__ void __launch_bounds__(kSortThreads) sort_histogram_kernel(SortPass p) {
    CULOSS_SHARED(int32_t, hist, [kBuckets]);
    for (int b = threadIdx.x; b < kBuckets; b += blockDim.x) hist[b] = 0;
    __syncthreads();
    const int64_t base = int64_t(blockIdx.x) * kSortChunk;
    for (int k = threadIdx.x; k < kSortChunk; k += blockDim.x) {
        const int64_t i = base + k;
        if (i >= p.n) break;
        const int32_t key = sort_key(p, i);
        if (p.labels && key == p.c && p.error_word) atomicOr(p.error_word, int32_t(CULOSS_DEVICE_ERROR_BAD_TARGET));
        atomicAdd(&hist[digit_of(key, p.shift)], 1);  // integer counts: the order does not matter
    }
    __syncthreads();
    for (int b = threadIdx.x; b < kBuckets; b += blockDim.x) p.table[b * p.chunks + blockIdx.x] = hist[b];
}

// One block: the exclusive prefix sum of the table, digit-major, in place.
__global__ void __launch_bounds__(kScanThreads) sort_scan_kernel(int32_t* table, int64_t m) {
    const int64_t per = (m + blockDim.x - 1) / blockDim.x;
    const int64_t begin = imin(m, int64_t(threadIdx.x) * per);
    const int64_t end = imin(m, begin + per);
    int32_t sum = 0;
    for (int64_t i = begin; i < end; ++i) sum += table[i];
    int32_t prefix = block_exclusive_scan(sum);
    for (int64_t i = begin; i < end; ++i) {
        const int32_t v = table[i];
        table[i] = prefix;
        prefix += v;
    }
}

__global__ void __launch_bounds__(kSortThreads) sort_scatter_kernel(SortPass p) {
    CULOSS_SHARED(int32_t, counts, [kBuckets][kSortThreads]);  // [digit][thread], then each thread's cursor
    CULOSS_SHARED(int32_t, base, [kBuckets]);
    const int t = int(threadIdx.x);
    for (int b = 0; b < kBuckets; ++b) counts[b][t] = 0;
    const int64_t first = int64_t(blockIdx.x) * kSortChunk + int64_t(t) * kSortItems;
    int32_t keys[kSortItems];
#pragma unroll
    for (int k = 0; k < kSortItems; ++k) {
        const int64_t i = first + k;
        keys[k] = i < p.n ? sort_key(p, i) : -1;
        if (keys[k] >= 0) ++counts[digit_of(keys[k], p.shift)][t];  // only this thread's column
    }
    __syncthreads();
    // Exclusive scan of the table flattened digit-major (so the order is digit, thread, item:
    // stable): each thread owns kPer consecutive entries.
    constexpr int kPer = kBuckets * kSortThreads / kSortThreads;  // 64 entries each
    int32_t* flat = &counts[0][0];
    int32_t sum = 0;
    for (int e = 0; e < kPer; ++e) sum += flat[t * kPer + e];
    int32_t prefix = block_exclusive_scan(sum);  // its barriers order the reads above before the writes
    for (int e = 0; e < kPer; ++e) {
        const int32_t v = flat[t * kPer + e];
        flat[t * kPer + e] = prefix;
        prefix += v;
    }
    __syncthreads();
    if (t < kBuckets) base[t] = p.table[t * p.chunks + blockIdx.x] - counts[t][0];
    __syncthreads();
#pragma unroll
    for (int k = 0; k < kSortItems; ++k) {
        if (keys[k] < 0) continue;
        const int64_t i = first + k;
        const int dg = digit_of(keys[k], p.shift);
        const int32_t pos = base[dg] + counts[dg][t]++;
        p.keys_out[pos] = keys[k];
        p.vals_out[pos] = p.labels ? int32_t(i) : p.vals_in[i];
    }
}

// class_start[j] = the first sorted position whose key is >= j, for j in [0, c + 1].
__global__ void __launch_bounds__(128) class_start_kernel(const int32_t* keys, int64_t n, int32_t c,
                                                          int32_t* class_start) {
    const int64_t p = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
    if (p > n) return;
    const int64_t prev = p > 0 ? keys[p - 1] : -1;
    const int64_t cur = p < n ? keys[p] : int64_t(c) + 1;
    for (int64_t j = prev + 1; j <= cur; ++j) class_start[j] = int32_t(p);
}

// ------------------------------------------------------------------------------------------
// The segmented per-class sums over the sorted order.

enum SegMode { kUpdate = 0, kGrad = 1 };

struct SegArgs {
    const float* features;
    const int32_t* perm;         // sorted sample indices
    const int32_t* keys;         // their labels (C past the valid ones)
    const int32_t* class_start;  // [c + 2]
    const float* centers;        // read; written in place by kUpdate
    float* out;                  // kUpdate: the centers; kGrad: grad_centers
    float* partials;             // [tiles][2][d]
    int64_t n, d;
    int32_t c;
    int64_t tile;
    int mode;
    float alpha;               // kUpdate
    float lambda;              // kGrad
    float scale;               // kGrad: 1/n for MEAN, else 1
    int reduction;             // kGrad
    const float* grad_output;  // kGrad: null: 1
};

// kGrad: the sample weight (the upstream gradient of its row for NONE, else 1) and the factor
// applied to a class's sum, lambda * scale * g, so that grad_c = factor * sum w_i (c - x_i).
__device__ __forceinline__ float sample_weight(const SegArgs& a, int32_t i) {
    if (a.mode == kGrad && a.reduction == CULOSS_REDUCTION_NONE && a.grad_output) return __ldg(a.grad_output + i);
    return 1.f;
}

__device__ __forceinline__ float class_factor(const SegArgs& a) {
    if (a.mode != kGrad) return 0.f;
    const float g = a.reduction != CULOSS_REDUCTION_NONE && a.grad_output ? __ldg(a.grad_output) : 1.f;
    return a.lambda * (a.scale * g);
}

// Writes class j's result for column unit u from c_j and acc: sum_i w_i (c_j - x_i) for the
// gradient, sum_i x_i for the update.
template <int VEC>
__device__ __forceinline__ void finish_class(const SegArgs& a, int32_t j, int64_t u, const Chunk<VEC>& acc,
                                             const Chunk<VEC>& cj, float factor) {
    Chunk<VEC> r;
    if (a.mode == kUpdate) {
        // c - alpha sum (c - x_i) / (1 + n) as (c (1 + n (1 - alpha)) + alpha sum x_i) / (1 + n): the
        // first cancels about n-fold when the centers are far from the batch and alpha is 1. In
        // double, as the java backend: alpha sum x_i may pass FLT_MAX where the result does not
        // (a float product gave inf - inf = NaN where the java backend has the double's answer).
        const double count = double(a.class_start[j + 1] - a.class_start[j]);
        const double keep = 1.0 + count * (1.0 - double(a.alpha));
        const double denom = 1.0 + count;
#pragma unroll
        for (int e = 0; e < VEC; ++e) {
            r.v[e] = float((double(cj.v[e]) * keep + double(a.alpha) * double(acc.v[e])) / denom);
        }
    } else {
#pragma unroll
        for (int e = 0; e < VEC; ++e) r.v[e] = factor * acc.v[e];
    }
    store_chunk<VEC>(a.out + int64_t(j) * a.d + u * VEC, r);
}

template <int VEC>
__global__ void __launch_bounds__(256) segment_tiles_kernel(SegArgs a) {
    const int64_t valid = a.class_start[a.c];  // rows with a label in [0, c)
    const int64_t p0 = int64_t(blockIdx.x) * a.tile;
    if (p0 >= valid) return;
    const int64_t p1 = imin(valid, p0 + a.tile);
    const int64_t units = a.d / VEC;
    const float factor = class_factor(a);
    for (int64_t u = threadIdx.x; u < units; u += blockDim.x) {
        int32_t cur = a.keys[p0];
        Chunk<VEC> cj = load_chunk<VEC>(a.centers + int64_t(cur) * a.d + u * VEC);
        Chunk<VEC> acc;
#pragma unroll
        for (int e = 0; e < VEC; ++e) acc.v[e] = 0.f;
        for (int64_t p = p0;; ++p) {
            const int32_t j = p < p1 ? a.keys[p] : -1;
            if (j != cur) {  // class `cur` ends here (or at the tile's end)
                const int64_t s = a.class_start[cur];
                const int64_t e_ = a.class_start[cur + 1];
                if (s >= p0 && e_ <= p0 + a.tile) {
                    finish_class<VEC>(a, cur, u, acc, cj, factor);
                } else {
                    float* slot = a.partials + (int64_t(blockIdx.x) * 2 + (s < p0 ? 0 : 1)) * a.d + u * VEC;
                    store_chunk<VEC>(slot, acc);
                }
                if (p >= p1) break;
                cur = j;
                cj = load_chunk<VEC>(a.centers + int64_t(cur) * a.d + u * VEC);
#pragma unroll
                for (int e = 0; e < VEC; ++e) acc.v[e] = 0.f;
            }
            const int32_t i = a.perm[p];
            const float w = sample_weight(a, i);
            const Chunk<VEC> xv = load_chunk<VEC>(a.features + int64_t(i) * a.d + u * VEC);
            if (a.mode == kUpdate) {  // sum x_i (see finish_class)
#pragma unroll
                for (int e = 0; e < VEC; ++e) acc.v[e] += xv.v[e];
            } else {
#pragma unroll
                for (int e = 0; e < VEC; ++e) acc.v[e] += w * (cj.v[e] - xv.v[e]);
            }
        }
    }
}

// Finishes the class that begins before tile blockIdx.x and ends in it, if there is one.
template <int VEC>
__global__ void __launch_bounds__(256) segment_fixup_kernel(SegArgs a) {
    const int64_t valid = a.class_start[a.c];
    const int64_t p0 = int64_t(blockIdx.x) * a.tile;
    if (p0 >= valid) return;
    const int32_t j = a.keys[p0];
    const int64_t s = a.class_start[j];
    const int64_t e_ = a.class_start[j + 1];
    if (!(s < p0 && e_ <= p0 + a.tile)) return;
    const int64_t t0 = s / a.tile;
    const int64_t units = a.d / VEC;
    const float factor = class_factor(a);
    for (int64_t u = threadIdx.x; u < units; u += blockDim.x) {
        Chunk<VEC> acc = load_chunk<VEC>(a.partials + (t0 * 2 + 1) * a.d + u * VEC);
        for (int64_t t = t0 + 1; t <= int64_t(blockIdx.x); ++t) {
            const Chunk<VEC> part = load_chunk<VEC>(a.partials + (t * 2) * a.d + u * VEC);
#pragma unroll
            for (int e = 0; e < VEC; ++e) acc.v[e] += part.v[e];
        }
        const Chunk<VEC> cj = load_chunk<VEC>(a.centers + int64_t(j) * a.d + u * VEC);
        finish_class<VEC>(a, j, u, acc, cj, factor);
    }
}

// grad_centers rows of the classes no sample has are zero.
__global__ void __launch_bounds__(128) zero_absent_kernel(const int32_t* class_start, int64_t c, int64_t d,
                                                          float* out) {
    const int64_t total = c * d;
    const int64_t step = int64_t(gridDim.x) * blockDim.x;
    for (int64_t k = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; k < total; k += step) {
        const int64_t j = k / d;
        if (class_start[j + 1] == class_start[j]) out[k] = 0.f;
    }
}

// ------------------------------------------------------------------------------------------
// Host side: workspace layout and launches.

int64_t sort_chunks(int64_t n) { return (n + kSortChunk - 1) / kSortChunk; }

// Tile of the segmented sum: a power of two in [16, 4096], the smallest that gives at most 2048
// tiles. Small tiles spread a small batch over many blocks (each thread walks T samples in a
// dependent chain); the cap on the tile count bounds the fix-up (at most n / T partials for one
// class) and the partials in the workspace (2 d floats per tile).
int64_t segment_tile(int64_t n) {
    int64_t t = 16;
    while (t < 4096 && n > 2048 * t) t *= 2;
    return t;
}

int64_t segment_tiles(int64_t n) { return (n + segment_tile(n) - 1) / segment_tile(n); }

// [row losses + reduction partials][sort keys x2, values x2, digit table, class_start][partials]
Size row_region_bytes(int64_t n) {
    if (n == 0) return Size(0);
    return Size(partial_sums_bytes(reduce_blocks(n))) + round_up16(Size(n) * Size(sizeof(float)));
}

// The parts of the sort region, in order (sort_by_label lays them out).
Size sort_keys_bytes(int64_t n) { return round_up16(Size(n) * Size(sizeof(int32_t))); }  // each of 4
Size sort_table_bytes(int64_t n) { return round_up16(Size(kBuckets) * Size(sort_chunks(n)) * Size(sizeof(int32_t))); }
Size class_start_bytes(int64_t c) { return round_up16((Size(c) + Size(2)) * Size(sizeof(int32_t))); }

Size sort_region_bytes(int64_t n, int64_t d, int64_t c) {
    if (n == 0) return Size(0);
    return Size(4) * sort_keys_bytes(n) + sort_table_bytes(n) + class_start_bytes(c) +
           round_up16(Size(segment_tiles(n)) * Size(2) * Size(d) * Size(sizeof(float)));
}

// What every center-loss call with these sizes may use (the query's answer).
Size center_workspace_bytes(int64_t n, int64_t d, int64_t c) { return row_region_bytes(n) + sort_region_bytes(n, d, c); }

int bit_width(int64_t v) {
    int bits = 0;
    while (v > 0) {
        ++bits;
        v >>= 1;
    }
    return bits;
}

struct Sorted {
    const int32_t* keys;
    const int32_t* perm;
    const int32_t* class_start;
    float* partials;
};

// Sorts the indices by label into the sort region and computes class_start.
[[nodiscard]] culossStatus_t sort_by_label(const int32_t* labels, int64_t n, int64_t c, char* region,
                                           int32_t* error_word, culossStream_t stream, Sorted* sorted) {
    const size_t vec_bytes = sort_keys_bytes(n).value;  // the caller checked the whole region
    int32_t* keys[2] = {reinterpret_cast<int32_t*>(region), reinterpret_cast<int32_t*>(region + vec_bytes)};
    int32_t* vals[2] = {reinterpret_cast<int32_t*>(region + 2 * vec_bytes),
                        reinterpret_cast<int32_t*>(region + 3 * vec_bytes)};
    const int64_t chunks = sort_chunks(n);
    char* after = region + 4 * vec_bytes;
    int32_t* table = reinterpret_cast<int32_t*>(after);
    after += sort_table_bytes(n).value;
    int32_t* class_start = reinterpret_cast<int32_t*>(after);
    after += class_start_bytes(c).value;
    float* partials = reinterpret_cast<float*>(after);

    const int passes = (bit_width(c) + kSortBits - 1) / kSortBits;  // keys are in [0, c]
    for (int pass = 0; pass < passes; ++pass) {
        const int out = pass % 2;
        const SortPass p{pass == 0 ? labels : nullptr, pass == 0 ? nullptr : keys[1 - out],
                         pass == 0 ? nullptr : vals[1 - out], keys[out], vals[out], table, n, int32_t(c),
                         pass * kSortBits, chunks, error_word};
        CULOSS_TRY(CULOSS_LAUNCH(sort_histogram_kernel, chunks, kSortThreads, stream, p));
        CULOSS_TRY(CULOSS_LAUNCH(sort_scan_kernel, 1, kScanThreads, stream, table, kBuckets * chunks));
        CULOSS_TRY(CULOSS_LAUNCH(sort_scatter_kernel, chunks, kSortThreads, stream, p));
    }
    const int last = (passes - 1) % 2;
    *sorted = {keys[last], vals[last], class_start, partials};
    return CULOSS_LAUNCH(class_start_kernel, (n + 1 + 127) / 128, 128, stream, keys[last], n, int32_t(c),
                         class_start);
}

[[nodiscard]] culossStatus_t segmented(const SegArgs& a, bool vec4, culossStream_t stream) {
    const int64_t units = vec4 ? a.d / 4 : a.d;
    const int threads = int(std::min<int64_t>(256, (units + 31) / 32 * 32));
    const int64_t tiles = segment_tiles(a.n);
    if (vec4) {
        CULOSS_TRY(CULOSS_LAUNCH(segment_tiles_kernel<4>, tiles, threads, stream, a));
        return CULOSS_LAUNCH(segment_fixup_kernel<4>, tiles, threads, stream, a);
    }
    CULOSS_TRY(CULOSS_LAUNCH(segment_tiles_kernel<1>, tiles, threads, stream, a));
    return CULOSS_LAUNCH(segment_fixup_kernel<1>, tiles, threads, stream, a);
}

bool aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

// The tensors the loss and the update both read: present unless n is 0, and 4-byte aligned.
culossStatus_t check_inputs(int64_t n, const float* features, const int32_t* labels, const float* centers) {
    const bool need_inputs = n > 0;
    CULOSS_REQUIRE(!need_inputs || features, CULOSS_STATUS_INVALID_VALUE, "features is null");
    CULOSS_REQUIRE(!need_inputs || labels, CULOSS_STATUS_INVALID_VALUE, "labels is null");
    CULOSS_REQUIRE(!need_inputs || centers, CULOSS_STATUS_INVALID_VALUE, "centers is null");
    CULOSS_REQUIRE_ALIGNED(features, 4);
    CULOSS_REQUIRE_ALIGNED(labels, 4);
    CULOSS_REQUIRE_ALIGNED(centers, 4);
    return CULOSS_STATUS_SUCCESS;
}

culossStatus_t check_shape(int64_t n, int64_t d, int64_t c) {
    CULOSS_REQUIRE(n >= 0, CULOSS_STATUS_INVALID_VALUE, "n (%lld) is negative", (long long)n);
    CULOSS_REQUIRE(n <= INT32_MAX, CULOSS_STATUS_INVALID_VALUE, "n (%lld) is more than 2^31 - 1", (long long)n);
    CULOSS_REQUIRE(d >= 1, CULOSS_STATUS_INVALID_VALUE, "d (%lld) is less than 1", (long long)d);
    CULOSS_REQUIRE(c >= 1, CULOSS_STATUS_INVALID_VALUE, "num_classes (%lld) is less than 1", (long long)c);
    CULOSS_REQUIRE(c <= INT32_MAX, CULOSS_STATUS_INVALID_VALUE, "num_classes (%lld) is more than 2^31 - 1",
                   (long long)c);
    CULOSS_REQUIRE(d <= (int64_t(1) << 40) / std::max<int64_t>(std::max<int64_t>(n, c), 1),
                   CULOSS_STATUS_INVALID_VALUE, "d (%lld) times max(n, num_classes) is more than 2^40 elements",
                   (long long)d);
    return CULOSS_STATUS_SUCCESS;
}

// The loss entry points. Order: the center gradient first (it re-reads the features), then the
// fused row pass, so that grad_features may alias features.
culossStatus_t run_loss(const float* features, const int32_t* labels, const float* centers, int64_t n, int64_t d,
                        int64_t c, float lambda, culossReduction_t reduction, const float* grad_output, float* loss,
                        float* grad_features, float* grad_centers, void* workspace, size_t workspace_size,
                        int32_t* error_word, culossStream_t stream) {
    clear_detail();
    const culossStatus_t shape = check_shape(n, d, c);
    if (shape != CULOSS_STATUS_SUCCESS) return shape;
    CULOSS_REQUIRE(reduction >= CULOSS_REDUCTION_NONE && reduction <= CULOSS_REDUCTION_MEAN,
                   CULOSS_STATUS_INVALID_VALUE, "reduction (%d) is not NONE, SUM or MEAN", int(reduction));
    CULOSS_REQUIRE(std::isfinite(lambda), CULOSS_STATUS_INVALID_VALUE, "lambda (%g) is not finite", double(lambda));
    CULOSS_TRY(check_inputs(n, features, labels, centers));
    CULOSS_REQUIRE_ALIGNED(grad_output, 4);
    CULOSS_REQUIRE_ALIGNED(loss, 4);
    CULOSS_REQUIRE_ALIGNED(grad_features, 4);
    CULOSS_REQUIRE_ALIGNED(grad_centers, 4);
    CULOSS_REQUIRE_ALIGNED(error_word, 4);
    CULOSS_REQUIRE_ALIGNED(workspace, 16);
    const bool reduced = reduction != CULOSS_REDUCTION_NONE;
    // The header's one alias: grad_features exactly over features (the center gradient is
    // summed before the row pass overwrites them).
    TensorRanges ranges;
    const int in_features = ranges.input("features", features, strided_rows(n, d, d));
    ranges.input("labels", labels, contiguous(n, sizeof(int32_t)));
    ranges.input("centers", centers, strided_rows(c, d, d));
    ranges.input("grad_output", grad_features || grad_centers ? grad_output : nullptr, contiguous(reduced ? 1 : n));
    ranges.output("loss", loss, contiguous(reduced ? 1 : n));
    ranges.output("grad_features", grad_features, strided_rows(n, d, d), {in_features});
    ranges.output("grad_centers", grad_centers, strided_rows(c, d, d));
    ranges.output("error_word", error_word, contiguous(1, sizeof(int32_t)));
    CULOSS_TRY(ranges.check());
    Size needed(0);
    if (grad_centers) {
        needed = center_workspace_bytes(n, d, c);
    } else if (loss && reduced) {
        needed = row_region_bytes(n);
    }
    CULOSS_TRY(ranges.workspace(workspace, workspace_size, needed));
    CULOSS_TRY(ranges.check());
    const culossStatus_t ready = device_ready();
    if (ready != CULOSS_STATUS_SUCCESS) return ready;

    if (n == 0) {  // a reduced loss of no rows is 0; no sample reaches any center
        if (loss && reduced) CULOSS_TRY(culossMemsetAsync(loss, 0, sizeof(float), stream));
        if (grad_centers) {
            CULOSS_TRY(culossMemsetAsync(grad_centers, 0, rows_bytes(c, d, d, sizeof(float)).value, stream));
        }
        return CULOSS_STATUS_SUCCESS;
    }

    const float scale = reduction == CULOSS_REDUCTION_MEAN ? float(1.0 / double(n)) : 1.f;
    char* ws = static_cast<char*>(workspace);

    if (grad_centers) {
        Sorted s;
        CULOSS_TRY(sort_by_label(labels, n, c, ws + row_region_bytes(n).value, error_word, stream, &s));
        const SegArgs a{features, s.perm, s.keys, s.class_start, centers, grad_centers, s.partials, n, d, int32_t(c),
                        segment_tile(n), kGrad, 0.f, lambda, scale, int(reduction), grad_output};
        const bool vec4 = d % 4 == 0 && aligned16(features) && aligned16(centers) && aligned16(grad_centers);
        CULOSS_TRY(segmented(a, vec4, stream));
        const size_t center_elements = (Size(c) * Size(d)).value;  // checked with grad_centers' extent
        CULOSS_TRY(CULOSS_LAUNCH(zero_absent_kernel, int(std::min<size_t>(1024, (center_elements + 127) / 128)), 128,
                                 stream, s.class_start, c, d, grad_centers));
    }

    if (loss || grad_features) {
        double* partials = reinterpret_cast<double*>(ws);
        float* row_loss = nullptr;
        if (loss) row_loss = reduced ? reinterpret_cast<float*>(ws + partial_sums_bytes(reduce_blocks(n))) : loss;
        const bool vec4 = d % 4 == 0 && aligned16(features) && aligned16(centers) &&
                          (!grad_features || aligned16(grad_features));
        const int64_t units = vec4 ? d / 4 : d;
        int tpr = 1;
        while (tpr < 32 && tpr < units) tpr *= 2;
        const RowArgs a{features, labels, centers, n, d, c, lambda, int(reduction), scale, grad_output, row_loss,
                        grad_features, error_word, tpr};
        const int64_t grid = (n + kRowThreads / tpr - 1) / (kRowThreads / tpr);
        if (vec4) {
            CULOSS_TRY(CULOSS_LAUNCH(center_rows_kernel<4>, grid, kRowThreads, stream, a));
        } else {
            CULOSS_TRY(CULOSS_LAUNCH(center_rows_kernel<1>, grid, kRowThreads, stream, a));
        }
        if (loss && reduced) {
            const float divisor = reduction == CULOSS_REDUCTION_MEAN ? float(n) : 0.f;
            return deterministic_sum(RowLoss{row_loss}, n, partials, FinishLoss{loss, divisor}, stream);
        }
    }
    // (Backward with grad_centers only: the sort's first pass has flagged the bad labels.)
    return CULOSS_STATUS_SUCCESS;
}

}  // namespace
}  // namespace culoss

extern "C" {

culossStatus_t culossCenterLossWorkspaceSize(int64_t n, int64_t d, int64_t num_classes,
                                             culossDataType_t dtype, culossReduction_t reduction,
                                             size_t* bytes) {
    CULOSS_REQUIRE_FLOAT32(dtype);
    culoss::clear_detail();
    CULOSS_REQUIRE(bytes != nullptr, CULOSS_STATUS_INVALID_VALUE, "bytes is null");
    const culossStatus_t shape = culoss::check_shape(n, d, num_classes);
    if (shape != CULOSS_STATUS_SUCCESS) return shape;
    CULOSS_REQUIRE(reduction >= CULOSS_REDUCTION_NONE && reduction <= CULOSS_REDUCTION_MEAN,
                   CULOSS_STATUS_INVALID_VALUE, "reduction (%d) is not NONE, SUM or MEAN", int(reduction));
    const culoss::Size needed = culoss::center_workspace_bytes(n, d, num_classes);
    CULOSS_REQUIRE(needed.fits, CULOSS_STATUS_INVALID_VALUE,
                   "the workspace of these sizes is more bytes than a size_t holds");
    *bytes = needed.value;
    return CULOSS_STATUS_SUCCESS;
}

culossStatus_t culossCenterLossForward(const float* features, const int32_t* labels, const float* centers, int64_t n,
                                       int64_t d, int64_t num_classes,
                                       culossDataType_t dtype, float lambda, culossReduction_t reduction,
                                       float* loss, void* workspace, size_t workspace_bytes, int32_t* error_word,
                                       culossStream_t stream) {
    CULOSS_REQUIRE_FLOAT32(dtype);
    CULOSS_REQUIRE(loss != nullptr || (n == 0 && reduction == CULOSS_REDUCTION_NONE), CULOSS_STATUS_INVALID_VALUE,
                   "loss is null");
    return culoss::run_loss(features, labels, centers, n, d, num_classes, lambda, reduction, nullptr, loss, nullptr,
                            nullptr, workspace, workspace_bytes, error_word, stream);
}

culossStatus_t culossCenterLossBackward(const float* features, const int32_t* labels, const float* centers, int64_t n,
                                        int64_t d, int64_t num_classes,
                                        culossDataType_t dtype, float lambda, culossReduction_t reduction,
                                        const float* grad_output, float* grad_features, float* grad_centers,
                                        void* workspace, size_t workspace_bytes, int32_t* error_word,
                                        culossStream_t stream) {
    CULOSS_REQUIRE_FLOAT32(dtype);
    CULOSS_REQUIRE(grad_features != nullptr || grad_centers != nullptr, CULOSS_STATUS_INVALID_VALUE,
                   "grad_features and grad_centers are both null");
    return culoss::run_loss(features, labels, centers, n, d, num_classes, lambda, reduction, grad_output, nullptr,
                            grad_features, grad_centers, workspace, workspace_bytes, error_word, stream);
}

culossStatus_t culossCenterLossForwardBackward(const float* features, const int32_t* labels, const float* centers,
                                               int64_t n, int64_t d, int64_t num_classes,
                                               culossDataType_t dtype, float lambda,
                                               culossReduction_t reduction, const float* grad_output, float* loss,
                                               float* grad_features, float* grad_centers, void* workspace,
                                               size_t workspace_bytes, int32_t* error_word, culossStream_t stream) {
    CULOSS_REQUIRE_FLOAT32(dtype);
    CULOSS_REQUIRE(loss != nullptr || (n == 0 && reduction == CULOSS_REDUCTION_NONE), CULOSS_STATUS_INVALID_VALUE,
                   "loss is null");
    CULOSS_REQUIRE(grad_features != nullptr || grad_centers != nullptr, CULOSS_STATUS_INVALID_VALUE,
                   "grad_features and grad_centers are both null");
    return culoss::run_loss(features, labels, centers, n, d, num_classes, lambda, reduction, grad_output, loss,
                            grad_features, grad_centers, workspace, workspace_bytes, error_word, stream);
}

culossStatus_t culossCenterLossUpdateCenters(const float* features, const int32_t* labels, float* centers, int64_t n,
                                             int64_t d, int64_t num_classes,
                                             culossDataType_t dtype, float alpha, void* workspace,
                                             size_t workspace_bytes, int32_t* error_word, culossStream_t stream) {
    CULOSS_REQUIRE_FLOAT32(dtype);
    culoss::clear_detail();
    const culossStatus_t shape = culoss::check_shape(n, d, num_classes);
    if (shape != CULOSS_STATUS_SUCCESS) return shape;
    CULOSS_REQUIRE(std::isfinite(alpha), CULOSS_STATUS_INVALID_VALUE, "alpha (%g) is not finite", double(alpha));
    CULOSS_TRY(culoss::check_inputs(n, features, labels, centers));
    CULOSS_REQUIRE_ALIGNED(error_word, 4);
    CULOSS_REQUIRE_ALIGNED(workspace, 16);
    // The centers are updated in place: an output over no other tensor.
    culoss::TensorRanges ranges;
    ranges.input("features", features, culoss::strided_rows(n, d, d));
    ranges.input("labels", labels, culoss::contiguous(n, sizeof(int32_t)));
    ranges.output("centers", n > 0 ? centers : nullptr, culoss::strided_rows(num_classes, d, d));
    ranges.output("error_word", error_word, culoss::contiguous(1, sizeof(int32_t)));
    CULOSS_TRY(ranges.check());
    const culoss::Size needed = culoss::center_workspace_bytes(n, d, num_classes);
    CULOSS_TRY(ranges.workspace(workspace, workspace_bytes, needed));
    CULOSS_TRY(ranges.check());
    const culossStatus_t ready = culoss::device_ready();
    if (ready != CULOSS_STATUS_SUCCESS) return ready;
    if (n == 0) return CULOSS_STATUS_SUCCESS;

    char* ws = static_cast<char*>(workspace);
    culoss::Sorted s;
    CULOSS_TRY(culoss::sort_by_label(labels, n, num_classes, ws + culoss::row_region_bytes(n).value, error_word, stream,
                                     &s));
    const culoss::SegArgs a{features, s.perm, s.keys, s.class_start, centers, centers, s.partials, n, d,
                            int32_t(num_classes), culoss::segment_tile(n), culoss::kUpdate, alpha, 0.f, 1.f,
                            int(CULOSS_REDUCTION_SUM), nullptr};
    const bool vec4 = d % 4 == 0 && culoss::aligned16(features) && culoss::aligned16(centers);
    return culoss::segmented(a, vec4, stream);
}

}  // extern "C"
