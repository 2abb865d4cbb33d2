// Every alias that culoss.h allows, on every loss, every kernel path (a warp or lane group per row
// and a block per row; 16-byte and scalar loads) and every reduction: the call whose output
// overwrites an input gives the bits of the same call without the alias. Run under
// ThreadSanitizer too, where a kernel that reads an input after another thread may have written
// its output over it is a reported race:
//  - softmax cross-entropy (class indices or soft targets), softmax focal and multi-class hinge:
//    grad_logits = logits (same stride);
//  - sigmoid focal, smooth L1, Huber: an output (loss with NONE, or the gradient) = an input of
//    the same length (input, target, or grad_output with NONE);
//  - center loss: grad_features = features (the center update is in place by definition and is
//    checked in test_center).
// Triplet margin allows no alias.
#include <cstring>
#include <string>
#include <vector>

#include "calls.h"
#include "culoss/culoss.h"
#include "test_support.h"

namespace {

using calls::Call;
using calls::Entry;

using test::kReductions;

using calls::expect_same;

void test_rows(test::Context& t) {
    struct Shape {
        int64_t n, c, offset;
    };
    // warp per row (scalar: c % 4 != 0; 16-byte; unaligned), 256-thread and 512-thread blocks.
    const Shape shapes[] = {{7, 10, 0}, {9, 1000, 0}, {9, 1000, 1}, {3, 3000, 0}, {3, 3000, 1}, {2, 20000, 0}, {2, 20000, 1}};
    uint32_t seed = 100;
    // Under ThreadSanitizer each (loss, shape) runs one reduction, in turn: every kernel path and
    // entry of every loss still runs in place there, at a third of the time (the reductions differ
    // in the sum after the row kernel, which the other builds check).
    const bool one_reduction = test::tsan_stride(3) > 1;
    size_t turn = 0;
    for (calls::RowLoss loss : calls::kRowLosses)
        for (const Shape& s : shapes) {
            const culossReduction_t chosen = kReductions[turn++ % 3];
            for (culossReduction_t r : kReductions) {
                if (one_reduction && r != chosen) continue;
                // the hinge has no 512-thread path: its block-per-row kernel is the 3000 shapes'
                if (loss == calls::RowLoss::MulticlassHinge && s.c > 4096) continue;
                // under ThreadSanitizer the class-distance loss takes the warp and 256-thread paths:
                // its 512-thread kernel is cross-entropy's template with the same argmax merge
                if (loss == calls::RowLoss::InterclassDistance && one_reduction && s.c > 4096) continue;
                for (Entry e : {Entry::Backward, Entry::Fused}) {
                    ++seed;
                    expect_same(t, calls::row_call(loss, e, r, s.n, s.c, s.offset, true, seed),
                                calls::row_call(loss, e, r, s.n, s.c, s.offset, false, seed));
                }
            }
        }
}

// The [N, C, d1..dk] entry points: the gradient over the logits gives the values of a separate
// buffer (each logit is read, then written, by its position's one thread).
void test_spatial(test::Context& t) {
    uint32_t seed = 300;
    for (calls::SpatialLoss loss : calls::kSpatialLosses)
        for (int64_t offset : {0, 1})
            for (culossReduction_t r : kReductions)
                for (Entry e : {Entry::Backward, Entry::Fused}) {
                    ++seed;
                    expect_same(t, calls::spatial_call(loss, e, r, 3, 9, 37, offset, true, seed),
                                calls::spatial_call(loss, e, r, 3, 9, 37, offset, false, seed));
                }
}

void test_elementwise(test::Context& t) {
    uint32_t seed = 200;
    for (calls::Elementwise loss : {calls::Elementwise::SigmoidFocal, calls::Elementwise::SmoothL1, calls::Elementwise::Huber})
        for (int64_t offset : {0, 1})
            for (culossReduction_t r : kReductions)
                for (Entry e : {Entry::Forward, Entry::Backward, Entry::Fused})
                    for (calls::Alias a : {calls::Alias::GradOverInput, calls::Alias::GradOverTarget, calls::Alias::LossOverInput,
                                           calls::Alias::LossOverTarget, calls::Alias::GradOverInputLossOverTarget,
                                           calls::Alias::GradOverGradOutput, calls::Alias::LossOverGradOutput}) {
                        const bool writes_grad = e != Entry::Forward;
                        const bool writes_loss_per_element = e != Entry::Backward && r == CULOSS_REDUCTION_NONE;
                        const bool grad_alias = a == calls::Alias::GradOverInput || a == calls::Alias::GradOverTarget;
                        const bool loss_alias = a == calls::Alias::LossOverInput || a == calls::Alias::LossOverTarget;
                        if (grad_alias && !writes_grad) continue;
                        if (loss_alias && !writes_loss_per_element) continue;
                        if (a == calls::Alias::GradOverInputLossOverTarget && !(writes_grad && writes_loss_per_element)) continue;
                        // grad_output is read only by a backward, and has count values only with NONE.
                        if (a == calls::Alias::GradOverGradOutput && !(writes_grad && r == CULOSS_REDUCTION_NONE)) continue;
                        if (a == calls::Alias::LossOverGradOutput && !(writes_grad && writes_loss_per_element)) continue;
                        ++seed;
                        expect_same(t, calls::elementwise_call(loss, e, r, 1003, offset, a, seed),
                                    calls::elementwise_call(loss, e, r, 1003, offset, calls::Alias::None, seed));
                    }
}

void test_center(test::Context& t) {
    struct Shape {
        int64_t n, d, c, offset;
    };
    // one lane per row (d = 3), lane groups with 16-byte loads (d = 12) and without (offset 1), a
    // warp per row (d = 200).
    const Shape shapes[] = {{50, 3, 4, 0}, {70, 12, 9, 0}, {70, 12, 9, 1}, {20, 200, 3, 0}};
    uint32_t seed = 300;
    for (const Shape& s : shapes)
        for (culossReduction_t r : kReductions)
            for (Entry e : {Entry::Backward, Entry::Fused}) {
                ++seed;
                expect_same(t, calls::center_call(e, r, s.n, s.d, s.c, s.offset, true, seed),
                            calls::center_call(e, r, s.n, s.d, s.c, s.offset, false, seed));
            }
}

}  // namespace

int main() { return test::run_suite("aliasing", {test_rows, test_spatial, test_elementwise, test_center}); }
