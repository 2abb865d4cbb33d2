// The machinery behind cuda_emu.h and emu_runtime.h: streams, the thread pools that run the
// blocks, barriers and warp collectives with their checks, per-block shared memory, the
// emulated runtime calls with their last-error rules, fault injection and the launch log.
//
// Environment:
//   CULOSS_EMU_SEED=S         the seed of the block order (default 1); fault reports print it
//   CULOSS_EMU_FAULT=K:N,...  the Nth call of kind K fails (K: malloc, free, memcpy, memset,
//                             launch, sync), so that tests reach every error path
//   CULOSS_EMU_LAUNCH_LOG=F   append "threads<TAB>kernel" to F for each distinct launch (read by
//                             the resource check, which joins it with ptxas's numbers)
//
// Synchronisation and ThreadSanitizer. The emulator creates a happens-before edge only where
// the CUDA model orders memory: host -> stream at a launch or copy, stream -> host at
// cudaStreamSynchronize (and cudaFree, which waits for the device), between the threads of a
// block at __syncthreads, between lanes at __syncwarp. Everything else that must wait (a
// shuffle, a stream waking up) waits with its synchronisation hidden from ThreadSanitizer, and
// the state those waits share is atomic, so that a race the model allows is a race it reports.
#include "cuda_emu.h"

#include <algorithm>
#include <barrier>
#include <condition_variable>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <random>
#include <semaphore>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "emu_testing.h"

#if defined(__SANITIZE_THREAD__)
extern "C" void AnnotateIgnoreSyncBegin(const char* file, int line);
extern "C" void AnnotateIgnoreSyncEnd(const char* file, int line);
#endif

// AddressSanitizer, as g++ says it (__SANITIZE_ADDRESS__) and as clang does (__has_feature).
#if defined(__SANITIZE_ADDRESS__)
#define CULOSS_EMU_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CULOSS_EMU_ASAN 1
#endif
#endif
#ifndef CULOSS_EMU_ASAN
#define CULOSS_EMU_ASAN 0
#endif

#if CULOSS_EMU_ASAN
#include <sanitizer/asan_interface.h>
#define CULOSS_EMU_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define CULOSS_EMU_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define CULOSS_EMU_POISON(p, n) ((void)(p), (void)(n))
#define CULOSS_EMU_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

namespace culoss_emu {
namespace {

// ------------------------------------------------------------------------------------------
// Constants of the model.

constexpr unsigned kMaxBlockThreads = 1024;
constexpr unsigned kMaxBlockX = 1024, kMaxBlockY = 1024, kMaxBlockZ = 64;
constexpr uint64_t kMaxGridX = 2147483647u, kMaxGridYZ = 65535u;
constexpr std::size_t kStaticSharedLimit = 48 * 1024;  // what a kernel may declare statically
constexpr std::size_t kRedzone = 32;                    // between two shared declarations (ASan)
constexpr std::size_t kArenaBytes = 2 * kStaticSharedLimit + 64 * kRedzone;
constexpr unsigned kMaxSharedDeclarations = 64;
constexpr unsigned kBlocksInFlight = 2;
// A shared declaration's place is published to the other threads of the block without ordering
// anything else (no happens-before between them); under ASan the release orders the shadow.
#if CULOSS_EMU_ASAN
constexpr std::memory_order kPublish = std::memory_order_release, kRead = std::memory_order_acquire;
#else
constexpr std::memory_order kPublish = std::memory_order_relaxed, kRead = std::memory_order_relaxed;
#endif
// Poison: float NaN in each 4 bytes; as a double (lanes exchange up to 8 bytes) NaN too.
constexpr uint32_t kPoison32 = 0x7FC0DEADu;
constexpr uint64_t kPoison64 = 0x7FF8DEAD7FC0DEADull;

// Hides the synchronisation of a wait from ThreadSanitizer for its scope.
class HiddenSync {
public:
    explicit HiddenSync(bool hide) : hide_(hide) {
#if defined(__SANITIZE_THREAD__)
        if (hide_) AnnotateIgnoreSyncBegin(__FILE__, __LINE__);
#endif
    }
    ~HiddenSync() {
#if defined(__SANITIZE_THREAD__)
        if (hide_) AnnotateIgnoreSyncEnd(__FILE__, __LINE__);
#endif
    }
    HiddenSync(const HiddenSync&) = delete;
    HiddenSync& operator=(const HiddenSync&) = delete;

private:
    [[maybe_unused]] bool hide_;
};

std::string site_text(const Site& s) {
    const char* file = s.file_name();
    const char* slash = std::strrchr(file, '/');
    return std::string(slash ? slash + 1 : file) + ":" + std::to_string(s.line());
}

bool same_site(const Site& a, const Site& b) {
    return a.line() == b.line() && a.column() == b.column() && std::strcmp(a.file_name(), b.file_name()) == 0;
}

// ------------------------------------------------------------------------------------------
// Configuration from the environment, read once.

enum Op : int { kMalloc, kFree, kMemcpy, kMemset, kLaunch, kSync, kOps };
constexpr const char* kOpNames[kOps] = {"malloc", "free", "memcpy", "memset", "launch", "sync"};

struct Faults {
    std::atomic<uint64_t> calls[kOps] = {};
    std::atomic<uint64_t> fail_at[kOps] = {};  // 0: never

