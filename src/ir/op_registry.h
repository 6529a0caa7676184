// The op registry: each op kind is registered once as a trait bundle
// (design.md convention 3): its arity, its shape and type inference, its
// fusion kind and its precision policy. Passes and backends query traits,
// never op-name strings.
//
// Thread safety: the global registry is built once on first use and is
// read-only afterwards.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "ir/op_kind.h"
#include "ir/symbolic_values.h"

namespace frt {

enum class FusionKind : uint8_t {
  kElementwise,  // out[i] = f(in[i]) for same-shaped operands
  kBroadcast,    // elementwise with numpy broadcasting
  kInjective,    // each output element reads one input element (transpose, slice, gather)
  kReduction,    // reduces over axes
  kOutFusable,   // heavy op whose output can absorb elementwise epilogues (GEMM, conv)
  kOpaque,       // none of the above
};

enum class PrecisionPolicy : uint8_t {
  kAlways,  // safe to run in reduced precision (fp16/bf16/int8)
  kFollow,  // runs in the precision of its inputs (data movement, shape ops)
  kNever,   // numerically sensitive: keep fp32 inputs, outputs and arithmetic
  kFp32Inside,  // reduced-precision inputs and outputs, fp32 arithmetic inside (norms, softmax)
};

std::string_view FusionKindName(FusionKind k);
std::string_view PrecisionPolicyName(PrecisionPolicy p);

// What inference sees of a node: input types/shapes, constant input values
// where known, and a place to put output types/shapes. At run time the
// reference executor calls the same inference with concrete shapes and every
// input value, so one function serves the optimizer and the executor.
class InferContext {
 public:
  struct InputInfo {
    DType dtype = DType::kUndefined;
    const Shape* shape = nullptr;   // nullptr: rank unknown
    const Tensor* value = nullptr;  // nullptr: value unknown at this point
    // Symbolic contents of a small integer input (a shape computed from
    // symbolic dims, ir/symbolic_values.h) when its value is not known.
    const SymbolicTensor* symbolic = nullptr;
  };
  InferContext(const Node& node, std::vector<InputInfo> inputs);

  const Node& node() const { return node_; }
  const Attributes& attrs() const { return node_.attrs; }
  size_t num_inputs() const { return inputs_.size(); }
  bool has_input(size_t i) const { return i < inputs_.size() && inputs_[i].dtype != DType::kUndefined; }
  DType input_dtype(size_t i) const { return inputs_[i].dtype; }
  const Shape* input_shape(size_t i) const { return inputs_[i].shape; }
  const Tensor* input_value(size_t i) const { return inputs_[i].value; }
  const SymbolicTensor* input_symbolic(size_t i) const {
    return i < inputs_.size() ? inputs_[i].symbolic : nullptr;
  }
  size_t num_outputs() const { return outputs_.size(); }

  void SetOutput(size_t i, DType dtype, Shape shape);
  void SetOutputDType(size_t i, DType dtype);  // rank unknown
  DType output_dtype(size_t i) const { return outputs_[i].dtype; }
  const std::optional<Shape>& output_shape(size_t i) const { return outputs_[i].shape; }
  // Publishes output i's contents when inference alone can compute them (Shape
  // and Size of a static input): consumers such as concrete shape propagation
  // use them without running a kernel. Also sets the output's dtype and shape
  // to the tensor's, so the published value never contradicts them. Later
  // SetOutput/SetOutputDType calls for i drop the value. Ignored for an
  // index past the node's outputs, like SetOutput.
  void SetOutputValue(size_t i, Tensor t);
  // nullopt unless SetOutputValue published a value. Precondition: i < num_outputs().
  const std::optional<Tensor>& output_value(size_t i) const { return outputs_[i].value; }

  // Upper bounds of symbolic dims (Graph::symbol_upper_bounds), when the
  // caller knows them; nullptr otherwise.
  const std::map<std::string, int64_t>* symbol_upper_bounds() const { return bounds_; }
  void set_symbol_upper_bounds(const std::map<std::string, int64_t>* b) { bounds_ = b; }

  // An error whose message starts with the node's description.
  template <class... Args>
  Status Error(StatusCode code, const Args&... args) const {
    return MakeError(code, node_.Describe(), ": ", args...);
  }

 private:
  struct OutputInfo {
    DType dtype = DType::kUndefined;
    std::optional<Shape> shape;
    std::optional<Tensor> value;
  };
  const Node& node_;
  std::vector<InputInfo> inputs_;
  std::vector<OutputInfo> outputs_;
  const std::map<std::string, int64_t>* bounds_ = nullptr;
};

using InferFn = Status (*)(InferContext&);

struct OpSchema {
  OpKind kind = OpKind::kIdentity;
  FusionKind fusion = FusionKind::kOpaque;
  PrecisionPolicy precision = PrecisionPolicy::kFollow;
  int min_inputs = 1;
  int max_inputs = 1;   // -1: variadic
  int min_outputs = 1;
  int max_outputs = 1;
  InferFn infer = nullptr;
};

class OpRegistry {
 public:
  static const OpRegistry& Global();
  // nullptr when the op kind has no schema (not supported).
  const OpSchema* Find(OpKind kind) const;
  std::vector<const OpSchema*> All() const;
  // Registration (used by the op family functions while building Global()).
  void Register(const OpSchema& schema);

 private:
  std::vector<OpSchema> schemas_;
  std::vector<int> index_;  // OpKind -> position in schemas_, -1 if absent
};

// Runs the node's inference with the given inputs; checks arity first.
Status InferNode(InferContext& ctx);

}  // namespace frt
