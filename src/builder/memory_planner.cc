// Memory planner: greedy-by-size offset assignment over buffer lifetimes.
//
// Placing large buffers first leaves small ones to fill the gaps between
// them, which is the usual heuristic for this (NP-hard) packing problem and
// close to optimal on inference graphs. For each buffer we gather the
// already-placed buffers whose lifetimes intersect its own, sort them by
// offset and take the first aligned gap that is large enough: O(n^2 log n)
// overall, fine for the few thousand activations of a network.
//
// Why the arena never exceeds S = sum of aligned sizes (so no offset
// arithmetic can overflow once S fits in uint64): a buffer lands at 0 or at
// the aligned end of some earlier-placed buffer q. By induction q ends at or
// below the aligned sizes of the buffers placed up to q, so the new buffer
// starts at or below the aligned sizes of all buffers placed before it.
//
// CheckMemoryPlan sweeps the slots in order of first_step and keeps the live
// ones in a map ordered by offset. Live slots are pairwise disjoint (checked
// as they are inserted), so a new slot overlaps some live slot exactly when
// it overlaps its neighbour on either side in that order.
#include "builder/memory_planner.h"

#include <algorithm>
#include <map>
#include <numeric>
#include <queue>
#include <set>
#include <utility>

namespace frt {
namespace {

// Rounds v up to a multiple of `alignment` (> 0); false on overflow.
bool AlignUp(uint64_t v, uint64_t alignment, uint64_t* out) {
  uint64_t rem = v % alignment;
  if (rem == 0) {
    *out = v;
    return true;
  }
  return !__builtin_add_overflow(v, alignment - rem, out);
}

bool LifetimesIntersect(int32_t f1, int32_t l1, int32_t f2, int32_t l2) {
  return f1 <= l2 && f2 <= l1;
}

std::string DescribeSlot(const MemorySlot& s) {
  return StrCat("\"", s.value, "\" (bytes [", s.offset, ", ", s.offset + s.size, "), steps ",
                s.first_step, "..", s.last_step, ")");
}

}  // namespace

Result<MemoryPlan> PlanMemory(const std::vector<BufferRequest>& buffers, uint64_t alignment) {
  if (alignment == 0) {
    return MakeError(StatusCode::kInvalidArgument, "memory planner: alignment must be > 0");
  }
  std::set<std::string_view> names;
  uint64_t aligned_sum = 0;
  uint64_t naive = 0;
  for (const BufferRequest& b : buffers) {
    if (b.first_step < 0 || b.last_step < 0) {
      return MakeError(StatusCode::kInvalidArgument, "memory planner: buffer \"", b.value,
                       "\" has a negative step (first_step ", b.first_step, ", last_step ",
                       b.last_step, ")");
    }
    if (b.first_step > b.last_step) {
      return MakeError(StatusCode::kInvalidArgument, "memory planner: buffer \"", b.value,
                       "\" has first_step ", b.first_step, " after last_step ", b.last_step);
    }
    if (!names.insert(b.value).second) {
      return MakeError(StatusCode::kInvalidArgument, "memory planner: buffer \"", b.value,
                       "\" is requested more than once");
    }
    uint64_t aligned = 0;
    if (!AlignUp(b.size, alignment, &aligned) ||
        __builtin_add_overflow(aligned_sum, aligned, &aligned_sum)) {
      return MakeError(StatusCode::kInvalidArgument, "memory planner: buffer \"", b.value, "\" of ",
                       b.size, " bytes makes the total (aligned to ", alignment,
                       ") overflow 64 bits");
    }
    naive += b.size;  // <= aligned_sum, cannot overflow
  }

  std::vector<size_t> order(buffers.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const BufferRequest& x = buffers[a];
    const BufferRequest& y = buffers[b];
    if (x.size != y.size) return x.size > y.size;
    if (x.first_step != y.first_step) return x.first_step < y.first_step;
    return x.value < y.value;
  });