    void set(const char* spec) {
        for (auto& f : fail_at) f.store(0);
        for (auto& c : calls) c.store(0);
        if (!spec) return;
        std::string s(spec);
        std::size_t at = 0;
        while (at < s.size()) {
            std::size_t end = s.find(',', at);
            if (end == std::string::npos) end = s.size();
            const std::string item = s.substr(at, end - at);
            const std::size_t colon = item.find(':');
            bool known = false;
            if (colon != std::string::npos) {
                for (int op = 0; op < kOps; ++op) {
                    if (item.compare(0, colon, kOpNames[op]) == 0) {
                        fail_at[op].store(std::strtoull(item.c_str() + colon + 1, nullptr, 10));
                        known = true;
                    }
                }
            }
            if (!known && !item.empty()) {
                std::fprintf(stderr, "culoss-emu: CULOSS_EMU_FAULT: '%s' is not KIND:N (KIND: malloc, free, memcpy, "
                                     "memset, launch, sync)\n", item.c_str());
            }
            at = end + 1;
        }
    }

    // Counts a call of `op`; true when this call is the one to fail.
    bool inject(Op op) {
        const uint64_t n = calls[op].fetch_add(1) + 1;
        const uint64_t target = fail_at[op].load();
        if (target == 0 || n != target) return false;
        std::fprintf(stderr, "culoss-emu: injected fault: %s call #%llu fails (CULOSS_EMU_FAULT)\n", kOpNames[op],
                     (unsigned long long)n);
        return true;
    }
};

struct Config {
    uint64_t seed = 1;
    std::string launch_log;
    Faults faults;
    std::mutex log_mutex;
    std::set<std::string> logged;

    Config() {
        if (const char* s = std::getenv("CULOSS_EMU_SEED")) seed = std::strtoull(s, nullptr, 0);
        if (const char* f = std::getenv("CULOSS_EMU_LAUNCH_LOG")) launch_log = f;
        faults.set(std::getenv("CULOSS_EMU_FAULT"));
    }

    void log_launch(const char* kernel, unsigned threads) {
        if (launch_log.empty()) return;
        std::string line = std::to_string(threads) + "\t" + kernel;
        std::lock_guard<std::mutex> lock(log_mutex);
        if (!logged.insert(line).second) return;
        if (FILE* f = std::fopen(launch_log.c_str(), "a")) {
            std::fprintf(f, "%s\n", line.c_str());
            std::fclose(f);
        }
    }
};

Config& config() {
    static Config* c = new Config;  // never destroyed: stream threads outlive static destructors
    return *c;
}

// ------------------------------------------------------------------------------------------
// The runtime's last error, per host thread.

thread_local cudaError_t t_last_error = cudaSuccess;

cudaError_t record(cudaError_t err) {
    if (err != cudaSuccess) t_last_error = err;
    return err;
}

}  // namespace

// ------------------------------------------------------------------------------------------
// A block in flight: its threads' barrier, warps and shared memory.

struct Job {
    const char* kernel;
    std::function<void()> body;
    dim3 grid, block;
    unsigned threads;
    uint64_t blocks;
    std::vector<uint32_t> order;  // block linear indices in the seeded shuffled order
    uint64_t seed;
    std::atomic<uint64_t> next{0};  // the next entry of `order` to run (relaxed: no ordering between blocks)
};

namespace {

// Where a thread is, for the checks that find a barrier and a warp collective waiting on each
// other: the state in the low 2 bits, the barrier phase above.
enum Where : uint64_t { kRunning = 0, kAtBarrier = 1, kInWarpOp = 2, kExited = 3 };
uint64_t where_of(Where w, uint64_t phase) { return (phase << 2) | w; }

enum CollectiveKind : int { kShuffleOp = 1, kSyncwarpOp = 2 };
const char* kind_name(int kind) { return kind == kShuffleOp ? "a shuffle" : "__syncwarp"; }

struct Warp {
    std::mutex m;  // arrivals and departures; the waiting is on `gen`
    unsigned first = 0;       // the block's linear index of lane 0
    uint32_t existing = 0;    // lanes that exist (fewer than 32 in the last warp of an odd block)
    // All state is atomic: a shuffle's lanes meet with their synchronisation hidden from
    // ThreadSanitizer, so plain fields would be reported as races of the emulator itself.
    std::atomic<uint32_t> exited{0};
    std::atomic<bool> pending{false};
    std::atomic<uint32_t> mask{0};
    std::atomic<uint32_t> arrived{0};
    std::atomic<int> kind{0};
    std::atomic<const char*> file{nullptr};  // the pending collective's call site
    std::atomic<uint32_t> line{0}, column{0};
    std::atomic<uint64_t> gen{0};
    std::atomic<uint64_t> slots[2][kWarpSize];
    std::atomic<uint32_t> contributed[2] = {};

