#include "ir/op_registry.h"

#include "ir/op_families.h"

namespace frt {

std::string_view FusionKindName(FusionKind k) {
  switch (k) {
    case FusionKind::kElementwise: return "elementwise";
    case FusionKind::kBroadcast: return "broadcast";
    case FusionKind::kInjective: return "injective";
    case FusionKind::kReduction: return "reduction";
    case FusionKind::kOutFusable: return "out-fusable";
    case FusionKind::kOpaque: return "opaque";
  }
  return "opaque";
}

std::string_view PrecisionPolicyName(PrecisionPolicy p) {
  switch (p) {
    case PrecisionPolicy::kAlways: return "always";
    case PrecisionPolicy::kFollow: return "follow";
    case PrecisionPolicy::kNever: return "never";
    case PrecisionPolicy::kFp32Inside: return "fp32-inside";
  }
  return "follow";
}

InferContext::InferContext(const Node& node, std::vector<InputInfo> inputs)
    : node_(node), inputs_(std::move(inputs)), outputs_(node.outputs.size()) {}

void InferContext::SetOutput(size_t i, DType dtype, Shape shape) {
  if (i >= outputs_.size()) return;  // optional output not requested by the model
  outputs_[i].dtype = dtype;
  outputs_[i].shape = std::move(shape);
  outputs_[i].value.reset();
}

void InferContext::SetOutputDType(size_t i, DType dtype) {
  if (i >= outputs_.size()) return;
  outputs_[i].dtype = dtype;
  outputs_[i].shape.reset();
  outputs_[i].value.reset();
}

void InferContext::SetOutputValue(size_t i, Tensor t) {
  if (i >= outputs_.size()) return;
  outputs_[i].dtype = t.dtype();
  outputs_[i].shape = Shape::FromDims(t.dims());
  outputs_[i].value = std::move(t);
}

const OpRegistry& OpRegistry::Global() {
  static const OpRegistry* registry = [] {
    auto* r = new OpRegistry();
    RegisterAllOpFamilies(*r);
    return r;
  }();
  return *registry;
}

void OpRegistry::Register(const OpSchema& schema) {
  if (index_.empty()) index_.assign(static_cast<size_t>(OpKind::kNumOpKinds), -1);
  size_t k = static_cast<size_t>(schema.kind);
  if (index_[k] >= 0) {
    schemas_[index_[k]] = schema;  // a later registration replaces an earlier one
    return;
  }
  index_[k] = static_cast<int>(schemas_.size());
  schemas_.push_back(schema);
}

const OpSchema* OpRegistry::Find(OpKind kind) const {
  size_t k = static_cast<size_t>(kind);
  if (k >= index_.size() || index_[k] < 0) return nullptr;
  return &schemas_[index_[k]];
}

std::vector<const OpSchema*> OpRegistry::All() const {
  std::vector<const OpSchema*> out;
  for (const auto& s : schemas_) out.push_back(&s);
  return out;
}

Status InferNode(InferContext& ctx) {
  const Node& node = ctx.node();
  const OpSchema* schema = OpRegistry::Global().Find(node.op);
  if (schema == nullptr || schema->infer == nullptr) {
    return ctx.Error(StatusCode::kUnsupported, "op is not supported by FusionRT");
  }
  int n_in = static_cast<int>(node.inputs.size());
  while (n_in > 0 && node.inputs[n_in - 1] == nullptr) --n_in;  // trailing absent optionals
  if (n_in < schema->min_inputs || (schema->max_inputs >= 0 && n_in > schema->max_inputs)) {
    return ctx.Error(StatusCode::kInvalidModel, "expected ", schema->min_inputs,
                     schema->max_inputs == schema->min_inputs ? ""
                         : (schema->max_inputs < 0 ? " or more" : StrCat(" to ", schema->max_inputs)),
                     " inputs, got ", n_in);
  }
  for (int i = 0; i < schema->min_inputs; ++i) {
    if (!ctx.has_input(i)) {
      return ctx.Error(StatusCode::kInvalidModel, "required input ", i, " is missing");
    }
  }
  int n_out = static_cast<int>(node.outputs.size());
  if (n_out < schema->min_outputs || n_out > schema->max_outputs) {
    return ctx.Error(StatusCode::kInvalidModel, "expected ", schema->min_outputs, " to ",
                     schema->max_outputs, " outputs, got ", n_out);
  }
  return schema->infer(ctx);
}

}  // namespace frt
