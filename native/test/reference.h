// What the float64 references of the per-sample losses share: how a reduction scales each
// sample's gradient and folds the per-sample losses (culoss.h's reduction rule).
#pragma once

#include <cstdint>
#include <vector>

#include "culoss/culoss.h"

namespace test {

// The factor on sample i's gradient: its grad_output with NONE, 1 with SUM, 1 / mean_count with
// MEAN (0 when nothing counts: the mean of no sample is 0).
inline double upstream(culossReduction_t r, const std::vector<float>& gout, int64_t i, double mean_count) {
    if (r == CULOSS_REDUCTION_NONE) return gout[i];
    if (r == CULOSS_REDUCTION_MEAN) return mean_count > 0 ? 1.0 / mean_count : 0.0;
    return 1.0;
}

// The loss output: the per-sample losses with NONE, their sum, or their sum / mean_count.
inline std::vector<double> reduce(culossReduction_t r, const std::vector<double>& per_sample, double mean_count) {
    if (r == CULOSS_REDUCTION_NONE) return per_sample;
    double total = 0;
    for (double v : per_sample) total += v;
    if (r == CULOSS_REDUCTION_MEAN) total = mean_count > 0 ? total / mean_count : 0.0;
    return {total};
}

}  // namespace test