    bool at(const Site& s) const {
        return line.load() == s.line() && column.load() == s.column() && std::strcmp(file.load(), s.file_name()) == 0;
    }
    std::string pending_site() const {
        const char* f = file.load();
        const char* slash = f ? std::strrchr(f, '/') : nullptr;
        return std::string(slash ? slash + 1 : f ? f : "?") + ":" + std::to_string(line.load());
    }
};

}  // namespace

struct Slot {
    struct Completion {
        Slot* slot;
        void operator()() noexcept { slot->on_barrier(); }
    };

    Slot(Job& j, char* arena_memory) : job(j), barrier(j.threads, Completion{this}), arena(arena_memory) {
        const unsigned n = j.threads;
        warps = std::vector<Warp>((n + kWarpSize - 1) / kWarpSize);
        for (unsigned w = 0; w < warps.size(); ++w) {
            warps[w].first = w * kWarpSize;
            const unsigned lanes = std::min(kWarpSize, n - w * kWarpSize);
            warps[w].existing = lanes == kWarpSize ? 0xffffffffu : (1u << lanes) - 1u;
        }
        where = std::make_unique<std::atomic<uint64_t>[]>(n);
        sites = std::make_unique<const Site*[]>(n);
        for (unsigned t = 0; t < n; ++t) where[t].store(kRunning);
        CULOSS_EMU_POISON(arena, kArenaBytes);
        block = job.next.fetch_add(1, std::memory_order_relaxed);
    }

    // The last thread to arrive runs this: every thread must be at the same __syncthreads, or
    // all must have returned (then the next block starts, with a fresh arena).
    void on_barrier();
    std::string describe_sites() const;
    void refill_arena();

    Job& job;
    std::barrier<Completion> barrier;
    std::vector<Warp> warps;
    std::unique_ptr<std::atomic<uint64_t>[]> where;
    std::unique_ptr<const Site*[]> sites;  // null: returned from the kernel
    std::atomic<uint64_t> phase{0};         // barrier phases completed
    uint64_t block;                         // the entry of job.order this slot runs (written at barriers)