  MemoryPlan plan;
  plan.naive_size = naive;
  plan.slots.resize(buffers.size());
  for (size_t i = 0; i < buffers.size(); ++i) {
    plan.slots[i] = {buffers[i].value, 0, buffers[i].size, buffers[i].first_step,
                     buffers[i].last_step};
  }
  std::vector<size_t> placed;                       // indices into buffers, in placement order
  std::vector<std::pair<uint64_t, uint64_t>> busy;  // [offset, end) of conflicting buffers
  for (size_t idx : order) {
    const BufferRequest& b = buffers[idx];
    if (b.size == 0) continue;  // takes no memory: offset 0, conflicts with nothing
    busy.clear();
    for (size_t p : placed) {
      const BufferRequest& o = buffers[p];
      if (LifetimesIntersect(b.first_step, b.last_step, o.first_step, o.last_step)) {
        busy.emplace_back(plan.slots[p].offset, plan.slots[p].offset + o.size);
      }
    }
    std::sort(busy.begin(), busy.end());
    // First fit: walk the busy ranges in offset order; the candidate is the
    // aligned end of everything seen so far that it would collide with.
    uint64_t candidate = 0;
    for (const auto& [start, end] : busy) {
      if (candidate + b.size <= start) break;  // fits in the gap before this range
      if (end > candidate) {
        uint64_t next = 0;
        AlignUp(end, alignment, &next);  // <= aligned_sum (see file comment): no overflow
        candidate = next;
      }
    }
    plan.slots[idx].offset = candidate;
    plan.arena_size = std::max(plan.arena_size, candidate + b.size);
    placed.push_back(idx);
  }
  return plan;
}

Status CheckMemoryPlan(const MemoryPlan& plan, uint64_t alignment) {
  if (alignment == 0) {
    return MakeError(StatusCode::kInvalidArgument, "memory plan check: alignment must be > 0");
  }
  std::set<std::string_view> names;
  for (const MemorySlot& s : plan.slots) {
    if (s.first_step < 0 || s.first_step > s.last_step) {
      return MakeError(StatusCode::kInvalidEngine, "memory plan: slot \"", s.value,
                       "\" has invalid steps ", s.first_step, "..", s.last_step,
                       " (expected 0 <= first_step <= last_step)");
    }
    if (!names.insert(s.value).second) {
      return MakeError(StatusCode::kInvalidEngine, "memory plan: value \"", s.value,
                       "\" has more than one slot");
    }
    if (s.offset % alignment != 0) {
      return MakeError(StatusCode::kInvalidEngine, "memory plan: slot \"", s.value,
                       "\" has offset ", s.offset, ", which is not a multiple of ", alignment);
    }
    uint64_t end = 0;
    if (__builtin_add_overflow(s.offset, s.size, &end) || end > plan.arena_size) {
      return MakeError(StatusCode::kInvalidEngine, "memory plan: slot \"", s.value, "\" (offset ",
                       s.offset, ", size ", s.size, ") ends past the arena of ", plan.arena_size,
                       " bytes");
    }
  }

  // Sweep in order of first_step; `live` maps offset -> slot index of the
  // slots whose lifetime covers the current first_step.
  std::vector<size_t> order;
  for (size_t i = 0; i < plan.slots.size(); ++i) {
    if (plan.slots[i].size > 0) order.push_back(i);
  }
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return plan.slots[a].first_step < plan.slots[b].first_step;
  });
  using Expiry = std::pair<int32_t, size_t>;  // (last_step, slot index), soonest first
  std::priority_queue<Expiry, std::vector<Expiry>, std::greater<Expiry>> expiries;
  std::map<uint64_t, size_t> live;
  for (size_t idx : order) {
    const MemorySlot& s = plan.slots[idx];
    while (!expiries.empty() && expiries.top().first < s.first_step) {
      live.erase(plan.slots[expiries.top().second].offset);
      expiries.pop();
    }
    const MemorySlot* clash = nullptr;
    auto next = live.lower_bound(s.offset);
    if (next != live.end() && next->first < s.offset + s.size) {
      clash = &plan.slots[next->second];
    } else if (next != live.begin()) {
      const MemorySlot& prev = plan.slots[std::prev(next)->second];
      if (prev.offset + prev.size > s.offset) clash = &prev;
    }
    if (clash != nullptr) {
      return MakeError(StatusCode::kInvalidEngine, "memory plan: slots ", DescribeSlot(*clash),
                       " and ", DescribeSlot(s), " overlap in memory while both are live");
    }
    live.emplace(s.offset, idx);
    expiries.emplace(s.last_step, idx);
  }
  return Status::Ok();
}

}  // namespace frt
