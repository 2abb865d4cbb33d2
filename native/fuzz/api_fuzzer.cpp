// libFuzzer harness over the whole C API of the emulated library (native/fuzz/README.md).
//
// An input is one call: byte 0 picks the entry point (kEntries below), the following bytes its
// sizes, options, pointer layout and the seed of the tensor contents, read front to back by
// Reader (a byte past the end reads 0, so every input decodes). make_seeds.py writes inputs in
// this format for the committed corpus.
//
// Every tensor is a buffer allocated exactly as large as the decoded sizes imply (posix_memalign,
// so AddressSanitizer's redzones sit right after its last byte), unless
//  - the sizes imply more than kCapElements elements in all without overflowing: they are halved
//    until they fit (sizes that are merely larger than a buffer are the caller's contract, never
//    generated);
//  - a tensor's byte count overflows int64 or passes the address space (kHugeBytes: 2^57, past
//    which the library refuses any tensor to end), or a size is negative: the call is "huge", the
//    tensor gets a small real buffer, and the library must refuse the call with a host-side status
//    before touching any memory. (A tensor of fewer bytes is a real buffer's size: it is halved
//    with the others until the call fits kCapElements.)
// A pointer is the tensor's own buffer (16-byte aligned, 4/8/12 bytes off, or 1-3 bytes off), NULL,
// or a place in one of two shared arenas at an element offset: outputs over inputs or over each
// other, partial overlaps, the workspace over a tensor.
//
// Properties, each a crash with a "culoss-fuzz:" line when broken:
//  - no sanitizer report, no emulator fault, no hang;
//  - the status is one of culossStatus_t's values;
//  - a huge call is refused with INVALID_VALUE, MISALIGNED, NOT_SUPPORTED or WORKSPACE_TOO_SMALL;
//  - a ...WorkspaceSize that succeeds for a reduced row loss returns room for n floats at least;
//  - a call on separate buffers leaves its const inputs unchanged;
//  - a call with aliased pointers is refused, or gives the same status and the same output bits
//    as the same call on separate copies (with the same alignment);
//  - on separate buffers with finite inputs, a successful MSE, smooth L1, Huber or softmax
//    cross-entropy (no weights, no smoothing) or center loss call agrees with a double-precision
//    reference;
//  - the memory helpers: a successful culossMalloc gives 256-byte aligned memory of the size
//    asked, memcpy and memset do what they say, invalid arguments are refused.
#include <cinttypes>
#include <cmath>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "culoss/culoss.h"

extern "C" const char* __asan_default_options() {
    // A culossMalloc of 2^44 bytes and more must fail with a status, not abort the fuzzer.
    // detect_stack_use_after_return=0: the emulator runs hundreds of threads, and their fake stacks
    // took 2 GB (and half the speed).
    return "allocator_may_return_null=1:detect_stack_use_after_return=0";
}
extern "C" const char* __ubsan_default_options() { return "print_stacktrace=1"; }

