#include "onnx/import_context.h"

#include "ir/op_registry.h"
#include "onnx/import_families.h"

namespace frt {

ImportContext::ImportContext(Graph& graph, const onnx::NodeProto& proto, int opset, OpKind kind,
                             std::vector<Value*> inputs, std::vector<Value*> outputs,
                             Attributes attrs)
    : graph_(graph), proto_(proto), opset_(opset), kind_(kind), inputs_(std::move(inputs)),
      outputs_(std::move(outputs)), attrs_(std::move(attrs)) {}

std::string ImportContext::Describe() const {
  return StrCat(proto_.op_type(), " (node \"", proto_.name(), "\", opset ", opset_, ")");
}

Result<Node*> ImportContext::Emit(OpKind op, std::vector<Value*> inputs,
                                  std::vector<Value*> outputs, Attributes attrs,
                                  std::string_view suffix) {
  // Arity against the op's schema, counted as the IR verifier counts it (absent
  // inputs beyond the maximum are allowed). Checked here because the verifier
  // treats a wrong arity as a FusionRT bug (kInternal), while coming from a
  // model it is invalid input.
  if (const OpSchema* schema = OpRegistry::Global().Find(op)) {
    int n_in = static_cast<int>(inputs.size());
    if (schema->max_inputs >= 0) {
      while (n_in > schema->max_inputs && inputs[n_in - 1] == nullptr) --n_in;
    }
    if (n_in < schema->min_inputs || (schema->max_inputs >= 0 && n_in > schema->max_inputs)) {
      return Error(StatusCode::kInvalidModel, "has ", n_in, " inputs, expected ",
                   schema->min_inputs,
                   schema->max_inputs == schema->min_inputs ? ""
                   : schema->max_inputs < 0                ? " or more"
                                                           : StrCat(" to ", schema->max_inputs));
    }
  }
  for (Value* out : outputs) {
    if (out && (out->producer || out->constant || out->is_graph_input)) {
      return Error(StatusCode::kInvalidModel, "output \"", out->name,
                   "\" is already defined elsewhere in the graph (each value has one producer)");
    }
  }
  std::string name = suffix.empty() ? proto_.name() : StrCat(proto_.name(), "/", suffix);
  Node* n = graph_.AddNode(op, name);
  n->opset = opset_;
  n->inputs = std::move(inputs);
  n->outputs = std::move(outputs);
  n->attrs = std::move(attrs);
  n->source_nodes = {proto_.name()};
  for (Value* out : n->outputs) {
    if (out) out->producer = n;
  }
  return n;
}

Result<Value*> ImportContext::AddTemp(std::string_view hint) {
  for (;;) {
    std::string name = StrCat(proto_.name().empty() ? proto_.op_type() : proto_.name(), "/", hint,
                              "_", temp_counter_++);
    if (!graph_.FindValue(name)) return graph_.AddValue(name);
  }
}

Result<Value*> ImportContext::AddConstant(Tensor t, std::string_view hint) {
  FRT_ASSIGN_OR_RETURN(Value* v, AddTemp(hint));
  v->dtype = t.dtype();
  v->shape = Shape::FromDims(t.dims());
  v->constant = std::move(t);
  return v;
}

Result<Value*> ImportContext::AddInt64Constant(const std::vector<int64_t>& values,
                                               std::string_view hint) {
  return AddConstant(Tensor::FromVector<int64_t>(values, {static_cast<int64_t>(values.size())}),
                     hint);
}

Result<Value*> ImportContext::AddScalarLike(double value, Value* like, std::string_view hint) {
  if (like->dtype != DType::kUndefined) {
    FRT_ASSIGN_OR_RETURN(Tensor t, Tensor::Allocate(like->dtype, {}));
    VisitDType(like->dtype, [&](auto tag) {
      using T = typename decltype(tag)::type;
      t.data<T>()[0] = FromDouble<T>(value);
    });
    return AddConstant(std::move(t), hint);
  }
  FRT_ASSIGN_OR_RETURN(
      Value * f32, AddConstant(Tensor::FromVector<float>({static_cast<float>(value)}, {}), hint));
  FRT_ASSIGN_OR_RETURN(Value * out, AddTemp(hint));
  FRT_RETURN_IF_ERROR(Emit(OpKind::kCastLike, {f32, like}, {out}, {}, hint).status());
  return out;
}

Status ImportContext::SetConstantOutput(size_t i, Tensor t) {
  Value* out = output(i);
  if (!out) return Error(StatusCode::kInvalidModel, "missing output ", i);
  if (out->producer || out->constant || out->is_graph_input) {
    return Error(StatusCode::kInvalidModel, "output \"", out->name,
                 "\" is already defined elsewhere in the graph");
  }
  out->dtype = t.dtype();
  out->shape = Shape::FromDims(t.dims());
  out->constant = std::move(t);
  return Status::Ok();
}

void ImportRuleRegistry::AddDirect(OpKind kind, int min_opset, int max_opset) {
  rules_.push_back({OpKindName(kind), min_opset, max_opset, kind, nullptr});
}

const ImportRule* ImportRuleRegistry::Find(std::string_view op_type, int opset) const {
  for (const auto& r : rules_) {
    if (r.op_type == op_type && opset >= r.min_opset && opset <= r.max_opset) return &r;
  }
  return nullptr;
}

std::vector<const ImportRule*> ImportRuleRegistry::ForOp(std::string_view op_type) const {
  std::vector<const ImportRule*> out;
  for (const auto& r : rules_) {
    if (r.op_type == op_type) out.push_back(&r);
  }
  return out;
}

const ImportRuleRegistry& ImportRuleRegistry::Global() {
  static const ImportRuleRegistry* registry = [] {
    auto* r = new ImportRuleRegistry();
    RegisterElementwiseImports(*r);
    RegisterReductionImports(*r);
    RegisterTensorImports(*r);
    RegisterNnImports(*r);
    RegisterMiscImports(*r);
    RegisterControlFlowImports(*r);
    return r;
  }();
  return *registry;
}

}  // namespace frt
