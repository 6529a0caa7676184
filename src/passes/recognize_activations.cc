// Activation recognition: exporters spell GELU, SiLU and Mish out as chains of
// primitive ops; this pass turns each chain back into one op.
//   erf GELU   0.5 * x * (1 + erf(x / sqrt 2))            -> Gelu
//              (Div by 1.41421 or Mul by 0.70710; the 0.5 multiplied first, last or onto
//              the (1 + erf) factor; Mul/Add operands in either order)
//   tanh GELU  0.5 * x * (1 + tanh(0.79788 * (x + 0.044715 * x^3)))  -> Gelu(approximate=tanh)
//              (x^3 as Pow(x, 3), x * (x * x) or (x * x) * x)
//   SiLU       x * sigmoid(x)                              -> Swish(alpha = 1)
//   Mish       x * tanh(softplus(x))                       -> Mish
// Anchors are the Erf, Tanh and Sigmoid nodes; the matcher walks out from
// them. A chain is rewritten only when every intermediate value has exactly
// one reader and is not name-pinned (graph output, subgraph read), constants
// are scalars (one element, initializers that are not graph inputs) within a
// relative 1e-5 of their exact value (float32 spellings of sqrt 2 and
// friends), x is a float tensor and the chain's output has x's shape (a
// [1]-shaped constant could otherwise have broadcast a scalar x). One
// walk over the nodes suffices: matches never share nodes (their
// intermediates have one reader each), and no match contains another anchor.
#include <algorithm>
#include <cmath>
#include <map>
#include <numbers>
#include <optional>
#include <set>

#include "passes/pass_manager.h"
#include "passes/rewrite_util.h"

namespace frt {
namespace {

using Uses = rewrite::ReaderMap;  // one entry per reading input slot

struct Matcher {
  const Graph& g;
  Uses uses;