namespace {

// Whether the environment variable `name` is 1 (CULOSS_FUZZ_TRACE).
bool env_flag(const char* name) {
    const char* v = std::getenv(name);
    return v && v[0] == '1';
}

constexpr int64_t kCapElements = int64_t(1) << 15;    // all tensors of a call together
constexpr unsigned __int128 kHugeBytes = (unsigned __int128)1 << 57;  // past the address space culoss accepts
constexpr int64_t kSmallBuffer = 16;                  // elements of a huge call's stand-in buffers

struct Reader {
    const uint8_t* p;
    size_t n;
    uint8_t u8() {
        if (n == 0) return 0;
        --n;
        return *p++;
    }
    uint16_t u16() { return uint16_t(u8() | (u8() << 8)); }
    uint32_t u32() { return uint32_t(u16()) | (uint32_t(u16()) << 16); }
    uint64_t u64() { return uint64_t(u32()) | (uint64_t(u32()) << 32); }
};

// A size: mostly small, sometimes one of the edges (2^31, 2^61, 2^62, INT64_MAX, negative), or raw.
int64_t read_size(Reader& r, int64_t small_max) {
    static const int64_t special[] = {0,
                                      1,
                                      -1,
                                      INT32_MAX,
                                      int64_t(1) << 31,
                                      (int64_t(1) << 31) + 1,
                                      int64_t(1) << 32,
                                      int64_t(1) << 40,
                                      int64_t(1) << 45,
                                      int64_t(1) << 48,
                                      int64_t(1) << 61,
                                      int64_t(1) << 62,
                                      (int64_t(1) << 62) + 1,
                                      INT64_MAX,
                                      INT64_MAX / 4 + 1,
                                      INT64_MIN,
                                      INT32_MIN,
                                      -(int64_t(1) << 62)};
    const uint8_t mode = r.u8();
    if (mode < 200) return int64_t(r.u16() % uint64_t(small_max + 1));
    if (mode < 240) return special[r.u8() % (sizeof special / sizeof special[0])];
    if (mode < 250) return -int64_t(r.u8() % 4 + 1);
    return int64_t(r.u64());
}

float read_float(Reader& r, float dflt) {
    static const float nice[] = {0.f, 1.f, 2.f, 0.5f, 0.25f, 0.1f, 3.f, 1e-3f, 1.5f, 0.75f, 10.f, 1e-6f};
    static const float special[] = {NAN, INFINITY, -INFINITY, -1.f, -0.f, 1e-45f, 3.4e38f, -3.4e38f, 1e30f, -0.5f};
    const uint8_t mode = r.u8();
    if (mode < 128) return dflt;
    if (mode < 200) return nice[r.u8() % (sizeof nice / sizeof nice[0])];
    if (mode < 240) return special[r.u8() % (sizeof special / sizeof special[0])];
    const uint32_t bits = r.u32();
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
}

int read_enum(Reader& r, int valid) {
    static const int bad[] = {3, 7, -1, 255, INT32_MIN, INT32_MAX, 4, 100};
    const uint8_t mode = r.u8();
    if (mode < 240) return mode % valid;
    return bad[r.u8() % (sizeof bad / sizeof bad[0])];
}

struct Rng {
    uint64_t s;
    uint64_t next() {
        s += 0x9e3779b97f4a7c15ull;
        uint64_t z = s;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }
    double unit() { return double(next() >> 11) * 0x1.0p-53; }
};

// ------------------------------------------------------------------------------------------
// The entry points.

enum Family { kElementwise, kRows, kTriplet, kCenter, kMemory, kMisc, kLargeMargin, kWeightedLogistic, kSpatial };
enum Op { kWs, kFwd, kBwd, kFwdBwd, kUpdate, kMalloc, kMemcpy, kMemset, kStrings };

struct Entry {
    const char* name;
    Family family;
    Op op;
    int loss;  // elementwise: 0 mse, 1 smooth L1, 2 huber, 3 sigmoid focal, 4 L1, 5 exponential, 6 hinge,
               // 7 logistic, 8 L1 penalty, 9 L2 penalty (one input, one summed value); rows: 0 CE, 1 focal, 2 multi-class hinge, 3 zero-one (forward only),
               // 4 CE with soft targets, 5 class-distance weighted CE
};

const Entry kEntries[] = {
    {"culossMseWorkspaceSize", kElementwise, kWs, 0},
    {"culossMseForward", kElementwise, kFwd, 0},
    {"culossMseBackward", kElementwise, kBwd, 0},
    {"culossMseForwardBackward", kElementwise, kFwdBwd, 0},
    {"culossSmoothL1WorkspaceSize", kElementwise, kWs, 1},
    {"culossSmoothL1Forward", kElementwise, kFwd, 1},
    {"culossSmoothL1Backward", kElementwise, kBwd, 1},
    {"culossSmoothL1ForwardBackward", kElementwise, kFwdBwd, 1},
    {"culossHuberWorkspaceSize", kElementwise, kWs, 2},
    {"culossHuberForward", kElementwise, kFwd, 2},
    {"culossHuberBackward", kElementwise, kBwd, 2},
    {"culossHuberForwardBackward", kElementwise, kFwdBwd, 2},
    {"culossSigmoidFocalWorkspaceSize", kElementwise, kWs, 3},
    {"culossSigmoidFocalForward", kElementwise, kFwd, 3},
    {"culossSigmoidFocalBackward", kElementwise, kBwd, 3},
    {"culossSigmoidFocalForwardBackward", kElementwise, kFwdBwd, 3},
    {"culossSoftmaxCrossEntropyWorkspaceSize", kRows, kWs, 0},
    {"culossSoftmaxCrossEntropyForward", kRows, kFwd, 0},
    {"culossSoftmaxCrossEntropyBackward", kRows, kBwd, 0},
    {"culossSoftmaxCrossEntropyForwardBackward", kRows, kFwdBwd, 0},
    {"culossSoftmaxFocalWorkspaceSize", kRows, kWs, 1},
    {"culossSoftmaxFocalForward", kRows, kFwd, 1},
    {"culossSoftmaxFocalBackward", kRows, kBwd, 1},
    {"culossSoftmaxFocalForwardBackward", kRows, kFwdBwd, 1},
    {"culossTripletMarginWorkspaceSize", kTriplet, kWs, 0},
    {"culossTripletMarginForward", kTriplet, kFwd, 0},
    {"culossTripletMarginBackward", kTriplet, kBwd, 0},
    {"culossTripletMarginForwardBackward", kTriplet, kFwdBwd, 0},
    {"culossCenterLossWorkspaceSize", kCenter, kWs, 0},
    {"culossCenterLossForward", kCenter, kFwd, 0},
    {"culossCenterLossBackward", kCenter, kBwd, 0},
    {"culossCenterLossForwardBackward", kCenter, kFwdBwd, 0},
    {"culossCenterLossUpdateCenters", kCenter, kUpdate, 0},
    {"culossL1WorkspaceSize", kElementwise, kWs, 4},
    {"culossL1Forward", kElementwise, kFwd, 4},
    {"culossL1Backward", kElementwise, kBwd, 4},
    {"culossL1ForwardBackward", kElementwise, kFwdBwd, 4},
    {"culossExponentialWorkspaceSize", kElementwise, kWs, 5},
    {"culossExponentialForward", kElementwise, kFwd, 5},
    {"culossExponentialBackward", kElementwise, kBwd, 5},
    {"culossExponentialForwardBackward", kElementwise, kFwdBwd, 5},
    {"culossHingeWorkspaceSize", kElementwise, kWs, 6},
    {"culossHingeForward", kElementwise, kFwd, 6},
    {"culossHingeBackward", kElementwise, kBwd, 6},
    {"culossHingeForwardBackward", kElementwise, kFwdBwd, 6},
    {"culossLogisticWorkspaceSize", kElementwise, kWs, 7},
    {"culossLogisticForward", kElementwise, kFwd, 7},
    {"culossLogisticBackward", kElementwise, kBwd, 7},
    {"culossLogisticForwardBackward", kElementwise, kFwdBwd, 7},
    {"culossMulticlassHingeWorkspaceSize", kRows, kWs, 2},
    {"culossMulticlassHingeForward", kRows, kFwd, 2},
    {"culossMulticlassHingeBackward", kRows, kBwd, 2},
    {"culossMulticlassHingeForwardBackward", kRows, kFwdBwd, 2},
    {"culossZeroOneWorkspaceSize", kRows, kWs, 3},
    {"culossZeroOneForward", kRows, kFwd, 3},
    {"culossMalloc+culossFree", kMemory, kMalloc, 0},
    {"culossMemcpyAsync", kMemory, kMemcpy, 0},
    {"culossMemsetAsync", kMemory, kMemset, 0},
    {"culossGetErrorString/GetLastErrorDetail/GetDeviceCount/GetVersion", kMisc, kStrings, 0},
    // Added later, at the end: the committed corpus keeps its entries' meaning.
    {"culossSoftmaxCrossEntropyProbsWorkspaceSize", kRows, kWs, 4},
    {"culossSoftmaxCrossEntropyProbsForward", kRows, kFwd, 4},
    {"culossSoftmaxCrossEntropyProbsBackward", kRows, kBwd, 4},
    {"culossSoftmaxCrossEntropyProbsForwardBackward", kRows, kFwdBwd, 4},
    {"culossInterclassDistanceWorkspaceSize", kRows, kWs, 5},
    {"culossInterclassDistanceForward", kRows, kFwd, 5},
    {"culossInterclassDistanceBackward", kRows, kBwd, 5},
    {"culossInterclassDistanceForwardBackward", kRows, kFwdBwd, 5},
    {"culossL1PenaltyWorkspaceSize", kElementwise, kWs, 8},
    {"culossL1PenaltyForward", kElementwise, kFwd, 8},
    {"culossL1PenaltyBackward", kElementwise, kBwd, 8},
    {"culossL1PenaltyForwardBackward", kElementwise, kFwdBwd, 8},
    {"culossL2PenaltyWorkspaceSize", kElementwise, kWs, 9},
    {"culossL2PenaltyForward", kElementwise, kFwd, 9},
    {"culossL2PenaltyBackward", kElementwise, kBwd, 9},
    {"culossL2PenaltyForwardBackward", kElementwise, kFwdBwd, 9},
    {"culossLargeMarginSoftmaxWorkspaceSize", kLargeMargin, kWs, 0},
    {"culossLargeMarginSoftmaxForward", kLargeMargin, kFwd, 0},
    {"culossLargeMarginSoftmaxBackward", kLargeMargin, kBwd, 0},
    {"culossLargeMarginSoftmaxForwardBackward", kLargeMargin, kFwdBwd, 0},
    {"culossLogisticWeightedWorkspaceSize", kWeightedLogistic, kWs, 0},
    {"culossLogisticWeightedForward", kWeightedLogistic, kFwd, 0},
    {"culossLogisticWeightedBackward", kWeightedLogistic, kBwd, 0},
    {"culossLogisticWeightedForwardBackward", kWeightedLogistic, kFwdBwd, 0},
    {"culossSoftmaxCrossEntropySpatialWorkspaceSize", kSpatial, kWs, 0},
    {"culossSoftmaxCrossEntropySpatialForward", kSpatial, kFwd, 0},
    {"culossSoftmaxCrossEntropySpatialBackward", kSpatial, kBwd, 0},
    {"culossSoftmaxCrossEntropySpatialForwardBackward", kSpatial, kFwdBwd, 0},
    {"culossSoftmaxFocalSpatialWorkspaceSize", kSpatial, kWs, 1},
    {"culossSoftmaxFocalSpatialForward", kSpatial, kFwd, 1},
    {"culossSoftmaxFocalSpatialBackward", kSpatial, kBwd, 1},
    {"culossSoftmaxFocalSpatialForwardBackward", kSpatial, kFwdBwd, 1},
    {"culossSoftmaxCrossEntropyProbsSpatialWorkspaceSize", kSpatial, kWs, 2},
    {"culossSoftmaxCrossEntropyProbsSpatialForward", kSpatial, kFwd, 2},
    {"culossSoftmaxCrossEntropyProbsSpatialBackward", kSpatial, kBwd, 2},
    {"culossSoftmaxCrossEntropyProbsSpatialForwardBackward", kSpatial, kFwdBwd, 2},
};
constexpr int kNumEntries = int(sizeof kEntries / sizeof kEntries[0]);

// The decoded arguments of a loss call.
struct Params {
    int entry = 0;
    int64_t n = 0, c = 0, d = 0, count = 0, ncls = 0, lstride = 0, gstride = 0;
    int64_t ignore_index = CULOSS_NO_IGNORE_INDEX;
    float f1 = 0, f2 = 0, f3 = 0;
    int swap = 0;
    int reduction = 0, dtype = 0;
    int ws_mode = 0;
    uint64_t ws_fuzz = 0;
};

// ------------------------------------------------------------------------------------------
// Tensors.

enum Kind { kF32, kI32, kWorkspace };

struct Tensor {
    const char* name;
    Kind kind;
    bool input, output;
    bool used;           // passed to the call (else NULL is passed)
    bool nullable;       // NULL is a documented value (grad_output, class_weights, error_word, ...)
    int64_t elems = 0;   // elements (bytes for the workspace) the sizes imply
    bool huge = false;   // the byte count overflows or passes the address space
    int64_t label_classes = 0;  // I32: labels are drawn from [0, label_classes), with bad ones
    // layout, decoded
    int mode = 0;        // 0 own, 1 NULL, 2 arena
    int arena = 0;
    int64_t arena_offset = 0;  // elements
    unsigned misalign = 0;     // bytes past a 16-byte boundary (own buffers)
    // the buffers of the two runs
    uint8_t* a = nullptr;  // separate run (own buffer, exact size)
    uint8_t* b = nullptr;  // aliased run (own buffer or a place in an arena)
    void* a_block = nullptr;
    size_t bytes = 0;      // the buffer's bytes
};

int64_t elem_size(Kind k) { return k == kWorkspace ? 1 : 4; }

// Saturating element count from a 128-bit product: marks `huge` when it cannot be a real buffer.
void set_elems(Tensor& t, __int128 elems) {
    if (elems < 0) {  // a negative size: invalid, the library must refuse; a small stand-in
        t.elems = 0;
        t.huge = true;
        return;
    }
    if ((unsigned __int128)elems * elem_size(t.kind) >= kHugeBytes) {
        t.elems = 0;
        t.huge = true;
        return;
    }
    t.elems = int64_t(elems);
}

std::string describe(const Params& p, const std::vector<Tensor>& ts) {
    char buf[512];
    std::snprintf(buf, sizeof buf,
                  "%s n=%" PRId64 " c=%" PRId64 " d=%" PRId64 " count=%" PRId64 " num_classes=%" PRId64
                  " logits_stride=%" PRId64 " grad_stride=%" PRId64 " ignore_index=%" PRId64
                  " f1=%g f2=%g f3=%g swap=%d reduction=%d dtype=%d",
                  kEntries[p.entry].name, p.n, p.c, p.d, p.count, p.ncls, p.lstride, p.gstride, p.ignore_index,
                  double(p.f1), double(p.f2), double(p.f3), p.swap, p.reduction, p.dtype);
    std::string s = buf;
    for (const Tensor& t : ts) {
        if (!t.used) continue;
        const char* mode = t.mode == 0 ? "own" : t.mode == 1 ? "NULL" : "arena";
        std::snprintf(buf, sizeof buf, "\n    %-14s %s elems=%" PRId64 "%s misalign=%u", t.name, mode, t.elems,
                      t.huge ? " (huge: small stand-in)" : "", t.misalign);
        s += buf;
        if (t.mode == 2) {
            std::snprintf(buf, sizeof buf, " arena=%d offset=%" PRId64, t.arena, t.arena_offset);
            s += buf;
        }
    }
    return s;
}

[[noreturn]] void violation(const std::string& call, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
void violation(const std::string& call, const char* fmt, ...) {
    std::fprintf(stderr, "\nculoss-fuzz: PROPERTY VIOLATED: ");
    va_list ap;
    va_start(ap, fmt);
    std::vfprintf(stderr, fmt, ap);
    va_end(ap);
    std::fprintf(stderr, "\n  call: %s\n  last error detail: \"%s\"\n", call.c_str(), culossGetLastErrorDetail());
    std::fflush(stderr);
    std::abort();
}

bool documented(int s) { return s >= CULOSS_STATUS_SUCCESS && s <= CULOSS_STATUS_OUT_OF_MEMORY; }

void sync_stream(const std::string& call) {
    const culossStatus_t s = culossStreamSynchronize(nullptr);
    if (s != CULOSS_STATUS_SUCCESS) violation(call, "culossStreamSynchronize returned %d", int(s));
}

// ------------------------------------------------------------------------------------------
// The tensors of each family, in a fixed order that invoke() indexes.

// Elementwise: 0 x, 1 t, 2 grad_output, 3 loss, 4 grad, 5 workspace
// Rows:        0 logits, 1 targets, 2 weights/alpha, 3 grad_output, 4 loss, 5 grad, 6 error_word, 7 workspace
// Triplet:     0 anchor, 1 positive, 2 negative, 3 grad_output, 4 loss, 5 grad_a, 6 grad_p, 7 grad_n, 8 workspace
// Center:      0 features, 1 labels, 2 centers, 3 grad_output, 4 loss, 5 grad_features, 6 grad_centers,
//              7 error_word, 8 workspace
// L-Softmax:   0 features, 1 weights, 2 targets, 3 grad_output, 4 loss, 5 modified_logits, 6 grad_features,
//              7 grad_weights, 8 error_word, 9 workspace (num_classes: the classes)
// Weighted logistic: 0 logits, 1 targets, 2 weight, 3 pos_weight, 4 grad_output, 5 loss, 6 grad, 7 workspace
//              (count elements, num_classes the last dimension)
// Spatial:     as Rows, over logits [n, c, d] (d: inner, the classes d apart): targets [n, d] or
//              target_probs [n, c, d] (loss 2), per-position losses [n, d]
std::vector<Tensor> tensors_of(const Params& p, size_t ws_bytes) {
    const Entry& e = kEntries[p.entry];
    const bool none = p.reduction == CULOSS_REDUCTION_NONE || p.reduction < 0 || p.reduction > 2;
    const bool fwd = e.op == kFwd || e.op == kFwdBwd, bwd = e.op == kBwd || e.op == kFwdBwd;
    std::vector<Tensor> ts;
    auto add = [&](const char* name, Kind k, bool in, bool out, bool used, bool nullable, __int128 elems) {
        Tensor t{};
        t.name = name;
        t.kind = k;
        t.input = in;
        t.output = out;
        t.used = used;
        t.nullable = nullable;
        set_elems(t, elems);
        ts.push_back(t);
        return &ts.back();
    };
    // A negative size in a product makes the tensor invalid (-1: the call must be refused).
    auto rows = [](__int128 n, __int128 stride, __int128 c) -> __int128 {
        if (n < 0) return -1;
        if (n == 0) return 0;
        if (stride < 0 || c < 0) return -1;
        return (n - 1) * stride + c;
    };
    // Saturating at 2^100 (a product of three sizes may pass __int128): huge either way.
    auto prod = [](__int128 a, __int128 b) -> __int128 {
        const __int128 cap = __int128(1) << 100;
        if (a < 0 || b < 0) return -1;
        return a != 0 && b > cap / a ? cap : a * b;
    };
    const __int128 n = p.n, c = p.c, d = p.d, count = p.count, ncls = p.ncls;
    switch (e.family) {
        case kElementwise: {
            // A penalty takes the parameters alone (x), and its loss and upstream gradient are one
            // value whatever the reduction byte (it takes none).
            const bool penalty = e.loss >= 8, per_element = none && !penalty;
            add("x", kF32, true, false, true, false, count);
            add("t", kF32, true, false, !penalty, false, count);
            add("grad_output", kF32, true, false, bwd, true, per_element ? count : 1);
            add("loss", kF32, false, true, fwd, false, per_element ? count : 1);
            add("grad", kF32, false, true, bwd, false, count);
            add("workspace", kWorkspace, false, false, true, true, ws_bytes);
            break;
        }
        case kRows:
            add("logits", kF32, true, false, true, false, rows(n, p.lstride, c));
            if (e.loss == 4) add("target_probs", kF32, true, false, true, false, prod(n, c));  // soft targets
            else add("targets", kI32, true, false, true, false, n)->label_classes = p.c;
            add(e.loss == 1 ? "class_alpha" : "class_weights", kF32, true, false, e.loss != 3 && e.loss != 5, true, c);
            add("grad_output", kF32, true, false, bwd, true, none ? n : 1);
            add("loss", kF32, false, true, fwd, false, none ? n : 1);
            add("grad_logits", kF32, false, true, bwd, false, rows(n, p.gstride, c));
            add("error_word", kI32, false, true, e.loss != 4, true, 1);  // soft targets: none
            add("workspace", kWorkspace, false, false, true, true, ws_bytes);
            break;
        case kTriplet:
            add("anchor", kF32, true, false, true, false, prod(n, d));
            add("positive", kF32, true, false, true, false, prod(n, d));
            add("negative", kF32, true, false, true, false, prod(n, d));
            add("grad_output", kF32, true, false, bwd, true, none ? n : 1);
            add("loss", kF32, false, true, fwd, false, none ? n : 1);
            add("grad_anchor", kF32, false, true, bwd, true, prod(n, d));
            add("grad_positive", kF32, false, true, bwd, true, prod(n, d));
            add("grad_negative", kF32, false, true, bwd, true, prod(n, d));
            add("workspace", kWorkspace, false, false, true, true, ws_bytes);
            break;
        case kCenter: {
            const bool upd = e.op == kUpdate;
            add("features", kF32, true, false, true, false, prod(n, d));
            add("labels", kI32, true, false, true, false, n)->label_classes = p.ncls;
            add("centers", kF32, true, upd, true, false, prod(ncls, d));
            add("grad_output", kF32, true, false, bwd, true, none ? n : 1);
            add("loss", kF32, false, true, fwd, false, none ? n : 1);
            add("grad_features", kF32, false, true, bwd, true, prod(n, d));
            add("grad_centers", kF32, false, true, bwd, true, prod(ncls, d));
            add("error_word", kI32, false, true, true, true, 1);
            add("workspace", kWorkspace, false, false, true, true, ws_bytes);
            break;
        }
        case kWeightedLogistic:
            add("logits", kF32, true, false, true, false, count);
            add("targets", kF32, true, false, true, false, count);
            add("weight", kF32, true, false, true, true, count);
            add("pos_weight", kF32, true, false, true, true, count > 0 ? ncls : 0);  // read only with elements
            add("grad_output", kF32, true, false, bwd, true, none ? count : 1);
            add("loss", kF32, false, true, fwd, false, none ? count : 1);
            add("grad", kF32, false, true, bwd, false, count);
            add("workspace", kWorkspace, false, false, true, true, ws_bytes);
            break;
        case kSpatial: {
            const __int128 positions = prod(n, d), all = prod(prod(n, c), d);
            add("logits", kF32, true, false, true, false, all);
            if (e.loss == 2) add("target_probs", kF32, true, false, true, false, all);
            else add("targets", kI32, true, false, true, false, positions)->label_classes = p.c;
            add(e.loss == 1 ? "class_alpha" : "class_weights", kF32, true, false, true, true, c);
            add("grad_output", kF32, true, false, bwd, true, none ? positions : 1);
            add("loss", kF32, false, true, fwd, false, none ? positions : 1);
            add("grad_logits", kF32, false, true, bwd, false, all);
            add("error_word", kI32, false, true, e.loss != 2, true, 1);
            add("workspace", kWorkspace, false, false, true, true, ws_bytes);
            break;
        }
        case kLargeMargin:
            add("features", kF32, true, false, true, false, prod(n, d));
            add("weights", kF32, true, false, true, false, prod(d, ncls));
            add("targets", kI32, true, false, true, false, n)->label_classes = p.ncls;
            add("grad_output", kF32, true, false, bwd, true, none ? n : 1);
            add("loss", kF32, false, true, fwd, false, none ? n : 1);
            add("modified_logits", kF32, false, true, true, true, prod(n, ncls));
            add("grad_features", kF32, false, true, bwd, true, prod(n, d));
            add("grad_weights", kF32, false, true, bwd, true, prod(d, ncls));
            add("error_word", kI32, false, true, true, true, 1);
            add("workspace", kWorkspace, false, false, true, true, ws_bytes);
            break;
        default:
            break;
    }
    if (e.op == kWs) {
        for (Tensor& t : ts) t.used = false;
    }
    return ts;
}

// The workspace query of the call's family (its sizes, its reduction).
culossStatus_t query_workspace(const Params& p, size_t* bytes) {
    const Entry& e = kEntries[p.entry];
    // The enums are converted where they are passed: a variable of enum type that holds 7 is
    // undefined in C++ (UBSan reports its load), while a C caller may pass any int.
#define red culossReduction_t(p.reduction)
#define dt culossDataType_t(p.dtype)
    switch (e.family) {
        case kElementwise:
            switch (e.loss) {
                case 0: return culossMseWorkspaceSize(p.count, dt, red, bytes);
                case 1: return culossSmoothL1WorkspaceSize(p.count, dt, red, bytes);
                case 2: return culossHuberWorkspaceSize(p.count, dt, red, bytes);
                case 4: return culossL1WorkspaceSize(p.count, dt, red, bytes);
                case 5: return culossExponentialWorkspaceSize(p.count, dt, red, bytes);
                case 6: return culossHingeWorkspaceSize(p.count, dt, red, bytes);
                case 7: return culossLogisticWorkspaceSize(p.count, dt, red, bytes);
                case 8: return culossL1PenaltyWorkspaceSize(p.count, dt, bytes);
                case 9: return culossL2PenaltyWorkspaceSize(p.count, dt, bytes);
                default: return culossSigmoidFocalWorkspaceSize(p.count, dt, red, bytes);
            }
        case kRows:
            switch (e.loss) {
                case 0: return culossSoftmaxCrossEntropyWorkspaceSize(p.n, p.c, dt, red, bytes);
                case 1: return culossSoftmaxFocalWorkspaceSize(p.n, p.c, dt, red, bytes);
                case 2: return culossMulticlassHingeWorkspaceSize(p.n, p.c, dt, red, bytes);
                case 4: return culossSoftmaxCrossEntropyProbsWorkspaceSize(p.n, p.c, dt, red, bytes);
                case 5: return culossInterclassDistanceWorkspaceSize(p.n, p.c, dt, red, bytes);
                default: return culossZeroOneWorkspaceSize(p.n, p.c, dt, red, bytes);
            }
        case kTriplet: return culossTripletMarginWorkspaceSize(p.n, p.d, dt, red, bytes);
        case kCenter: return culossCenterLossWorkspaceSize(p.n, p.d, p.ncls, dt, red, bytes);
        case kLargeMargin: return culossLargeMarginSoftmaxWorkspaceSize(p.n, p.d, p.ncls, dt, red, bytes);
        case kWeightedLogistic: return culossLogisticWeightedWorkspaceSize(p.count, dt, red, bytes);
        case kSpatial:
            switch (e.loss) {
                case 0: return culossSoftmaxCrossEntropySpatialWorkspaceSize(p.n, p.c, p.d, dt, red, bytes);
                case 1: return culossSoftmaxFocalSpatialWorkspaceSize(p.n, p.c, p.d, dt, red, bytes);
                default: return culossSoftmaxCrossEntropyProbsSpatialWorkspaceSize(p.n, p.c, p.d, dt, red, bytes);
            }
        default: return CULOSS_STATUS_SUCCESS;
    }
#undef red
#undef dt
}

// One call of the entry point with the pointers of one run.
culossStatus_t invoke(const Params& p, const std::vector<Tensor>& ts, bool aliased_run, size_t ws_claim) {
    const Entry& e = kEntries[p.entry];
    std::vector<void*> ptr(ts.size(), nullptr);
    for (size_t i = 0; i < ts.size(); ++i) {
        if (!ts[i].used || ts[i].mode == 1) continue;
        ptr[i] = aliased_run ? ts[i].b : ts[i].a;
    }
    auto F = [&](int i) { return static_cast<float*>(ptr[i]); };
    auto I = [&](int i) { return static_cast<int32_t*>(ptr[i]); };
    // The enums are converted where they are passed: a variable of enum type that holds 7 is
    // undefined in C++ (UBSan reports its load), while a C caller may pass any int.
#define red culossReduction_t(p.reduction)
#define dt culossDataType_t(p.dtype)
    const culossStream_t st = nullptr;
    switch (e.family) {
        case kElementwise: {
            void* ws = ptr[5];
            switch (e.loss) {
                case 0:
                    if (e.op == kFwd) return culossMseForward(F(0), F(1), p.count, dt, red, F(3), ws, ws_claim, st);
                    if (e.op == kBwd) return culossMseBackward(F(0), F(1), p.count, dt, red, F(2), F(4), ws, ws_claim, st);
                    return culossMseForwardBackward(F(0), F(1), p.count, dt, red, F(2), F(3), F(4), ws, ws_claim, st);
                case 1:
                    if (e.op == kFwd)
                        return culossSmoothL1Forward(F(0), F(1), p.count, dt, p.f1, red, F(3), ws, ws_claim, st);
                    if (e.op == kBwd)
                        return culossSmoothL1Backward(F(0), F(1), p.count, dt, p.f1, red, F(2), F(4), ws, ws_claim, st);
                    return culossSmoothL1ForwardBackward(F(0), F(1), p.count, dt, p.f1, red, F(2), F(3), F(4), ws,
                                                         ws_claim, st);
                case 2:
                    if (e.op == kFwd) return culossHuberForward(F(0), F(1), p.count, dt, p.f1, red, F(3), ws, ws_claim, st);
                    if (e.op == kBwd)
                        return culossHuberBackward(F(0), F(1), p.count, dt, p.f1, red, F(2), F(4), ws, ws_claim, st);
                    return culossHuberForwardBackward(F(0), F(1), p.count, dt, p.f1, red, F(2), F(3), F(4), ws,
                                                      ws_claim, st);
                case 4:
                    if (e.op == kFwd) return culossL1Forward(F(0), F(1), p.count, dt, red, F(3), ws, ws_claim, st);
                    if (e.op == kBwd) return culossL1Backward(F(0), F(1), p.count, dt, red, F(2), F(4), ws, ws_claim, st);
                    return culossL1ForwardBackward(F(0), F(1), p.count, dt, red, F(2), F(3), F(4), ws, ws_claim, st);
                case 5:
                    if (e.op == kFwd) return culossExponentialForward(F(0), F(1), p.count, dt, red, F(3), ws, ws_claim, st);
                    if (e.op == kBwd)
                        return culossExponentialBackward(F(0), F(1), p.count, dt, red, F(2), F(4), ws, ws_claim, st);
                    return culossExponentialForwardBackward(F(0), F(1), p.count, dt, red, F(2), F(3), F(4), ws,
                                                            ws_claim, st);
                case 6:
                    if (e.op == kFwd) return culossHingeForward(F(0), F(1), p.count, dt, p.f1, red, F(3), ws, ws_claim, st);
                    if (e.op == kBwd)
                        return culossHingeBackward(F(0), F(1), p.count, dt, p.f1, red, F(2), F(4), ws, ws_claim, st);
                    return culossHingeForwardBackward(F(0), F(1), p.count, dt, p.f1, red, F(2), F(3), F(4), ws,
                                                      ws_claim, st);
                case 8:
                case 9: {
                    const bool l1 = e.loss == 8;
                    if (e.op == kFwd)
                        return (l1 ? culossL1PenaltyForward : culossL2PenaltyForward)(F(0), p.count, dt, p.f1, F(3), ws,
                                                                                    ws_claim, st);
                    if (e.op == kBwd)
                        return (l1 ? culossL1PenaltyBackward : culossL2PenaltyBackward)(F(0), p.count, dt, p.f1, F(2),
                                                                                      F(4), ws, ws_claim, st);
                    return (l1 ? culossL1PenaltyForwardBackward : culossL2PenaltyForwardBackward)(
                        F(0), p.count, dt, p.f1, F(2), F(3), F(4), ws, ws_claim, st);
                }
                case 7:
                    if (e.op == kFwd)
                        return culossLogisticForward(F(0), F(1), p.count, dt, p.f1, red, F(3), ws, ws_claim, st);
                    if (e.op == kBwd)
                        return culossLogisticBackward(F(0), F(1), p.count, dt, p.f1, red, F(2), F(4), ws, ws_claim, st);
                    return culossLogisticForwardBackward(F(0), F(1), p.count, dt, p.f1, red, F(2), F(3), F(4), ws,
                                                         ws_claim, st);
                default:
                    if (e.op == kFwd)
                        return culossSigmoidFocalForward(F(0), F(1), p.count, dt, p.f1, p.f2, red, F(3), ws, ws_claim, st);
                    if (e.op == kBwd)
                        return culossSigmoidFocalBackward(F(0), F(1), p.count, dt, p.f1, p.f2, red, F(2), F(4), ws,
                                                          ws_claim, st);
                    return culossSigmoidFocalForwardBackward(F(0), F(1), p.count, dt, p.f1, p.f2, red, F(2), F(3),
                                                             F(4), ws, ws_claim, st);
            }
        }
        case kRows: {
            void* ws = ptr[7];
            if (e.loss == 2) {
                // p from f2: 1 and 2 are valid, 0 and 3 refused
                const int hp = std::isfinite(p.f2) && p.f2 >= 0.f && p.f2 < 4.f ? int(p.f2) : 3;
                if (e.op == kFwd)
                    return culossMulticlassHingeForward(F(0), p.lstride, I(1), p.n, p.c, dt, F(2), p.f1, hp, red, F(4),
                                                        ws, ws_claim, I(6), st);
                if (e.op == kBwd)
                    return culossMulticlassHingeBackward(F(0), p.lstride, I(1), p.n, p.c, dt, F(2), p.f1, hp, red, F(3),
                                                         F(5), p.gstride, ws, ws_claim, I(6), st);
                return culossMulticlassHingeForwardBackward(F(0), p.lstride, I(1), p.n, p.c, dt, F(2), p.f1, hp, red,
                                                            F(3), F(4), F(5), p.gstride, ws, ws_claim, I(6), st);
            }
            if (e.loss == 4) {
                if (e.op == kFwd)
                    return culossSoftmaxCrossEntropyProbsForward(F(0), p.lstride, F(1), p.n, p.c, dt, F(2), p.f1, red,
                                                                 F(4), ws, ws_claim, st);
                if (e.op == kBwd)
                    return culossSoftmaxCrossEntropyProbsBackward(F(0), p.lstride, F(1), p.n, p.c, dt, F(2), p.f1, red,
                                                                  F(3), F(5), p.gstride, ws, ws_claim, st);
                return culossSoftmaxCrossEntropyProbsForwardBackward(F(0), p.lstride, F(1), p.n, p.c, dt, F(2), p.f1,
                                                                     red, F(3), F(4), F(5), p.gstride, ws, ws_claim,
                                                                     st);
            }
            if (e.loss == 5) {
                if (e.op == kFwd)
                    return culossInterclassDistanceForward(F(0), p.lstride, I(1), p.n, p.c, dt, red, F(4), ws, ws_claim,
                                                           I(6), st);
                if (e.op == kBwd)
                    return culossInterclassDistanceBackward(F(0), p.lstride, I(1), p.n, p.c, dt, red, F(3), F(5),
                                                            p.gstride, ws, ws_claim, I(6), st);
                return culossInterclassDistanceForwardBackward(F(0), p.lstride, I(1), p.n, p.c, dt, red, F(3), F(4),
                                                               F(5), p.gstride, ws, ws_claim, I(6), st);
            }
            if (e.loss == 3) return culossZeroOneForward(F(0), p.lstride, I(1), p.n, p.c, dt, red, F(4), ws, ws_claim,
                                                         I(6), st);
            if (e.loss == 0) {
                if (e.op == kFwd)
                    return culossSoftmaxCrossEntropyForward(F(0), p.lstride, I(1), p.n, p.c, dt, F(2), p.ignore_index,
                                                            p.f1, red, F(4), ws, ws_claim, I(6), st);
                if (e.op == kBwd)
                    return culossSoftmaxCrossEntropyBackward(F(0), p.lstride, I(1), p.n, p.c, dt, F(2), p.ignore_index,
                                                             p.f1, red, F(3), F(5), p.gstride, ws, ws_claim, I(6), st);
                return culossSoftmaxCrossEntropyForwardBackward(F(0), p.lstride, I(1), p.n, p.c, dt, F(2),
                                                                p.ignore_index, p.f1, red, F(3), F(4), F(5), p.gstride,
                                                                ws, ws_claim, I(6), st);
            }
            if (e.op == kFwd)
                return culossSoftmaxFocalForward(F(0), p.lstride, I(1), p.n, p.c, dt, F(2), p.f1, p.f2, p.ignore_index,
                                                 red, F(4), ws, ws_claim, I(6), st);
            if (e.op == kBwd)
                return culossSoftmaxFocalBackward(F(0), p.lstride, I(1), p.n, p.c, dt, F(2), p.f1, p.f2, p.ignore_index,
                                                  red, F(3), F(5), p.gstride, ws, ws_claim, I(6), st);
            return culossSoftmaxFocalForwardBackward(F(0), p.lstride, I(1), p.n, p.c, dt, F(2), p.f1, p.f2,
                                                     p.ignore_index, red, F(3), F(4), F(5), p.gstride, ws, ws_claim,
                                                     I(6), st);
        }
        case kTriplet: {
            void* ws = ptr[8];
            if (e.op == kFwd)
                return culossTripletMarginForward(F(0), F(1), F(2), p.n, p.d, dt, p.f1, p.f2, p.f3, p.swap, red, F(4),
                                                  ws, ws_claim, st);
            if (e.op == kBwd)
                return culossTripletMarginBackward(F(0), F(1), F(2), p.n, p.d, dt, p.f1, p.f2, p.f3, p.swap, red, F(3),
                                                   F(5), F(6), F(7), ws, ws_claim, st);
            return culossTripletMarginForwardBackward(F(0), F(1), F(2), p.n, p.d, dt, p.f1, p.f2, p.f3, p.swap, red,
                                                      F(3), F(4), F(5), F(6), F(7), ws, ws_claim, st);
        }
        case kCenter: {
            void* ws = ptr[8];
            if (e.op == kFwd)
                return culossCenterLossForward(F(0), I(1), F(2), p.n, p.d, p.ncls, dt, p.f1, red, F(4), ws, ws_claim,
                                               I(7), st);
            if (e.op == kBwd)
                return culossCenterLossBackward(F(0), I(1), F(2), p.n, p.d, p.ncls, dt, p.f1, red, F(3), F(5), F(6), ws,
                                                ws_claim, I(7), st);
            if (e.op == kFwdBwd)
                return culossCenterLossForwardBackward(F(0), I(1), F(2), p.n, p.d, p.ncls, dt, p.f1, red, F(3), F(4),
                                                       F(5), F(6), ws, ws_claim, I(7), st);
            return culossCenterLossUpdateCenters(F(0), I(1), F(2), p.n, p.d, p.ncls, dt, p.f1, ws, ws_claim, I(7), st);
        }
        case kWeightedLogistic: {
            void* ws = ptr[7];
            if (e.op == kFwd)
                return culossLogisticWeightedForward(F(0), F(1), F(2), F(3), p.count, p.ncls, dt, red, F(5), ws, ws_claim,
                                                     st);
            if (e.op == kBwd)
                return culossLogisticWeightedBackward(F(0), F(1), F(2), F(3), p.count, p.ncls, dt, red, F(4), F(6), ws,
                                                      ws_claim, st);
            return culossLogisticWeightedForwardBackward(F(0), F(1), F(2), F(3), p.count, p.ncls, dt, red, F(4), F(5),
                                                         F(6), ws, ws_claim, st);
        }
        case kSpatial: {
            void* ws = ptr[7];
            if (e.loss == 0) {
                if (e.op == kFwd)
                    return culossSoftmaxCrossEntropySpatialForward(F(0), I(1), p.n, p.c, p.d, dt, F(2), p.ignore_index,
                                                                   p.f1, red, F(4), ws, ws_claim, I(6), st);
                if (e.op == kBwd)
                    return culossSoftmaxCrossEntropySpatialBackward(F(0), I(1), p.n, p.c, p.d, dt, F(2), p.ignore_index,
                                                                    p.f1, red, F(3), F(5), ws, ws_claim, I(6), st);
                return culossSoftmaxCrossEntropySpatialForwardBackward(F(0), I(1), p.n, p.c, p.d, dt, F(2),
                                                                       p.ignore_index, p.f1, red, F(3), F(4), F(5), ws,
                                                                       ws_claim, I(6), st);
            }
            if (e.loss == 1) {
                if (e.op == kFwd)
                    return culossSoftmaxFocalSpatialForward(F(0), I(1), p.n, p.c, p.d, dt, F(2), p.f1, p.f2,
                                                            p.ignore_index, red, F(4), ws, ws_claim, I(6), st);
                if (e.op == kBwd)
                    return culossSoftmaxFocalSpatialBackward(F(0), I(1), p.n, p.c, p.d, dt, F(2), p.f1, p.f2,
                                                             p.ignore_index, red, F(3), F(5), ws, ws_claim, I(6), st);
                return culossSoftmaxFocalSpatialForwardBackward(F(0), I(1), p.n, p.c, p.d, dt, F(2), p.f1, p.f2,
                                                                p.ignore_index, red, F(3), F(4), F(5), ws, ws_claim,
                                                                I(6), st);
            }
            if (e.op == kFwd)
                return culossSoftmaxCrossEntropyProbsSpatialForward(F(0), F(1), p.n, p.c, p.d, dt, F(2), p.f1, red,
                                                                    F(4), ws, ws_claim, st);
            if (e.op == kBwd)
                return culossSoftmaxCrossEntropyProbsSpatialBackward(F(0), F(1), p.n, p.c, p.d, dt, F(2), p.f1, red,
                                                                     F(3), F(5), ws, ws_claim, st);
            return culossSoftmaxCrossEntropyProbsSpatialForwardBackward(F(0), F(1), p.n, p.c, p.d, dt, F(2), p.f1,
                                                                        red, F(3), F(4), F(5), ws, ws_claim, st);
        }
        case kLargeMargin: {
            void* ws = ptr[9];
            // the margin from f2: 1 to 16 valid, 0 and 17 refused
            const int m = std::isfinite(p.f2) && p.f2 >= 0.f && p.f2 < 18.f ? int(p.f2) : 0;
            if (e.op == kFwd)
                return culossLargeMarginSoftmaxForward(F(0), F(1), I(2), p.n, p.d, p.ncls, dt, m, p.f1, red, F(4), F(5),
                                                       ws, ws_claim, I(8), st);
            if (e.op == kBwd)
                return culossLargeMarginSoftmaxBackward(F(0), F(1), I(2), p.n, p.d, p.ncls, dt, m, p.f1, red, F(3),
                                                        F(5), F(6), F(7), ws, ws_claim, I(8), st);
            return culossLargeMarginSoftmaxForwardBackward(F(0), F(1), I(2), p.n, p.d, p.ncls, dt, m, p.f1, red, F(3),
                                                           F(4), F(5), F(6), F(7), ws, ws_claim, I(8), st);
        }
        default:
            return CULOSS_STATUS_INTERNAL_ERROR;
    }
#undef red
#undef dt
}

// ------------------------------------------------------------------------------------------
// References (double precision) for the cheap losses.

bool all_finite(const float* p, int64_t n) {
    for (int64_t i = 0; i < n; ++i)
        if (!std::isfinite(p[i])) return false;
    return true;
}

void check_close(const std::string& call, const char* what, const float* got, const std::vector<double>& ref) {
    double mag = 0;
    for (double r : ref) mag = std::max(mag, std::fabs(r));
    if (!(mag < 1e30)) return;  // float overflow territory: the reference says nothing
    for (size_t i = 0; i < ref.size(); ++i) {
        const double tol = 1e-4 * std::fabs(ref[i]) + 1e-5 * mag + 1e-30;
        if (!(std::fabs(double(got[i]) - ref[i]) <= tol))
            violation(call, "%s[%zu] = %.9g, the double-precision reference gives %.9g (tolerance %.3g)", what, i,
                      double(got[i]), ref[i], tol);
    }
}

void reference_elementwise(const std::string& call, const Params& p, const std::vector<Tensor>& ts) {
    const Entry& e = kEntries[p.entry];
    if (e.loss >= 3) return;  // the reference below is mse's, smooth L1's and Huber's
    if (p.count <= 0) return;
    const float* x = reinterpret_cast<const float*>(ts[0].a);
    const float* t = reinterpret_cast<const float*>(ts[1].a);
    const bool none = p.reduction == 0, mean = p.reduction == 2;
    const bool fwd = e.op != kBwd, bwd = e.op != kFwd;
    const float* go = bwd && ts[2].mode != 1 ? reinterpret_cast<const float*>(ts[2].a) : nullptr;
    if (!all_finite(x, p.count) || !all_finite(t, p.count)) return;
    if (go && !all_finite(go, none ? p.count : 1)) return;
    const double beta = p.f1;
    std::vector<double> loss(none ? size_t(p.count) : 1, 0.0), grad(size_t(p.count));
    for (int64_t i = 0; i < p.count; ++i) {
        const double dd = double(x[i]) - double(t[i]);
        const double z = std::fabs(dd);
        double l, g;
        if (e.loss == 0) {
            l = dd * dd;
            g = 2 * dd;
        } else if (e.loss == 1) {
            l = z < beta ? 0.5 * z * z / beta : z - 0.5 * beta;
            g = beta == 0 ? (dd > 0 ? 1 : dd < 0 ? -1 : 0) : dd <= -beta ? -1 : dd >= beta ? 1 : dd / beta;
        } else {
            l = z < beta ? 0.5 * dd * dd : beta * (z - 0.5 * beta);
            g = dd <= -beta ? -beta : dd >= beta ? beta : dd;
        }
        if (none) loss[size_t(i)] = l;
        else loss[0] += l;
        const double up = go ? double(go[none ? i : 0]) : 1.0;
        grad[size_t(i)] = g * up * (mean ? 1.0 / double(p.count) : 1.0);
    }
    if (mean) loss[0] /= double(p.count);
    if (fwd) check_close(call, "loss", reinterpret_cast<const float*>(ts[3].a), loss);
    if (bwd) check_close(call, "grad", reinterpret_cast<const float*>(ts[4].a), grad);
}

void reference_cross_entropy(const std::string& call, const Params& p, const std::vector<Tensor>& ts) {
    const Entry& e = kEntries[p.entry];
    if (e.loss != 0 || p.n <= 0 || p.f1 != 0.f || ts[2].mode != 1) return;  // CE, no weights, no smoothing
    const float* x = reinterpret_cast<const float*>(ts[0].a);
    const int32_t* y = reinterpret_cast<const int32_t*>(ts[1].a);
    if (!all_finite(x, ts[0].elems)) return;
    const bool none = p.reduction == 0, mean = p.reduction == 2;
    const bool fwd = e.op != kBwd, bwd = e.op != kFwd;
    const float* go = bwd && ts[3].mode != 1 ? reinterpret_cast<const float*>(ts[3].a) : nullptr;
    if (go && !all_finite(go, none ? p.n : 1)) return;
    std::vector<double> loss(none ? size_t(p.n) : 1, 0.0);
    std::vector<double> grad;
    double counted = 0;
    for (int64_t i = 0; i < p.n; ++i) {
        const int32_t yi = y[i];
        if (int64_t(yi) != p.ignore_index && yi >= 0 && yi < p.c) counted += 1;
    }
    const double denom = mean ? counted : 1.0;
    for (int64_t i = 0; i < p.n; ++i) {
        const float* row = x + i * p.lstride;
        const int32_t yi = y[i];
        const bool ok = int64_t(yi) != p.ignore_index && yi >= 0 && yi < p.c;
        double m = -INFINITY;
        for (int64_t j = 0; j < p.c; ++j) m = std::max(m, double(row[j]));
        double s = 0;
        for (int64_t j = 0; j < p.c; ++j) s += std::exp(double(row[j]) - m);
        const double lse = m + std::log(s);
        const double l = ok ? lse - double(row[yi]) : 0.0;
        if (none) loss[size_t(i)] = l;
        else loss[0] += l;
        if (bwd) {
            const double up = go ? double(go[none ? i : 0]) : 1.0;
            const double scale = !ok ? 0.0 : mean ? (denom > 0 ? up / denom : 0.0) : up;
            std::vector<double> g(size_t(p.c));
            for (int64_t j = 0; j < p.c; ++j)
                g[size_t(j)] = scale * (std::exp(double(row[j]) - lse) - (j == yi ? 1.0 : 0.0));
            const float* got = reinterpret_cast<const float*>(ts[5].a) + i * p.gstride;
            check_close(call, "grad_logits (row)", got, g);
        }
    }
    if (mean) loss[0] = counted > 0 ? loss[0] / counted : 0.0;
    if (fwd) check_close(call, "loss", reinterpret_cast<const float*>(ts[4].a), loss);
}

// Center loss: lambda / 2 ||x_i - c_{y_i}||^2 (a bad label: 0), SUM / MEAN over n; grad_features
// lambda (x_i - c_y) g_i (/ n for MEAN).
void reference_center(const std::string& call, const Params& p, const std::vector<Tensor>& ts) {
    const Entry& e = kEntries[p.entry];
    if (e.op == kUpdate || p.n <= 0 || ts[0].mode == 1 || ts[1].mode == 1 || ts[2].mode == 1) return;
    const float* x = reinterpret_cast<const float*>(ts[0].a);
    const int32_t* y = reinterpret_cast<const int32_t*>(ts[1].a);
    const float* c = reinterpret_cast<const float*>(ts[2].a);
    if (!all_finite(x, p.n * p.d) || !all_finite(c, p.ncls * p.d)) return;
    const bool none = p.reduction == 0, mean = p.reduction == 2;
    const bool fwd = e.op != kBwd, bwd = e.op != kFwd;
    const float* go = bwd && ts[3].mode != 1 ? reinterpret_cast<const float*>(ts[3].a) : nullptr;
    if (go && !all_finite(go, none ? p.n : 1)) return;
    const double lambda = p.f1;
    std::vector<double> loss(none ? size_t(p.n) : 1, 0.0), gf(size_t(p.n * p.d), 0.0);
    for (int64_t i = 0; i < p.n; ++i) {
        const int32_t yi = y[i];
        if (yi < 0 || yi >= p.ncls) continue;
        double sq = 0;
        const double up = (go ? double(go[none ? i : 0]) : 1.0) * (mean ? 1.0 / double(p.n) : 1.0);
        for (int64_t k = 0; k < p.d; ++k) {
            const double diff = double(x[i * p.d + k]) - double(c[int64_t(yi) * p.d + k]);
            sq += diff * diff;
            gf[size_t(i * p.d + k)] = lambda * diff * up;
        }
        if (none) loss[size_t(i)] = lambda / 2 * sq;
        else loss[0] += lambda / 2 * sq;
    }
    if (mean) loss[0] /= double(p.n);
    if (fwd) check_close(call, "loss", reinterpret_cast<const float*>(ts[4].a), loss);
    if (bwd && ts[5].mode != 1) check_close(call, "grad_features", reinterpret_cast<const float*>(ts[5].a), gf);
}

// ------------------------------------------------------------------------------------------
// The memory helpers and the small queries.

void fuzz_memory(const Params& p, Reader& r) {
    const Entry& e = kEntries[p.entry];
    const std::string call = kEntries[p.entry].name;
    static const uint64_t huge_bytes[] = {SIZE_MAX,           SIZE_MAX - 1,        SIZE_MAX - 254,
                                          SIZE_MAX - 255,     SIZE_MAX - 256,      SIZE_MAX - 510,
                                          SIZE_MAX - 511,     SIZE_MAX - 512,      uint64_t(1) << 63,
                                          (uint64_t(1) << 63) + 1, uint64_t(1) << 62, uint64_t(1) << 48,
                                          uint64_t(1) << 44,  (uint64_t(1) << 63) - 1};
    auto read_bytes = [&](uint64_t small_max, bool* huge) {
        const uint8_t mode = r.u8();
        *huge = false;
        if (mode < 220) return uint64_t(r.u16()) % (small_max + 1);
        *huge = true;
        return huge_bytes[r.u8() % (sizeof huge_bytes / sizeof huge_bytes[0])];
    };
    if (e.op == kMalloc) {
        bool huge;
        const uint64_t bytes = read_bytes(8192, &huge);
        const bool null_ptr = r.u8() >= 240;
        char desc[160];
        std::snprintf(desc, sizeof desc, "culossMalloc(%s, %" PRIu64 ")", null_ptr ? "NULL" : "&p", bytes);
        void* ptr = reinterpret_cast<void*>(uintptr_t(0x1));
        const culossStatus_t s = culossMalloc(null_ptr ? nullptr : &ptr, size_t(bytes));
        if (!documented(s)) violation(desc, "status %d is not a culossStatus_t", int(s));
        if (null_ptr) {
            if (s == CULOSS_STATUS_SUCCESS) violation(desc, "a NULL ptr argument was accepted");
            return;
        }
        if (s != CULOSS_STATUS_SUCCESS) {
            if (!huge) violation(desc, "a small allocation failed with %d", int(s));
            return;
        }
        if (huge) violation(desc, "an allocation of %" PRIu64 " bytes succeeded (%p)", bytes, ptr);
        if (bytes > 0) {
            if (!ptr) violation(desc, "SUCCESS with a NULL pointer");
            if (reinterpret_cast<uintptr_t>(ptr) % 256 != 0) violation(desc, "%p is not 256-byte aligned", ptr);
            std::memset(ptr, 0xab, size_t(bytes));  // AddressSanitizer checks the whole range
        }
        const culossStatus_t f = culossFree(ptr);
        if (f != CULOSS_STATUS_SUCCESS) violation(desc, "culossFree of the block returned %d", int(f));
        const culossStatus_t f0 = culossFree(nullptr);
        if (f0 != CULOSS_STATUS_SUCCESS) violation(desc, "culossFree(NULL) returned %d", int(f0));
        return;
    }
    // memcpy / memset: exact buffers of up to 4096 bytes.
    const size_t dst_size = r.u16() % 4097, src_size = r.u16() % 4097;
    const unsigned dst_off = r.u8() % 16, src_off = r.u8() % 16;
    const uint8_t layout = r.u8();  // 0..199 separate, 200..239 src inside dst's buffer, else NULLs
    bool huge;
    uint64_t bytes = read_bytes(4096, &huge);
    // A huge count here runs past the end of the address space, which the library refuses. One that
    // only runs past the buffer is the caller's contract (a pointer carries no size), not fuzzed.
    if (huge) bytes = SIZE_MAX - (bytes & 0xfff);
    const int kind_choice = r.u8();
    static const int bad_kinds[] = {-1, 3, 4, INT32_MAX, INT32_MIN, 255};
    const int kind = kind_choice < 230 ? kind_choice % 3 : bad_kinds[kind_choice % 6];
    const int value = kind_choice < 128 ? int(r.u8()) : int(r.u32());
    void* dblock = nullptr;
    void* sblock = nullptr;
    if (posix_memalign(&dblock, 16, dst_off + dst_size) != 0 || posix_memalign(&sblock, 16, src_off + src_size) != 0)
        std::abort();
    uint8_t* dst = static_cast<uint8_t*>(dblock) + dst_off;
    uint8_t* src = static_cast<uint8_t*>(sblock) + src_off;
    Rng rng{r.u64()};
    for (size_t i = 0; i < dst_size; ++i) dst[i] = uint8_t(rng.next());
    for (size_t i = 0; i < src_size; ++i) src[i] = uint8_t(rng.next());
    bool overlapping = false;
    const bool null_dst = layout >= 240 && (layout & 1), null_src = layout >= 240 && (layout & 2);
    uint8_t* d = null_dst ? nullptr : dst;
    const uint8_t* s = null_src ? nullptr : src;
    if (e.op == kMemset) s = nullptr;
    size_t limit = e.op == kMemset ? dst_size : std::min(dst_size, src_size);
    if (e.op == kMemcpy && layout >= 200 && layout < 240 && dst_size > 0) {
        const size_t at = r.u16() % dst_size;
        s = dst + at;
        overlapping = true;
        limit = std::min(limit, dst_size - at);
    }
    if (!huge) bytes = limit ? bytes % (limit + 1) : 0;
    if ((null_dst || (e.op == kMemcpy && null_src)) && !huge && bytes > 0 && r.u8() < 128) bytes = 0;
    std::vector<uint8_t> before_dst(dst, dst + dst_size), before_src(src, src + src_size);
    char desc[256];
    culossStatus_t st;
    if (e.op == kMemcpy) {
        std::snprintf(desc, sizeof desc, "culossMemcpyAsync(dst=%s, src=%s, bytes=%" PRIu64 ", kind=%d) dst_size=%zu src_size=%zu",
                      d ? "buf" : "NULL", s ? (overlapping ? "inside dst" : "buf") : "NULL", bytes, kind, dst_size,
                      src_size);
        st = culossMemcpyAsync(d, s, size_t(bytes), kind, nullptr);
    } else {
        std::snprintf(desc, sizeof desc, "culossMemsetAsync(dst=%s, value=%d, bytes=%" PRIu64 ") dst_size=%zu",
                      d ? "buf" : "NULL", value, bytes, dst_size);
        st = culossMemsetAsync(d, value, size_t(bytes), nullptr);
    }
    sync_stream(desc);
    if (!documented(st)) violation(desc, "status %d is not a culossStatus_t", int(st));
    const bool bad_kind = e.op == kMemcpy && (kind < 0 || kind > 2);
    const bool bad_null = bytes > 0 && (!d || (e.op == kMemcpy && !s));
    if (st == CULOSS_STATUS_SUCCESS && (bad_kind || bad_null || huge))
        violation(desc, "accepted (%s)", bad_kind ? "invalid kind" : bad_null ? "NULL pointer" : "huge byte count");
    if (st != CULOSS_STATUS_SUCCESS && !(bad_kind || bad_null || huge))
        violation(desc, "a valid call returned %d", int(st));
    if (st == CULOSS_STATUS_SUCCESS && bytes > 0) {
        for (size_t i = 0; i < dst_size; ++i) {
            uint8_t want = before_dst[i];
            if (i < bytes) {
                if (e.op == kMemset) want = uint8_t(value);
                else if (!overlapping) want = before_src[i];
                else continue;  // an overlapping copy: only bounds are checked
            }
            if (dst[i] != want) violation(desc, "dst[%zu] = %u, expected %u", i, dst[i], want);
        }
    }
    std::free(dblock);
    std::free(sblock);
}

void fuzz_misc(Reader& r) {
    const int status = int(r.u32());
    int value = status & 0xff ? status % 9 : status;
    const char* s = culossGetErrorString(culossStatus_t(value));
    if (!s) violation("culossGetErrorString", "NULL for %d", status);
    const char* d = culossGetLastErrorDetail();
    if (!d || std::strlen(d) >= 256) violation("culossGetLastErrorDetail", "NULL or longer than its buffer");
    int count = -1;
    if (culossGetDeviceCount(nullptr) != CULOSS_STATUS_INVALID_VALUE)
        violation("culossGetDeviceCount(NULL)", "not INVALID_VALUE");
    const culossStatus_t c = culossGetDeviceCount(&count);
    if (c != CULOSS_STATUS_SUCCESS || count != 1) violation("culossGetDeviceCount", "status %d count %d", int(c), count);
    if (culossGetVersion() != CULOSS_VERSION) violation("culossGetVersion", "not CULOSS_VERSION");
    if (std::strcmp(culossGetBackendName(), "emulated") != 0) violation("culossGetBackendName", "not \"emulated\"");
}

// ------------------------------------------------------------------------------------------
// The loss calls.

// Buffers may be misaligned on purpose: every store of the harness is a memcpy.
void fill_floats(void* p, int64_t n, Rng& rng, double scale) {
    for (int64_t i = 0; i < n; ++i) {
        const float v = float((rng.unit() * 2 - 1) * scale);
        std::memcpy(static_cast<uint8_t*>(p) + 4 * i, &v, 4);
    }
}

void fill_labels(void* out, int64_t n, Rng& rng, int64_t classes, int bad_rate, int64_t ignore_index) {
    static const int32_t bad[] = {-1, INT32_MIN, INT32_MAX, -100};
    for (int64_t i = 0; i < n; ++i) {
        const uint64_t v = rng.next();
        int32_t label;
        if (int(v % 256) < bad_rate) {
            const int k = int((v >> 8) % 6);
            label = k < 4 ? bad[k] : k == 4 ? int32_t(classes) : int32_t(ignore_index);
        } else {
            label = classes > 0 ? int32_t((v >> 8) % uint64_t(std::min<int64_t>(classes, INT32_MAX))) : 0;
        }
        std::memcpy(static_cast<uint8_t*>(out) + 4 * i, &label, 4);
    }
}

void fuzz_loss(Params& p, Reader& r) {
    const Entry& e = kEntries[p.entry];
    // Sizes and options.
    switch (e.family) {
        case kElementwise:
            p.count = read_size(r, 2100);
            p.f1 = read_float(r, e.loss == 3 ? 0.25f : 1.f);
            p.f2 = read_float(r, 2.f);
            break;
        case kRows: {
            p.n = read_size(r, 70);
            p.c = read_size(r, 40);
            if (r.u8() >= 235) p.c = 1000 + r.u16() % 20000;  // the block-per-row paths
            const uint8_t sm = r.u8();
            auto plus = [](int64_t c, int64_t k) { return c > INT64_MAX - k ? c : c + k; };  // no overflow
            p.lstride = sm < 200 ? plus(p.c, sm % 8) : read_size(r, 64);
            const uint8_t gm = r.u8();
            p.gstride = gm < 150 ? p.lstride : gm < 200 ? plus(p.c, gm % 8) : read_size(r, 64);
            static const int64_t ignores[] = {CULOSS_NO_IGNORE_INDEX, -100, 0, 1, -1, INT32_MIN, INT64_MAX, 2};
            const uint8_t im = r.u8();
            p.ignore_index = im < 250 ? ignores[im % 8] : int64_t(r.u64());
            p.f1 = read_float(r, e.loss == 0 || e.loss == 4 ? 0.f : 0.25f);  // label_smoothing / alpha
            p.f2 = read_float(r, 2.f);                         // gamma
            break;
        }
        case kTriplet:
            p.n = read_size(r, 64);
            p.d = read_size(r, 64);
            if (r.u8() >= 240) p.d = 64 + r.u16() % 9000;  // the block-per-row paths
            p.f1 = read_float(r, 1.f);                     // margin
            p.f2 = read_float(r, 2.f);                     // p
            p.f3 = read_float(r, 1e-6f);                   // eps
            p.swap = r.u8() & 1;
            break;
        case kCenter:
            p.n = read_size(r, 64);
            p.d = read_size(r, 32);
            p.ncls = read_size(r, 20);
            p.f1 = read_float(r, e.op == kUpdate ? 0.5f : 1.f);  // lambda / alpha
            break;
        case kWeightedLogistic:
            p.ncls = read_size(r, 12);
            p.count = read_size(r, 100);
            if (r.u8() < 200 && p.ncls > 0 && p.ncls < 100000) p.count = p.ncls * (p.count % 64);  // mostly a multiple
            break;
        case kSpatial: {
            p.n = read_size(r, 12);
            p.c = read_size(r, 20);
            p.d = read_size(r, 24);  // inner
            static const int64_t ignores[] = {CULOSS_NO_IGNORE_INDEX, -100, 0, 1, -1, INT32_MIN, INT64_MAX, 2};
            const uint8_t im = r.u8();
            p.ignore_index = im < 250 ? ignores[im % 8] : int64_t(r.u64());
            p.f1 = read_float(r, e.loss == 1 ? 0.25f : 0.f);  // alpha / label_smoothing
            p.f2 = read_float(r, 2.f);                        // gamma
            break;
        }
        case kLargeMargin:
            p.n = read_size(r, 40);
            p.d = read_size(r, 24);
            p.ncls = read_size(r, 20);
            p.f1 = read_float(r, 0.f);  // lambda
            p.f2 = read_float(r, 2.f);  // the margin
            break;
        default:
            break;
    }
    p.reduction = read_enum(r, 3);
    p.dtype = r.u8() < 240 ? 0 : read_enum(r, 3);
    const std::string call0 = kEntries[p.entry].name;

    size_t queried = 0;
    // Shrink sizes that are too large for the cap but no overflow.
    // A workspace query has no buffers: its sizes are kept as decoded, and "huge" is what the
    // tensors of those sizes would be.
    const bool query_only = e.op == kWs;
    std::vector<Tensor> ts = tensors_of(p, 0);
    for (int round = 0; round < 128 && !query_only; ++round) {
        bool huge = false;
        __int128 total = 0;
        for (const Tensor& t : ts) {
            huge |= t.huge && t.used;
            total += t.kind == kWorkspace ? 0 : t.elems;
        }
        if (huge || total <= kCapElements) break;
        int64_t* dims[] = {&p.count, &p.n, &p.c, &p.d, &p.ncls, &p.lstride, &p.gstride};
        int64_t** largest = nullptr;
        for (int64_t*& dm : dims)
            if (!largest || *dm > **largest) largest = &dm;
        **largest /= 2;
        ts = tensors_of(p, 0);
    }
    {
        __int128 total = 0;
        for (const Tensor& t : ts) total += t.kind == kWorkspace ? 0 : t.elems;
        bool any_huge = false;
        for (const Tensor& t : ts) any_huge |= t.huge && (t.used || query_only);
        if (!query_only && !any_huge && total > kCapElements) return;  // could not shrink: skip
    }
    bool huge = false;  // only the tensors the entry point takes count
    for (const Tensor& t : ts) huge |= t.huge && (t.used || query_only);
    // The emulator runs a CUDA thread per OS thread: a few blocks per call keep a call under
    // 100 ms. Rows: a warp per row (8 rows a block) up to c = 1024, a block per row above.
    if (!huge && !query_only) {
        const int64_t max_rows = e.family == kRows ? (p.c > 1024 ? 2 : 32)
                               : e.family == kTriplet ? (p.d > 512 ? 2 : 32)
                               : 64;
        while (p.n > max_rows) p.n /= 2;
        while (p.count > 8192) p.count /= 2;
        ts = tensors_of(p, 0);
    }
    if (env_flag("CULOSS_FUZZ_TRACE"))
        std::fprintf(stderr, "culoss-fuzz: sizes %s (huge=%d)\n", describe(p, {}).c_str(), int(huge));
    // The workspace query of these sizes: needed below, and a property of its own.
    const culossStatus_t qs2 = query_workspace(p, &queried);
    if (!documented(qs2)) violation(call0, "workspace query status %d is not a culossStatus_t", int(qs2));
    // Property: a reduced row loss's workspace holds its n per-row losses.
    if (qs2 == CULOSS_STATUS_SUCCESS &&
        (e.family == kRows || e.family == kTriplet || e.family == kCenter || e.family == kLargeMargin) &&
        p.n > 0 && p.reduction != 0 && p.dtype == 0 &&
        (unsigned __int128)queried < (unsigned __int128)p.n * 4u)
        violation(describe(p, ts), "the workspace query returned %zu bytes, less than the n = %" PRId64
                  " floats of the per-row losses (a wrapped size)", queried, p.n);
    if (e.op == kWs) {
        // The query alone: NULL bytes, invalid arguments.
        if (r.u8() >= 230) {
            const culossStatus_t s = query_workspace(p, nullptr);
            if (s == CULOSS_STATUS_SUCCESS) violation(describe(p, ts), "a NULL bytes pointer was accepted");
        }
        return;
    }

    // The workspace: what the query said, or less, or more, or a fuzzed size.
    size_t ws_claim = queried;
    const uint8_t wm = r.u8();
    if (qs2 != CULOSS_STATUS_SUCCESS) ws_claim = wm < 128 ? SIZE_MAX : 0;
    else if (wm < 180) ws_claim = queried;
    else if (wm < 200) ws_claim = queried + r.u8();
    else if (wm < 220) ws_claim = queried > 0 ? queried - 1 - r.u8() % std::min<size_t>(queried, 64) : 0;
    else if (wm < 240) ws_claim = 0;
    else ws_claim = r.u32() % (1u << 18);
    // A claim is the size of the buffer, except in a huge call (whose buffers are all stand-ins).
    if (!huge && ws_claim > (size_t(1) << 20)) ws_claim = queried;
    const size_t ws_alloc = huge ? std::min<size_t>(ws_claim, 256) : ws_claim;
    ts = tensors_of(p, ws_alloc);
    for (Tensor& t : ts)
        if (huge && t.kind != kWorkspace) t.huge = true;

    // Layout: own buffer (aligned or off), NULL, or a place in an arena.
    for (Tensor& t : ts) {
        const uint8_t m = r.u8();
        if (!t.used) continue;
        if (m < 150) {
            t.mode = 0;
        } else if (m < 175) {
            t.mode = 0;
            t.misalign = 4 * (1 + m % 3);  // 4-byte aligned, not 16: the scalar paths
        } else if (m < 180) {
            t.mode = 0;
            t.misalign = 1 + m % 3;  // misaligned: MISALIGNED expected
        } else if (m < 200) {
            t.mode = (t.nullable || m < 185) ? 1 : 0;  // NULL: mostly where documented
        } else if (!huge) {
            t.mode = 2;
            t.arena = 1 + (m & 1);
            t.arena_offset = r.u16() % 2048;
        }
        if (t.kind == kWorkspace && t.mode == 0 && t.misalign % 4 == 0) t.misalign = m < 160 ? 0 : t.misalign;
    }
    // Contents.
    static const double scales[] = {1, 4, 30, 1e4};
    Rng rng{r.u64()};
    const double scale = scales[r.u8() % 4];
    const int bad_rate = r.u8() % 64;
    const int specials = r.u8() >= 200 ? 1 + r.u8() % 4 : 0;

    const std::string call = describe(p, ts);

    // Arenas (aliased run): big enough for their members.
    int64_t arena_elems[3] = {0, 0, 0};
    bool any_arena = false, arena_used[3] = {false, false, false};
    for (Tensor& t : ts) {
        if (!t.used || t.mode != 2) continue;
        any_arena = arena_used[t.arena] = true;
        const int64_t words = t.kind == kWorkspace ? (t.elems + 3) / 4 : t.elems;
        arena_elems[t.arena] = std::max(arena_elems[t.arena], t.arena_offset + words);
    }
    std::vector<void*> blocks;
    auto alloc = [&](size_t off, size_t bytes) {
        void* blk = nullptr;
        if (posix_memalign(&blk, 16, off + bytes) != 0) std::abort();
        blocks.push_back(blk);
        return static_cast<uint8_t*>(blk) + off;
    };
    uint8_t* arena[3] = {nullptr, nullptr, nullptr};
    const unsigned arena_misalign = 4 * (r.u8() % 4);
    for (int a = 1; a <= 2; ++a) {
        if (!arena_used[a]) continue;
        arena[a] = alloc(arena_misalign, size_t(arena_elems[a]) * 4);
        fill_floats(arena[a], arena_elems[a], rng, scale);
    }
    // Own buffers (both runs) and the places in the arenas.
    for (Tensor& t : ts) {
        if (!t.used || t.mode == 1) continue;
        const int64_t elems = t.huge ? kSmallBuffer : t.elems;
        t.bytes = size_t(elems * elem_size(t.kind));
        if (t.mode == 2) {
            t.b = arena[t.arena] + t.arena_offset * 4;
            if (t.kind == kI32 && t.input) {
                fill_labels(t.b, elems, rng, t.label_classes, bad_rate, p.ignore_index);
            } else if (t.kind == kI32) {
                std::memset(t.b, 0, t.bytes);
            }
            const unsigned mis = unsigned(reinterpret_cast<uintptr_t>(t.b) % 16);
            t.a = alloc(mis, t.bytes);
        } else {
            t.a = alloc(t.misalign, t.bytes);
            t.b = t.a;
            if (t.kind == kF32) fill_floats(t.a, elems, rng, scale);
            else if (t.kind == kI32 && t.output) std::memset(t.a, 0, t.bytes);  // the error word
            else if (t.kind == kI32) fill_labels(t.a, elems, rng, t.label_classes, bad_rate, p.ignore_index);
            else std::memset(t.a, 0xcd, t.bytes);
        }
    }
    // Special values (NaN, inf, huge) in a few places of the float inputs.
    for (int k = 0; k < specials; ++k) {
        static const float sv[] = {NAN, INFINITY, -INFINITY, 3.4e38f, -3.4e38f, 0.f, -0.f, 1e-40f};
        const uint8_t which = r.u8(), what = r.u8();
        const uint16_t where = r.u16();
        Tensor& t = ts[which % ts.size()];
        if (!t.used || t.mode == 1 || t.kind != kF32 || t.bytes < 4) continue;
        std::memcpy(t.b + 4 * (where % (t.bytes / 4)), &sv[what % 8], 4);
    }
    // The separate run's inputs are the aliased run's initial memory.
    for (Tensor& t : ts)
        if (t.used && t.mode == 2 && t.bytes) std::memcpy(t.a, t.b, t.bytes);

    // Snapshot of the const inputs.
    std::vector<std::vector<uint8_t>> before(ts.size());
    for (size_t i = 0; i < ts.size(); ++i)
        if (ts[i].used && ts[i].mode != 1 && ts[i].input && !ts[i].output) before[i].assign(ts[i].a, ts[i].a + ts[i].bytes);

    // CULOSS_FUZZ_TRACE=1: each call's decoded arguments before it runs (for reproducing a crash).
    static const bool trace = env_flag("CULOSS_FUZZ_TRACE");
    if (trace) std::fprintf(stderr, "culoss-fuzz: call %s\n  workspace_bytes=%zu huge=%d aliased run=%d\n", call.c_str(),
                            ws_claim, int(huge), int(any_arena));
    // Run A: separate buffers.
    const culossStatus_t sa = invoke(p, ts, false, ws_claim);
    sync_stream(call);
    if (!documented(sa)) violation(call, "status %d is not a culossStatus_t", int(sa));
    if (huge && !(sa == CULOSS_STATUS_INVALID_VALUE || sa == CULOSS_STATUS_MISALIGNED ||
                  sa == CULOSS_STATUS_NOT_SUPPORTED || sa == CULOSS_STATUS_WORKSPACE_TOO_SMALL))
        violation(call, "a call whose sizes overflow (or are negative) returned %d (%s), not a refusal by the host checks",
                  int(sa), culossGetErrorString(sa));
    for (size_t i = 0; i < ts.size(); ++i)
        if (!before[i].empty() && std::memcmp(before[i].data(), ts[i].a, ts[i].bytes) != 0)
            violation(call, "the const input %s was modified by a call on separate buffers", ts[i].name);
    if (sa == CULOSS_STATUS_SUCCESS && !huge && p.reduction >= 0 && p.reduction <= 2) {
        bool outputs_ok = true;
        for (const Tensor& t : ts) outputs_ok &= !(t.used && t.output && t.mode == 1);
        if (outputs_ok && e.family == kElementwise && ts[0].mode != 1 && ts[1].mode != 1) reference_elementwise(call, p, ts);
        if (outputs_ok && e.family == kRows && ts[0].mode != 1 && ts[1].mode != 1) reference_cross_entropy(call, p, ts);
        if (e.family == kCenter) reference_center(call, p, ts);
    }

    // Run B: the aliased layout, compared with A.
    if (any_arena) {
        const culossStatus_t sb = invoke(p, ts, true, ws_claim);
        sync_stream(call);
        if (!documented(sb)) violation(call, "status %d is not a culossStatus_t (aliased run)", int(sb));
        if (sb == CULOSS_STATUS_SUCCESS && sa != CULOSS_STATUS_SUCCESS)
            violation(call, "the aliased call succeeded, the same call on separate buffers returned %d", int(sa));
        if (sb == CULOSS_STATUS_SUCCESS) {
            for (const Tensor& t : ts) {
                if (!t.used || t.mode == 1 || !t.output) continue;
                const uint32_t* wa = reinterpret_cast<const uint32_t*>(t.a);
                const uint32_t* wb = reinterpret_cast<const uint32_t*>(t.b);
                for (size_t i = 0; i < t.bytes / 4; ++i) {
                    uint32_t x = wa[i], y;
                    std::memcpy(&y, reinterpret_cast<const uint8_t*>(wb) + 4 * i, 4);
                    float fx, fy;
                    std::memcpy(&fx, &x, 4);
                    std::memcpy(&fy, &y, 4);
                    const bool same = x == y || (t.kind == kF32 && fx != fx && fy != fy);
                    if (!same)
                        violation(call,
                                  "aliased pointers were accepted and %s[%zu] differs: %.9g (0x%08x) aliased, %.9g "
                                  "(0x%08x) on separate buffers",
                                  t.name, i, double(fy), y, double(fx), x);
                }
            }
        }
    }
    for (void* blk : blocks) std::free(blk);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    Reader r{data, size};
    Params p;
    p.entry = r.u8() % kNumEntries;
    const Entry& e = kEntries[p.entry];
    switch (e.family) {
        case kMemory: fuzz_memory(p, r); break;
        case kMisc: fuzz_misc(r); break;
        default: fuzz_loss(p, r); break;
    }
    return 0;
}
