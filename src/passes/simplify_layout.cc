// Layout simplification: removes data movement that exporters add around the
// real work, in rounds until nothing changes (shapes re-inferred in between):
//  - Transpose of a Transpose becomes one Transpose (perms composed); an
//    identity permutation disappears;
//  - Reshape of a Reshape becomes one Reshape (when the second target is a
//    constant without copy-zeros, it does not depend on the middle shape);
//  - Reshape, Squeeze, Unsqueeze and Flatten whose output shape is provably
//    the input shape (every dim a constant or a symbol, pairwise the same)
//    disappear;
//  - the "flatten, Gemm, unflatten" that exporters write for a linear layer
//    on a [batch, sequence, K] tensor (Reshape to [-1, K], Gemm with a
//    constant weight, Reshape back to [batch, sequence, N]) becomes MatMul on
//    the 3-D tensor plus a bias Add, which the GEMM epilogue fusion absorbs;
//  - the dynamo exporter's transpose of the last two axes through 3-D
//    (Reshape [..., a, b] to [-1, a, b], Transpose 0,2,1, Reshape back to
//    [..., b, a]) becomes one Transpose of the last two axes.
// Targets computed at run time are read through their symbolic contents
// (ir/symbolic_values.h).
#include <cstring>
#include <numeric>
#include <unordered_set>

#include "ir/shape_inference.h"
#include "ir/symbolic_values.h"
#include "passes/pass_manager.h"
#include "passes/rewrite_util.h"

