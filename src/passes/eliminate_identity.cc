// Identity elimination: `y = Identity(x)` is removed and readers of y read x;
// so is a Cast (or CastLike) to the dtype x already has.
// Dropout in inference mode is an identity too (ONNX: with training_mode
// absent or a constant false the output equals the input and the ratio is
// ignored) when its mask output is absent or unread. Graph.ReplaceAllUses
// keeps observable names: when y is a graph output (or read by name from a
// subgraph) x takes y's name if x is an internal value; if x's own name is
// observable too (a graph input, another output) the node stays, since
// removing it would only re-insert an Identity.
#include "passes/pass_manager.h"

namespace frt {
namespace {

bool IsFalseConstant(const Value* v) {
  if (!v || !v->constant || v->is_graph_input) return false;
  const Tensor& t = *v->constant;
  if (t.num_elements() != 1 || t.dtype() != DType::kBool) return false;
  return *static_cast<const uint8_t*>(t.raw()) == 0;
}

bool HasReaders(const Graph& g, const Value* v) {
  for (const Node* n : g.nodes()) {
    for (const Value* in : n->inputs) {
      if (in == v) return true;
    }
  }
  return false;
}

// The value `n` passes through unchanged, or nullptr if it is not an identity.
Value* PassedThrough(const Graph& g, const Node& n) {
  if (n.outputs.empty() || !n.outputs[0] || !n.has_input(0)) return nullptr;
  if (n.op == OpKind::kIdentity) return n.inputs[0];
  if (n.op == OpKind::kCast || n.op == OpKind::kCastLike) {
    // A cast to the type the value already has changes nothing (exporters
    // emit them around norms: T5's Cast-to-float32 of a float32 tensor).
    DType from = n.inputs[0]->dtype;
    return from != DType::kUndefined && from == n.outputs[0]->dtype ? n.inputs[0] : nullptr;
  }
  if (n.op != OpKind::kDropout) return nullptr;
  if (n.has_input(2) && !IsFalseConstant(n.inputs[2])) return nullptr;
  // Old opsets (< 7) had an is_test attribute; only the inference form qualifies.
  if (n.attrs.Has("is_test") && n.attrs.GetInt("is_test", 0) == 0) return nullptr;
  if (n.has_output(1) && (g.IsNamePinned(n.outputs[1]) || HasReaders(g, n.outputs[1]))) {
    return nullptr;
  }
  return n.inputs[0];
}

}  // namespace

Status EliminateIdentity(Graph& graph) {
  FRT_ASSIGN_OR_RETURN(std::vector<Node*> order, graph.TopologicalOrder());
  for (Node* node : order) {
    Value* x = PassedThrough(graph, *node);
    if (!x) continue;
    Value* y = node->outputs[0];
    if (x->dtype != y->dtype) continue;  // not an identity after all (defensive)
    bool x_renamable = x->producer != nullptr && !graph.IsNamePinned(x);
    if (graph.IsNamePinned(y) && !x_renamable) continue;
    graph.ReplaceAllUses(y, x);
    FRT_RETURN_IF_ERROR(graph.RemoveNode(node));
  }
  graph.RemoveDeadValues();
  return Status::Ok();
}

}  // namespace frt