  // The only reader of internal value v (produced by a node, read once, not
  // pinned); nullptr otherwise.
  Node* SoleUser(const Value* v) const {
    if (!v || !v->producer) return nullptr;
    auto it = uses.find(v);
    if (it == uses.end() || it->second.size() != 1) return nullptr;
    return g.IsNamePinned(v) ? nullptr : it->second[0];  // the O(graph) check last
  }
  // v's producer when it is `op`, single-output, and v is internal.
  Node* InternalProducer(const Value* v, OpKind op) const {
    if (!v || !v->producer || v->producer->op != op || v->producer->outputs.size() != 1) {
      return nullptr;
    }
    return SoleUser(v) ? v->producer : nullptr;
  }
};

bool IsScalar(const Value* v, double want) {
  if (!v || !v->constant || v->is_graph_input || v->constant->num_elements() != 1) return false;
  if (v->constant->dtype() == DType::kBool) return false;
  double got = v->constant->GetAsDouble(0);
  return std::fabs(got - want) <= 1e-5 * std::fabs(want);
}

bool IsComputeFloat(DType t) {
  return t == DType::kFloat16 || t == DType::kBFloat16 || t == DType::kFloat32 ||
         t == DType::kFloat64;
}

// The input of binary node n other than `v`; nullptr when v is neither.
Value* Other(const Node* n, const Value* v) {
  if (n->inputs.size() != 2) return nullptr;
  if (n->inputs[0] == v) return n->inputs[1];
  if (n->inputs[1] == v) return n->inputs[0];
  return nullptr;
}

// Binary node n is `op` with one operand the scalar `c`: returns the other.
Value* OperandBesideScalar(const Node* n, OpKind op, double c) {
  if (!n || n->op != op || n->inputs.size() != 2) return nullptr;
  if (IsScalar(n->inputs[1], c)) return n->inputs[0];
  if (IsScalar(n->inputs[0], c)) return n->inputs[1];
  return nullptr;
}

struct Match {
  OpKind op = OpKind::kIdentity;
  Value* x = nullptr;
  Value* out = nullptr;
  std::vector<Node*> nodes;
  Attributes attrs;
  int opset = 0;
};

// GELU's common tail after t = erf(..) or tanh(..): a = t + 1, out = 0.5 * x * a.
bool MatchGeluTail(const Matcher& mt, Value* t, Value* x, Match& m) {
  Node* add = mt.SoleUser(t);
  if (!add || add->op != OpKind::kAdd || !IsScalar(Other(add, t), 1.0)) return false;
  Value* a = add->outputs[0];
  Node* m1 = mt.SoleUser(a);
  if (!m1 || m1->op != OpKind::kMul) return false;
  Value* p = Other(m1, a);
  m.nodes.push_back(add);
  m.nodes.push_back(m1);
  Value* v1 = m1->outputs[0];
  if (IsScalar(p, 0.5) || p == x) {  // (a * 0.5) * x  or  (x * a) * 0.5
    Node* m2 = mt.SoleUser(v1);
    if (!m2 || m2->op != OpKind::kMul) return false;
    Value* q = Other(m2, v1);
    if (p == x ? !IsScalar(q, 0.5) : q != x) return false;
    m.nodes.push_back(m2);
    m.out = m2->outputs[0];
    return true;
  }
  Node* half = mt.InternalProducer(p, OpKind::kMul);  // (x * 0.5) * a
  if (!half || Other(half, x) == nullptr || !IsScalar(Other(half, x), 0.5)) return false;
  m.nodes.push_back(half);
  m.out = v1;
  return true;
}

std::optional<Match> MatchErfGelu(const Matcher& mt, Node* erf) {
  Match m;
  Node* scale = mt.InternalProducer(erf->inputs[0], OpKind::kDiv);
  if (scale && IsScalar(scale->inputs[1], std::numbers::sqrt2)) {
    m.x = scale->inputs[0];
  } else {
    scale = mt.InternalProducer(erf->inputs[0], OpKind::kMul);
    m.x = OperandBesideScalar(scale, OpKind::kMul, 1 / std::numbers::sqrt2);
  }
  if (!m.x) return std::nullopt;
  m.nodes = {scale, erf};
  if (!MatchGeluTail(mt, erf->outputs[0], m.x, m)) return std::nullopt;
  m.op = OpKind::kGelu;
  m.attrs.Set("approximate", std::string("none"));
  m.opset = 20;
  return m;
}

// x^3 as Pow(x, 3), x * (x * x) or (x * x) * x; appends the nodes.
bool MatchCube(const Matcher& mt, const Value* cube, const Value* x, std::vector<Node*>& nodes) {
  if (Node* pow = mt.InternalProducer(cube, OpKind::kPow)) {
    if (pow->inputs[0] != x || !IsScalar(pow->inputs[1], 3.0)) return false;
    nodes.push_back(pow);
    return true;
  }
  Node* mul = mt.InternalProducer(cube, OpKind::kMul);
  if (!mul) return false;
  for (int side = 0; side < 2; ++side) {
    if (mul->inputs[side] != x) continue;
    Node* sq = mt.InternalProducer(mul->inputs[1 - side], OpKind::kMul);
    if (sq && sq->inputs[0] == x && sq->inputs[1] == x) {
      nodes.push_back(sq);
      nodes.push_back(mul);
      return true;
    }
  }
  return false;
}

std::optional<Match> MatchTanhGelu(const Matcher& mt, Node* tanh) {
  Node* outer = mt.InternalProducer(tanh->inputs[0], OpKind::kMul);
  Value* inner = OperandBesideScalar(outer, OpKind::kMul, std::sqrt(2 / std::numbers::pi));
  Node* add = mt.InternalProducer(inner, OpKind::kAdd);
  if (!add) return std::nullopt;
  for (int side = 0; side < 2; ++side) {
    Match m;
    m.x = add->inputs[side];
    Node* coef = mt.InternalProducer(add->inputs[1 - side], OpKind::kMul);
    Value* cube = OperandBesideScalar(coef, OpKind::kMul, 0.044715);
    if (!cube || !MatchCube(mt, cube, m.x, m.nodes)) continue;
    m.nodes.insert(m.nodes.end(), {coef, add, outer, tanh});
    if (!MatchGeluTail(mt, tanh->outputs[0], m.x, m)) continue;
    m.op = OpKind::kGelu;
    m.attrs.Set("approximate", std::string("tanh"));
    m.opset = 20;
    return m;
  }
  return std::nullopt;
}

// out = x * f(x) where f's node is `act` reading x (SiLU) or `inner` (Mish).
std::optional<Match> MatchGatedByX(const Matcher& mt, Node* act, Value* x,
                                   std::vector<Node*> nodes) {
  Node* mul = mt.SoleUser(act->outputs[0]);
  if (!mul || mul->op != OpKind::kMul || Other(mul, act->outputs[0]) != x) return std::nullopt;
  Match m;
  m.x = x;
  m.nodes = std::move(nodes);
  m.nodes.push_back(mul);
  m.out = mul->outputs[0];
  return m;
}

std::optional<Match> MatchAt(const Matcher& mt, Node* n) {
  std::optional<Match> m;
  if (n->op == OpKind::kErf) {
    m = MatchErfGelu(mt, n);
  } else if (n->op == OpKind::kTanh) {
    m = MatchTanhGelu(mt, n);
    if (!m) {
      Node* sp = mt.InternalProducer(n->inputs[0], OpKind::kSoftplus);
      if (sp && (m = MatchGatedByX(mt, n, sp->inputs[0], {sp, n}))) {
        m->op = OpKind::kMish;
        m->opset = 18;
      }
    }
  } else if (n->op == OpKind::kSigmoid) {
    if ((m = MatchGatedByX(mt, n, n->inputs[0], {n}))) {
      m->op = OpKind::kSwish;
      m->attrs.Set("alpha", 1.0f);
      m->opset = 24;
    }
  }
  if (!m || !m->x || !IsComputeFloat(m->x->dtype)) return std::nullopt;
  if (!m->x->shape || !m->out->shape || !(*m->x->shape == *m->out->shape)) return std::nullopt;
  if (m->out->dtype != m->x->dtype) return std::nullopt;
  return m;
}

// Replaces the matched nodes by one node computing m.out from m.x.
Status Rewrite(Graph& g, const std::map<const Node*, size_t>& pos, Match& m) {
  std::sort(m.nodes.begin(), m.nodes.end(),
            [&](const Node* a, const Node* b) { return pos.at(a) < pos.at(b); });
  Node* fused = g.AddNode(m.op, m.nodes.back()->name);
  fused->opset = m.opset;
  fused->inputs = {m.x};
  fused->attrs = m.attrs;
  return rewrite::FinishFusion(g, fused, m.out, m.nodes);
}

}  // namespace

Status RecognizeActivations(Graph& graph) {
  FRT_ASSIGN_OR_RETURN(std::vector<Node*> order, graph.TopologicalOrder());
  std::map<const Node*, size_t> pos;
  for (size_t i = 0; i < order.size(); ++i) pos[order[i]] = i;
  Matcher mt{graph, rewrite::CollectReaders(graph)};
  std::set<const Node*> removed;
  for (Node* n : order) {
    if (removed.count(n) || n->inputs.empty() || !n->inputs[0] || n->outputs.size() != 1) continue;
    std::optional<Match> m = MatchAt(mt, n);
    if (!m) continue;
    removed.insert(m->nodes.begin(), m->nodes.end());
    FRT_RETURN_IF_ERROR(Rewrite(graph, pos, *m));
    mt.uses = rewrite::CollectReaders(graph);  // x's readers changed
  }
  graph.RemoveDeadValues();
  return Status::Ok();
}

}  // namespace frt
