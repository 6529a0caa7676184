// Conv epilogue fusion: Conv followed by a chain of
//   1. a bias-like Add: the other operand a constant of one value per output
//      channel ([C], [C,1,1], [1,C,1,1], or one value) -> folded into Conv's
//      bias input (b' = b + c, computed in double);
//   2. a residual Add: the other operand a non-constant of the Conv output's
//      shape (ResNet's and MobileNetV2's shortcut) -> input 3 `residual`;
//   3. an activation (ir/activation.h) -> the `activation` attributes,
// each optional but in this order, becomes one FusedConv computing
// act(conv(X, W) + b' + residual) (docs/fused_ops.md). The order is the
// contract's: the residual is added before the activation, so an activation
// followed by a residual Add ends the chain at the activation.
//
// A step is absorbed only when the value it reads (the Conv output or the
// previous step's) has exactly that one reader and is not name-pinned (graph
// output, subgraph read), when the Add does not broadcast the chain's value
// to a larger shape, and when dtypes agree; otherwise the chain stops there.
// A Conv that absorbs nothing stays a Conv. Conv biases that are not
// constants (run-time values) still allow steps 2 and 3, not step 1.
#include <unordered_set>

#include "ir/activation.h"
#include "passes/epilogue_util.h"
#include "passes/pass_manager.h"

namespace frt {
namespace {

using epilogue::FixedConstant;
using epilogue::OtherOperand;
using epilogue::SameShape;

using rewrite::ReaderMap;

// One value per channel of a rank-`rank` NC... tensor with `channels`
// channels, as numpy broadcasting would align `c`: every dim 1 except
// possibly the one landing on axis 1, which may be `channels`. Returns the
// per-channel values, or an empty vector when `c` is not of that form.
std::vector<double> ChannelValues(const Tensor& c, size_t rank, int64_t channels) {
  const Dims& d = c.dims();
  if (d.size() > rank) return {};
  bool per_channel = false;
  for (size_t i = 0; i < d.size(); ++i) {
    const size_t axis = rank - d.size() + i;
    if (d[i] == 1) continue;
    if (axis != 1 || d[i] != channels) return {};
    per_channel = true;
  }
  std::vector<double> v = ToDoubles(c);
  if (!per_channel) v.assign(static_cast<size_t>(channels), v.empty() ? 0.0 : v[0]);
  return v;
}

// What one Conv absorbs.
struct Epilogue {
  std::vector<Node*> absorbed;   // in chain order
  std::vector<double> bias_add;  // per channel; empty when no bias Add
  Value* residual = nullptr;
  ActivationSpec act;
};

Epilogue MatchEpilogue(const Graph& g, const ReaderMap& readers, const Node& conv) {
  Epilogue e;
  Value* y = conv.outputs[0];
  const size_t rank = y->shape->rank();
  const int64_t channels = (*y->shape)[1].value();
  Value* cur = y;
  Node* next = rewrite::SoleReader(g, readers, cur);
  auto absorb = [&](Node* n) {
    e.absorbed.push_back(n);
    cur = n->outputs[0];
    next = rewrite::SoleReader(g, readers, cur);
  };
  // The Add keeps the chain's shape (it does not broadcast y up) and dtype.
  auto keeps_shape = [&](const Node* add, const Value* other) {
    return other->dtype == y->dtype && SameShape(add->outputs[0]->shape, y->shape);
  };
  const bool bias_foldable = !conv.has_input(2) || FixedConstant(conv.inputs[2]) != nullptr;
  if (next && bias_foldable) {
    Value* other = OtherOperand(*next, cur);
    const Tensor* c = FixedConstant(other);
    if (c && keeps_shape(next, other)) {
      e.bias_add = ChannelValues(*c, rank, channels);
      if (!e.bias_add.empty()) absorb(next);
    }
  }
  if (next) {
    Value* other = OtherOperand(*next, cur);
    if (other && !other->constant && keeps_shape(next, other) &&
        SameShape(other->shape, y->shape)) {
      e.residual = other;
      absorb(next);
    }
  }
  if (next && next->inputs[0] == cur && next->outputs.size() == 1 &&
      next->outputs[0]->dtype == y->dtype) {
    if (std::optional<ActivationSpec> act = MatchActivationNode(*next)) {
      e.act = *act;
      absorb(next);
    }
  }
  return e;
}

// Rewrites `conv` and its epilogue into one FusedConv.
Status Rewrite(Graph& g, Node* conv, const Epilogue& e) {
  Value* bias = conv->has_input(2) ? conv->inputs[2] : nullptr;
  if (!e.bias_add.empty()) {
    std::vector<double> b = e.bias_add;
    if (bias) {
      const std::vector<double> old = ToDoubles(*bias->constant);
      for (size_t c = 0; c < b.size() && c < old.size(); ++c) b[c] += old[c];
    }
    const Value* y = conv->outputs[0];
    FRT_ASSIGN_OR_RETURN(
        Tensor t, epilogue::TensorFromDoubles(y->dtype, {static_cast<int64_t>(b.size())}, b));
    FRT_ASSIGN_OR_RETURN(
        bias, rewrite::AddConstant(g, e.absorbed[0]->outputs[0]->name + "/bias", std::move(t)));
  }
  Node* fused = g.AddNode(OpKind::kFusedConv, conv->name);
  fused->opset = 1;
  fused->attrs = conv->attrs;
  WriteActivation(e.act, fused->attrs);
  fused->inputs = {conv->inputs[0], conv->inputs[1], bias, e.residual};
  while (fused->inputs.back() == nullptr) fused->inputs.pop_back();
  return epilogue::ReplaceChain(g, fused, conv, e.absorbed);
}

bool IsCandidate(const Node& n) {
  if (n.op != OpKind::kConv || n.outputs.size() != 1 || !n.has_output(0)) return false;
  if (!n.has_input(0) || !n.has_input(1)) return false;
  const Value* y = n.outputs[0];
  return epilogue::IsComputeFloat(y->dtype) && y->shape && y->shape->rank() >= 3 &&
         (*y->shape)[1].is_static();
}

}  // namespace

Status FuseConvEpilogue(Graph& graph) {
  FRT_ASSIGN_OR_RETURN(std::vector<Node*> order, graph.TopologicalOrder());
  ReaderMap readers = rewrite::CollectReaders(graph);
  std::unordered_set<const Node*> removed;  // pointers in `order` not to touch again
  for (Node* node : order) {
    if (removed.count(node) || !IsCandidate(*node)) continue;
    Epilogue e = MatchEpilogue(graph, readers, *node);
    if (e.absorbed.empty()) continue;
    removed.insert(node);
    removed.insert(e.absorbed.begin(), e.absorbed.end());
    FRT_RETURN_IF_ERROR(Rewrite(graph, node, e));
    readers = rewrite::CollectReaders(graph);  // the fused node now reads the residual
  }
  if (!removed.empty()) graph.RemoveDeadValues();  // intermediates, replaced bias constants
  return Status::Ok();
}

}  // namespace frt
