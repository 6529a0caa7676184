// Latency statistics with nearest-rank percentiles (see latency_stats.h).
#include "latency_stats.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace frt::cli {

Result<double> NearestRankPercentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) {
    return MakeError(StatusCode::kInvalidArgument, "percentile of an empty set of samples");
  }
  if (!(p > 0 && p <= 100)) {
    return MakeError(StatusCode::kInvalidArgument, "percentile ", p, " is outside (0, 100]");
  }
  // p / 100 * n computed as p * n / 100 so that exact cases (p = 90, n = 10)
  // give an integer without a rounding error pushing ceil() one rank up.
  double exact = p * static_cast<double>(sorted.size()) / 100.0;
  size_t rank = static_cast<size_t>(std::ceil(exact));
  rank = std::clamp<size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

Result<LatencyStats> ComputeLatencyStats(const std::vector<double>& samples) {
  if (samples.empty()) {
    return MakeError(StatusCode::kInvalidArgument, "no latency samples to summarize");
  }
  for (size_t i = 0; i < samples.size(); ++i) {
    if (!std::isfinite(samples[i]) || samples[i] < 0) {
      return MakeError(StatusCode::kInvalidArgument, "latency sample ", i, " is ", samples[i],
                       "; expected a finite value >= 0");
    }
  }
  std::vector<double> sorted = samples;
  std::sort(sorted.begin(), sorted.end());
  LatencyStats s;
  s.count = sorted.size();
  s.min = sorted.front();
  s.max = sorted.back();
  s.mean = std::accumulate(sorted.begin(), sorted.end(), 0.0) / static_cast<double>(s.count);
  FRT_ASSIGN_OR_RETURN(s.median, NearestRankPercentile(sorted, 50));
  FRT_ASSIGN_OR_RETURN(s.p90, NearestRankPercentile(sorted, 90));
  FRT_ASSIGN_OR_RETURN(s.p95, NearestRankPercentile(sorted, 95));
  FRT_ASSIGN_OR_RETURN(s.p99, NearestRankPercentile(sorted, 99));
  return s;
}

}  // namespace frt::cli
