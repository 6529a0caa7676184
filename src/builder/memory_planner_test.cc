// Tests of the memory planner: hand cases with known optimal layouts, input
// validation, randomized request sets checked against a brute-force overlap
// test and the live-bytes lower bound, and CheckMemoryPlan on corrupted plans.
#include "builder/memory_planner.h"

#include <gtest/gtest.h>

#include <random>

namespace frt {
namespace {

// Independent of CheckMemoryPlan: every pair, the textbook way.
bool BruteForceValid(const MemoryPlan& plan, uint64_t alignment, std::string* why) {
  for (size_t i = 0; i < plan.slots.size(); ++i) {
    const MemorySlot& a = plan.slots[i];
    if (a.offset % alignment != 0) {
      *why = a.value + " misaligned";
      return false;
    }
    if (a.offset + a.size > plan.arena_size) {
      *why = a.value + " past arena";
      return false;
    }
    for (size_t j = i + 1; j < plan.slots.size(); ++j) {
      const MemorySlot& b = plan.slots[j];
      bool live_together = a.first_step <= b.last_step && b.first_step <= a.last_step;
      bool mem_overlap =
          a.size > 0 && b.size > 0 && a.offset < b.offset + b.size && b.offset < a.offset + a.size;
      if (live_together && mem_overlap) {
        *why = a.value + " overlaps " + b.value;
        return false;
      }
    }
  }
  return true;
}

uint64_t AlignedSum(const std::vector<BufferRequest>& reqs, uint64_t alignment) {
  uint64_t sum = 0;
  for (const auto& r : reqs) sum += (r.size + alignment - 1) / alignment * alignment;
  return sum;
}

// Max over steps of the bytes that must be live at once: no plan can do better.
uint64_t LiveBytesLowerBound(const std::vector<BufferRequest>& reqs) {
  int32_t max_step = 0;
  for (const auto& r : reqs) max_step = std::max(max_step, r.last_step);
  uint64_t best = 0;
  for (int32_t t = 0; t <= max_step; ++t) {
    uint64_t live = 0;
    for (const auto& r : reqs) {
      if (r.first_step <= t && t <= r.last_step) live += r.size;
    }
    best = std::max(best, live);
  }
  return best;
}

TEST(MemoryPlanner, ChainReusesMemory) {
  // a -> b -> c: a dies when b is made, so c can reuse a's bytes.
  std::vector<BufferRequest> reqs = {{"a", 1000, 0, 1}, {"b", 1000, 1, 2}, {"c", 1000, 2, 3}};
  auto plan = PlanMemory(reqs);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  ASSERT_EQ(plan->slots.size(), 3u);
  EXPECT_EQ(plan->slots[0].value, "a");
  EXPECT_EQ(plan->slots[2].value, "c");
  EXPECT_EQ(plan->slots[0].offset, plan->slots[2].offset);
  EXPECT_NE(plan->slots[0].offset, plan->slots[1].offset);
  EXPECT_EQ(plan->naive_size, 3000u);
  EXPECT_EQ(plan->arena_size, 1024u + 1000u);  // second buffer starts at aligned 1024
  EXPECT_TRUE(CheckMemoryPlan(*plan).ok());
}

TEST(MemoryPlanner, AllOverlappingIsNaive) {
  std::vector<BufferRequest> reqs = {
      {"x", 512, 0, 5}, {"y", 256, 1, 4}, {"z", 768, 2, 3}, {"w", 256, 0, 2}};
  auto plan = PlanMemory(reqs);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->arena_size, 512u + 256 + 768 + 256);
  EXPECT_EQ(plan->arena_size, plan->naive_size);
  // Largest first: z at 0, x after it; ties (y, w same size) by earlier first_step: w then y.
  EXPECT_EQ(plan->slots[2].offset, 0u);
  EXPECT_EQ(plan->slots[0].offset, 768u);
  EXPECT_EQ(plan->slots[3].offset, 1280u);
  EXPECT_EQ(plan->slots[1].offset, 1536u);
  EXPECT_TRUE(CheckMemoryPlan(*plan).ok());
}

TEST(MemoryPlanner, AlignmentAndGapFilling) {
  // Odd sizes: every offset must still be a multiple of the alignment.
  std::vector<BufferRequest> reqs = {
      {"big", 1001, 0, 4}, {"mid", 300, 0, 1}, {"small", 3, 0, 0}, {"late", 250, 2, 4}};
  for (uint64_t alignment : {uint64_t{1}, uint64_t{64}, uint64_t{256}, uint64_t{1000}}) {
    auto plan = PlanMemory(reqs, alignment);
    ASSERT_TRUE(plan.ok());
    for (const auto& s : plan->slots) EXPECT_EQ(s.offset % alignment, 0u) << s.value;
    EXPECT_TRUE(CheckMemoryPlan(*plan, alignment).ok()) << alignment;
    // "late" starts after "mid" died, so it takes mid's gap rather than growing the arena.
    EXPECT_EQ(plan->slots[3].offset, plan->slots[1].offset) << alignment;
  }
  auto plan = PlanMemory(reqs, 256);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->slots[0].offset, 0u);
  EXPECT_EQ(plan->slots[1].offset, 1024u);
  EXPECT_EQ(plan->slots[2].offset, 1536u);
  EXPECT_EQ(plan->arena_size, 1539u);
  // The default-aligned check rejects a 64-aligned plan that is not 256-aligned.
  auto p64 = PlanMemory(reqs, 64);
  ASSERT_TRUE(p64.ok());
  EXPECT_EQ(p64->slots[1].offset, 1024u);
  EXPECT_EQ(p64->slots[2].offset, 1344u);
  EXPECT_EQ(CheckMemoryPlan(*p64).code(), StatusCode::kInvalidEngine);
}

