// QKV packing: a MultiHeadAttention whose query, key and value are three
// projections of the same input X with constant weights,
//   FusedMatMul(X, Wi [, bi]) (same alpha and trans_b, no residual, no
//   activation)  or  MatMul(X, Wi) [+ bi]  (bi constant, shaped [Ni] or
//   [1, .., 1, Ni]),
// becomes one FusedMatMul(X, [Wq | Wk | Wv], [bq | bk | bv]) whose output the
// MHA reads in packed mode (inputs 1 and 2 absent): one GEMM instead of three
// over the same activations. Weights are concatenated along N (columns, or
// rows with trans_b = 1); a projection without bias contributes zeros. The
// packed layout needs D = Dv (docs/fused_ops.md), so the three widths must be
// equal. Each projection output must feed only the MHA (Shape nodes reading
// its leading dims are redirected to X, which has the same ones).
#include <algorithm>
#include <cstring>
#include <map>
#include <optional>

#include "passes/pass_manager.h"

namespace frt {
namespace {

struct Projection {
  Value* x = nullptr;
  Value* w = nullptr;     // constant [K, N] (or [N, K] with trans_b)
  Value* bias = nullptr;  // constant with N elements, or nullptr
  float alpha = 1.0f;
  int64_t trans_b = 0;
  std::vector<Node*> nodes;          // the nodes the packed GEMM replaces
  std::vector<Node*> shape_readers;  // Shape nodes reading leading dims of the output
};

bool IsConst(const Value* v) { return v && v->constant && !v->is_graph_input; }

int UseCount(const Graph& g, const Value* v) {
  int n = 0;
  for (const Node* node : g.nodes()) {
    for (const Value* in : node->inputs) n += in == v;
  }
  return n;
}

// True when `n` is a Shape node that reads only dims before the last of its
// rank-`rank` input (the dims a projection shares with its input X).
bool ReadsLeadingDims(const Node* n, int64_t rank) {
  if (n->op != OpKind::kShape) return false;
  auto clamp = [rank](int64_t v) { return std::clamp<int64_t>(v < 0 ? v + rank : v, 0, rank); };
  const int64_t start = clamp(n->attrs.GetInt("start", 0));
  const int64_t end = clamp(n->attrs.GetInt("end", rank));
  return end <= rank - 1 || end <= start;
}

// The readers of `out` besides `mha` (read once), when they are all such
// Shape nodes; nullopt otherwise. Attention fusion leaves them behind when it
// recomputes a sequence length from the MHA's inputs (T5).
std::optional<std::vector<Node*>> ShapeOnlyExtraReaders(const Graph& g, const Value* out,
                                                        const Node* mha) {
  if (!out->shape) return std::nullopt;
  std::vector<Node*> extra;
  int mha_uses = 0;
  for (Node* n : g.nodes()) {
    for (const Value* in : n->inputs) {
      if (in != out) continue;
      if (n == mha) {
        ++mha_uses;
      } else if (ReadsLeadingDims(n, static_cast<int64_t>(out->shape->rank()))) {
        extra.push_back(n);
      } else {
        return std::nullopt;
      }
    }
  }
  if (mha_uses != 1) return std::nullopt;
  return extra;
}

// A bias constant of N elements laid out along the last axis only.
bool IsRowBias(const Value* b, DType dtype, size_t max_rank) {
  if (!IsConst(b) || b->dtype != dtype) return false;
  const Dims& d = b->constant->dims();
  if (d.empty() || d.size() > max_rank) return false;
  for (size_t i = 0; i + 1 < d.size(); ++i) {
    if (d[i] != 1) return false;
  }
  return true;
}

// Recognizes the projection producing `out` (read once, by the MHA).
std::optional<Projection> ParseProjection(const Graph& g, Value* out, const Node* mha) {
  if (!out || !out->producer || g.IsNamePinned(out)) return std::nullopt;
  std::optional<std::vector<Node*>> extra = ShapeOnlyExtraReaders(g, out, mha);
  if (!extra) return std::nullopt;
  Projection p;
  p.shape_readers = std::move(*extra);
  Node* n = out->producer;
  if (n->op == OpKind::kFusedMatMul) {
    if (n->has_input(3) || !n->attrs.GetString("activation", "").empty() || !n->has_input(1)) {
      return std::nullopt;
    }
    p.x = n->inputs[0];
    p.w = n->inputs[1];
    p.bias = n->has_input(2) ? n->inputs[2] : nullptr;
    p.alpha = n->attrs.GetFloat("alpha", 1.0f);
    p.trans_b = n->attrs.GetInt("trans_b", 0);
    p.nodes = {n};
  } else {
    if (n->op == OpKind::kAdd && n->inputs.size() == 2) {
      for (size_t side = 0; side < 2 && !p.bias; ++side) {
        Value* m = n->inputs[side];
        if (m && m->producer && m->producer->op == OpKind::kMatMul &&
            IsConst(n->inputs[1 - side]) && !g.IsNamePinned(m) && UseCount(g, m) == 1) {
          p.bias = n->inputs[1 - side];
          p.nodes = {m->producer, n};
        }
      }
      if (!p.bias) return std::nullopt;
      n = p.nodes[0];
    } else if (n->op == OpKind::kMatMul) {
      p.nodes = {n};
    } else {
      return std::nullopt;
    }
    p.x = n->inputs[0];
    p.w = n->inputs[1];
  }
  if (!p.x || !p.x->shape || p.x->shape->rank() < 2 || !IsConst(p.w) ||
      p.w->constant->rank() != 2 || p.w->dtype != p.x->dtype) {
    return std::nullopt;
  }
  if (p.bias && !IsRowBias(p.bias, p.x->dtype, p.x->shape->rank())) return std::nullopt;
  // A 2-D weight keeps every leading dim: X then answers the Shape readers.
  if (!p.shape_readers.empty() && p.x->shape->rank() != out->shape->rank()) return std::nullopt;
  return p;
}

int64_t OutWidth(const Projection& p) { return p.w->constant->dims()[p.trans_b ? 0 : 1]; }
int64_t InWidth(const Projection& p) { return p.w->constant->dims()[p.trans_b ? 1 : 0]; }

std::string FreshValueName(const Graph& g, const std::string& base) {
  std::string name = base;
  for (int i = 1; g.FindValue(name); ++i) name = base + "_" + std::to_string(i);
  return name;
}

// Concatenates the row-major [K, Ni] (trans_b: [Ni, K]) weights along N.
Tensor ConcatWeights(const std::vector<Projection>& ps, int64_t k, int64_t n_total) {
  const DType dt = ps[0].w->dtype;
  const size_t es = DTypeSize(dt);
  const int64_t trans = ps[0].trans_b;
  Tensor out = Tensor::Allocate(dt, trans ? Dims{n_total, k} : Dims{k, n_total}).value();
  auto* dst = static_cast<uint8_t*>(out.raw());
  int64_t col = 0;
  for (const Projection& p : ps) {
    const auto* src = static_cast<const uint8_t*>(p.w->constant->raw());
    const int64_t n = OutWidth(p);
    if (trans) {  // rows stack
      std::memcpy(dst + col * k * es, src, static_cast<size_t>(n * k) * es);
    } else {
      for (int64_t r = 0; r < k; ++r) {
        std::memcpy(dst + (r * n_total + col) * es, src + r * n * es, static_cast<size_t>(n) * es);
      }
    }
    col += n;
  }
  return out;
}

Tensor ConcatBiases(const std::vector<Projection>& ps, int64_t n_total) {
  const DType dt = ps[0].x->dtype;
  const size_t es = DTypeSize(dt);
  Tensor out = Tensor::Allocate(dt, {n_total}).value();
  std::memset(out.raw(), 0, out.nbytes());  // zero in every float format
  auto* dst = static_cast<uint8_t*>(out.raw());
  for (const Projection& p : ps) {
    const int64_t n = OutWidth(p);
    if (p.bias) std::memcpy(dst, p.bias->constant->raw(), static_cast<size_t>(n) * es);
    dst += n * es;
  }
  return out;
}

Status PackProjections(Graph& g, Node* mha, std::vector<Projection> ps) {
  const int64_t k = InWidth(ps[0]);
  const int64_t n_total = 3 * OutWidth(ps[0]);
  Value* x = ps[0].x;

  std::vector<Node*> replaced;
  for (const Projection& p : ps) replaced.insert(replaced.end(), p.nodes.begin(), p.nodes.end());
  FRT_ASSIGN_OR_RETURN(std::vector<Node*> order, g.TopologicalOrder());
  std::map<const Node*, size_t> position;
  for (size_t i = 0; i < order.size(); ++i) position[order[i]] = i;
  std::sort(replaced.begin(), replaced.end(),
            [&](const Node* a, const Node* b) { return position[a] < position[b]; });

  FRT_ASSIGN_OR_RETURN(Value * w, g.AddValue(FreshValueName(g, ps[0].w->name + "/qkv")));
  w->constant = ConcatWeights(ps, k, n_total);
  w->dtype = ps[0].w->dtype;
  w->shape = Shape::FromDims(w->constant->dims());
  Value* bias = nullptr;
  if (ps[0].bias || ps[1].bias || ps[2].bias) {
    FRT_ASSIGN_OR_RETURN(bias, g.AddValue(FreshValueName(g, w->name + "/bias")));
    bias->constant = ConcatBiases(ps, n_total);
    bias->dtype = x->dtype;
    bias->shape = Shape::FromDims({n_total});
  }
  Node* gemm = g.AddNode(OpKind::kFusedMatMul, replaced.front()->name);
  gemm->opset = 1;
  gemm->inputs = {x, w};
  if (bias) gemm->inputs.push_back(bias);
  if (ps[0].alpha != 1.0f) gemm->attrs.Set("alpha", ps[0].alpha);
  if (ps[0].trans_b != 0) gemm->attrs.Set("trans_b", ps[0].trans_b);
  for (const Node* n : replaced) {
    gemm->source_nodes.insert(gemm->source_nodes.end(), n->source_nodes.begin(),
                              n->source_nodes.end());
  }
  FRT_ASSIGN_OR_RETURN(Value * packed,
                       g.AddValue(FreshValueName(g, mha->outputs[0]->name + "/qkv")));
  packed->dtype = x->dtype;
  if (x->shape) {
    std::vector<Dim> dims = x->shape->dims();
    dims.back() = Dim(n_total);
    packed->shape = Shape(std::move(dims));
  }
  packed->producer = gemm;
  gemm->outputs = {packed};

  mha->inputs[0] = packed;
  mha->inputs[1] = nullptr;
  mha->inputs[2] = nullptr;
  for (const Projection& p : ps) {
    for (Node* n : p.shape_readers) n->inputs[0] = x;
  }
  for (auto it = replaced.rbegin(); it != replaced.rend(); ++it) {
    FRT_RETURN_IF_ERROR(g.RemoveNode(*it));
  }
  return Status::Ok();
}

}  // namespace

Status FuseQkv(Graph& graph) {
  FRT_ASSIGN_OR_RETURN(std::vector<Node*> order, graph.TopologicalOrder());
  for (Node* mha : order) {
    if (mha->op != OpKind::kMultiHeadAttention || !mha->has_input(0) || !mha->has_input(1) ||
        !mha->has_input(2)) {
      continue;
    }
    Value* q = mha->inputs[0];
    Value* k = mha->inputs[1];
    Value* v = mha->inputs[2];
    if (q == k || k == v || q == v ||
        (mha->has_input(3) &&
         (mha->inputs[3] == q || mha->inputs[3] == k || mha->inputs[3] == v))) {
      continue;
    }
    std::vector<Projection> ps;
    for (Value* in : {q, k, v}) {
      if (auto p = ParseProjection(graph, in, mha)) ps.push_back(std::move(*p));
    }
    if (ps.size() != 3) continue;
    bool same = true;
    for (const Projection& p : ps) {
      same = same && p.x == ps[0].x && p.alpha == ps[0].alpha && p.trans_b == ps[0].trans_b &&
             InWidth(p) == InWidth(ps[0]) && OutWidth(p) == OutWidth(ps[0]) &&
             p.w->dtype == ps[0].w->dtype;
    }
    if (!same) continue;
    FRT_RETURN_IF_ERROR(PackProjections(graph, mha, std::move(ps)));
  }
  graph.RemoveDeadValues();
  return Status::Ok();
}

}  // namespace frt
