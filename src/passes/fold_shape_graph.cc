// Shape-graph folding. Exported models compute most Reshape and Expand
// targets at run time (Shape -> Gather -> Unsqueeze -> Concat), so that they
// stay valid for any batch or sequence length. With the symbolic contents of
// those chains (symbolic_values.h), each round:
//  - replaces a shape tensor whose elements are all constants (a Gather of the
//    static hidden size out of Shape(x), say) by a constant;
//  - rewrites a Reshape whose target is symbolic into a constant target, using
//    ONNX Reshape's own conventions: 0 copies the input's dim at that position
//    (when the target element is the same symbol as that input dim), -1 is
//    inferred from the element count (allowed once: for the one element that
//    is neither a constant nor a copy);
//  - rewrites an Expand target likewise: 1 keeps the input's dim (when the
//    target element is that same symbol, right-aligned).
// Shape inference then knows the outputs' symbolic shapes, which feeds the
// next round, and the Shape/Gather/Concat chains left without readers are
// swept by dead-code elimination. What still depends on run-time sizes
// (Range(0, sequence), say) stays, and the builder evaluates it on the host
// when input shapes are set (tactic "host.shape", docs/optimizer.md) rather
// than as executed layers.
#include "ir/shape_inference.h"
#include "passes/pass_manager.h"
#include "passes/rewrite_util.h"
#include "ir/symbolic_values.h"

namespace frt {
namespace {

constexpr int kMaxRounds = 8;

Tensor IntTensor(DType dtype, const std::vector<int64_t>& values, bool scalar) {
  Dims dims = scalar ? Dims{} : Dims{static_cast<int64_t>(values.size())};
  if (dtype == DType::kInt32) {
    std::vector<int32_t> narrow(values.begin(), values.end());
    return Tensor::FromVector<int32_t>(narrow, dims);
  }
  return Tensor::FromVector<int64_t>(values, dims);
}

std::optional<std::vector<int64_t>> AllConstant(const SymbolicTensor& t) {
  std::vector<int64_t> out;
  for (const SymDim& d : t.elems) {
    if (!d.constant) return std::nullopt;
    out.push_back(*d.constant);
  }
  return out;
}

// A new constant input for `node`'s input `i`: a fresh value, so that other
// readers of the old target keep theirs.
Status SetConstantInput(Graph& graph, Node& node, size_t i, const std::vector<int64_t>& values) {
  FRT_ASSIGN_OR_RETURN(node.inputs[i],
                       rewrite::AddConstant(graph, node.inputs[i]->name + "_folded",
                                            IntTensor(DType::kInt64, values, false)));
  return Status::Ok();
}

// A node computing a shape tensor whose elements are all known constants
// becomes a constant (the node goes; its output value stays, now constant).
Result<bool> FoldToConstant(Graph& graph, Node& node, const SymbolicValues& sym) {
  if (node.outputs.size() != 1 || !node.outputs[0]) return false;
  Value* out = node.outputs[0];
  auto it = sym.find(out);
  if (it == sym.end()) return false;
  auto values = AllConstant(it->second);
  if (!values) return false;
  out->constant = IntTensor(out->dtype, *values, it->second.scalar);
  out->producer = nullptr;
  node.outputs.clear();
  FRT_RETURN_IF_ERROR(graph.RemoveNode(&node));
  return true;
}

bool IsConstantTarget(const Value* v) { return v->constant && !v->is_graph_input; }

Result<bool> FoldReshapeTarget(Graph& graph, Node& node, const SymbolicValues& sym) {
  if (!node.has_input(1) || IsConstantTarget(node.inputs[1])) return false;
  auto it = sym.find(node.inputs[1]);
  const Value* x = node.inputs[0];
  if (it == sym.end() || it->second.scalar || !x || !x->shape) return false;
  const std::vector<SymDim>& target = it->second.elems;
  bool allowzero = node.attrs.GetInt("allowzero", 0) != 0;
  std::vector<int64_t> folded;
  int inferred = 0;
  for (size_t i = 0; i < target.size(); ++i) {
    const SymDim& t = target[i];
    if (t.constant) {
      // A literal 0 means "copy" without allowzero and "empty" with it; the
      // rewrite below drops allowzero, so an empty dim cannot be kept.
      if (*t.constant == 0 && allowzero) return false;
      if (*t.constant == -1) ++inferred;
      folded.push_back(*t.constant);
    } else if (i < x->shape->rank() && Matches(t, (*x->shape)[i])) {
      folded.push_back(0);  // copy the input's dim
    } else {
      ++inferred;
      folded.push_back(-1);
    }
  }
  if (inferred > 1) return false;
  FRT_RETURN_IF_ERROR(SetConstantInput(graph, node, 1, folded));
  node.attrs.Set("allowzero", int64_t{0});
  return true;
}

Result<bool> FoldExpandTarget(Graph& graph, Node& node, const SymbolicValues& sym) {
  if (!node.has_input(1) || IsConstantTarget(node.inputs[1])) return false;
  auto it = sym.find(node.inputs[1]);
  const Value* x = node.inputs[0];
  if (it == sym.end() || it->second.scalar || !x || !x->shape) return false;
  const std::vector<SymDim>& target = it->second.elems;
  size_t rank = x->shape->rank();
  std::vector<int64_t> folded;
  for (size_t i = 0; i < target.size(); ++i) {
    const SymDim& t = target[i];
    if (t.constant) {
      folded.push_back(*t.constant);
      continue;
    }
    // Right-aligned broadcasting: target element i faces input dim i - offset.
    size_t offset = target.size() >= rank ? target.size() - rank : 0;
    if (target.size() < rank || i < offset || !Matches(t, (*x->shape)[i - offset])) return false;
    folded.push_back(1);  // broadcasting keeps the input's (same) dim
  }
  FRT_RETURN_IF_ERROR(SetConstantInput(graph, node, 1, folded));
  return true;
}

}  // namespace

Status FoldShapeGraph(Graph& graph) {
  for (int round = 0; round < kMaxRounds; ++round) {
    SymbolicValues sym = ComputeSymbolicValues(graph);
    FRT_ASSIGN_OR_RETURN(std::vector<Node*> order, graph.TopologicalOrder());
    bool changed = false;
    for (Node* node : order) {
      Result<bool> r = false;
      if (node->op == OpKind::kReshape) {
        r = FoldReshapeTarget(graph, *node, sym);
      } else if (node->op == OpKind::kExpand) {
        r = FoldExpandTarget(graph, *node, sym);
      } else if (node->op != OpKind::kConstant) {
        r = FoldToConstant(graph, *node, sym);
      }
      if (!r.ok()) return r.status();
      changed = changed || *r;
    }
    if (!changed) break;
    graph.RemoveDeadValues();
    FRT_RETURN_IF_ERROR(InferGraphShapes(graph));
  }
  return Status::Ok();
}

}  // namespace frt
