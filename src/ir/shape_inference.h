// Static shape and type inference over a whole graph: runs each op's InferFn
// in topological order with the known (possibly symbolic) input shapes and
// constant values, and stores the results on the output Values.
#pragma once

#include "ir/graph.h"

namespace frt {

Status InferGraphShapes(Graph& graph);

}  // namespace frt
