// Softmax fusion: Softmax(scale * x + mask) -> FusedSoftmax(x, mask; scale),
// for the softmaxes attention fusion did not take (a classifier's temperature,
// an attention whose surroundings did not match). Walks up from each Softmax
// (opset >= 13, or the last axis, where older opsets mean the same):
//   - an Add of two tensors becomes the mask, when one operand provably has
//     the Add's full shape (that one carries on as the scores; softmax(a + b)
//     does not care which operand is called the mask);
//   - a Mul by a constant scalar, or a Div by one, becomes the scale.
// Each absorbed value must have the next node as its only reader and not be
// observable by name. At least one op must be absorbed.
#include <optional>

#include "passes/epilogue_util.h"
#include "passes/pass_manager.h"
#include "passes/rewrite_util.h"

namespace frt {
namespace {

// The value of a one-element float constant.
std::optional<double> ScalarConstant(const Value* v) {
  const Tensor* t = epilogue::FixedConstant(v);
  if (!t || t->num_elements() != 1 || !epilogue::IsComputeFloat(t->dtype())) return std::nullopt;
  return t->GetAsDouble(0);
}

struct Match {
  Value* x = nullptr;
  Value* mask = nullptr;
  double scale = 1.0;
  std::vector<Node*> absorbed;  // in graph order
};

// Node producing `v` when it may disappear into the fusion (v read once, by
// `reader`, and not observable).
Node* Absorbable(const Graph& g, const rewrite::ReaderMap& readers, const Value* v,
                 const Node* reader) {
  if (!v || !v->producer || v->producer->outputs.size() != 1) return nullptr;
  return rewrite::SoleReader(g, readers, v) == reader ? v->producer : nullptr;
}

// Mul(x, c), Mul(c, x) or Div(x, c) with c a scalar constant: x and the factor.
std::optional<std::pair<Value*, double>> ScaleOf(const Node& n) {
  if (n.inputs.size() != 2 || !n.inputs[0] || !n.inputs[1]) return std::nullopt;
  if (n.op == OpKind::kMul) {
    if (auto c = ScalarConstant(n.inputs[1])) return std::make_pair(n.inputs[0], *c);
    if (auto c = ScalarConstant(n.inputs[0])) return std::make_pair(n.inputs[1], *c);
  } else if (n.op == OpKind::kDiv) {
    auto c = ScalarConstant(n.inputs[1]);
    if (c && *c != 0.0) return std::make_pair(n.inputs[0], 1.0 / *c);
  }
  return std::nullopt;
}

std::optional<Match> MatchAt(const Graph& g, const rewrite::ReaderMap& readers, Node& softmax) {
  Value* in = softmax.inputs[0];
  if (!in || !epilogue::IsComputeFloat(in->dtype) || !in->shape) return std::nullopt;
  int64_t rank = static_cast<int64_t>(in->shape->rank());
  int64_t axis = softmax.attrs.GetInt("axis", -1);
  if (softmax.opset < 13 && axis != -1 && axis != rank - 1) return std::nullopt;
  Match m;
  m.x = in;
  Node* add = Absorbable(g, readers, in, &softmax);
  if (add && add->op == OpKind::kAdd && add->inputs.size() == 2 && add->inputs[0] &&
      add->inputs[1] && add->inputs[0] != add->inputs[1]) {
    Value* a = add->inputs[0];
    Value* b = add->inputs[1];
    if (!epilogue::SameShape(a->shape, in->shape)) std::swap(a, b);
    if (epilogue::SameShape(a->shape, in->shape) && b->dtype == in->dtype) {
      // Prefer the operand that carries a scale as the scores.
      Node* pa = Absorbable(g, readers, a, add);
      Node* pb = Absorbable(g, readers, b, add);
      if (!(pa && ScaleOf(*pa)) && pb && ScaleOf(*pb) &&
          epilogue::SameShape(b->shape, in->shape)) {
        std::swap(a, b);
      }
      m.x = a;
      m.mask = b;
      m.absorbed.push_back(add);
    }
  }
  const Node* reader = m.absorbed.empty() ? &softmax : m.absorbed.front();
  if (Node* scale = Absorbable(g, readers, m.x, reader)) {
    if (auto s = ScaleOf(*scale)) {
      m.x = s->first;
      m.scale = s->second;
      m.absorbed.insert(m.absorbed.begin(), scale);
    }
  }
  if (m.absorbed.empty()) return std::nullopt;
  return m;
}

}  // namespace

Status FuseSoftmax(Graph& graph) {
  FRT_ASSIGN_OR_RETURN(std::vector<Node*> order, graph.TopologicalOrder());
  rewrite::ReaderMap readers = rewrite::CollectReaders(graph);
  for (Node* softmax : order) {
    if (softmax->op != OpKind::kSoftmax || !softmax->has_input(0) || !softmax->has_output(0)) {
      continue;
    }
    std::optional<Match> m = MatchAt(graph, readers, *softmax);
    if (!m) continue;
    Node* fused = graph.AddNode(OpKind::kFusedSoftmax, softmax->name);
    fused->opset = 1;
    fused->inputs = {m->x};
    if (m->mask) fused->inputs.push_back(m->mask);
    int64_t rank = static_cast<int64_t>(softmax->inputs[0]->shape->rank());
    int64_t axis = softmax->attrs.GetInt("axis", -1);
    fused->attrs.Set("axis", axis < 0 ? axis + rank : axis);
    fused->attrs.Set("scale", static_cast<float>(m->scale));
    std::vector<Node*> nodes = m->absorbed;
    nodes.push_back(softmax);
    FRT_RETURN_IF_ERROR(rewrite::FinishFusion(graph, fused, softmax->outputs[0], nodes));
    readers = rewrite::CollectReaders(graph);
  }
  graph.RemoveDeadValues();
  return Status::Ok();
}

}  // namespace frt
