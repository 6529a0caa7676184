// GEMM epilogue fusion: MatMul(A, B) (both of rank >= 2) or Gemm(A, B, C;
// alpha, beta, transA = 0, transB) followed by a chain of
//   1. a bias Add: the other operand (either side) a constant broadcastable
//      to [N] (every dim 1 but the last, which is N or 1);
//   2. an activation (ir/activation.h);
//   3. a residual Add, only when step 2 absorbed nothing: the other operand a
//      non-constant of the product's shape;
//   4. an activation after the residual (when step 2 absorbed none);
// each optional but in this order, becomes one FusedMatMul computing
// act(alpha * (A @ op(B)) + bias + residual) (docs/fused_ops.md): the
// residual is added before the activation, so act-then-residual cannot be
// one node and the chain stops at the activation.
//
// Gemm's C times beta is the initial bias: a constant C is scaled (and summed
// with a step-1 bias, in double, rounded once into a new constant); a
// run-time C with beta = 1 becomes the bias input as is (then step 1 is
// skipped); a run-time C with beta != 1 leaves the Gemm alone; beta = 0
// drops C (Gemm ignores it then). A Gemm with transA = 0 becomes a
// FusedMatMul even when it absorbs nothing, so that later stages (fuse_qkv,
// the GPU tactics) see one GEMM op; a MatMul that absorbs nothing stays.
//
// A step is absorbed only when the value it reads has exactly that one
// reader and is not name-pinned, when the Add keeps the product's shape
// (no broadcasting the product up) and dtypes agree; else the chain stops.
#include <optional>
#include <unordered_set>

#include "backends/cpu/broadcast.h"
#include "ir/activation.h"
#include "passes/epilogue_util.h"
#include "passes/pass_manager.h"

