// Normalization fusion: decomposed LayerNorm and RMSNorm chains become one op.
//   LayerNorm  m = ReduceMean(x); d = x - m; v = ReduceMean(d^2); s = Sqrt(v + eps);
//              n = d / s (or d * Reciprocal(s)); [n * gamma]; [+ beta]
//              -> LayerNormalization(x, gamma or ones[C], beta; axis -1, epsilon eps)
//   RMSNorm    v = ReduceMean(x^2); s = Sqrt(v + eps); r = Reciprocal(s) (or 1 / s);
//              n = x * r (or x / s); [n * weight]
//              -> RMSNormalization(x, weight or ones[C]; axis -1, epsilon eps)
// Squares are Pow(., 2) or Mul(a, a); Add and Mul operands may come in either
// order. Both ReduceMeans must reduce the last axis only with keepdims = 1
// (a constant axes input: the importer turns the axes attribute of opsets
// before 18 into one). Matching
// starts at the Sqrt node and walks up to x and down to the output. Rewritten
// only when every intermediate's readers are exactly the pattern's nodes and
// it is not name-pinned, eps is a scalar constant >= 0, gamma/beta/weight are
// constants of shape [C] (C = x's static last dim; a Mul or Add that does not
// qualify simply stays outside the fused op), and x is a float tensor. The
// fused output must keep x's dtype and shape.
#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <set>

#include "passes/pass_manager.h"
#include "passes/rewrite_util.h"

namespace frt {
namespace {

using Uses = rewrite::ReaderMap;  // one entry per reading input slot

bool IsComputeFloat(DType t) {
  return t == DType::kFloat16 || t == DType::kBFloat16 || t == DType::kFloat32 ||
         t == DType::kFloat64;
}

std::optional<double> ScalarValue(const Value* v) {
  if (!v || !v->constant || v->is_graph_input || v->constant->num_elements() != 1) {
    return std::nullopt;
  }
  if (v->constant->dtype() == DType::kBool) return std::nullopt;
  return v->constant->GetAsDouble(0);
}

bool IsScalar(const Value* v, double want) {
  std::optional<double> got = ScalarValue(v);
  return got && std::fabs(*got - want) <= 1e-5 * std::fabs(want);
}

Value* Other(const Node* n, const Value* v) {
  if (n->inputs.size() != 2) return nullptr;
  if (n->inputs[0] == v) return n->inputs[1];
  if (n->inputs[1] == v) return n->inputs[0];
  return nullptr;
}

struct Matcher {
  const Graph& g;
  Uses uses;

