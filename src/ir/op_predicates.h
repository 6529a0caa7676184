// Small predicates on ops and nodes shared by the optimizer passes and
// concrete shape propagation: which nodes must not be folded, merged or
// evaluated at build time.
#pragma once

#include <variant>

#include "ir/graph.h"

namespace frt {

// Ops whose outputs differ between runs: never evaluated at build time nor
// merged (two RandomNormal nodes are two independent samples). Multinomial
// has no OpKind yet; add it here when it gets one.
inline bool IsRandomOp(OpKind op) {
  switch (op) {
    case OpKind::kRandomNormal:
    case OpKind::kRandomNormalLike:
    case OpKind::kRandomUniform:
    case OpKind::kRandomUniformLike:
    case OpKind::kBernoulli:
      return true;
    default:
      return false;
  }
}

inline bool IsControlFlowOp(OpKind op) {
  return op == OpKind::kIf || op == OpKind::kLoop || op == OpKind::kScan;
}

// True when one of the node's attributes is a subgraph.
inline bool HasGraphAttr(const Node& n) {
  for (const auto& [name, value] : n.attrs.all()) {
    if (std::holds_alternative<std::shared_ptr<Graph>>(value)) return true;
  }
  return false;
}

}  // namespace frt