namespace frt {
namespace {

using epilogue::FixedConstant;
using epilogue::OtherOperand;
using rewrite::ReaderMap;
using epilogue::SameShape;

// A constant bias being accumulated: dims and values (double, unrounded).
struct ConstBias {
  Dims dims;
  std::vector<double> values;
  Value* source = nullptr;  // the one constant it equals exactly, if any
};

// a + b with numpy broadcasting; nullopt if the shapes do not broadcast.
std::optional<ConstBias> AddBiases(const ConstBias& a, const ConstBias& b) {
  Result<Dims> dims = BroadcastDims(a.dims, b.dims);
  if (!dims.ok()) return std::nullopt;
  ConstBias sum;
  sum.dims = *dims;
  Result<int64_t> n = NumElements(sum.dims);
  if (!n.ok()) return std::nullopt;
  sum.values.resize(static_cast<size_t>(*n));
  BroadcastIterator<2> it(sum.dims,
                          {BroadcastStrides(a.dims, sum.dims), BroadcastStrides(b.dims, sum.dims)});
  for (double& v : sum.values) {
    v = a.values[it.offset(0)] + b.values[it.offset(1)];
    it.Next();
  }
  return sum;
}

// `c` as a bias Add's constant: broadcastable to [N] within a rank-`rank`
// product (rank <= rank; all dims 1 except the last, which is N or 1).
bool IsRowBias(const Tensor& c, size_t rank, int64_t n) {
  const Dims& d = c.dims();
  if (d.size() > rank) return false;
  for (size_t i = 0; i < d.size(); ++i) {
    const bool last = i + 1 == d.size();
    if (d[i] != 1 && !(last && d[i] == n)) return false;
  }
  return true;
}

// What one MatMul/Gemm becomes.
struct Plan {
  std::vector<Node*> absorbed;
  std::optional<ConstBias> const_bias;
  Value* runtime_bias = nullptr;  // Gemm's run-time C (beta 1)
  Value* residual = nullptr;
  ActivationSpec act;
  float alpha = 1.0f;
  bool trans_b = false;
};

// The initial plan from the GEMM node itself; nullopt when it cannot become
// a FusedMatMul at all.
std::optional<Plan> StartPlan(const Node& n) {
  if (n.outputs.size() != 1 || !n.has_output(0) || !n.has_input(0) || !n.has_input(1)) {
    return std::nullopt;
  }
  const Value* y = n.outputs[0];
  if (!epilogue::IsComputeFloat(y->dtype) || !y->shape || y->shape->rank() < 2) return std::nullopt;
  for (size_t i = 0; i < 2; ++i) {
    const Value* in = n.inputs[i];
    if (in->dtype != y->dtype || !in->shape || in->shape->rank() < 2) return std::nullopt;
  }
  Plan p;
  if (n.op == OpKind::kMatMul) return n.inputs.size() == 2 ? std::optional<Plan>(p) : std::nullopt;
  if (n.op != OpKind::kGemm || n.attrs.GetInt("transA", 0) != 0) return std::nullopt;
  p.alpha = n.attrs.GetFloat("alpha", 1.0f);
  p.trans_b = n.attrs.GetInt("transB", 0) != 0;
  const double beta = n.attrs.GetFloat("beta", 1.0f);
  if (!n.has_input(2) || beta == 0.0) return p;
  Value* c = n.inputs[2];
  if (const Tensor* t = FixedConstant(c)) {
    ConstBias b{t->dims(), ToDoubles(*t), beta == 1.0 ? c : nullptr};
    for (double& v : b.values) v *= beta;
    p.const_bias = std::move(b);
  } else if (beta == 1.0) {
    p.runtime_bias = c;
  } else {
    return std::nullopt;
  }
  return p;
}

void MatchEpilogue(const Graph& g, const ReaderMap& readers, const Node& core, Plan& p) {
  Value* y = core.outputs[0];
  const size_t rank = y->shape->rank();
  const Dim& n_dim = (*y->shape)[rank - 1];
  Value* cur = y;
  Node* next = rewrite::SoleReader(g, readers, cur);
  auto absorb = [&](Node* n) {
    p.absorbed.push_back(n);
    cur = n->outputs[0];
    next = rewrite::SoleReader(g, readers, cur);
  };
  auto keeps_shape = [&](const Node* add, const Value* other) {
    return other->dtype == y->dtype && SameShape(add->outputs[0]->shape, y->shape);
  };
  auto try_activation = [&]() {
    if (!next || next->inputs.empty() || next->inputs[0] != cur || next->outputs.size() != 1 ||
        next->outputs[0]->dtype != y->dtype) {
      return;
    }
    if (std::optional<ActivationSpec> act = MatchActivationNode(*next)) {
      p.act = *act;
      absorb(next);
    }
  };
  if (next && !p.runtime_bias && n_dim.is_static()) {
    Value* other = OtherOperand(*next, cur);
    const Tensor* c = FixedConstant(other);
    if (c && keeps_shape(next, other) && IsRowBias(*c, rank, n_dim.value())) {
      ConstBias b{c->dims(), ToDoubles(*c), other};
      std::optional<ConstBias> sum = p.const_bias ? AddBiases(*p.const_bias, b) : b;
      if (sum) {
        p.const_bias = std::move(sum);
        absorb(next);
      }
    }
  }
  try_activation();
  if (p.act.kind != Activation::kNone || !next) return;
  Value* other = OtherOperand(*next, cur);
  if (other && !other->constant && keeps_shape(next, other) && SameShape(other->shape, y->shape)) {
    p.residual = other;
    absorb(next);
    try_activation();
  }
}

Status Rewrite(Graph& g, Node* core, const Plan& p) {
  Value* bias = p.runtime_bias;
  if (p.const_bias) {
    if (p.const_bias->source) {
      bias = p.const_bias->source;  // exactly an existing constant: share it
    } else {
      const Value* y = core->outputs[0];
      FRT_ASSIGN_OR_RETURN(Tensor t, epilogue::TensorFromDoubles(y->dtype, p.const_bias->dims,
                                                                 p.const_bias->values));
      FRT_ASSIGN_OR_RETURN(bias, rewrite::AddConstant(g, y->name + "/bias", std::move(t)));
    }
  }
  Node* fused = g.AddNode(OpKind::kFusedMatMul, core->name);
  fused->opset = 1;
  if (p.alpha != 1.0f) fused->attrs.Set("alpha", p.alpha);
  if (p.trans_b) fused->attrs.Set("trans_b", int64_t{1});
  WriteActivation(p.act, fused->attrs);
  fused->inputs = {core->inputs[0], core->inputs[1], bias, p.residual};
  while (fused->inputs.back() == nullptr) fused->inputs.pop_back();
  return epilogue::ReplaceChain(g, fused, core, p.absorbed);
}

}  // namespace

Status FuseGemmEpilogue(Graph& graph) {
  FRT_ASSIGN_OR_RETURN(std::vector<Node*> order, graph.TopologicalOrder());
  ReaderMap readers = rewrite::CollectReaders(graph);
  std::unordered_set<const Node*> removed;  // pointers in `order` not to touch again
  for (Node* node : order) {
    if (removed.count(node)) continue;
    if (node->op != OpKind::kMatMul && node->op != OpKind::kGemm) continue;
    std::optional<Plan> plan = StartPlan(*node);
    if (!plan) continue;
    MatchEpilogue(graph, readers, *node, *plan);
    if (plan->absorbed.empty() && node->op == OpKind::kMatMul) continue;
    removed.insert(node);
    removed.insert(plan->absorbed.begin(), plan->absorbed.end());
    FRT_RETURN_IF_ERROR(Rewrite(graph, node, *plan));
    readers = rewrite::CollectReaders(graph);  // the fused node now reads the residual
  }
  if (!removed.empty()) graph.RemoveDeadValues();  // intermediates, replaced bias constants
  return Status::Ok();
}

}  // namespace frt
