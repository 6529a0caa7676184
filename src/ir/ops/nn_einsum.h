// Einsum equation planning, shared by the Einsum schema and its CPU kernel:
// parses "ij,jk->ik"-style equations (implicit or explicit output, repeated
// labels for diagonals/traces, "..." for broadcast dims) against the operand
// ranks and labels every operand axis and output axis.
#pragma once

#include <string>
#include <vector>

#include "ir/graph.h"

namespace frt::nn {

struct EinsumPlan {
  // Label of every axis of every operand. Letters keep their character code;
  // the e-th ellipsis dim (counted from the left of the widest ellipsis) is
  // kEllipsisLabel + e. A label repeated in one operand takes its diagonal.
  std::vector<std::vector<int>> operand_labels;
  std::vector<int> output_labels;
  int num_labels = 0;  // every label value is < num_labels

  static constexpr int kEllipsisLabel = 256;
};

// Plans `equation` for operands of the given ranks. Errors name the problem
// (bad character, term count, rank mismatch, unknown output label).
Result<EinsumPlan> PlanEinsum(const Node& node, const std::string& equation,
                              const std::vector<size_t>& ranks);

// The size of every label (indexed by label value; -1 where unused or
// unknown) from operand dims (-1 = unknown). Letters must agree across
// operands; ellipsis dims broadcast numpy-style (1 stretches).
Result<std::vector<int64_t>> EinsumLabelSizes(const Node& node, const EinsumPlan& plan,
                                              const std::vector<Dims>& dims);

}  // namespace frt::nn
