// Tests of the bench latency statistics (tools/fusionrt/latency_stats): the
// nearest-rank percentiles are checked against a brute-force definition on
// fresh random samples, plus hand-worked cases and the error paths.
#include "latency_stats.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

namespace frt::cli {
namespace {

// The definition, computed independently of the implementation: the smallest
// sample v such that at least p% of the samples are <= v. Integer arithmetic
// on whole percentages avoids any rounding question.
double BruteForcePercentile(const std::vector<double>& samples, int p) {
  double best = std::numeric_limits<double>::infinity();
  const size_t n = samples.size();
  for (double v : samples) {
    size_t at_most =
        std::count_if(samples.begin(), samples.end(), [&](double s) { return s <= v; });
    if (at_most * 100 >= static_cast<size_t>(p) * n) best = std::min(best, v);
  }
  return best;
}

TEST(LatencyStats, HandWorkedExample) {
  // Sorted: 15 20 35 40 50. Ranks: p30 -> ceil(1.5) = 2, p40 -> 2, p50 -> ceil(2.5) = 3,
  // p90 -> ceil(4.5) = 5, p100 -> 5.
  std::vector<double> sorted = {15, 20, 35, 40, 50};
  EXPECT_EQ(*NearestRankPercentile(sorted, 30), 20);
  EXPECT_EQ(*NearestRankPercentile(sorted, 40), 20);
  EXPECT_EQ(*NearestRankPercentile(sorted, 50), 35);
  EXPECT_EQ(*NearestRankPercentile(sorted, 90), 50);
  EXPECT_EQ(*NearestRankPercentile(sorted, 100), 50);
  EXPECT_EQ(*NearestRankPercentile(sorted, 0.001), 15);

  auto s = ComputeLatencyStats({40, 15, 50, 35, 20});
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->count, 5u);
  EXPECT_EQ(s->min, 15);
  EXPECT_EQ(s->max, 50);
  EXPECT_DOUBLE_EQ(s->mean, 32);
  EXPECT_EQ(s->median, 35);
  EXPECT_EQ(s->p90, 50);
}

TEST(LatencyStats, ExactRanksDoNotRoundUp) {
  // n = 10, p = 90: rank exactly 9 (not 10); n = 100, p = 99: rank 99.
  std::vector<double> ten;
  for (int i = 1; i <= 10; ++i) ten.push_back(i);
  EXPECT_EQ(*NearestRankPercentile(ten, 90), 9);
  EXPECT_EQ(*NearestRankPercentile(ten, 50), 5);  // even n: the lower middle sample
  std::vector<double> hundred;
  for (int i = 1; i <= 100; ++i) hundred.push_back(i);
  EXPECT_EQ(*NearestRankPercentile(hundred, 99), 99);
  EXPECT_EQ(*NearestRankPercentile(hundred, 95), 95);
}

TEST(LatencyStats, MatchesBruteForceOnRandomSamples) {
  std::mt19937_64 rng(std::random_device{}());
  std::uniform_int_distribution<int> count(1, 400);
  std::lognormal_distribution<double> latency(0.0, 0.8);
  std::uniform_int_distribution<int> coarse(0, 5);  // forces many ties
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<double> samples(count(rng));
    bool ties = trial % 2 == 0;
    for (double& v : samples) v = ties ? coarse(rng) * 0.25 : latency(rng);
    auto s = ComputeLatencyStats(samples);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    SCOPED_TRACE(testing::Message() << "trial " << trial << ", n " << samples.size());
    EXPECT_EQ(s->count, samples.size());
    EXPECT_EQ(s->min, *std::min_element(samples.begin(), samples.end()));
    EXPECT_EQ(s->max, *std::max_element(samples.begin(), samples.end()));
    double sum = 0;
    for (double v : samples) sum += v;
    EXPECT_NEAR(s->mean, sum / samples.size(), 1e-12 * std::max(1.0, sum));
    EXPECT_EQ(s->median, BruteForcePercentile(samples, 50));
    EXPECT_EQ(s->p90, BruteForcePercentile(samples, 90));
    EXPECT_EQ(s->p95, BruteForcePercentile(samples, 95));
    EXPECT_EQ(s->p99, BruteForcePercentile(samples, 99));
    EXPECT_LE(s->min, s->median);
    EXPECT_LE(s->median, s->p90);
    EXPECT_LE(s->p90, s->p95);
    EXPECT_LE(s->p95, s->p99);
    EXPECT_LE(s->p99, s->max);
  }
}

TEST(LatencyStats, IndependentOfSampleOrder) {
  std::mt19937_64 rng(std::random_device{}());
  std::exponential_distribution<double> latency(3.0);
  std::vector<double> samples(257);
  for (double& v : samples) v = latency(rng);
  auto a = ComputeLatencyStats(samples);
  std::shuffle(samples.begin(), samples.end(), rng);
  auto b = ComputeLatencyStats(samples);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->median, b->median);
  EXPECT_EQ(a->p99, b->p99);
  EXPECT_NEAR(a->mean, b->mean, 1e-12);
}

TEST(LatencyStats, RejectsBadInput) {
  auto empty = ComputeLatencyStats({});
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.status().code(), StatusCode::kInvalidArgument);

  auto nan = ComputeLatencyStats({1.0, std::nan(""), 2.0});
  ASSERT_FALSE(nan.ok());
  EXPECT_NE(nan.status().message().find("sample 1"), std::string::npos) << nan.status().message();

  auto negative = ComputeLatencyStats({1.0, -0.5});
  ASSERT_FALSE(negative.ok());
  EXPECT_NE(negative.status().message().find("-0.5"), std::string::npos);

  std::vector<double> one = {3.0};
  EXPECT_FALSE(NearestRankPercentile(one, 0).ok());
  EXPECT_FALSE(NearestRankPercentile(one, 100.5).ok());
  EXPECT_FALSE(NearestRankPercentile({}, 50).ok());
  EXPECT_EQ(*NearestRankPercentile(one, 1), 3.0);
}

}  // namespace
}  // namespace frt::cli
