// A readable text form of a Graph, one line per node:
//   %probs: f32[batch,4,seq,seq] = Softmax(%scores_scaled) {axis=-1}  # attn/softmax
// Constants are listed (name, type, shape) before the nodes; subgraph
// attributes are printed nested and indented.
#pragma once

#include <string>

#include "ir/graph.h"

namespace frt {

std::string PrintGraph(const Graph& graph);

}  // namespace frt
