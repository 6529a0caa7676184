// Structural checks on a Graph: the invariants every pass must preserve.
// Runs after import and, in tests, after every pass. A failure after a pass
// is a FusionRT bug (kInternal); the message names the node or value.
#pragma once

#include "ir/graph.h"

namespace frt {

// Checks: node inputs/outputs belong to this graph (or are outer-scope
// references of a subgraph); each output's producer is its node; no value is
// produced twice or is both produced and a constant/graph input; graph
// outputs are defined; no cycle; each op has a schema with matching arity.
Status VerifyGraph(const Graph& graph);

}  // namespace frt
