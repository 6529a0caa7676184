// Import rules translate one ONNX node into IR nodes. Most ops import
// directly (same inputs, outputs, attributes); ops whose meaning changed
// across opsets have an adapter that rewrites old forms into the IR's single
// (latest) semantics, e.g. Squeeze-11's `axes` attribute becomes Squeeze-13's
// constant `axes` input. Kernels therefore implement one semantics per op.
#pragma once

#include <string_view>
#include <vector>

#include "ir/graph.h"
#include "onnx/onnx_pb.h"

namespace frt {

// Highest ai.onnx opset whose semantics FusionRT implements.
inline constexpr int kMaxSupportedOpset = 21;

class ImportContext {
 public:
  ImportContext(Graph& graph, const onnx::NodeProto& proto, int opset, OpKind kind,
                std::vector<Value*> inputs, std::vector<Value*> outputs, Attributes attrs);

  const onnx::NodeProto& proto() const { return proto_; }
  int opset() const { return opset_; }
  // The IR op the node's import rule produces.
  OpKind kind() const { return kind_; }
  size_t num_inputs() const { return inputs_.size(); }
  Value* input(size_t i) const { return i < inputs_.size() ? inputs_[i] : nullptr; }
  const std::vector<Value*>& inputs() const { return inputs_; }
  size_t num_outputs() const { return outputs_.size(); }
  Value* output(size_t i) const { return i < outputs_.size() ? outputs_[i] : nullptr; }
  const std::vector<Value*>& outputs() const { return outputs_; }
  Attributes& attrs() { return attrs_; }
  Graph& graph() { return graph_; }

  // Adds an IR node. Its name is the ONNX node's name, plus "/<suffix>" for
  // helper nodes; all carry the ONNX node as provenance.
  Result<Node*> Emit(OpKind op, std::vector<Value*> inputs, std::vector<Value*> outputs,
                     Attributes attrs, std::string_view suffix = "");
  // The common case: the ONNX node's own inputs, outputs and attributes.
  Result<Node*> EmitDirect(OpKind op) { return Emit(op, inputs_, outputs_, attrs_); }
  // A new constant / intermediate value with a unique name derived from the node.
  Result<Value*> AddConstant(Tensor t, std::string_view hint);
  Result<Value*> AddTemp(std::string_view hint);
  // A 1-D int64 constant (axes, pads, shapes moved from attributes to inputs).
  Result<Value*> AddInt64Constant(const std::vector<int64_t>& values, std::string_view hint);
  // A scalar equal to `value` in the dtype of `like`: a constant when that dtype
  // is known at import, else an f32 constant cast with CastLike (intermediate
  // values get their dtype only from inference).
  Result<Value*> AddScalarLike(double value, Value* like, std::string_view hint);
  // Makes output i a constant (Constant node, folded at import).
  Status SetConstantOutput(size_t i, Tensor t);

  // "Squeeze (node \"sq\", opset 11)"
  std::string Describe() const;
  template <class... Args>
  Status Error(StatusCode code, const Args&... args) const {
    return MakeError(code, Describe(), ": ", args...);
  }

 private:
  Graph& graph_;
  const onnx::NodeProto& proto_;
  int opset_;
  OpKind kind_;
  std::vector<Value*> inputs_;
  std::vector<Value*> outputs_;
  Attributes attrs_;
  int temp_counter_ = 0;
};

using ImportFn = Status (*)(ImportContext&);

struct ImportRule {
  std::string_view op_type;  // ONNX op_type in the ai.onnx domain
  int min_opset = 1;         // model opset range this rule handles (inclusive)
  int max_opset = kMaxSupportedOpset;
  OpKind kind = OpKind::kIdentity;  // IR op produced (for the supported-ops list)
  ImportFn adapter = nullptr;       // nullptr: EmitDirect(kind)
};

class ImportRuleRegistry {
 public:
  static const ImportRuleRegistry& Global();
  // The rule covering `opset` for `op_type`, or nullptr.
  const ImportRule* Find(std::string_view op_type, int opset) const;
  // Every rule for `op_type` (to say which opsets are supported).
  std::vector<const ImportRule*> ForOp(std::string_view op_type) const;
  const std::vector<ImportRule>& All() const { return rules_; }
  void Add(ImportRule rule) { rules_.push_back(rule); }
  // A direct rule for the op named like `kind`, valid from `min_opset`.
  void AddDirect(OpKind kind, int min_opset = 1, int max_opset = kMaxSupportedOpset);

 private:
  std::vector<ImportRule> rules_;
};

}  // namespace frt