TEST(MemoryPlanner, ZeroSizeAndEmpty) {
  auto empty = PlanMemory({});
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->arena_size, 0u);
  EXPECT_TRUE(empty->slots.empty());
  auto plan = PlanMemory({{"e", 0, 0, 3}, {"a", 10, 0, 3}});
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->slots[0].offset, 0u);
  EXPECT_EQ(plan->slots[0].size, 0u);
  EXPECT_EQ(plan->arena_size, 10u);
  EXPECT_TRUE(CheckMemoryPlan(*plan).ok());
}

TEST(MemoryPlanner, RejectsBadRequests) {
  auto bad_order = PlanMemory({{"a", 8, 3, 2}});
  EXPECT_EQ(bad_order.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad_order.status().message().find("\"a\""), std::string::npos);
  auto negative = PlanMemory({{"n", 8, -1, 2}});
  EXPECT_EQ(negative.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(negative.status().message().find("negative"), std::string::npos);
  auto dup = PlanMemory({{"d", 8, 0, 1}, {"d", 16, 2, 3}});
  EXPECT_EQ(dup.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(dup.status().message().find("\"d\""), std::string::npos);
  // Each size fits, but their aligned sum does not.
  uint64_t huge = (~uint64_t{0}) / 2;
  auto overflow = PlanMemory({{"h1", huge, 0, 1}, {"h2", huge, 0, 1}, {"h3", 256, 0, 1}});
  EXPECT_EQ(overflow.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(overflow.status().message().find("overflow"), std::string::npos);
  auto align_overflow = PlanMemory({{"top", ~uint64_t{0}, 0, 0}});
  EXPECT_EQ(align_overflow.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(PlanMemory({{"a", 8, 0, 1}}, 0).status().code(), StatusCode::kInvalidArgument);
}

TEST(MemoryPlanner, RandomRequestSets) {
  std::mt19937_64 rng(std::random_device{}());
  uint64_t shared_sum = 0, naive_sum = 0;
  for (int iter = 0; iter < 1000; ++iter) {
    int n = std::uniform_int_distribution<int>(0, 40)(rng);
    int steps = std::uniform_int_distribution<int>(1, 30)(rng);
    std::vector<BufferRequest> reqs;
    for (int i = 0; i < n; ++i) {
      BufferRequest r;
      r.value = "v" + std::to_string(i);
      // Mix of zero, tiny, odd and large sizes; repeated sizes exercise the tie-breaks.
      switch (std::uniform_int_distribution<int>(0, 4)(rng)) {
        case 0:
          r.size = 0;
          break;
        case 1:
          r.size = std::uniform_int_distribution<uint64_t>(1, 300)(rng);
          break;
        case 2:
          r.size = 512;
          break;
        default:
          r.size = std::uniform_int_distribution<uint64_t>(1, 1 << 20)(rng);
          break;
      }
      r.first_step = std::uniform_int_distribution<int32_t>(0, steps - 1)(rng);
      r.last_step = std::uniform_int_distribution<int32_t>(r.first_step, steps - 1)(rng);
      reqs.push_back(r);
    }
    std::shuffle(reqs.begin(), reqs.end(), rng);
    uint64_t alignment = iter % 2 ? kArenaAlignment : 64;
    auto plan = PlanMemory(reqs, alignment);
    ASSERT_TRUE(plan.ok()) << plan.status().ToString();
    ASSERT_EQ(plan->slots.size(), reqs.size());
    uint64_t naive = 0;
    for (size_t i = 0; i < reqs.size(); ++i) {
      EXPECT_EQ(plan->slots[i].value, reqs[i].value);  // input order kept
      EXPECT_EQ(plan->slots[i].size, reqs[i].size);
      EXPECT_EQ(plan->slots[i].first_step, reqs[i].first_step);
      EXPECT_EQ(plan->slots[i].last_step, reqs[i].last_step);
      naive += reqs[i].size;
    }
    EXPECT_EQ(plan->naive_size, naive);
    std::string why;
    ASSERT_TRUE(BruteForceValid(*plan, alignment, &why)) << why;
    ASSERT_TRUE(CheckMemoryPlan(*plan, alignment).ok())
        << CheckMemoryPlan(*plan, alignment).ToString();
    EXPECT_LE(plan->arena_size, AlignedSum(reqs, alignment));
    EXPECT_GE(plan->arena_size, LiveBytesLowerBound(reqs));
    uint64_t max_end = 0;
    for (const auto& s : plan->slots) max_end = std::max(max_end, s.offset + s.size);
    EXPECT_EQ(plan->arena_size, max_end);
    shared_sum += plan->arena_size;
    naive_sum += naive;

    // Corrupt: move one slot into another whose lifetime intersects it.
    std::vector<std::pair<size_t, size_t>> pairs;
    for (size_t i = 0; i < reqs.size(); ++i) {
      for (size_t j = 0; j < reqs.size(); ++j) {
        if (i != j && reqs[i].size > 0 && reqs[j].size > 0 &&
            reqs[i].first_step <= reqs[j].last_step && reqs[j].first_step <= reqs[i].last_step) {
          pairs.emplace_back(i, j);
        }
      }
    }
    if (pairs.empty()) continue;
    auto [i, j] = pairs[std::uniform_int_distribution<size_t>(0, pairs.size() - 1)(rng)];
    MemoryPlan bad = *plan;
    // Start anywhere inside j (aligned down), so the clash may be with either neighbour.
    uint64_t inside = bad.slots[j].offset +
                      std::uniform_int_distribution<uint64_t>(0, bad.slots[j].size - 1)(rng);
    bad.slots[i].offset = inside / alignment * alignment;
    bad.arena_size = std::max(bad.arena_size, bad.slots[i].offset + bad.slots[i].size);
    Status s = CheckMemoryPlan(bad, alignment);
    EXPECT_EQ(s.code(), StatusCode::kInvalidEngine);
    EXPECT_NE(s.message().find("overlap"), std::string::npos) << s.message();
  }
  // Sharing must pay off on random lifetimes (sanity check that it is not a naive layout).
  EXPECT_LT(shared_sum, naive_sum);
}

TEST(MemoryPlanner, CheckCatchesCorruptedPlan) {
  std::vector<BufferRequest> reqs = {
      {"q", 4096, 0, 2}, {"k", 4096, 1, 3}, {"v", 2048, 3, 4}, {"o", 100, 4, 5}};
  auto plan = PlanMemory(reqs);
  ASSERT_TRUE(plan.ok());
  ASSERT_TRUE(CheckMemoryPlan(*plan).ok());

  MemoryPlan overlap = *plan;  // k onto q while both live (step 1..2)
  overlap.slots[1].offset = overlap.slots[0].offset + 256;
  overlap.arena_size = overlap.slots[1].offset + 4096;
  Status s = CheckMemoryPlan(overlap);
  EXPECT_EQ(s.code(), StatusCode::kInvalidEngine);
  EXPECT_NE(s.message().find("\"q\""), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("\"k\""), std::string::npos) << s.message();

  // q and v never live together, so the planner put v into q's bytes; o (live
  // with v only) may take k's bytes once k is dead, which the check accepts.
  EXPECT_EQ(plan->slots[2].offset, plan->slots[0].offset);
  MemoryPlan reuse = *plan;
  reuse.slots[3].offset = reuse.slots[1].offset;
  EXPECT_TRUE(CheckMemoryPlan(reuse).ok()) << CheckMemoryPlan(reuse).ToString();
  reuse.slots[3].offset = reuse.slots[2].offset + 1024;  // ... but not v's, v is live at step 4
  EXPECT_NE(CheckMemoryPlan(reuse).message().find("\"v\""), std::string::npos);

  MemoryPlan misaligned = *plan;
  misaligned.slots[3].offset += 8;
  EXPECT_NE(CheckMemoryPlan(misaligned).message().find("\"o\""), std::string::npos);

  MemoryPlan small_arena = *plan;
  small_arena.arena_size -= 1;
  EXPECT_EQ(CheckMemoryPlan(small_arena).code(), StatusCode::kInvalidEngine);

  MemoryPlan wrap = *plan;  // offset + size wraps around 2^64
  wrap.slots[0].offset = ~uint64_t{0} - 255;
  wrap.arena_size = ~uint64_t{0};
  EXPECT_EQ(CheckMemoryPlan(wrap).code(), StatusCode::kInvalidEngine);

  MemoryPlan steps = *plan;
  steps.slots[2].first_step = 7;
  EXPECT_NE(CheckMemoryPlan(steps).message().find("\"v\""), std::string::npos);

  MemoryPlan dup = *plan;
  dup.slots[3].value = "q";
  EXPECT_EQ(CheckMemoryPlan(dup).code(), StatusCode::kInvalidEngine);
}

}  // namespace
}  // namespace frt
