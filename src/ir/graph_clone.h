// Deep copy of a Graph: values (with their constants sharing tensor buffers,
// which are immutable once in a graph), nodes, attributes and subgraphs
// (re-parented to the copy). Used by the builder, which must not modify the
// caller's network, and by passes that keep the original for comparison.
#pragma once

#include <memory>

#include "ir/graph.h"

namespace frt {

// `parent`: the enclosing graph of the copy (nullptr at top level).
Result<std::unique_ptr<Graph>> CloneGraph(const Graph& graph, const Graph* parent = nullptr);

}  // namespace frt