    char* arena;
    std::atomic<const void*> keys[kMaxSharedDeclarations] = {};
    std::atomic<uint64_t> offsets[kMaxSharedDeclarations] = {};  // offset + 1; 0 while being placed
    std::atomic<uint64_t> sizes[kMaxSharedDeclarations] = {};
    std::atomic<uint64_t> bump{0};
    std::atomic<uint64_t> declared{0};
};

namespace {

void fill_poison(char* p, std::size_t bytes) {
    for (std::size_t i = 0; i + 4 <= bytes; i += 4) std::memcpy(p + i, &kPoison32, 4);
    for (std::size_t i = bytes / 4 * 4; i < bytes; ++i) p[i] = char(0xAD);
}

}  // namespace

void Slot::refill_arena() {
    for (unsigned i = 0; i < kMaxSharedDeclarations; ++i) {
        const uint64_t off = offsets[i].load(std::memory_order_relaxed);
        if (off == 0) break;
        fill_poison(arena + off - 1, sizes[i].load(std::memory_order_relaxed));
    }
}

std::string Slot::describe_sites() const {
    std::string out;
    const unsigned n = job.threads;
    unsigned runs = 0;
    for (unsigned t = 0; t < n;) {
        unsigned u = t + 1;
        auto same = [&](const Site* a, const Site* b) { return (!a && !b) || (a && b && same_site(*a, *b)); };
        while (u < n && same(sites[u], sites[t])) ++u;
        if (runs++ == 4) {
            out += "; ...";
            break;
        }
        char range[48];
        if (u - 1 > t) std::snprintf(range, sizeof range, "threads %u-%u ", t, u - 1);
        else std::snprintf(range, sizeof range, "thread %u ", t);
        if (!out.empty()) out += "; ";
        out += range;
        out += sites[t] ? "at __syncthreads " + site_text(*sites[t]) : std::string("returned from the kernel");
        t = u;
    }
    return out;
}

void Slot::on_barrier() {
    const unsigned n = job.threads;
    bool all_exit = true, all_same = true;
    for (unsigned t = 0; t < n; ++t) {
        all_exit = all_exit && !sites[t];
        if (t > 0) {
            const Site* a = sites[t];
            const Site* b = sites[0];
            all_same = all_same && ((!a && !b) || (a && b && same_site(*a, *b)));
        }
    }
    if (!all_same) {
        fault("divergent barrier", "the threads of a block met at different barriers: %s", describe_sites().c_str());
    }
    phase.fetch_add(1);
    if (all_exit) {  // the block is done: the next one, with fresh shared memory
        block = job.next.fetch_add(1, std::memory_order_relaxed);
        for (Warp& w : warps) w.exited.store(0);
        if (block < job.blocks) refill_arena();
    }
}

namespace {

Warp& my_warp(Slot& s) { return s.warps[t_ctx.linear / kWarpSize]; }

void finish_collective(Warp& w) {
    const uint64_t g = w.gen.load();
    w.contributed[g % 2].store(w.arrived.load());
    w.arrived.store(0);
    w.pending.store(false);
    w.gen.store(g + 1);
    w.gen.notify_all();
}

uint32_t needed_lanes(const Warp& w, uint32_t mask) { return mask & w.existing & ~w.exited.load(); }

// Called with w.m held: the collective completes when every lane it waits for has arrived or exited.
void maybe_finish(Warp& w) {
    if (!w.pending.load()) return;
    const uint32_t need = needed_lanes(w, w.mask.load());
    if ((w.arrived.load() & need) == need) finish_collective(w);
}

std::uint64_t collective(int kind, unsigned mask, std::uint64_t bits, unsigned src, const Site& site) {
    Slot& s = *t_ctx.slot;
    Warp& w = my_warp(s);
    const unsigned me = t_ctx.linear;
    const unsigned lane = me % kWarpSize;
    const uint32_t bit = 1u << lane;
    // A shuffle orders no memory between the lanes; __syncwarp does.
    HiddenSync hidden(kind == kShuffleOp);
    std::unique_lock<std::mutex> lock(w.m);
    if (!(mask & bit)) {
        fault("warp collective", "lane %u calls %s at %s with mask 0x%08x, which does not name it", lane,
              kind_name(kind), site_text(site).c_str(), mask);
    }
    if (w.pending.load()) {
        if (w.kind.load() != kind || w.mask.load() != mask || !w.at(site)) {
            fault("divergent warp collective",
                  "lane %u reached %s at %s (mask 0x%08x) while lanes 0x%08x of its warp wait in %s at %s (mask 0x%08x)",
                  lane, kind_name(kind), site_text(site).c_str(), mask, w.arrived.load(), kind_name(w.kind.load()),
                  w.pending_site().c_str(), w.mask.load());
        }
    } else {
        w.kind.store(kind);
        w.mask.store(mask);
        w.file.store(site.file_name());
        w.line.store(site.line());
        w.column.store(site.column());
        w.arrived.store(0);
        w.pending.store(true);
    }
    s.where[me].store(where_of(kInWarpOp, 0));
    // A lane this collective needs that waits at an unfinished __syncthreads will never come.
    const uint64_t phase = s.phase.load();
    const uint32_t need = needed_lanes(w, mask);
    for (unsigned l = 0; l < kWarpSize; ++l) {
        if (!(need & (1u << l)) || l == lane) continue;
        if (s.where[w.first + l].load() == where_of(kAtBarrier, phase)) {
            fault("divergent warp collective", "lane %u waits in %s at %s for lane %u, which waits at a __syncthreads",
                  lane, kind_name(kind), site_text(site).c_str(), l);
        }
    }
    const uint64_t g = w.gen.load();
    w.slots[g % 2][lane].store(bits, std::memory_order_relaxed);
    w.arrived.store(w.arrived.load() | bit);
    maybe_finish(w);
    lock.unlock();
    // Wait on the generation itself (a futex), not the mutex: 31 woken lanes need not queue
    // through the mutex again.
    for (uint64_t now = w.gen.load(); now == g; now = w.gen.load()) w.gen.wait(now);
    std::uint64_t result = kPoison64;
    if (src < kWarpSize && (w.contributed[g % 2].load() & (1u << src))) {
        result = w.slots[g % 2][src].load(std::memory_order_relaxed);
    }
    s.where[me].store(where_of(kRunning, 0));
    return result;
}

// A lane returning from the kernel: collectives stop waiting for it.
void lane_exit() {
    Slot& s = *t_ctx.slot;
    Warp& w = my_warp(s);
    HiddenSync hidden(true);
    std::lock_guard<std::mutex> lock(w.m);
    w.exited.store(w.exited.load() | (1u << (t_ctx.linear % kWarpSize)));
    maybe_finish(w);
}

void run_block_threads(Slot& slot, unsigned t) {
    Job& job = slot.job;
    ThreadContext& ctx = t_ctx;
    const dim3 b = job.block;
    ctx.linear = t;
    ctx.thread_idx = {t % b.x, (t / b.x) % b.y, t / (b.x * b.y)};
    ctx.block_dim = b;
    ctx.grid_dim = job.grid;
    ctx.slot = &slot;
    ctx.kernel = job.kernel;
    for (;;) {
        const uint64_t k = slot.block;  // set before the first block and at each end-of-block barrier
        if (k >= job.blocks) break;
        const uint32_t linear = job.order[k];
        const dim3 g = job.grid;
        ctx.block_idx = {linear % g.x, (linear / g.x) % g.y, linear / (g.x * g.y)};
        slot.where[t].store(kRunning);
        job.body();
        lane_exit();
        slot.sites[t] = nullptr;
        slot.where[t].store(where_of(kExited, 0));
        slot.barrier.arrive_and_wait();  // the end of the block: its own barrier
    }
    ctx.slot = nullptr;
    ctx.kernel = "";
}

// ------------------------------------------------------------------------------------------
// A stream's pool of threads: two blocks in flight, each with its own threads.

class Crew {
public:
    void run(Job& job) {
        const unsigned slots = unsigned(std::min<uint64_t>(kBlocksInFlight, job.blocks));
        const unsigned needed = slots * job.threads;
        std::vector<std::unique_ptr<Slot>> live;
        for (unsigned s = 0; s < slots; ++s) {
            if (arenas_.size() <= s) arenas_.push_back(std::make_unique<char[]>(kArenaBytes));
            char* arena = arenas_[s].get();
            CULOSS_EMU_UNPOISON(arena, kArenaBytes);
            fill_poison(arena, kArenaBytes);
            live.push_back(std::make_unique<Slot>(job, arena));
        }
        while (workers_.size() < needed) {
            workers_.push_back(std::make_unique<Worker>());
            Worker* w = workers_.back().get();
            std::thread([this, w] { work(*w); }).detach();
        }
        remaining_ = needed;
        // Only the workers this launch needs wake up (a crew sized for 2 x 512 threads would
        // otherwise wake all of them for every small launch).
        for (unsigned i = 0; i < needed; ++i) {
            Worker& w = *workers_[i];
            w.slot = live[i / job.threads].get();
            w.thread = i % job.threads;
            w.go.release();
        }
        std::unique_lock<std::mutex> lock(m_);
        done_.wait(lock, [&] { return remaining_ == 0; });
        lock.unlock();
        for (unsigned s = 0; s < slots; ++s) CULOSS_EMU_UNPOISON(arenas_[s].get(), kArenaBytes);
    }

private:
    struct Worker {
        std::binary_semaphore go{0};  // the dispatcher's slot and thread are visible after acquire
        Slot* slot = nullptr;
        unsigned thread = 0;
    };

