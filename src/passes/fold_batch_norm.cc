// BatchNorm folding: Conv(X, W, b) followed by an inference-mode
// BatchNormalization(scale, B, mean, var; epsilon) with constant parameters
// becomes one Conv with per-output-channel rescaled weights and a new bias:
//   s[c]  = scale[c] / sqrt(var[c] + epsilon)
//   W'[c] = W[c] * s[c]              (W[c]: every weight of output channel c)
//   b'[c] = (b[c] - mean[c]) * s[c] + B[c]      (b = 0 when Conv has no bias)
// computed in double and rounded once into W's dtype. W' and b' are new
// constants (W may be shared with other nodes). The Conv takes over the BN's
// output value, so its name and graph-output status stay as they were; the
// Conv keeps its own node name and appends the BN to its source_nodes.
// Preconditions checked (else the pair is left alone): W and b are constants
// (not overridable initializers), float dtypes, the Conv output has no other
// reader and is not name-pinned, the BN has only its Y output, is not in
// training mode (and, before opset 9, is `spatial`), and its four parameters
// are constants of C = W.dims[0] elements.
#include <cmath>

#include "passes/epilogue_util.h"
#include "passes/pass_manager.h"

namespace frt {
namespace {

using rewrite::AddConstant;
using epilogue::FixedConstant;
using epilogue::IsComputeFloat;
using epilogue::TensorFromDoubles;

// The BN's single Conv producer when the pair can be folded, else nullptr.
Node* FoldableConv(const Graph& g, const Node& bn, const rewrite::ReaderMap& readers) {
  if (bn.inputs.size() != 5 || !bn.has_input(0) || !bn.has_output(0)) return nullptr;
  for (size_t i = 1; i < bn.outputs.size(); ++i) {
    if (bn.outputs[i] != nullptr) return nullptr;  // running statistics: training form
  }
  if (bn.attrs.GetInt("training_mode", 0) != 0) return nullptr;
  if (bn.attrs.GetInt("spatial", 1) != 1) return nullptr;
  const Value* y = bn.inputs[0];
  Node* conv = y->producer;
  if (!conv || conv->op != OpKind::kConv || conv->outputs.size() != 1) return nullptr;
  if (rewrite::SoleReader(g, readers, y) != &bn) return nullptr;
  if (!conv->has_input(1) || !IsComputeFloat(y->dtype)) return nullptr;
  const Tensor* w = FixedConstant(conv->inputs[1]);
  if (!w || w->rank() < 3 || !IsComputeFloat(w->dtype())) return nullptr;
  if (conv->has_input(2) && !FixedConstant(conv->inputs[2])) return nullptr;
  const int64_t channels = w->dims()[0];
  if (conv->has_input(2) && FixedConstant(conv->inputs[2])->num_elements() != channels) {
    return nullptr;
  }
  for (size_t i = 1; i < 5; ++i) {
    const Tensor* p = FixedConstant(bn.has_input(i) ? bn.inputs[i] : nullptr);
    if (!p || !IsFloat(p->dtype()) || p->num_elements() != channels) return nullptr;
  }
  return conv;
}

Status Fold(Graph& g, Node& conv, Node& bn) {
  const Tensor& w = *conv.inputs[1]->constant;
  const int64_t channels = w.dims()[0];
  const int64_t per_channel = channels > 0 ? w.num_elements() / channels : 0;
  const std::vector<double> scale = ToDoubles(*bn.inputs[1]->constant);
  const std::vector<double> shift = ToDoubles(*bn.inputs[2]->constant);
  const std::vector<double> mean = ToDoubles(*bn.inputs[3]->constant);
  const std::vector<double> var = ToDoubles(*bn.inputs[4]->constant);
  const double eps = bn.attrs.GetFloat("epsilon", 1e-5f);
  std::vector<double> wv = ToDoubles(w);
  std::vector<double> bv = conv.has_input(2) ? ToDoubles(*conv.inputs[2]->constant)
                                             : std::vector<double>(static_cast<size_t>(channels));
  for (int64_t c = 0; c < channels; ++c) {
    const double s = scale[c] / std::sqrt(var[c] + eps);
    for (int64_t k = 0; k < per_channel; ++k) wv[c * per_channel + k] *= s;
    bv[c] = (bv[c] - mean[c]) * s + shift[c];
  }
  FRT_ASSIGN_OR_RETURN(Tensor new_w, TensorFromDoubles(w.dtype(), w.dims(), wv));
  FRT_ASSIGN_OR_RETURN(Tensor new_b, TensorFromDoubles(w.dtype(), {channels}, bv));
  FRT_ASSIGN_OR_RETURN(Value * w_value,
                       AddConstant(g, conv.inputs[1]->name + "/bn_folded", std::move(new_w)));
  FRT_ASSIGN_OR_RETURN(Value * b_value,
                       AddConstant(g, bn.outputs[0]->name + "/conv_bias", std::move(new_b)));
  conv.inputs.resize(3);
  conv.inputs[1] = w_value;
  conv.inputs[2] = b_value;
  // The Conv takes over the BN's output (its name, readers and output slot).
  Value* out = bn.outputs[0];
  bn.outputs.clear();
  conv.outputs[0] = out;
  out->producer = &conv;
  conv.source_nodes.insert(conv.source_nodes.end(), bn.source_nodes.begin(), bn.source_nodes.end());
  return g.RemoveNode(&bn);
}

}  // namespace

Status FoldBatchNorm(Graph& graph) {
  FRT_ASSIGN_OR_RETURN(std::vector<Node*> order, graph.TopologicalOrder());
  // Folding only swaps a Conv's constant inputs and drops the BN's read of
  // that Conv's output, so the readers of the values still to be checked
  // (other Conv outputs) stay exact.
  const auto readers = rewrite::CollectReaders(graph);
  // Each fold removes only the BN being visited, so `order` stays valid.
  bool changed = false;
  for (Node* node : order) {
    if (node->op != OpKind::kBatchNormalization) continue;
    Node* conv = FoldableConv(graph, *node, readers);
    if (!conv) continue;
    FRT_RETURN_IF_ERROR(Fold(graph, *conv, *node));
    changed = true;
  }
  if (changed) graph.RemoveDeadValues();  // the replaced weights, the BN parameters
  return Status::Ok();
}

}  // namespace frt
