// The runtime-error rules every entry point keeps, checked with the emulator's fault injection
// (emu_testing.h): shared by test_runtime_errors (every real entry point) and the planted
// "ignored launch error" (which must fail them).
#pragma once

#include <cstring>
#include <string>
#include <vector>

#include "calls.h"
#include "culoss/culoss.h"
#include "emu_testing.h"
#include "test_support.h"

namespace faults {

// Runs `call` clean; returns its outputs and how many launches it made.
inline std::vector<float> clean_run(test::Context& t, const calls::Call& call, unsigned long long* launches) {
    call.reset();
    culoss_emu_set_faults("");
    t.check_status(call.run(), call.name + " (clean)");
    *launches = culoss_emu_calls("launch");
    t.check_status(culossStreamSynchronize(test::stream()), call.name + " sync");
    return call.outputs();
}

// Every launch of the call fails in turn: the call must return CULOSS_STATUS_LAUNCH_FAILED naming
// the kernel, launch nothing after the failed launch, and the next call must succeed with the
// results of a clean run.
inline void check_failed_launches(test::Context& t, const calls::Call& call) {
    unsigned long long launches = 0;
    const std::vector<float> want = clean_run(t, call, &launches);
    t.expect(launches >= 1, call.name + ": launches nothing");
    for (unsigned long long k = 1; k <= launches; ++k) {
        const std::string what = call.name + ", launch " + std::to_string(k) + " of " + std::to_string(launches) + " fails";
        call.reset();
        culoss_emu_set_faults(("launch:" + std::to_string(k)).c_str());
        const culossStatus_t st = call.run();
        t.expect(st == CULOSS_STATUS_LAUNCH_FAILED,
                 what + ": ignored launch error: status " + culossGetErrorString(st) + ", not CULOSS_STATUS_LAUNCH_FAILED");
        t.expect(std::strstr(culossGetLastErrorDetail(), "launch of ") != nullptr,
                 what + ": the detail does not name the kernel: " + culossGetLastErrorDetail());
        t.expect(culoss_emu_calls("launch") == k, what + ": ignored launch error: " +
                                                      std::to_string(culoss_emu_calls("launch") - k) +
                                                      " launches after the failed one");
        t.check_status(culossStreamSynchronize(test::stream()), what + ": sync");
        unsigned long long again = 0;
        const std::vector<float> got = clean_run(t, call, &again);
        t.expect(test::same_bits(got, want), what + ": the next call gives other results");
    }
}

}  // namespace faults