  // True when v is internal and its readers are exactly `readers` (counted
  // per input slot, so Mul(d, d) reads d twice).
  bool ReadOnlyBy(const Value* v, std::vector<const Node*> readers) const {
    if (!v || !v->producer || v->producer->outputs.size() != 1) return false;
    auto it = uses.find(v);
    if (it == uses.end() || it->second.size() != readers.size()) return false;
    std::vector<const Node*> got(it->second.begin(), it->second.end());
    std::sort(got.begin(), got.end());
    std::sort(readers.begin(), readers.end());
    return got == readers && !g.IsNamePinned(v);
  }
  Node* SoleUser(const Value* v) const {
    auto it = uses.find(v);
    if (it == uses.end() || it->second.size() != 1) return nullptr;
    return ReadOnlyBy(v, {it->second[0]}) ? it->second[0] : nullptr;
  }
};

// n = ReduceMean over the last axis of a rank-`rank` input, keepdims 1. The
// IR's Reduce* ops follow opset 18 (the importer turns older opsets' axes
// attribute into the constant axes input), so the axes are always input 1.
bool IsLastAxisMean(const Node* n, size_t rank) {
  if (!n || n->op != OpKind::kReduceMean || n->attrs.GetInt("keepdims", 1) != 1) return false;
  if (!n->has_input(1) || !n->inputs[1]->constant || n->inputs[1]->is_graph_input) return false;
  Result<std::vector<int64_t>> axes = n->inputs[1]->constant->ToInt64Vector();
  int64_t r = static_cast<int64_t>(rank);
  return axes.ok() && axes->size() == 1 && r > 0 && ((*axes)[0] == -1 || (*axes)[0] == r - 1);
}

// sq = x^2 as Pow(x, 2) or Mul(x, x): returns x, or nullptr.
Value* SquaredValue(const Node* n) {
  if (!n) return nullptr;
  if (n->op == OpKind::kPow && n->inputs.size() == 2 && IsScalar(n->inputs[1], 2.0)) {
    return n->inputs[0];
  }
  if (n->op == OpKind::kMul && n->inputs.size() == 2 && n->inputs[0] == n->inputs[1]) {
    return n->inputs[0];
  }
  return nullptr;
}

// A constant of shape [c] with dtype `dt`, not overridable.
bool IsChannelVector(const Value* v, int64_t c, DType dt) {
  return v && v->constant && !v->is_graph_input && v->dtype == dt &&
         v->constant->dims() == Dims{c};
}

struct Match {
  OpKind op = OpKind::kIdentity;
  Value* x = nullptr;
  Value* out = nullptr;
  std::vector<Value*> params;  // gamma / weight, then beta (nullptr: make ones)
  double eps = 0;
  std::vector<Node*> nodes;
};

// Up from sqrt: s = Sqrt(ReduceMean(sq) + eps). Fills eps and the nodes;
// returns the square node.
Node* MatchVariance(const Matcher& mt, Node* sqrt, Match& m) {
  Value* ve = sqrt->inputs[0];
  Node* add = ve ? ve->producer : nullptr;
  if (!add || add->op != OpKind::kAdd || !mt.SoleUser(ve)) return nullptr;
  for (int side = 0; side < 2; ++side) {
    std::optional<double> eps = ScalarValue(add->inputs[1 - side]);
    Value* v = add->inputs[side];
    Node* mean = v ? v->producer : nullptr;
    if (!eps || *eps < 0 || !mean || mean->op != OpKind::kReduceMean || mean->inputs.empty() ||
        mt.SoleUser(v) != add) {
      continue;
    }
    Value* sq = mean->inputs[0];
    Node* square = sq ? sq->producer : nullptr;
    Value* base = SquaredValue(square);
    if (!base || !base->shape || !IsLastAxisMean(mean, base->shape->rank())) continue;
    if (mt.SoleUser(sq) != mean) continue;
    m.eps = *eps;
    m.nodes.insert(m.nodes.end(), {square, mean, add, sqrt});
    return square;
  }
  return nullptr;
}

// Down from s = Sqrt(..): value / s or value * Reciprocal(s) (or value * (1 / s)).
// Returns the node producing the normalized value, appending the nodes.
Node* MatchDivide(const Matcher& mt, Node* sqrt, const Value* value, Match& m) {
  Value* s = sqrt->outputs[0];
  Node* user = mt.SoleUser(s);
  if (!user) return nullptr;
  if (user->op == OpKind::kDiv && user->inputs[0] == value && user->inputs[1] == s) {
    m.nodes.push_back(user);
    return user;
  }
  bool recip = user->op == OpKind::kReciprocal ||
               (user->op == OpKind::kDiv && user->inputs[1] == s && IsScalar(user->inputs[0], 1));
  if (!recip) return nullptr;
  Node* mul = mt.SoleUser(user->outputs[0]);
  if (!mul || mul->op != OpKind::kMul || Other(mul, user->outputs[0]) != value) return nullptr;
  m.nodes.insert(m.nodes.end(), {user, mul});
  return mul;
}

// Optional `n * gamma` then `+ beta` (beta only for LayerNorm) below `last`.
void MatchAffine(const Matcher& mt, Node* last, int64_t c, bool with_beta, Match& m) {
  m.out = last->outputs[0];
  DType dt = m.x->dtype;
  Node* mul = mt.SoleUser(m.out);
  Value* gamma = mul && mul->op == OpKind::kMul ? Other(mul, m.out) : nullptr;
  if (!IsChannelVector(gamma, c, dt)) {
    m.params = {nullptr};
    return;
  }
  m.params = {gamma};
  m.nodes.push_back(mul);
  m.out = mul->outputs[0];
  if (!with_beta) return;
  Node* add = mt.SoleUser(m.out);
  Value* beta = add && add->op == OpKind::kAdd ? Other(add, m.out) : nullptr;
  if (!IsChannelVector(beta, c, dt)) return;
  m.params.push_back(beta);
  m.nodes.push_back(add);
  m.out = add->outputs[0];
}

// Below the variance: LayerNorm when the squared value is x - mean(x) (and
// that matches fully), else RMSNorm of the squared value. Returns the node
// producing the normalized value.
Node* MatchNormalized(const Matcher& mt, Node* sqrt, Node* square, Match& m) {
  Value* base = SquaredValue(square);
  Node* sub = base->producer;
  if (sub && sub->op == OpKind::kSub && sub->inputs[0] && sub->inputs[0]->shape &&
      sub->inputs[1]) {
    Match ln = m;
    ln.op = OpKind::kLayerNormalization;
    ln.x = sub->inputs[0];
    Node* mean = sub->inputs[1]->producer;
    bool ok = IsLastAxisMean(mean, ln.x->shape->rank()) && mean->inputs[0] == ln.x &&
              mt.SoleUser(sub->inputs[1]) == sub;
    Node* last = ok ? MatchDivide(mt, sqrt, base, ln) : nullptr;
    if (last) {
      // d = x - mean is read by the square (once or twice) and the divide only.
      std::vector<const Node*> d_readers(square->op == OpKind::kMul ? 2 : 1, square);
      d_readers.push_back(last);
      if (mt.ReadOnlyBy(base, d_readers)) {
        ln.nodes.insert(ln.nodes.end(), {mean, sub});
        m = std::move(ln);
        return last;
      }
    }
  }
  m.op = OpKind::kRMSNormalization;
  m.x = base;
  return MatchDivide(mt, sqrt, m.x, m);
}

std::optional<Match> MatchAt(const Matcher& mt, Node* sqrt) {
  Match m;
  Node* square = MatchVariance(mt, sqrt, m);
  Node* last = square ? MatchNormalized(mt, sqrt, square, m) : nullptr;
  if (!last) return std::nullopt;
  const Shape* xs = m.x->shape ? &*m.x->shape : nullptr;
  if (!IsComputeFloat(m.x->dtype) || !xs || xs->rank() == 0 || !(*xs)[xs->rank() - 1].is_static()) {
    return std::nullopt;
  }
  MatchAffine(mt, last, (*xs)[xs->rank() - 1].value(), m.op == OpKind::kLayerNormalization, m);
  if (!m.out->shape || !(*m.out->shape == *xs) || m.out->dtype != m.x->dtype) return std::nullopt;
  return m;
}

// Ones of shape [c] in dtype dt (the scale of a norm without one).
Result<Value*> OnesConstant(Graph& g, const std::string& base, int64_t c, DType dt) {
  std::string name = base;
  for (int i = 1; g.FindValue(name); ++i) name = StrCat(base, "_", i);
  FRT_ASSIGN_OR_RETURN(Value * v, g.AddValue(name));
  FRT_ASSIGN_OR_RETURN(Tensor t, Tensor::Allocate(dt, {c}));
  VisitDType(dt, [&](auto tag) {
    using T = typename decltype(tag)::type;
    for (T& e : t.span<T>()) e = FromDouble<T>(1.0);
  });
  v->constant = std::move(t);
  v->dtype = dt;
  v->shape = Shape::FromDims({c});
  return v;
}

Status Rewrite(Graph& g, const std::map<const Node*, size_t>& pos, Match& m) {
  std::sort(m.nodes.begin(), m.nodes.end(),
            [&](const Node* a, const Node* b) { return pos.at(a) < pos.at(b); });
  if (m.params[0] == nullptr) {
    int64_t c = (*m.x->shape)[m.x->shape->rank() - 1].value();
    FRT_ASSIGN_OR_RETURN(m.params[0], OnesConstant(g, m.out->name + "/ones", c, m.x->dtype));
  }
  Node* fused = g.AddNode(m.op, m.nodes.back()->name);
  fused->opset = m.op == OpKind::kLayerNormalization ? 17 : 23;
  fused->inputs = {m.x};
  fused->inputs.insert(fused->inputs.end(), m.params.begin(), m.params.end());
  fused->attrs.Set("axis", int64_t{-1});
  fused->attrs.Set("epsilon", static_cast<float>(m.eps));
  return rewrite::FinishFusion(g, fused, m.out, m.nodes);
}

}  // namespace

Status FuseNormalization(Graph& graph) {
  FRT_ASSIGN_OR_RETURN(std::vector<Node*> order, graph.TopologicalOrder());
  std::map<const Node*, size_t> pos;
  for (size_t i = 0; i < order.size(); ++i) pos[order[i]] = i;
  Matcher mt{graph, rewrite::CollectReaders(graph)};
  // Matches remove nodes after their Sqrt in the order (the gamma Mul, the beta
  // Add): test membership before touching a node.
  std::set<const Node*> removed;
  for (Node* n : order) {
    if (removed.count(n) || n->op != OpKind::kSqrt || !n->has_input(0)) continue;
    std::optional<Match> m = MatchAt(mt, n);
    if (!m) continue;
    removed.insert(m->nodes.begin(), m->nodes.end());
    FRT_RETURN_IF_ERROR(Rewrite(graph, pos, *m));
    mt.uses = rewrite::CollectReaders(graph);
  }
  graph.RemoveDeadValues();
  return Status::Ok();
}

}  // namespace frt
