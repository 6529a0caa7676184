// NetworkDefinition and LayerAttributes: the public face of an IR graph under
// construction. Hand-added layers are checked for what can be checked before
// build (op supported, names, arity); types and shapes are inferred at build.
#include "fusionrt/network.h"

#include <cstring>

#include "ir/graph.h"
#include "ir/op_registry.h"
#include "ir/printer.h"

namespace frt {

// Hand-built layers follow the newest ONNX semantics the IR implements.
constexpr int kHandBuiltOpset = 21;

struct LayerAttributes::Impl {
  Attributes attrs;
};

LayerAttributes::LayerAttributes() : impl_(std::make_unique<Impl>()) {}
LayerAttributes::~LayerAttributes() = default;
LayerAttributes::LayerAttributes(const LayerAttributes& o) : impl_(std::make_unique<Impl>(*o.impl_)) {}
LayerAttributes& LayerAttributes::operator=(const LayerAttributes& o) {
  *impl_ = *o.impl_;
  return *this;
}
LayerAttributes& LayerAttributes::SetInt(const std::string& name, int64_t v) {
  impl_->attrs.Set(name, v);
  return *this;
}
LayerAttributes& LayerAttributes::SetFloat(const std::string& name, float v) {
  impl_->attrs.Set(name, v);
  return *this;
}
LayerAttributes& LayerAttributes::SetString(const std::string& name, const std::string& v) {
  impl_->attrs.Set(name, v);
  return *this;
}
LayerAttributes& LayerAttributes::SetInts(const std::string& name, const std::vector<int64_t>& v) {
  impl_->attrs.Set(name, v);
  return *this;
}
LayerAttributes& LayerAttributes::SetFloats(const std::string& name, const std::vector<float>& v) {
  impl_->attrs.Set(name, v);
  return *this;
}

namespace {

Result<Tensor> CopyTensor(const std::string& what, DType dtype, const Dims& dims, const void* data) {
  if (dtype == DType::kUndefined) {
    return MakeError(StatusCode::kInvalidArgument, what, ": dtype is undefined");
  }
  auto t = Tensor::Allocate(dtype, dims);
  if (!t.ok()) return t.status().WithPrefix(what);
  if (t->nbytes() > 0) {
    if (data == nullptr) {
      return MakeError(StatusCode::kInvalidArgument, what, ": data is null for ", t->Describe());
    }
    std::memcpy(t->raw(), data, t->nbytes());
  }
  return *t;
}

}  // namespace

Status LayerAttributes::SetTensor(const std::string& name, DType dtype, const Dims& dims,
                                  const void* data) {
  FRT_ASSIGN_OR_RETURN(Tensor t, CopyTensor(StrCat("attribute \"", name, "\""), dtype, dims, data));
  impl_->attrs.Set(name, std::move(t));
  return Status::Ok();
}

NetworkDefinition::NetworkDefinition() : graph_(std::make_unique<Graph>()) {}
NetworkDefinition::~NetworkDefinition() = default;
NetworkDefinition::NetworkDefinition(NetworkDefinition&&) noexcept = default;
NetworkDefinition& NetworkDefinition::operator=(NetworkDefinition&&) noexcept = default;

NetworkDefinition NetworkDefinition::FromGraph(std::unique_ptr<Graph> graph) {
  NetworkDefinition n;
  n.graph_ = std::move(graph);
  return n;
}

Status NetworkDefinition::AddInput(const std::string& name, DType dtype,
                                   const std::vector<InputDim>& dims) {
  if (dtype == DType::kUndefined) {
    return MakeError(StatusCode::kInvalidArgument, "input \"", name, "\": dtype is undefined");
  }
  std::vector<Dim> shape;
  for (const InputDim& d : dims) {
    if (d.size >= 0) {
      shape.push_back(Dim(d.size));
    } else if (d.size == -1) {
      shape.push_back(d.name.empty() ? Dim::Unknown() : Dim::Symbol(d.name));
    } else {
      return MakeError(StatusCode::kInvalidArgument, "input \"", name, "\": dimension size ",
                       d.size, " is negative");
    }
  }
  FRT_ASSIGN_OR_RETURN(Value * v, graph_->AddValue(name));
  v->dtype = dtype;
  v->shape = Shape(std::move(shape));
  graph_->AddInput(v);
  return Status::Ok();
}

Status NetworkDefinition::AddConstant(const std::string& name, DType dtype, const Dims& dims,
                                      const void* data) {
  FRT_ASSIGN_OR_RETURN(Tensor t, CopyTensor(StrCat("constant \"", name, "\""), dtype, dims, data));
  FRT_ASSIGN_OR_RETURN(Value * v, graph_->AddValue(name));
  v->dtype = dtype;
  v->shape = Shape::FromDims(dims);
  v->constant = std::move(t);
  return Status::Ok();
}

Status NetworkDefinition::AddLayer(const std::string& op_type, const std::string& layer_name,
                                   const std::vector<std::string>& inputs,
                                   const std::vector<std::string>& outputs,
                                   const LayerAttributes& attrs) {
  std::string where = StrCat(op_type, " (layer \"", layer_name, "\")");
  std::optional<OpKind> kind = OpKindFromName(op_type);
  const OpSchema* schema = kind ? OpRegistry::Global().Find(*kind) : nullptr;
  if (schema == nullptr) {
    return MakeError(StatusCode::kUnsupported, where, ": operator \"", op_type,
                     "\" is not supported (see `fusionrt ops`)");
  }
  auto count_ok = [](size_t n, int lo, int hi) {
    return static_cast<int>(n) >= lo && (hi < 0 || static_cast<int>(n) <= hi);
  };
  if (!count_ok(inputs.size(), schema->min_inputs, schema->max_inputs)) {
    return MakeError(StatusCode::kInvalidArgument, where, ": takes ", schema->min_inputs, "..",
                     schema->max_inputs < 0 ? std::string("n") : std::to_string(schema->max_inputs),
                     " inputs, given ", inputs.size());
  }
  if (outputs.empty() || !count_ok(outputs.size(), schema->min_outputs, schema->max_outputs)) {
    return MakeError(StatusCode::kInvalidArgument, where, ": produces ", schema->min_outputs, "..",
                     schema->max_outputs, " outputs, given ", outputs.size(), " names");
  }
  std::vector<Value*> in_values;
  for (const std::string& in : inputs) {
    if (in.empty()) {
      in_values.push_back(nullptr);
      continue;
    }
    Value* v = graph_->FindValue(in);
    if (v == nullptr) {
      return MakeError(StatusCode::kNotFound, where, ": input tensor \"", in,
                       "\" does not exist (add it as an input, a constant or a layer output first)");
    }
    in_values.push_back(v);
  }
  for (const std::string& out : outputs) {
    if (!out.empty() && graph_->FindValue(out) != nullptr) {
      return MakeError(StatusCode::kInvalidArgument, where, ": output tensor name \"", out,
                       "\" is already used");
    }
  }
  for (const auto& [name, value] : attrs.impl().attrs.all()) {
    if (std::holds_alternative<std::shared_ptr<Graph>>(value)) {
      return MakeError(StatusCode::kUnsupported, where, ": graph attribute \"", name,
                       "\" cannot be given by hand; import control flow from ONNX");
    }
  }
  Node* node = graph_->AddNode(*kind, layer_name);
  node->opset = kHandBuiltOpset;
  node->inputs = std::move(in_values);
  node->attrs = attrs.impl().attrs;
  if (!layer_name.empty()) node->source_nodes.push_back(layer_name);
  for (const std::string& out : outputs) {
    if (out.empty()) {
      node->outputs.push_back(nullptr);
      continue;
    }
    FRT_ASSIGN_OR_RETURN(Value * v, graph_->AddValue(out));
    v->producer = node;
    node->outputs.push_back(v);
  }
  return Status::Ok();
}

Status NetworkDefinition::MarkOutput(const std::string& name) {
  Value* v = graph_->FindValue(name);
  if (v == nullptr) {
    return MakeError(StatusCode::kNotFound, "MarkOutput: tensor \"", name, "\" does not exist");
  }
  for (const Value* o : graph_->outputs()) {
    if (o == v) {
      return MakeError(StatusCode::kInvalidArgument, "MarkOutput: \"", name,
                       "\" is already an output");
    }
  }
  graph_->AddOutput(v);
  return Status::Ok();
}

std::vector<std::string> NetworkDefinition::input_names() const {
  std::vector<std::string> names;
  for (const Value* v : graph_->inputs()) names.push_back(v->name);
  return names;
}

std::vector<std::string> NetworkDefinition::output_names() const {
  std::vector<std::string> names;
  for (const Value* v : graph_->outputs()) names.push_back(v->name);
  return names;
}

size_t NetworkDefinition::num_layers() const { return graph_->num_nodes(); }

std::string NetworkDefinition::ToString() const { return PrintGraph(*graph_); }

}  // namespace frt
