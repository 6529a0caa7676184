// Dead code elimination: marks live every node that produces a graph output,
// then, walking backwards, every producer of an input of a live node. Implicit
// inputs count like explicit ones: control-flow nodes list the outer-scope
// values their subgraphs read as trailing inputs, so those producers stay.
// Unmarked nodes are removed (all their consumers are dead too), then values
// nothing refers to any more (outputs of removed nodes, unused initializers).
// Random ops have no side effects visible outside their outputs, so they are
// removed like any other node when unused.
#include <unordered_set>

#include "passes/pass_manager.h"

namespace frt {

Status EliminateDeadCode(Graph& graph) {
  std::unordered_set<const Node*> live;
  std::vector<const Node*> work;
  auto mark = [&](const Value* v) {
    if (v && v->producer && live.insert(v->producer).second) work.push_back(v->producer);
  };
  for (const Value* out : graph.outputs()) mark(out);
  while (!work.empty()) {
    const Node* n = work.back();
    work.pop_back();
    for (const Value* in : n->inputs) mark(in);
  }
  std::vector<Node*> dead;
  for (Node* n : graph.nodes()) {
    if (!live.count(n)) dead.push_back(n);
  }
  // Dead nodes may read each other's outputs: detach them all before removing
  // so RemoveNode's "still read" check sees only live readers (there are none).
  for (Node* n : dead) n->inputs.clear();
  for (Node* n : dead) FRT_RETURN_IF_ERROR(graph.RemoveNode(n));
  graph.RemoveDeadValues();
  return Status::Ok();
}

}  // namespace frt
