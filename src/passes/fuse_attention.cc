// Attention fusion: the scaled-dot-product pattern the exporters write
//   q  = Transpose(Reshape(Xq -> [B,S,H,D]), 0,2,1,3)   (optionally * c1)
//   kT = Transpose(Reshape(Xk -> [B,S,H,D]), 0,2,3,1)   (optionally * c2)
//   p  = Softmax(MatMul(q, kT) [* c | / c] [+ mask], axis -1) [IsNaN -> Where(0) guard]
//   y  = Reshape(Transpose(MatMul(p, v), 0,2,1,3) -> [B,S,H*Dv])
// becomes one MultiHeadAttention(Xq, Xk, Xv, mask) with scale = c1 * c2 * c
// (1 when the graph has no scale: T5 folds it into the weights).
//
// Algorithm: for each Softmax, walk up through the mask Add and the scale to
// the scores MatMul, then up each operand through layout ops, tracking the
// permutation that maps the head-split tensor [B,S,H,D] to the operand, and
// walk down through the guard, the PV MatMul and the output Transpose/Reshape.
// Layout steps: a Transpose composes its perm; the dynamo exporter's
// Reshape([B*H,S,D]) -> Transpose(0,2,1) -> Reshape([B,H,D,S]) counts as a
// swap of the last two axes. Reshape targets are usually computed by shape
// subgraphs, so they are judged by the inferred Value shapes (rank, static H
// and D, the first two dims equal to the input's), never by a constant target.
// Every intermediate must have exactly one use and no observable name; the
// only extra readers tolerated are shape-only ones (Shape, possibly through
// further layout ops), which read no data: each such Shape is recomputed from
// the MHA's inputs (constants for static dims, Shape(input, a, a+1) for a dim
// carrying the same symbol) so the layout nodes die; one that cannot be keeps
// them alive. When Xq, Xk and Xv are the three equal parts of one Split along
// the last axis (GPT-2's single QKV GEMM), the MHA takes the Split's input in
// packed mode. A final Reshape to [B*S, H*Dv] (GPT-2 feeds a 2-D Gemm) stays,
// reshaping the MHA's [B, S, H*Dv] output. Dead shape subgraphs are left to
// dead-code elimination.
#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "passes/pass_manager.h"

namespace frt {
namespace {

using Perm = std::vector<int64_t>;
using Uses = std::map<const Value*, std::vector<std::pair<Node*, size_t>>>;

Uses CollectUses(const Graph& g) {
  Uses uses;
  for (Node* n : g.nodes()) {
    for (size_t i = 0; i < n->inputs.size(); ++i) {
      if (n->inputs[i]) uses[n->inputs[i]].push_back({n, i});
    }
  }
  return uses;
}

bool IsFloatType(DType t) {
  return t == DType::kFloat32 || t == DType::kFloat16 || t == DType::kBFloat16 ||
         t == DType::kFloat64;
}

bool Known(const Dim& d) { return d.is_static() || d.is_symbol(); }
bool SameKnown(const Dim& a, const Dim& b) { return Known(a) && a == b; }

const Shape* ShapeOfRank(const Value* v, size_t rank) {
  return v && v->shape && v->shape->rank() == rank ? &*v->shape : nullptr;
}

// A value name not used in `g`, derived from `base`.
std::string FreshName(const Graph& g, const std::string& base) {
  std::string name = base;
  for (int i = 1; g.FindValue(name); ++i) name = base + "_" + std::to_string(i);
  return name;
}

// Sorts `nodes` into graph (topological) order and drops duplicates.
Status SortByGraphOrder(const Graph& g, std::vector<Node*>& nodes) {
  FRT_ASSIGN_OR_RETURN(std::vector<Node*> order, g.TopologicalOrder());
  std::map<const Node*, size_t> position;
  for (size_t i = 0; i < order.size(); ++i) position[order[i]] = i;
  std::sort(nodes.begin(), nodes.end(),
            [&](const Node* a, const Node* b) { return position[a] < position[b]; });
  nodes.erase(std::unique(nodes.begin(), nodes.end()), nodes.end());
  return Status::Ok();
}

// The value of a one-element float constant.
std::optional<double> ScalarConst(const Value* v) {
  if (!v || !v->constant || v->is_graph_input || !IsFloatType(v->dtype)) return std::nullopt;
  if (v->constant->num_elements() != 1) return std::nullopt;
  return v->constant->GetAsDouble(0);
}

class Matcher {
 public:
  explicit Matcher(Graph& g) : g_(g), uses_(CollectUses(g)) {}