    void work(Worker& w) {
        for (;;) {
            w.go.acquire();
            run_block_threads(*w.slot, w.thread);
            std::lock_guard<std::mutex> lock(m_);
            if (--remaining_ == 0) done_.notify_one();
        }
    }

    std::mutex m_;
    std::condition_variable done_;
    std::vector<std::unique_ptr<Worker>> workers_;  // touched by the stream's thread only
    unsigned remaining_ = 0;
    std::vector<std::unique_ptr<char[]>> arenas_;
};

// ------------------------------------------------------------------------------------------
// Streams: a queue of work run in order on the stream's own thread.

class Stream {
public:
    Stream() { std::thread([this] { work(); }).detach(); }

    // Host -> stream: the task sees what the host wrote before (release/acquire on the queue).
    void push(std::function<void()> fn) {
        Task* task = new Task{std::move(fn), nullptr};
        enqueued_.fetch_add(1, std::memory_order_relaxed);
        task->next = inbox_.load(std::memory_order_relaxed);
        while (!inbox_.compare_exchange_weak(task->next, task, std::memory_order_release, std::memory_order_relaxed)) {
        }
        HiddenSync hidden(true);
        std::lock_guard<std::mutex> lock(m_);
        cv_.notify_all();
    }

    // Stream -> host: returns once everything queued before the call has run, and the caller
    // then sees what it wrote (acquire on the completion count).
    void synchronize() {
        const uint64_t target = enqueued_.load(std::memory_order_relaxed);
        while (completed_.load(std::memory_order_acquire) < target) {
            HiddenSync hidden(true);
            std::unique_lock<std::mutex> lock(m_);
            cv_.wait(lock, [&] { return completed_.load(std::memory_order_relaxed) >= target; });
        }
    }

