// Reduction planning: drop size-1 dims, merge same-kind neighbours, classify
// (see reduction_plan.h).
#include "backends/cuda/reduction_plan.h"

#include <algorithm>

namespace frt::cuda_reduce {

ReducePlan PlanReduce(const Dims& in, const std::vector<bool>& reduced) {
  struct Group {
    bool reduced;
    int64_t size;
    int64_t stride;  // input stride of the group's last (innermost) dim
  };
  // Row-major strides of the input.
  Dims strides(in.size(), 1);
  for (size_t d = in.size(); d-- > 1;) strides[d - 1] = strides[d] * in[d];
  std::vector<Group> groups;
  ReducePlan p;
  for (size_t d = 0; d < in.size(); ++d) {
    if (reduced[d]) p.len *= in[d];
    else p.outputs *= in[d];
    if (in[d] == 1) continue;
    if (!groups.empty() && groups.back().reduced == reduced[d]) {
      groups.back().size *= in[d];
      groups.back().stride = strides[d];
    } else {
      groups.push_back({reduced[d], in[d], strides[d]});
    }
  }
  // A group's stride is that of its innermost dim, and merged groups are
  // contiguous, so a group of size n spans n * stride elements.
  auto is = [&](std::initializer_list<bool> kinds) {
    if (groups.size() != kinds.size()) return false;
    size_t i = 0;
    for (bool k : kinds) {
      if (groups[i++].reduced != k) return false;
    }
    return true;
  };
  if (groups.empty() || is({false})) {
    p.kind = ReducePlan::Kind::kColumns;  // nothing reduced: len 1 per output
    p.inner = p.outputs;
  } else if (is({true})) {
    p.kind = ReducePlan::Kind::kRows;
  } else if (is({false, true})) {
    p.kind = ReducePlan::Kind::kRows;
    p.outer = groups[0].size;
  } else if (is({true, false})) {
    p.kind = ReducePlan::Kind::kColumns;
    p.inner = groups[1].size;
  } else if (is({false, true, false})) {
    p.kind = ReducePlan::Kind::kColumns;
    p.outer = groups[0].size;
    p.inner = groups[2].size;
  } else {
    p.kind = ReducePlan::Kind::kGeneral;
    for (const Group& g : groups) {
      (g.reduced ? p.red_dims : p.kept_dims).push_back(g.size);
      (g.reduced ? p.red_strides : p.kept_strides).push_back(g.stride);
    }
  }
  return p;
}

int64_t SplitCount(int64_t blocks, int64_t target_blocks, int64_t len, int64_t min_part,
                   int64_t outputs, size_t partial_bytes, size_t workspace) {
  if (blocks <= 0 || blocks >= target_blocks || len < 2 * min_part) return 1;
  int64_t parts = std::min<int64_t>((target_blocks + blocks - 1) / blocks, len / min_part);
  parts = std::min<int64_t>(parts, 1024);
  if (outputs > 0) {
    int64_t fit = static_cast<int64_t>(workspace / partial_bytes) / outputs;
    parts = std::min(parts, fit);
  }
  return std::max<int64_t>(parts, 1);
}

}  // namespace frt::cuda_reduce
