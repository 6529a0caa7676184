// Internal to the epilogue passes (fold_batch_norm.cc, fuse_conv_epilogue.cc,
// fuse_gemm_epilogue.cc): the checks and rewrites they share. Header only;
// everything lives in namespace frt::epilogue.
//
// Thread safety: none (the helpers read or mutate one Graph).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "backends/cpu/tensor_values.h"
#include "ir/graph.h"
#include "passes/rewrite_util.h"

namespace frt::epilogue {

// The float types the fused ops compute in (no fp8).
inline bool IsComputeFloat(DType t) {
  return t == DType::kFloat16 || t == DType::kBFloat16 || t == DType::kFloat32 ||
         t == DType::kFloat64;
}

// The value's data when it is a constant the caller cannot override at run
// time (an initializer that is also a graph input can be), else nullptr.
inline const Tensor* FixedConstant(const Value* v) {
  return v && v->constant && !v->is_graph_input ? &*v->constant : nullptr;
}

// Two shapes known to be equal: same rank, each dim the same static size or
// the same named symbol (unknown dims prove nothing).
inline bool SameShape(const std::optional<Shape>& a, const std::optional<Shape>& b) {
  if (!a || !b || a->rank() != b->rank()) return false;
  for (size_t i = 0; i < a->rank(); ++i) {
    const Dim& x = (*a)[i];
    const Dim& y = (*b)[i];
    if (x.is_static() ? x.value() != y.value() : !x.is_symbol() || x.symbol() != y.symbol()) {
      return false;
    }
  }
  return true;
}

// A tensor of `dtype` and `dims` holding `v` rounded once.
inline Result<Tensor> TensorFromDoubles(DType dtype, const Dims& dims,
                                        const std::vector<double>& v) {
  FRT_ASSIGN_OR_RETURN(Tensor t, Tensor::Allocate(dtype, dims));
  VisitDType(dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* p = t.data<T>();
    for (size_t i = 0; i < v.size() && i < static_cast<size_t>(t.num_elements()); ++i) {
      p[i] = FromDouble<T>(v[i]);
    }
  });
  return t;
}

// When `add` is a two-input Add reading `cur` exactly once: its other
// operand; else nullptr.
inline Value* OtherOperand(const Node& add, const Value* cur) {
  if (add.op != OpKind::kAdd || add.inputs.size() != 2 || !add.has_output(0)) return nullptr;
  if (add.inputs[0] == cur && add.inputs[1] != cur) return add.inputs[1];
  if (add.inputs[1] == cur && add.inputs[0] != cur) return add.inputs[0];
  return nullptr;
}

// Finishes a fusion: `fused` (added by the caller with its inputs and
// attributes) replaces `core` followed by the chain `absorbed` (each node
// reading the previous one's only output). It takes over the output value of
// the chain's last node, so that value keeps its name, readers and graph-
// output slot; it takes `core`'s node name, and its source_nodes are those
// of core and the chain in order. Removes core and the chain.
inline Status ReplaceChain(Graph& g, Node* fused, Node* core, const std::vector<Node*>& absorbed) {
  Node* last = absorbed.empty() ? core : absorbed.back();
  Value* out = last->outputs[0];
  fused->name = core->name;
  fused->source_nodes = core->source_nodes;
  for (const Node* n : absorbed) rewrite::AppendSources(*fused, *n);
  last->outputs.clear();
  fused->outputs = {out};
  out->producer = fused;
  for (auto it = absorbed.rbegin(); it != absorbed.rend(); ++it) {
    FRT_RETURN_IF_ERROR(g.RemoveNode(*it));
  }
  return g.RemoveNode(core);
}

}  // namespace frt::epilogue