    Crew& crew() { return crew_; }

private:
    struct Task {
        std::function<void()> fn;
        Task* next;
    };

    void work() {
        for (;;) {
            Task* list = inbox_.exchange(nullptr, std::memory_order_acquire);
            if (!list) {
                HiddenSync hidden(true);
                std::unique_lock<std::mutex> lock(m_);
                cv_.wait(lock, [&] { return inbox_.load(std::memory_order_relaxed) != nullptr; });
                continue;
            }
            Task* ordered = nullptr;  // the inbox is newest first
            while (list) {
                Task* next = list->next;
                list->next = ordered;
                ordered = list;
                list = next;
            }
            while (ordered) {
                Task* next = ordered->next;
                ordered->fn();
                delete ordered;
                ordered = next;
                completed_.fetch_add(1, std::memory_order_release);
                HiddenSync hidden(true);
                std::lock_guard<std::mutex> lock(m_);
                cv_.notify_all();
            }
        }
    }

    std::atomic<Task*> inbox_{nullptr};
    std::atomic<uint64_t> enqueued_{0};
    std::atomic<uint64_t> completed_{0};
    std::mutex m_;
    std::condition_variable cv_;
    Crew crew_;
};

struct Streams {
    std::mutex m;
    std::unordered_map<const void*, Stream*> map;  // never freed: their threads never end
};

Streams& streams() {
    static Streams* s = new Streams;
    return *s;
}

Stream& stream_of(cudaStream_t handle) {
    Streams& all = streams();
    std::lock_guard<std::mutex> lock(all.m);
    Stream*& s = all.map[handle];
    if (!s) s = new Stream;
    return *s;
}

void synchronize_all() {
    std::vector<Stream*> list;
    {
        Streams& all = streams();
        std::lock_guard<std::mutex> lock(all.m);
        for (auto& entry : all.map) list.push_back(entry.second);
    }
    for (Stream* s : list) s->synchronize();
}

uint64_t splitmix(uint64_t x) {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

std::atomic<uint64_t> g_launches{0};

void refuse_launch(const char* kernel, const char* format, ...) __attribute__((format(printf, 2, 3)));
void refuse_launch(const char* kernel, const char* format, ...) {
    char detail[256];
    va_list args;
    va_start(args, format);
    std::vsnprintf(detail, sizeof detail, format, args);
    va_end(args);
    std::fprintf(stderr, "culoss-emu: launch limits: %s, in a launch of kernel %s\n", detail, kernel);
    record(cudaErrorInvalidConfiguration);
}

}  // namespace

// ------------------------------------------------------------------------------------------
// The device-side entry points of cuda_emu.h.

void fault(const char* what, const char* format, ...) {
    char detail[1024];
    va_list args;
    va_start(args, format);
    std::vsnprintf(detail, sizeof detail, format, args);
    va_end(args);
    const ThreadContext& c = t_ctx;
    if (c.slot) {
        std::fprintf(stderr,
                     "culoss-emu: %s: %s, in kernel %s, block (%u,%u,%u), thread (%u,%u,%u) "
                     "(CULOSS_EMU_SEED=%llu)\n",
                     what, detail, c.kernel, c.block_idx.x, c.block_idx.y, c.block_idx.z, c.thread_idx.x,
                     c.thread_idx.y, c.thread_idx.z, (unsigned long long)c.slot->job.seed);
    } else {
        std::fprintf(stderr, "culoss-emu: %s: %s\n", what, detail);
    }
    std::fflush(stderr);
    std::abort();
}

void misaligned(const void* p, std::size_t align, const char* access, const Site& site) {
    fault("misaligned address", "%s at %s: address %p is not %zu-byte aligned", access, site_text(site).c_str(), p,
          align);
}

void sync_block(const Site& site) {
    Slot& s = *t_ctx.slot;
    const unsigned me = t_ctx.linear;
    const unsigned lane = me % kWarpSize;
    Warp& w = my_warp(s);
    s.where[me].store(where_of(kAtBarrier, s.phase.load()));
    if (w.pending.load() && (w.mask.load() & (1u << lane)) && !(w.arrived.load() & (1u << lane))) {
        fault("divergent warp collective",
              "lane %u reached __syncthreads at %s while lanes 0x%08x of its warp wait for it in %s at %s", lane,
              site_text(site).c_str(), w.arrived.load(), kind_name(w.kind.load()), w.pending_site().c_str());
    }
    s.sites[me] = &site;
    s.barrier.arrive_and_wait();
    s.where[me].store(kRunning);
}

void sync_warp(unsigned mask, const Site& site) { collective(kSyncwarpOp, mask, 0, kWarpSize, site); }

std::uint64_t shuffle(unsigned mask, std::uint64_t bits, unsigned src, const Site& site) {
    return collective(kShuffleOp, mask, bits, src, site);
}

void* shared_memory(const void* key, std::size_t bytes, std::size_t align, const char* name) {
    Slot& s = *t_ctx.slot;
    for (unsigned i = 0; i < kMaxSharedDeclarations; ++i) {
        const void* k = s.keys[i].load(std::memory_order_relaxed);
        if (k == nullptr) {
            const void* expected = nullptr;
            if (s.keys[i].compare_exchange_strong(expected, key, std::memory_order_relaxed)) {
                const uint64_t total = s.declared.fetch_add(bytes, std::memory_order_relaxed) + bytes;
                if (total > kStaticSharedLimit) {
                    fault("shared memory", "the block declares %llu bytes of __shared__ memory ('%s' adds %zu), more "
                                           "than the %zu bytes a kernel may declare statically",
                          (unsigned long long)total, name, bytes, kStaticSharedLimit);
                }
                const std::size_t a = std::max<std::size_t>(align, 16);
                const uint64_t start = s.bump.fetch_add(bytes + a + kRedzone, std::memory_order_relaxed);
                const uint64_t off = (start + a - 1) / a * a;
                if (off + bytes > kArenaBytes) fault("shared memory", "too many shared declarations");
                CULOSS_EMU_UNPOISON(s.arena + off, bytes);
                s.sizes[i].store(bytes, std::memory_order_relaxed);
                s.offsets[i].store(off + 1, kPublish);
                return s.arena + off;
            }
            k = expected;
        }
        if (k == key) {
            uint64_t off;
            while ((off = s.offsets[i].load(kRead)) == 0) std::this_thread::yield();
            return s.arena + off - 1;
        }
    }
    fault("shared memory", "more than %u shared declarations", kMaxSharedDeclarations);
}

const char* kernel_name_from(const char* pretty_function) {
    // "... [with auto Kernel = culoss::{anonymous}::kernel<Args>]" -> the part after '= '
    std::string s(pretty_function);
    const std::size_t eq = s.find("Kernel = ");
    if (eq != std::string::npos) s = s.substr(eq + 9);
    if (!s.empty() && s.back() == ']') s.pop_back();
    if (!s.empty() && s.front() == '&') s.erase(0, 1);
    char* copy = static_cast<char*>(std::malloc(s.size() + 1));
    std::memcpy(copy, s.c_str(), s.size() + 1);
    return copy;  // one per kernel, kept for the process
}

void launch(const char* kernel, dim3 grid, dim3 block, cudaStream_t stream, std::function<void()> body) {
    const uint64_t threads = uint64_t(block.x) * block.y * block.z;
    if (threads == 0) {
        refuse_launch(kernel, "a block of 0 threads (%ux%ux%u)", block.x, block.y, block.z);
        return;
    }
    if (threads > kMaxBlockThreads || block.x > kMaxBlockX || block.y > kMaxBlockY || block.z > kMaxBlockZ) {
        refuse_launch(kernel, "a block of %llu threads (%ux%ux%u); a block has at most %u (x, y <= 1024, z <= 64)",
                      (unsigned long long)threads, block.x, block.y, block.z, kMaxBlockThreads);
        return;
    }
    if (grid.x == 0 || grid.y == 0 || grid.z == 0) {
        refuse_launch(kernel, "a grid of zero blocks (%ux%ux%u)", grid.x, grid.y, grid.z);
        return;
    }
    if (grid.x > kMaxGridX || grid.y > kMaxGridYZ || grid.z > kMaxGridYZ) {
        refuse_launch(kernel, "a grid of %ux%ux%u blocks (x <= 2^31 - 1, y and z <= 65535)", grid.x, grid.y, grid.z);
        return;
    }
    Config& cfg = config();
    if (cfg.faults.inject(kLaunch)) {
        record(cudaErrorLaunchOutOfResources);
        return;
    }
    cfg.log_launch(kernel, unsigned(threads));
    auto job = std::make_shared<Job>();
    job->kernel = kernel;
    job->body = std::move(body);
    job->grid = grid;
    job->block = block;
    job->threads = unsigned(threads);
    job->blocks = uint64_t(grid.x) * grid.y * grid.z;
    job->seed = cfg.seed;
    const uint64_t launch_number = g_launches.fetch_add(1, std::memory_order_relaxed);
    Stream& s = stream_of(stream);
    s.push([job, launch_number, &s] {
        job->order.resize(job->blocks);
        for (uint64_t i = 0; i < job->blocks; ++i) job->order[i] = uint32_t(i);
        std::mt19937_64 rng(splitmix(job->seed ^ splitmix(launch_number)));
        std::shuffle(job->order.begin(), job->order.end(), rng);
        s.crew().run(*job);
    });
}

}  // namespace culoss_emu

// ------------------------------------------------------------------------------------------
// The emulated CUDA runtime (emu_runtime.h).

using culoss_emu::config;
using culoss_emu::record;

const char* cudaGetErrorString(cudaError_t error) {
    switch (error) {
        case cudaSuccess: return "no error";
        case cudaErrorInvalidValue: return "invalid argument";
        case cudaErrorMemoryAllocation: return "out of memory";
        case cudaErrorInitializationError: return "initialization error";
        case cudaErrorInvalidConfiguration: return "invalid configuration argument";
        case cudaErrorInsufficientDriver: return "CUDA driver version is insufficient for CUDA runtime version";
        case cudaErrorNoDevice: return "no CUDA-capable device is detected";
        case cudaErrorLaunchOutOfResources: return "too many resources requested for launch";
        case cudaErrorLaunchFailure: return "unspecified launch failure";
    }
    return "unrecognized error code";
}

cudaError_t cudaGetLastError() {
    const cudaError_t err = culoss_emu::t_last_error;
    culoss_emu::t_last_error = cudaSuccess;
    return err;
}

cudaError_t cudaPeekAtLastError() { return culoss_emu::t_last_error; }

cudaError_t cudaGetDeviceCount(int* count) {
    if (!count) return record(cudaErrorInvalidValue);
    *count = 1;
    return cudaSuccess;
}

cudaError_t cudaMalloc(void** ptr, size_t bytes) {
    if (!ptr) return record(cudaErrorInvalidValue);
    *ptr = nullptr;
    if (config().faults.inject(culoss_emu::kMalloc)) return record(cudaErrorMemoryAllocation);
    if (bytes == 0) return cudaSuccess;
    // 256-byte alignment, as cudaMalloc gives; a size that cannot be rounded is out of memory.
    if (bytes > SIZE_MAX - 511) return record(cudaErrorMemoryAllocation);
    *ptr = std::aligned_alloc(256, (bytes + 255) / 256 * 256);
    return *ptr ? cudaSuccess : record(cudaErrorMemoryAllocation);
}

cudaError_t cudaFree(void* ptr) {
    if (config().faults.inject(culoss_emu::kFree)) return record(cudaErrorInvalidValue);
    culoss_emu::synchronize_all();  // cudaFree waits for the device
    std::free(ptr);
    return cudaSuccess;
}

cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind, cudaStream_t stream) {
    if (kind < cudaMemcpyHostToHost || kind > cudaMemcpyDeviceToDevice) return record(cudaErrorInvalidValue);
    if (bytes > 0 && (!dst || !src)) return record(cudaErrorInvalidValue);
    if (config().faults.inject(culoss_emu::kMemcpy)) return record(cudaErrorInvalidValue);
    if (bytes == 0) return cudaSuccess;
    culoss_emu::stream_of(stream).push([dst, src, bytes] { std::memmove(dst, src, bytes); });
    return cudaSuccess;
}

cudaError_t cudaMemsetAsync(void* dst, int value, size_t bytes, cudaStream_t stream) {
    if (bytes > 0 && !dst) return record(cudaErrorInvalidValue);
    if (config().faults.inject(culoss_emu::kMemset)) return record(cudaErrorInvalidValue);
    if (bytes == 0) return cudaSuccess;
    culoss_emu::stream_of(stream).push([dst, value, bytes] { std::memset(dst, value, bytes); });
    return cudaSuccess;
}

cudaError_t cudaStreamSynchronize(cudaStream_t stream) {
    if (config().faults.inject(culoss_emu::kSync)) return record(cudaErrorLaunchFailure);
    culoss_emu::stream_of(stream).synchronize();
    return cudaSuccess;
}

// ------------------------------------------------------------------------------------------
// Test hooks (emu_testing.h).

extern "C" {

void culoss_emu_set_faults(const char* spec) { config().faults.set(spec); }

unsigned long long culoss_emu_calls(const char* kind) {
    for (int op = 0; op < culoss_emu::kOps; ++op) {
        if (std::strcmp(kind, culoss_emu::kOpNames[op]) == 0) return config().faults.calls[op].load();
    }
    return 0;
}

}  // extern "C"
