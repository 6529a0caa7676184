// Summary statistics of measured latencies for `fusionrt bench`: min, mean,
// max and nearest-rank percentiles. Kept apart from bench.cc so that a unit
// test (tests/unit/latency_stats_test.cc) can check it.
//
// Nearest-rank percentile p of n sorted samples: the sample of 1-based rank
// ceil(p / 100 * n). It is always one of the measured values (no
// interpolation), as in trtexec; the median is the 50th percentile, i.e. the
// lower of the two middle samples when n is even.
//
// Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <vector>

#include "fusionrt/status.h"

namespace frt::cli {

struct LatencyStats {
  size_t count = 0;
  double min = 0, max = 0, mean = 0;
  double median = 0, p90 = 0, p95 = 0, p99 = 0;
};

// Nearest-rank percentile of `sorted` (ascending). Errors: empty samples or
// p outside (0, 100] (kInvalidArgument). Precondition: `sorted` is sorted.
Result<double> NearestRankPercentile(const std::vector<double>& sorted, double p);

// Statistics of `samples` in any order. Errors: no samples, or a sample that
// is negative, NaN or infinite (kInvalidArgument, naming its index and value).
Result<LatencyStats> ComputeLatencyStats(const std::vector<double>& samples);

}  // namespace frt::cli
