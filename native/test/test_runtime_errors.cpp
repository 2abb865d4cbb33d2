// The runtime's error rules through every entry point, on the emulated library with fault
// injection (emu_testing.h):
//  - a launch that fails makes the call return CULOSS_STATUS_LAUNCH_FAILED naming the kernel, and
//    nothing is launched after it (the later kernels would read what it did not write);
//  - after any failed call (a launch, culossMalloc, culossMemcpyAsync, culossMemsetAsync,
//    culossFree, culossStreamSynchronize) the next call on the thread succeeds with the right
//    result: no error is left behind in the runtime for it to find;
//  - a call with nothing to launch (n = 0) succeeds whatever failed before it;
//  - a data type the header reserves is refused by every entry point before anything runs.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "calls.h"
#include "fault_checks.h"
#include "culoss/culoss.h"
#include "emu_testing.h"
#include "test_support.h"

namespace {

using calls::Call;
using calls::Entry;

using test::kReductions;

std::vector<Call> every_call() {
    std::vector<Call> all;
    uint32_t seed = 1;
    for (culossReduction_t r : kReductions) {
        for (Entry e : {Entry::Forward, Entry::Backward, Entry::Fused}) {
            for (calls::RowLoss loss : calls::kRowLosses) {
                all.push_back(calls::row_call(loss, e, r, 6, 10, 0, false, seed++));
                all.push_back(calls::row_call(loss, e, r, 2, 1500, 0, false, seed++));
            }
            for (calls::Elementwise loss :
                 {calls::Elementwise::SigmoidFocal, calls::Elementwise::SmoothL1, calls::Elementwise::Huber}) {
                all.push_back(calls::elementwise_call(loss, e, r, 1001, 0, calls::Alias::None, seed++));
            }
            all.push_back(calls::triplet_call(e, r, 5, 24, 0, seed++));
            all.push_back(calls::center_call(e, r, 40, 12, 70, 0, false, seed++));
            all.push_back(calls::lsm_call(e, r, 20, 9, 7, 0, seed++));
            for (calls::SpatialLoss loss : calls::kSpatialLosses) {
                all.push_back(calls::spatial_call(loss, e, r, 3, 6, 7, 0, false, seed++));
            }
        }
    }
    all.push_back(calls::center_call(Entry::Update, CULOSS_REDUCTION_SUM, 40, 12, 70, 0, false, seed++));
    return all;
}

// A failed runtime call of each kind, then a loss call and an empty one: both succeed.
void test_no_error_left_behind(test::Context& t, const Call& call) {
    unsigned long long launches = 0;
    const std::vector<float> want = faults::clean_run(t, call, &launches);
    test::DeviceBuffer<float> buf(std::vector<float>(16, 1.f));
    std::vector<float> host(16, 0.f);
    struct Failing {
        const char* fault;
        const char* what;
        std::function<culossStatus_t()> call;
    };
    const std::vector<Failing> failing = {
        {"malloc:1", "culossMalloc",
         [] {
             void* p = nullptr;
             return culossMalloc(&p, 64);
         }},
        {"memcpy:1", "culossMemcpyAsync",
         [&] { return culossMemcpyAsync(host.data(), buf.get(), 64, 1, test::stream()); }},
        {"memset:1", "culossMemsetAsync", [&] { return culossMemsetAsync(buf.get(), 0, 64, test::stream()); }},
        {"free:1", "culossFree", [] { return culossFree(nullptr); }},
        {"sync:1", "culossStreamSynchronize", [] { return culossStreamSynchronize(test::stream()); }},
    };
    for (const Failing& f : failing) {
        const std::string what = std::string("after a failed ") + f.what;
        culoss_emu_set_faults(f.fault);
        t.expect(f.call() != CULOSS_STATUS_SUCCESS, std::string(f.what) + " with the fault " + f.fault + " succeeds");
        culoss_emu_set_faults("");
        call.reset();
        t.check_status(call.run(), what + ": " + call.name);
        t.check_status(culossStreamSynchronize(test::stream()), what + ": sync");
        t.expect(test::same_bits(call.outputs(), want), what + ": " + call.name + " gives other results");
        culoss_emu_set_faults(f.fault);
        (void)f.call();
        culoss_emu_set_faults("");
        size_t ws = 0;
        t.check_status(culossSoftmaxCrossEntropyWorkspaceSize(0, 5, CULOSS_DATA_FLOAT32, CULOSS_REDUCTION_NONE, &ws),
                       what + ": query");
        t.check_status(culossSoftmaxCrossEntropyForward(nullptr, 5, nullptr, 0, 5, CULOSS_DATA_FLOAT32, nullptr, -100,
                                                        0.f,
                                                        CULOSS_REDUCTION_NONE, nullptr, nullptr, 0, nullptr,
                                                        test::stream()),
                       what + ": an empty batch");
        t.check_status(culossSmoothL1Forward(nullptr, nullptr, 0, CULOSS_DATA_FLOAT32, 1.f, CULOSS_REDUCTION_NONE,
                                             nullptr, nullptr, 0,
                                             test::stream()),
                       what + ": an empty smooth L1");
        t.check_status(culossCenterLossUpdateCenters(nullptr, nullptr, nullptr, 0, 4, 3, CULOSS_DATA_FLOAT32, 0.5f,
                                                     nullptr, 0, nullptr,
                                                     test::stream()),
                       what + ": an empty center update");
    }
}

// The empty batch's only runtime work is a memset of the reduced loss: when it fails, the call
// says so, and the next one succeeds.
void test_failed_memset(test::Context& t) {
    test::DeviceBuffer<float> loss(std::vector<float>{-1.f});
    culoss_emu_set_faults("memset:1");
    const culossStatus_t st = culossTripletMarginForward(nullptr, nullptr, nullptr, 0, 4, CULOSS_DATA_FLOAT32, 1.f,
                                                         2.f, 1e-6f, 0,
                                                         CULOSS_REDUCTION_MEAN, loss.get(), nullptr, 0, test::stream());
    t.expect(st != CULOSS_STATUS_SUCCESS, "an empty batch whose memset fails succeeds");
    culoss_emu_set_faults("");
    t.check_status(culossTripletMarginForward(nullptr, nullptr, nullptr, 0, 4, CULOSS_DATA_FLOAT32, 1.f, 2.f, 1e-6f, 0,
                                              CULOSS_REDUCTION_MEAN, loss.get(), nullptr, 0, test::stream()),
                   "the empty batch after a failed memset");
    t.expect(loss.read()[0] == 0.f, "the empty batch's loss is 0");
}

// A data type the header reserves: every entry point and workspace query refuses it with
// CULOSS_STATUS_NOT_SUPPORTED, a detail that names dtype, and nothing written.
void test_reserved_data_types(test::Context& t, const std::vector<Call>& all) {
    for (culossDataType_t dtype : {CULOSS_DATA_BFLOAT16, CULOSS_DATA_FLOAT16}) {
        calls::data_type = dtype;
        for (const Call& call : all) {
            call.reset();
            const std::vector<float> before = call.outputs();
            const culossStatus_t st = call.run();
            t.expect(st == CULOSS_STATUS_NOT_SUPPORTED,
                     call.name + ": a reserved dtype gives " + culossGetErrorString(st));
            t.expect(std::strstr(culossGetLastErrorDetail(), "dtype") != nullptr,
                     call.name + ": the detail '" + culossGetLastErrorDetail() + "' does not name dtype");
            t.check_status(culossStreamSynchronize(test::stream()), call.name + ": sync");
            t.expect(call.outputs() == before, call.name + ": a refused call wrote its outputs");
        }
        size_t bytes = 0;
        const culossStatus_t queries[] = {
            culossSoftmaxCrossEntropyWorkspaceSize(4, 3, dtype, CULOSS_REDUCTION_MEAN, &bytes),
            culossSoftmaxCrossEntropyProbsWorkspaceSize(4, 3, dtype, CULOSS_REDUCTION_MEAN, &bytes),
            culossSoftmaxFocalWorkspaceSize(4, 3, dtype, CULOSS_REDUCTION_MEAN, &bytes),
            culossSigmoidFocalWorkspaceSize(4, dtype, CULOSS_REDUCTION_MEAN, &bytes),
            culossSmoothL1WorkspaceSize(4, dtype, CULOSS_REDUCTION_MEAN, &bytes),
            culossHuberWorkspaceSize(4, dtype, CULOSS_REDUCTION_MEAN, &bytes),
            culossTripletMarginWorkspaceSize(4, 3, dtype, CULOSS_REDUCTION_MEAN, &bytes),
            culossCenterLossWorkspaceSize(4, 3, 2, dtype, CULOSS_REDUCTION_MEAN, &bytes),
        };
        for (culossStatus_t st : queries) {
            t.expect(st == CULOSS_STATUS_NOT_SUPPORTED, std::string("a workspace query with a reserved dtype gives ")
                                                            + culossGetErrorString(st));
        }
    }
    calls::data_type = CULOSS_DATA_FLOAT32;
}

}  // namespace

int main() {
    return test::run_suite("runtime_errors", {[](test::Context& t) {
        const std::vector<Call> all = every_call();
        for (const Call& call : all) faults::check_failed_launches(t, call);
        test_no_error_left_behind(t, all[2]);
        test_no_error_left_behind(t, all.back());
        test_failed_memset(t);
        culoss_emu_set_faults("");
        test_reserved_data_types(t, all);
    }});
}