namespace frt {
namespace {

constexpr int kMaxRounds = 8;

// `v` is read once, by `reader`, and is not observable from outside.
bool OnlyFeeds(const Graph& g, const rewrite::ReaderMap& readers, const Value* v,
               const Node* reader) {
  return rewrite::SoleReader(g, readers, v) == reader;
}

Node* ProducerOf(const Value* v, OpKind op) {
  return v && v->producer && v->producer->op == op ? v->producer : nullptr;
}

bool IsConst(const Value* v) { return v && v->constant && !v->is_graph_input; }

std::vector<int64_t> PermOf(const Node& t, size_t rank) {
  std::vector<int64_t> perm = t.attrs.GetInts("perm");
  if (perm.empty()) {
    for (size_t i = 0; i < rank; ++i) perm.push_back(static_cast<int64_t>(rank - 1 - i));
  }
  return perm;
}

bool IsIdentityPerm(const std::vector<int64_t>& perm) {
  for (size_t i = 0; i < perm.size(); ++i) {
    if (perm[i] != static_cast<int64_t>(i)) return false;
  }
  return true;
}

bool ShapesProvablyEqual(const Value* a, const Value* b) {
  if (!a->shape || !b->shape || a->shape->rank() != b->shape->rank()) return false;
  for (size_t i = 0; i < a->shape->rank(); ++i) {
    if (!SameDim((*a->shape)[i], (*b->shape)[i])) return false;
  }
  return true;
}

// Readers of `y` read `x` instead and `node` (which produced y) goes.
Status Bypass(Graph& g, Node& node, Value* x) {
  Value* y = node.outputs[0];
  bool x_renamable = x->producer != nullptr && !g.IsNamePinned(x);
  if (g.IsNamePinned(y) && !x_renamable) return Status::Ok();
  g.ReplaceAllUses(y, x);
  return g.RemoveNode(&node);
}

Result<bool> FoldTransposePair(Graph& g, const rewrite::ReaderMap& readers, Node& outer) {
  Node* inner = ProducerOf(outer.inputs[0], OpKind::kTranspose);
  const Value* x = inner ? inner->inputs[0] : outer.inputs[0];
  if (!x->shape) return false;
  size_t rank = x->shape->rank();
  std::vector<int64_t> perm = PermOf(outer, rank);
  if (perm.size() != rank) return false;
  if (inner) {
    if (!OnlyFeeds(g, readers, outer.inputs[0], &outer)) return false;
    std::vector<int64_t> first = PermOf(*inner, rank);
    if (first.size() != rank) return false;
    std::vector<int64_t> composed(rank);
    for (size_t i = 0; i < rank; ++i) composed[i] = first[static_cast<size_t>(perm[i])];
    outer.inputs[0] = inner->inputs[0];
    outer.attrs.Set("perm", composed);
    std::vector<std::string> sources = inner->source_nodes;
    sources.insert(sources.end(), outer.source_nodes.begin(), outer.source_nodes.end());
    outer.source_nodes = std::move(sources);
    FRT_RETURN_IF_ERROR(g.RemoveNode(inner));
    perm = composed;
  }
  if (IsIdentityPerm(perm)) FRT_RETURN_IF_ERROR(Bypass(g, outer, outer.inputs[0]));
  return inner != nullptr || IsIdentityPerm(perm);
}

Result<bool> FoldReshapePair(Graph& g, const rewrite::ReaderMap& readers, Node& outer) {
  Node* inner = ProducerOf(outer.inputs[0], OpKind::kReshape);
  if (!inner || !OnlyFeeds(g, readers, outer.inputs[0], &outer) || !IsConst(outer.inputs[1])) return false;
  const Tensor& target = *outer.inputs[1]->constant;
  auto values = target.ToInt64Vector();
  if (!values.ok()) return false;
  bool allowzero = outer.attrs.GetInt("allowzero", 0) != 0;
  for (int64_t v : *values) {
    if (v == 0 && !allowzero) return false;  // would copy a dim of the middle shape
  }
  outer.inputs[0] = inner->inputs[0];
  std::vector<std::string> sources = inner->source_nodes;
  sources.insert(sources.end(), outer.source_nodes.begin(), outer.source_nodes.end());
  outer.source_nodes = std::move(sources);
  FRT_RETURN_IF_ERROR(g.RemoveNode(inner));
  return true;
}

bool IsShapeOnlyOp(OpKind op) {
  return op == OpKind::kReshape || op == OpKind::kSqueeze || op == OpKind::kUnsqueeze ||
         op == OpKind::kFlatten;
}

Result<bool> RemoveNoOpReshape(Graph& g, Node& n) {
  if (!n.has_input(0) || n.outputs.size() != 1 || !n.outputs[0]) return false;
  if (!ShapesProvablyEqual(n.inputs[0], n.outputs[0])) return false;
  size_t before = g.num_nodes();
  FRT_RETURN_IF_ERROR(Bypass(g, n, n.inputs[0]));
  return g.num_nodes() != before;
}

// A 2-D transpose of a constant matrix.
Result<Tensor> TransposeMatrix(const Tensor& w) {
  const Dims& d = w.dims();
  FRT_ASSIGN_OR_RETURN(Tensor t, Tensor::Allocate(w.dtype(), {d[1], d[0]}));
  size_t es = DTypeSize(w.dtype());
  const auto* src = static_cast<const std::byte*>(w.raw());
  auto* dst = static_cast<std::byte*>(t.raw());
  for (int64_t i = 0; i < d[0]; ++i) {
    for (int64_t j = 0; j < d[1]; ++j) {
      std::memcpy(dst + (j * d[0] + i) * es, src + (i * d[1] + j) * es, es);
    }
  }
  return t;
}

Node* NewNode(Graph& g, OpKind op, const std::string& name, std::vector<Value*> inputs,
              const std::string& out_base, DType dtype, int opset) {
  Node* n = g.AddNode(op, name);
  n->opset = opset;
  n->inputs = std::move(inputs);
  Value* out = g.AddValue(rewrite::FreshName(g, out_base)).value();
  out->dtype = dtype;
  out->producer = n;
  n->outputs = {out};
  return n;
}

// Reshape(x: [..., K] -> [-1, K]) -> Gemm(., W, C) -> Reshape(-> [..., N])
// becomes MatMul(x, W) + C on x's own rank.
Result<bool> UnflattenGemm(Graph& g, const rewrite::ReaderMap& readers, Node& gemm,
                           const SymbolicValues& sym) {
  Node* flatten = ProducerOf(gemm.inputs[0], OpKind::kReshape);
  Value* y = gemm.outputs[0];
  if (!flatten || !OnlyFeeds(g, readers, gemm.inputs[0], &gemm) || !IsConst(gemm.inputs[1])) {
    return false;
  }
  if (gemm.has_input(2) && !IsConst(gemm.inputs[2])) return false;
  if (gemm.attrs.GetInt("transA", 0) != 0 || gemm.attrs.GetFloat("alpha", 1.0f) != 1.0f) {
    return false;
  }
  Node* unflatten = rewrite::SoleReader(g, readers, y);
  if (!unflatten || unflatten->op != OpKind::kReshape) return false;
  const Value* x = flatten->inputs[0];
  const Tensor& w = *gemm.inputs[1]->constant;
  if (!x->shape || x->shape->rank() < 3 || w.dims().size() != 2 || !unflatten->has_input(1)) {
    return false;
  }
  bool trans_b = gemm.attrs.GetInt("transB", 0) != 0;
  int64_t k = trans_b ? w.dims()[1] : w.dims()[0], n = trans_b ? w.dims()[0] : w.dims()[1];
  size_t rank = x->shape->rank();
  auto t1 = SymbolicContents(sym, flatten->inputs[1]);
  auto t2 = SymbolicContents(sym, unflatten->inputs[1]);
  if (!t1 || !t2 || t1->elems.size() != 2 || t2->elems.size() != rank) return false;
  // The flatten keeps x's last dim K and merges the rest.
  if (!Matches(t1->elems[1], (*x->shape)[rank - 1]) || !Matches(t1->elems[1], Dim(k))) {
    return false;
  }
  if (!(t1->elems[0].constant && *t1->elems[0].constant == -1)) return false;
  // The unflatten restores x's leading dims and ends with N.
  for (size_t i = 0; i + 1 < rank; ++i) {
    if (!Matches(t2->elems[i], (*x->shape)[i])) return false;
  }
  if (!Matches(t2->elems[rank - 1], Dim(n))) return false;
  DType dt = y->dtype;
  Value* weight = gemm.inputs[1];
  if (trans_b) {
    FRT_ASSIGN_OR_RETURN(Tensor wt, TransposeMatrix(w));
    FRT_ASSIGN_OR_RETURN(weight, rewrite::AddConstant(g, weight->name + "_t", std::move(wt)));
  }
  Node* mm = NewNode(g, OpKind::kMatMul, gemm.name, {flatten->inputs[0], weight},
                     y->name + "/matmul", dt, 13);
  rewrite::AppendSources(*mm, *flatten);
  rewrite::AppendSources(*mm, gemm);
  rewrite::AppendSources(*mm, *unflatten);
  Value* result = mm->outputs[0];
  if (gemm.has_input(2)) {
    Value* bias = gemm.inputs[2];
    float beta = gemm.attrs.GetFloat("beta", 1.0f);
    if (beta != 1.0f) {
      if (bias->dtype != DType::kFloat32) return false;
      FRT_ASSIGN_OR_RETURN(Tensor scaled, bias->constant->Clone());
      for (int64_t i = 0; i < scaled.num_elements(); ++i) scaled.data<float>()[i] *= beta;
      FRT_ASSIGN_OR_RETURN(bias, rewrite::AddConstant(g, bias->name + "_scaled", std::move(scaled)));
    }
    Node* add = NewNode(g, OpKind::kAdd, gemm.name + "/bias", {result, bias},
                        y->name + "/bias", dt, 14);
    add->source_nodes = gemm.source_nodes;
    result = add->outputs[0];
  }
  g.ReplaceAllUses(unflatten->outputs[0], result);
  FRT_RETURN_IF_ERROR(g.RemoveNode(unflatten));
  FRT_RETURN_IF_ERROR(g.RemoveNode(&gemm));
  FRT_RETURN_IF_ERROR(g.RemoveNode(flatten));
  return true;
}

// Reshape(x: [..., a, b] -> [-1, a, b]) -> Transpose(0, 2, 1) ->
// Reshape(-> [..., b, a]) is a transpose of x's last two axes.
Result<bool> SwapLastAxesThrough3d(Graph& g, const rewrite::ReaderMap& readers, Node& transpose,
                                   const SymbolicValues& sym) {
  Node* merge = ProducerOf(transpose.inputs[0], OpKind::kReshape);
  if (!merge || !OnlyFeeds(g, readers, transpose.inputs[0], &transpose)) return false;
  if (PermOf(transpose, 3) != std::vector<int64_t>{0, 2, 1}) return false;
  Value* t_out = transpose.outputs[0];
  Node* split = rewrite::SoleReader(g, readers, t_out);
  if (!split || split->op != OpKind::kReshape) return false;
  const Value* x = merge->inputs[0];
  if (!x->shape || x->shape->rank() < 3 || !split->has_input(1)) return false;
  size_t rank = x->shape->rank();
  auto t1 = SymbolicContents(sym, merge->inputs[1]);
  auto t2 = SymbolicContents(sym, split->inputs[1]);
  if (!t1 || !t2 || t1->elems.size() != 3 || t2->elems.size() != rank) return false;
  const Dim& a = (*x->shape)[rank - 2];
  const Dim& b = (*x->shape)[rank - 1];
  if (!(t1->elems[0].constant && *t1->elems[0].constant == -1) || !Matches(t1->elems[1], a) ||
      !Matches(t1->elems[2], b)) {
    return false;
  }
  for (size_t i = 0; i + 2 < rank; ++i) {
    if (!Matches(t2->elems[i], (*x->shape)[i])) return false;
  }
  if (!Matches(t2->elems[rank - 2], b) || !Matches(t2->elems[rank - 1], a)) return false;
  std::vector<int64_t> perm(rank);
  std::iota(perm.begin(), perm.end(), 0);
  std::swap(perm[rank - 2], perm[rank - 1]);
  Node* t = NewNode(g, OpKind::kTranspose, transpose.name, {merge->inputs[0]},
                    split->outputs[0]->name + "/transpose", t_out->dtype, 13);
  t->attrs.Set("perm", perm);
  rewrite::AppendSources(*t, *merge);
  rewrite::AppendSources(*t, transpose);
  rewrite::AppendSources(*t, *split);
  g.ReplaceAllUses(split->outputs[0], t->outputs[0]);
  FRT_RETURN_IF_ERROR(g.RemoveNode(split));
  FRT_RETURN_IF_ERROR(g.RemoveNode(&transpose));
  FRT_RETURN_IF_ERROR(g.RemoveNode(merge));
  return true;
}

// One walk over the graph applying every rewrite that matches. Shapes of
// values created during the walk are unknown until the next inference, so
// rules needing them wait for the next walk.
Result<bool> SimplifyOnce(Graph& g) {
  SymbolicValues sym = ComputeSymbolicValues(g);
  FRT_ASSIGN_OR_RETURN(std::vector<Node*> order, g.TopologicalOrder());
  std::vector<Node*> nodes = g.nodes();
  std::unordered_set<const Node*> alive(nodes.begin(), nodes.end());
  rewrite::ReaderMap readers = rewrite::CollectReaders(g);
  bool changed = false;
  for (Node* n : order) {
    // Rewrites remove nodes besides the one visited: skip those.
    if (!alive.count(n) || n->outputs.empty() || !n->outputs[0]) continue;
    Result<bool> r = false;
    if (n->op == OpKind::kGemm) {
      r = UnflattenGemm(g, readers, *n, sym);
    } else if (n->op == OpKind::kTranspose) {
      r = SwapLastAxesThrough3d(g, readers, *n, sym);
      if (r.ok() && !*r) r = FoldTransposePair(g, readers, *n);
    } else if (n->op == OpKind::kReshape) {
      r = FoldReshapePair(g, readers, *n);
      if (r.ok() && !*r) r = RemoveNoOpReshape(g, *n);
    } else if (IsShapeOnlyOp(n->op)) {
      r = RemoveNoOpReshape(g, *n);
    }
    if (!r.ok()) return r.status();
    if (*r) {
      changed = true;
      nodes = g.nodes();
      alive = std::unordered_set<const Node*>(nodes.begin(), nodes.end());
      readers = rewrite::CollectReaders(g);
    }
  }
  return changed;
}

}  // namespace

Status SimplifyLayout(Graph& graph) {
  for (int round = 0; round < kMaxRounds; ++round) {
    FRT_ASSIGN_OR_RETURN(bool changed, SimplifyOnce(graph));
    if (!changed) break;
    // Dead readers (the Shape nodes of a folded target) would block the next
    // round's single-reader checks.
    FRT_RETURN_IF_ERROR(EliminateDeadCode(graph));
    FRT_RETURN_IF_ERROR(InferGraphShapes(graph));
  }
  return Status::Ok();
}

}  // namespace frt