  Status TryFuse(Node* softmax);

 private:
  struct Chain {
    Value* root = nullptr;  // [B, S, H*D], before the head split
    Perm perm = {0, 1, 2, 3};
    double scale = 1.0;
    int64_t heads = 0, head_dim = 0;
  };

  // A use that reads only the shape: Shape, or a layout op all of whose
  // outputs are themselves read only for their shape.
  bool ShapeOnlyUse(const Node* n, int depth) const {
    if (n->op == OpKind::kShape) return true;
    if (depth > 8) return false;
    switch (n->op) {
      case OpKind::kTranspose:
      case OpKind::kReshape:
      case OpKind::kIdentity:
      case OpKind::kSqueeze:
      case OpKind::kUnsqueeze:
      case OpKind::kFlatten:
        break;
      default:
        return false;
    }
    for (const Value* out : n->outputs) {
      if (!out) continue;
      if (g_.IsNamePinned(out)) return false;
      auto it = uses_.find(out);
      if (it == uses_.end()) continue;
      for (const auto& [reader, slot] : it->second) {
        if (!ShapeOnlyUse(reader, depth + 1)) return false;
      }
    }
    return true;
  }

  // `v` is read once by `reader` (plus shape-only readers) and is not observable.
  bool SoleUse(const Value* v, const Node* reader) const {
    if (!v || g_.IsNamePinned(v)) return false;
    auto it = uses_.find(v);
    if (it == uses_.end()) return false;
    int data_uses = 0;
    for (const auto& [n, slot] : it->second) {
      if (n == reader) {
        ++data_uses;
      } else if (!ShapeOnlyUse(n, 0)) {
        return false;
      }
    }
    return data_uses == 1;
  }

  // Single use by `reader` and nothing else at all.
  bool OnlyUse(const Value* v, const Node* reader) const {
    if (!v || g_.IsNamePinned(v)) return false;
    auto it = uses_.find(v);
    return it != uses_.end() && it->second.size() == 1 && it->second[0].first == reader;
  }

  Node* Producer(const Value* v, OpKind op) const {
    return v && v->producer && v->producer->op == op ? v->producer : nullptr;
  }

  std::optional<Chain> PeelChain(Value* v, Node* reader);
  bool IsHeadSplit(const Node* reshape, Chain& c) const;
  Node* LastAxesSwapInner(Node* reshape);
  Status RewriteShapeReaders(const std::vector<Value*>& sources);
  Status RemoveDeadMatched();
  Result<Value*> DimsOf(const std::vector<Value*>& sources, const Dim& d, const std::string& base);

  Graph& g_;
  Uses uses_;
  std::vector<Node*> matched_;
};

// Reshape [B, S, H*D] -> [B, S, H, D] with static H, D and the same B, S.
bool Matcher::IsHeadSplit(const Node* reshape, Chain& c) const {
  const Value* x = reshape->inputs[0];
  const Shape* in = ShapeOfRank(x, 3);
  const Shape* out = ShapeOfRank(reshape->outputs[0], 4);
  if (!in || !out || !IsFloatType(x->dtype)) return false;
  const Dim &h = (*out)[2], &d = (*out)[3], &e = (*in)[2];
  if (!h.is_static() || !d.is_static() || !e.is_static() || h.value() * d.value() != e.value() ||
      h.value() <= 0 || d.value() <= 0) {
    return false;
  }
  if (!SameKnown((*in)[0], (*out)[0]) || !SameKnown((*in)[1], (*out)[1])) return false;
  c.heads = h.value();
  c.head_dim = d.value();
  return true;
}

// Reshape(Transpose(Reshape(u [a,b,c,d] -> [a*b, c, d]), 0,2,1) -> [a,b,d,c]):
// the dynamo exporter's K^T. Returns the inner Reshape (which reads u) after
// recording the three nodes, or nullptr.
Node* Matcher::LastAxesSwapInner(Node* reshape) {
  Node* t = Producer(reshape->inputs[0], OpKind::kTranspose);
  if (!t || t->attrs.GetInts("perm") != Perm{0, 2, 1} || !SoleUse(t->outputs[0], reshape)) {
    return nullptr;
  }
  Node* r = Producer(t->inputs[0], OpKind::kReshape);
  if (!r || !SoleUse(r->outputs[0], t)) return nullptr;
  const Shape* u = ShapeOfRank(r->inputs[0], 4);
  const Shape* mid = ShapeOfRank(r->outputs[0], 3);
  const Shape* out = ShapeOfRank(reshape->outputs[0], 4);
  if (!u || !mid || !out) return nullptr;
  if (!SameKnown((*mid)[1], (*u)[2]) || !SameKnown((*mid)[2], (*u)[3])) return nullptr;
  if (!SameKnown((*out)[0], (*u)[0]) || !SameKnown((*out)[1], (*u)[1]) ||
      !SameKnown((*out)[2], (*u)[3]) || !SameKnown((*out)[3], (*u)[2])) {
    return nullptr;
  }
  matched_.push_back(reshape);
  matched_.push_back(t);
  matched_.push_back(r);
  return r;
}

// Walks up from operand `v` of `reader` to the head-split Reshape.
std::optional<Matcher::Chain> Matcher::PeelChain(Value* v, Node* reader) {
  Chain c;
  for (int steps = 0; steps < 16; ++steps) {
    if (!SoleUse(v, reader) || !v->producer) return std::nullopt;
    Node* n = v->producer;
    if (n->op == OpKind::kMul || n->op == OpKind::kDiv) {
      if (n->inputs.size() != 2 || !n->inputs[0] || !n->inputs[1]) return std::nullopt;
      std::optional<double> s1 = ScalarConst(n->inputs[1]);
      std::optional<double> s0 = n->op == OpKind::kMul ? ScalarConst(n->inputs[0]) : std::nullopt;
      if (s1 && (n->op == OpKind::kMul || *s1 != 0.0)) {
        c.scale = n->op == OpKind::kMul ? c.scale * *s1 : c.scale / *s1;
        v = n->inputs[0];
      } else if (s0) {
        c.scale *= *s0;
        v = n->inputs[1];
      } else {
        return std::nullopt;
      }
      // A scalar must not broadcast the operand to a larger rank.
      if (!v->shape || !n->outputs[0]->shape || v->shape->rank() != n->outputs[0]->shape->rank()) {
        return std::nullopt;
      }
    } else if (n->op == OpKind::kTranspose) {
      Perm q = n->attrs.GetInts("perm");
      if (q.size() != 4) return std::nullopt;
      Perm p(4);
      for (size_t i = 0; i < 4; ++i) p[i] = q[static_cast<size_t>(c.perm[i])];
      c.perm = p;
      v = n->inputs[0];
    } else if (n->op == OpKind::kReshape) {
      if (Node* inner = LastAxesSwapInner(n)) {
        Perm p(4);
        const Perm swap = {0, 1, 3, 2};
        for (size_t i = 0; i < 4; ++i) p[i] = swap[static_cast<size_t>(c.perm[i])];
        c.perm = p;
        reader = inner;
        v = inner->inputs[0];
        continue;
      }
      if (!IsHeadSplit(n, c)) return std::nullopt;
      matched_.push_back(n);
      c.root = n->inputs[0];
      return c;
    } else {
      return std::nullopt;
    }
    matched_.push_back(n);
    reader = n;
  }
  return std::nullopt;
}

Status Matcher::TryFuse(Node* sm) {
  matched_.clear();
  Value* x = sm->inputs[0];
  const Shape* xs = ShapeOfRank(x, 4);
  if (!xs || !IsFloatType(x->dtype)) return Status::Ok();
  const int64_t axis = sm->attrs.GetInt("axis", -1);
  if (axis != -1 && axis != 3) return Status::Ok();
  matched_.push_back(sm);

  // Up: [Add(scores, mask)] <- [Mul/Div by c] <- MatMul(q, kT).
  Value* mask = nullptr;
  Value* scores = x;
  Node* reader = sm;
  if (Node* add = Producer(x, OpKind::kAdd); add && SoleUse(x, sm)) {
    for (size_t side = 0; side < 2 && !mask; ++side) {
      Value* s = add->inputs[side];
      Value* m = add->inputs[1 - side];
      Node* p = s ? s->producer : nullptr;
      if (p && (p->op == OpKind::kMatMul || p->op == OpKind::kMul || p->op == OpKind::kDiv) && m &&
          m->shape && m->shape->rank() <= 4 && m->dtype == x->dtype) {
        mask = m;
        scores = s;
      }
    }
    if (!mask) return Status::Ok();
    matched_.push_back(add);
    reader = add;
  }
  double scale = 1.0;
  if (!SoleUse(scores, reader) || !scores->producer) return Status::Ok();
  if (Node* n = scores->producer; n->op == OpKind::kMul || n->op == OpKind::kDiv) {
    // scores * c, c * scores or scores / c.
    const bool first = n->op == OpKind::kMul && ScalarConst(n->inputs[0]).has_value();
    std::optional<double> c = ScalarConst(n->inputs[first ? 0 : 1]);
    Value* data = n->inputs[first ? 1 : 0];
    if (!c || (n->op == OpKind::kDiv && *c == 0.0) || !Producer(data, OpKind::kMatMul)) {
      return Status::Ok();
    }
    scale = n->op == OpKind::kMul ? *c : 1.0 / *c;
    matched_.push_back(n);
    reader = n;
    scores = data;
    if (!SoleUse(scores, reader)) return Status::Ok();
  }
  Node* qk = Producer(scores, OpKind::kMatMul);
  if (!qk || !ShapeOfRank(scores, 4)) return Status::Ok();
  matched_.push_back(qk);
  std::optional<Chain> q = PeelChain(qk->inputs[0], qk);
  if (!q || q->perm != Perm{0, 2, 1, 3}) return Status::Ok();
  std::optional<Chain> k = PeelChain(qk->inputs[1], qk);
  if (!k || k->perm != Perm{0, 2, 3, 1}) return Status::Ok();

  // Down: [IsNaN -> Where(0)] -> MatMul(p, v) -> Transpose(0,2,1,3) -> Reshape.
  Value* probs = sm->outputs[0];
  auto pu = uses_.find(probs);
  if (g_.IsNamePinned(probs) || pu == uses_.end()) return Status::Ok();
  if (pu->second.size() == 2) {
    Node* isnan = nullptr;
    Node* where = nullptr;
    for (const auto& [n, slot] : pu->second) {
      if (n->op == OpKind::kIsNaN && slot == 0) isnan = n;
      if (n->op == OpKind::kWhere && slot == 2) where = n;
    }
    if (!isnan || !where || where->inputs[0] != isnan->outputs[0] ||
        !OnlyUse(isnan->outputs[0], where) || ScalarConst(where->inputs[1]) != 0.0 ||
        ShapeOfRank(where->outputs[0], 4) == nullptr) {
      return Status::Ok();
    }
    matched_.push_back(isnan);
    matched_.push_back(where);
    probs = where->outputs[0];
  }
  auto pv_use = uses_.find(probs);
  if (pv_use == uses_.end() || pv_use->second.size() != 1) return Status::Ok();
  Node* pv = pv_use->second[0].first;
  if (pv->op != OpKind::kMatMul || pv_use->second[0].second != 0 || !OnlyUse(probs, pv)) {
    return Status::Ok();
  }
  matched_.push_back(pv);
  std::optional<Chain> v = PeelChain(pv->inputs[1], pv);
  if (!v || v->perm != Perm{0, 2, 1, 3} || v->scale != 1.0) return Status::Ok();
  auto tu = uses_.find(pv->outputs[0]);
  if (tu == uses_.end() || tu->second.size() != 1) return Status::Ok();
  Node* tr = tu->second[0].first;
  if (tr->op != OpKind::kTranspose || tr->attrs.GetInts("perm") != Perm{0, 2, 1, 3} ||
      !OnlyUse(pv->outputs[0], tr)) {
    return Status::Ok();
  }
  auto ru = uses_.find(tr->outputs[0]);
  if (ru == uses_.end() || ru->second.size() != 1) return Status::Ok();
  Node* merge = ru->second[0].first;
  if (merge->op != OpKind::kReshape || merge->inputs[0] != tr->outputs[0] ||
      !OnlyUse(tr->outputs[0], merge)) {
    return Status::Ok();
  }
  matched_.push_back(tr);

  // Heads agree; output [B, Sq, H*Dv] matches the query's batch and sequence.
  if (q->heads != k->heads || q->heads != v->heads || q->head_dim != k->head_dim) {
    return Status::Ok();
  }
  const Shape& qs = *q->root->shape;
  const Shape& ks = *k->root->shape;
  const Shape& vs = *v->root->shape;
  const Dim width(v->heads * v->head_dim);
  const Shape* ts = ShapeOfRank(tr->outputs[0], 4);
  if (!ts || !SameKnown((*ts)[0], qs[0]) || !SameKnown((*ts)[1], qs[1]) ||
      !SameKnown(ks[0], qs[0]) || !SameKnown(vs[0], qs[0]) || !SameKnown(vs[1], ks[1]) ||
      q->root->dtype != x->dtype || k->root->dtype != x->dtype || v->root->dtype != x->dtype) {
    return Status::Ok();
  }
  // The merge Reshape gives [B, Sq, H*Dv] (replaced), or [B*Sq, H*Dv] as GPT-2
  // writes it for its 2-D Gemm (kept, reshaping the MHA's output instead).
  const Shape* ys = ShapeOfRank(merge->outputs[0], 3);
  const Shape* flat = ShapeOfRank(merge->outputs[0], 2);
  const bool keep_merge =
      !(ys && SameKnown((*ys)[0], qs[0]) && SameKnown((*ys)[1], qs[1]) && (*ys)[2] == width);
  if (!keep_merge) {
    matched_.push_back(merge);
  } else if (!flat || (*flat)[1] != width) {
    return Status::Ok();
  }
  // The mask may not provably enlarge the scores [B, H, Sq, Sk].
  if (mask) {
    const std::vector<Dim> sd = {qs[0], Dim(q->heads), qs[1], ks[1]};
    const Shape& ms = *mask->shape;
    for (size_t i = 0; i < ms.rank(); ++i) {
      const Dim& m = ms[ms.rank() - 1 - i];
      const Dim& s = sd[3 - i];
      if (m.is_static() && m.value() != 1 && s.is_static() && m.value() != s.value()) {
        return Status::Ok();
      }
    }
  }

  // Packed QKV: the three parts of one Split along the last axis.
  Value* query = q->root;
  Value* key = k->root;
  Value* value = v->root;
  if (Node* split = Producer(query, OpKind::kSplit);
      split && split == key->producer && split == value->producer && split->outputs.size() == 3 &&
      split->outputs[0] == query && split->outputs[1] == key && split->outputs[2] == value &&
      split->has_input(0) && q->head_dim == v->head_dim) {
    const Shape* in = ShapeOfRank(split->inputs[0], 3);
    const int64_t a = split->attrs.GetInt("axis", 0);
    bool parts_only_here = true;
    for (Value* out : split->outputs) {
      auto it = uses_.find(out);
      parts_only_here =
          parts_only_here && !g_.IsNamePinned(out) && it != uses_.end() && it->second.size() == 1;
    }
    if (in && (a == 2 || a == -1) && (*in)[2] == Dim(3 * q->heads * q->head_dim) &&
        parts_only_here) {
      matched_.push_back(split);
      query = split->inputs[0];
      key = value = nullptr;
    }
  }

  // Build the fused node; provenance and name follow graph order.
  FRT_RETURN_IF_ERROR(SortByGraphOrder(g_, matched_));
  Value* y = merge->outputs[0];
  Node* mha = g_.AddNode(OpKind::kMultiHeadAttention, matched_.front()->name);
  mha->opset = 1;
  mha->inputs = {query, key, value};
  if (mask) mha->inputs.push_back(mask);
  mha->attrs.Set("num_heads", q->heads);
  mha->attrs.Set("scale", static_cast<float>(q->scale * k->scale * scale));
  for (const Node* n : matched_) {
    mha->source_nodes.insert(mha->source_nodes.end(), n->source_nodes.begin(),
                             n->source_nodes.end());
  }
  const std::string name = FreshName(g_, y->name + "/mha");
  FRT_ASSIGN_OR_RETURN(Value * out, g_.AddValue(name));
  out->dtype = y->dtype;
  out->shape = Shape({qs[0], qs[1], width});
  out->producer = mha;
  mha->outputs = {out};
  if (keep_merge) {
    FRT_ASSIGN_OR_RETURN(Value * t, g_.AddValue(FreshName(g_, name + "/flat")));
    t->constant = Tensor::FromVector<int64_t>({-1, width.value()}, {2});
    t->dtype = DType::kInt64;
    t->shape = Shape::FromDims({2});
    merge->inputs = {out, t};
    merge->attrs.Erase("allowzero");
  } else {
    g_.ReplaceAllUses(y, out);
  }

  std::vector<Value*> sources;
  for (Value* in : mha->inputs) {
    if (in && in != mask) sources.push_back(in);
  }
  FRT_RETURN_IF_ERROR(RewriteShapeReaders(sources));
  FRT_RETURN_IF_ERROR(RemoveDeadMatched());
  uses_ = CollectUses(g_);
  return Status::Ok();
}

// An int64 [1] holding dim `d`: a constant when static, else Shape(src, a,
// a+1) of a source whose axis a carries the same symbol (symbols name one
// run-time size wherever they appear). nullptr when neither exists.
Result<Value*> Matcher::DimsOf(const std::vector<Value*>& sources, const Dim& d,
                               const std::string& base) {
  const std::string name = FreshName(g_, base);
  if (d.is_static()) {
    FRT_ASSIGN_OR_RETURN(Value * c, g_.AddValue(name));
    c->constant = Tensor::FromVector<int64_t>({d.value()}, {1});
    c->dtype = DType::kInt64;
    c->shape = Shape::FromDims({1});
    return c;
  }
  if (!d.is_symbol()) return static_cast<Value*>(nullptr);
  for (Value* src : sources) {
    if (!src->shape) continue;
    for (size_t a = 0; a < src->shape->rank(); ++a) {
      if ((*src->shape)[a] != d) continue;
      Node* n = g_.AddNode(OpKind::kShape, name);
      n->opset = 15;
      n->inputs = {src};
      n->attrs.Set("start", static_cast<int64_t>(a));
      n->attrs.Set("end", static_cast<int64_t>(a + 1));
      FRT_ASSIGN_OR_RETURN(Value * out, g_.AddValue(name));
      out->dtype = DType::kInt64;
      out->shape = Shape::FromDims({1});
      out->producer = n;
      n->outputs = {out};
      return out;
    }
  }
  return static_cast<Value*>(nullptr);
}

// The replaced nodes may still be read for their shape only (T5 reads K's
// sequence length through Shape(Transpose(Reshape(k)))). Each such Shape is
// recomputed from the MHA's inputs, so the layout nodes die and the
// projections keep a single reader (fuse_qkv needs that). A Shape whose dims
// cannot be expressed that way stays, with the nodes it reads.
Status Matcher::RewriteShapeReaders(const std::vector<Value*>& sources) {
  uses_ = CollectUses(g_);
  std::vector<Node*> shapes;
  std::vector<const Value*> work;
  std::set<const Node*> seen;
  for (Node* n : matched_) work.insert(work.end(), n->outputs.begin(), n->outputs.end());
  while (!work.empty()) {
    const Value* v = work.back();
    work.pop_back();
    auto it = uses_.find(v);
    if (!v || it == uses_.end()) continue;
    for (const auto& [reader, slot] : it->second) {
      if (!seen.insert(reader).second) continue;
      if (reader->op == OpKind::kShape) {
        shapes.push_back(reader);
      } else if (reader->op != OpKind::kMultiHeadAttention) {
        matched_.push_back(reader);  // a shape-only layout node: removed once dead
        work.insert(work.end(), reader->outputs.begin(), reader->outputs.end());
      }
    }
  }
  for (Node* sh : shapes) {
    const Value* in = sh->inputs[0];
    if (!in->shape || !sh->outputs[0]) continue;
    const int64_t rank = static_cast<int64_t>(in->shape->rank());
    auto clamp = [rank](int64_t v) { return std::clamp<int64_t>(v < 0 ? v + rank : v, 0, rank); };
    const int64_t start = clamp(sh->attrs.GetInt("start", 0));
    const int64_t end = clamp(sh->attrs.GetInt("end", rank));
    std::vector<Value*> parts;
    const std::string base = sh->outputs[0]->name + "/dim";
    bool ok = end > start;
    for (int64_t a = start; ok && a < end; ++a) {
      FRT_ASSIGN_OR_RETURN(Value * part, DimsOf(sources, (*in->shape)[a], base));
      ok = part != nullptr;
      if (ok) parts.push_back(part);
    }
    if (!ok) continue;  // parts already made are swept by dead-code elimination
    Value* result = parts[0];
    if (parts.size() > 1) {
      Node* cat = g_.AddNode(OpKind::kConcat, sh->name);
      cat->opset = 13;
      cat->inputs = parts;
      cat->attrs.Set("axis", int64_t{0});
      FRT_ASSIGN_OR_RETURN(result, g_.AddValue(FreshName(g_, base + "s")));
      result->dtype = DType::kInt64;
      result->shape = Shape::FromDims({static_cast<int64_t>(parts.size())});
      result->producer = cat;
      cat->outputs = {result};
    }
    for (Value* part : parts) {
      if (part->producer) part->producer->source_nodes = sh->source_nodes;
    }
    g_.ReplaceAllUses(sh->outputs[0], result);
    FRT_RETURN_IF_ERROR(g_.RemoveNode(sh));
  }
  return Status::Ok();
}

// Removes the replaced nodes that nothing reads any more, last first so each
// removal frees its producers.
Status Matcher::RemoveDeadMatched() {
  FRT_RETURN_IF_ERROR(SortByGraphOrder(g_, matched_));
  Uses now = CollectUses(g_);
  for (auto it = matched_.rbegin(); it != matched_.rend(); ++it) {
    Node* n = *it;
    bool read = false;
    for (const Value* o : n->outputs) read = read || (o && (now.count(o) || g_.IsNamePinned(o)));
    if (read) continue;
    for (Value* in : n->inputs) {
      auto u = now.find(in);
      if (u == now.end()) continue;
      auto& list = u->second;
      list.erase(
          std::remove_if(list.begin(), list.end(), [n](const auto& use) { return use.first == n; }),
          list.end());
      if (list.empty()) now.erase(u);
    }
    FRT_RETURN_IF_ERROR(g_.RemoveNode(n));
  }
  return Status::Ok();
}

}  // namespace

Status FuseAttention(Graph& graph) {
  FRT_ASSIGN_OR_RETURN(std::vector<Node*> order, graph.TopologicalOrder());
  std::vector<Node*> softmaxes;
  for (Node* n : order) {
    if (n->op == OpKind::kSoftmax && n->has_input(0) && n->has_output(0)) softmaxes.push_back(n);
  }
  // Each match removes only its own Softmax, so the others stay valid.
  Matcher m(graph);
  for (Node* sm : softmaxes) FRT_RETURN_IF_ERROR(m.TryFuse(sm));
  graph.RemoveDeadValues();
  return Status::Ok();
}

}  // namespace frt
