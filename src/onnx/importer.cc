// ONNX -> IR. Graph import runs in two passes so that node order in the file
// does not matter and cycles are reported as cycles: pass 1 creates a Value
// for every initializer, input and node output; pass 2 resolves node inputs
// and applies each node's import rule. Subgraphs (If/Loop/Scan bodies) are
// imported recursively; a name they do not define resolves to the enclosing
// graphs' values as an outer-scope reference.
#include "onnx/importer.h"

#include <filesystem>
#include <fstream>
#include <set>

#include "ir/shape_inference.h"
#include "ir/verifier.h"
#include "onnx/import_context.h"
#include "onnx/onnx_types.h"

namespace frt {
namespace {

struct ImportState {
  int opset = 0;
  std::string base_dir;
  int depth = 0;
};

constexpr int kMaxGraphDepth = 32;

Result<std::unique_ptr<Graph>> ImportGraph(const onnx::GraphProto& gp, const Graph* parent,
                                           ImportState& st);

Result<Value*> ResolveName(Graph& g, const std::string& name) {
  if (Value* v = g.FindValue(name)) return v;
  for (const Graph* p = g.parent; p; p = p->parent) {
    if (const Value* outer = p->FindValue(name)) {
      FRT_ASSIGN_OR_RETURN(Value* v, g.AddValue(name));
      v->is_outer_scope = true;
      v->dtype = outer->dtype;
      v->shape = outer->shape;
      return v;
    }
  }
  return nullptr;
}

Result<AttrValue> ConvertAttribute(const onnx::AttributeProto& a, const Graph* owner,
                                   ImportState& st) {
  using AP = onnx::AttributeProto;
  if (!a.ref_attr_name().empty()) {
    return MakeError(StatusCode::kUnsupported, "attribute \"", a.name(),
                     "\" refers to a function attribute; model-local functions are not supported");
  }
  int type = a.type();
  if (type == AP::UNDEFINED) {  // very old models omit the type; infer it from the field set
    if (a.has_f()) type = AP::FLOAT;
    else if (a.has_i()) type = AP::INT;
    else if (a.has_s()) type = AP::STRING;
    else if (a.has_t()) type = AP::TENSOR;
    else if (a.has_g()) type = AP::GRAPH;
    else if (a.floats_size()) type = AP::FLOATS;
    else if (a.ints_size()) type = AP::INTS;
    else if (a.strings_size()) type = AP::STRINGS;
  }
  switch (type) {
    case AP::FLOAT: return AttrValue(a.f());
    case AP::INT: return AttrValue(static_cast<int64_t>(a.i()));
    case AP::STRING: return AttrValue(a.s());
    case AP::FLOATS: return AttrValue(std::vector<float>(a.floats().begin(), a.floats().end()));
    case AP::INTS: return AttrValue(std::vector<int64_t>(a.ints().begin(), a.ints().end()));
    case AP::STRINGS: return AttrValue(std::vector<std::string>(a.strings().begin(), a.strings().end()));
    case AP::TENSOR: {
      FRT_ASSIGN_OR_RETURN(Tensor t, TensorFromProto(a.t(), st.base_dir));
      return AttrValue(std::move(t));
    }
    case AP::GRAPH: {
      FRT_ASSIGN_OR_RETURN(std::unique_ptr<Graph> g, ImportGraph(a.g(), owner, st));
      return AttrValue(std::shared_ptr<Graph>(std::move(g)));
    }
    default:
      return MakeError(StatusCode::kUnsupported, "attribute \"", a.name(), "\" has type ",
                       AP::AttributeType_Name(static_cast<AP::AttributeType>(type)),
                       ", which is not supported");
  }
}

Status ApplyTypeProto(const onnx::TypeProto& tp, Value& v) {
  if (!tp.has_tensor_type()) {
    return MakeError(StatusCode::kUnsupported, "value \"", v.name,
                     "\" is not a tensor (sequence, map and optional types are not supported)");
  }
  const auto& tt = tp.tensor_type();
  auto dt = DTypeFromOnnx(tt.elem_type());
  if (!dt.ok()) return dt.status().WithPrefix(StrCat("value \"", v.name, "\""));
  v.dtype = *dt;
  if (!tt.has_shape()) {
    v.shape.reset();
    return Status::Ok();
  }
  std::vector<Dim> dims;
  for (const auto& d : tt.shape().dim()) {
    if (d.has_dim_value()) {
      if (d.dim_value() < 0) {
        return MakeError(StatusCode::kInvalidModel, "value \"", v.name, "\" has negative dimension ",
                         d.dim_value());
      }
      dims.emplace_back(d.dim_value());
    } else if (d.has_dim_param() && !d.dim_param().empty()) {
      dims.push_back(Dim::Symbol(d.dim_param()));
    } else {
      dims.emplace_back();
    }
  }
  v.shape = Shape(std::move(dims));
  return Status::Ok();
}

Status ImportConstant(ImportContext& ctx) {
  const Attributes& a = ctx.attrs();
  if (a.all().size() != 1) {
    return ctx.Error(StatusCode::kInvalidModel, "expected exactly one value attribute, got ",
                     a.all().size());
  }
  const auto& [name, value] = *a.all().begin();
  Tensor t;
  if (const Tensor* tv = a.GetTensor("value")) {
    t = *tv;
  } else if (name == "value_float") {
    t = Tensor::FromVector<float>({a.GetFloat(name)}, {});
  } else if (name == "value_floats") {
    auto v = a.GetFloats(name);
    t = Tensor::FromVector<float>(v, {static_cast<int64_t>(v.size())});
  } else if (name == "value_int") {
    t = Tensor::FromVector<int64_t>({a.GetInt(name)}, {});
  } else if (name == "value_ints") {
    auto v = a.GetInts(name);
    t = Tensor::FromVector<int64_t>(v, {static_cast<int64_t>(v.size())});
  } else {
    return ctx.Error(StatusCode::kUnsupported, "attribute \"", name, "\" is not supported",
                     " (sparse and string constants are not supported)");
  }
  return ctx.SetConstantOutput(0, std::move(t));
}

Status ImportNode(Graph& g, const onnx::NodeProto& np, ImportState& st) {
  std::string where = StrCat(np.op_type(), " (node \"", np.name(), "\", opset ", st.opset, ")");
  if (!np.domain().empty() && np.domain() != "ai.onnx") {
    return MakeError(StatusCode::kUnsupported, where, ": domain \"", np.domain(),
                     "\" is not supported (only the default ai.onnx domain is)");
  }
  const ImportRule* rule = nullptr;
  bool is_constant = np.op_type() == "Constant";
  if (!is_constant) {
    rule = ImportRuleRegistry::Global().Find(np.op_type(), st.opset);
    if (!rule) {
      auto rules = ImportRuleRegistry::Global().ForOp(np.op_type());
      if (rules.empty()) {
        return MakeError(StatusCode::kUnsupported, where, ": op type \"", np.op_type(),
                         "\" is not supported by FusionRT");
      }
      std::string ranges;
      for (const ImportRule* r : rules) ranges += StrCat(ranges.empty() ? "" : ", ", r->min_opset, "-", r->max_opset);
      return MakeError(StatusCode::kUnsupported, where, ": opset ", st.opset,
                       " of this op is not supported (supported opsets: ", ranges, ")");
    }
  }
  std::vector<Value*> inputs;
  for (int i = 0; i < np.input_size(); ++i) {
    if (np.input(i).empty()) {
      inputs.push_back(nullptr);
      continue;
    }
    FRT_ASSIGN_OR_RETURN(Value* v, ResolveName(g, np.input(i)));
    if (!v) {
      return MakeError(StatusCode::kInvalidModel, where, ": input ", i, " \"", np.input(i),
                       "\" is not defined (no node, graph input or initializer produces it)");
    }
    inputs.push_back(v);
  }
  std::vector<Value*> outputs;
  for (int i = 0; i < np.output_size(); ++i) {
    outputs.push_back(np.output(i).empty() ? nullptr : g.FindValue(np.output(i)));
  }
  while (!outputs.empty() && outputs.back() == nullptr) outputs.pop_back();
  Attributes attrs;
  std::set<std::string> seen;
  for (const auto& a : np.attribute()) {
    if (!seen.insert(a.name()).second) {
      return MakeError(StatusCode::kInvalidModel, where, ": attribute \"", a.name(),
                       "\" appears twice");
    }
    auto v = ConvertAttribute(a, &g, st);
    if (!v.ok()) return v.status().WithPrefix(where);
    attrs.Set(a.name(), std::move(*v));
  }
  ImportContext ctx(g, np, st.opset, is_constant ? OpKind::kIdentity : rule->kind,
                    std::move(inputs), std::move(outputs), std::move(attrs));
  if (is_constant) return ImportConstant(ctx);
  if (rule->adapter) return rule->adapter(ctx);
  return ctx.EmitDirect(rule->kind).status();
}

Result<std::unique_ptr<Graph>> ImportGraph(const onnx::GraphProto& gp, const Graph* parent,
                                           ImportState& st) {
  if (++st.depth > kMaxGraphDepth) {
    return MakeError(StatusCode::kInvalidModel, "subgraphs nested deeper than ", kMaxGraphDepth);
  }
  auto g = std::make_unique<Graph>();
  g->name = gp.name();
  g->parent = parent;
  std::string where = StrCat("graph \"", gp.name(), "\"");
  if (gp.sparse_initializer_size() > 0) {
    return MakeError(StatusCode::kUnsupported, where, ": sparse initializers are not supported");
  }
  // Pass 1: define every value.
  for (const auto& init : gp.initializer()) {
    if (init.name().empty()) {
      return MakeError(StatusCode::kInvalidModel, where, ": an initializer has no name");
    }
    FRT_ASSIGN_OR_RETURN(Tensor t, TensorFromProto(init, st.base_dir));
    FRT_ASSIGN_OR_RETURN(Value* v, g->AddValue(init.name()));
    v->dtype = t.dtype();
    v->shape = Shape::FromDims(t.dims());
    v->constant = std::move(t);
  }
  for (const auto& in : gp.input()) {
    Value* v = g->FindValue(in.name());
    if (v && v->is_graph_input) {
      return MakeError(StatusCode::kInvalidModel, where, ": graph input \"", in.name(),
                       "\" is listed twice");
    }
    if (!v) {
      FRT_ASSIGN_OR_RETURN(v, g->AddValue(in.name()));
      // Subgraph (Loop/Scan body) inputs may be untyped: their types come from the node.
      bool untyped = in.type().value_case() == onnx::TypeProto::VALUE_NOT_SET;
      Status s = (untyped && parent) ? Status::Ok() : ApplyTypeProto(in.type(), *v);
      if (!s.ok()) return s.WithPrefix(where);
    } else if (in.has_type() && in.type().has_tensor_type()) {
      auto dt = DTypeFromOnnx(in.type().tensor_type().elem_type());
      if (!dt.ok() || *dt != v->dtype) {
        return MakeError(StatusCode::kInvalidModel, where, ": graph input \"", in.name(),
                         "\" is declared with another dtype than its initializer (",
                         DTypeName(v->dtype), ")");
      }
    }
    g->AddInput(v);
  }
  for (const auto& np : gp.node()) {
    for (const auto& out : np.output()) {
      if (out.empty()) continue;
      auto v = g->AddValue(out);
      if (!v.ok()) {
        return v.status().WithPrefix(StrCat(np.op_type(), " (node \"", np.name(), "\")"));
      }
    }
  }
  // Pass 2: nodes.
  for (const auto& np : gp.node()) FRT_RETURN_IF_ERROR(ImportNode(*g, np, st));
  for (const auto& out : gp.output()) {
    Value* v = g->FindValue(out.name());
    if (!v) {
      auto outer = ResolveName(*g, out.name());
      if (outer.ok() && *outer) v = *outer;
    }
    if (!v || (!v->producer && !v->constant && !v->is_graph_input && !v->is_outer_scope)) {
      return MakeError(StatusCode::kInvalidModel, where, ": graph output \"", out.name(),
                       "\" is not produced by any node, input or initializer");
    }
    if (out.has_type() && v->dtype == DType::kUndefined) {
      Value declared;
      declared.name = out.name();
      Status s = ApplyTypeProto(out.type(), declared);
      if (!s.ok()) return s.WithPrefix(where);
      v->dtype = declared.dtype;  // shape comes from inference; dtype helps subgraph users
      if (!v->shape) v->shape = declared.shape;
    }
    g->AddOutput(v);
  }
  --st.depth;
  return g;
}

}  // namespace

Result<std::unique_ptr<Graph>> ImportOnnxBytes(std::string_view bytes, const std::string& base_dir,
                                               const ImportOptions& options) {
  if (bytes.empty()) return MakeError(StatusCode::kInvalidModel, "model is empty (0 bytes)");
  if (bytes.size() > options.max_model_bytes || bytes.size() > size_t{INT32_MAX}) {
    return MakeError(StatusCode::kResourceExhausted, "model has ", bytes.size(),
                     " bytes, above the limit of ", options.max_model_bytes);
  }
  onnx::ModelProto model;
  if (!model.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return MakeError(StatusCode::kInvalidModel,
                     "not a valid ONNX protobuf (truncated or corrupt ModelProto)");
  }
  if (model.ir_version() < 3) {
    return MakeError(StatusCode::kInvalidModel, "IR version ", model.ir_version(),
                     " is not valid (expected >= 3)");
  }
  if (!model.has_graph()) return MakeError(StatusCode::kInvalidModel, "model has no graph");
  if (model.functions_size() > 0) {
    return MakeError(StatusCode::kUnsupported, "model-local functions are not supported (",
                     model.functions(0).name(), ")");
  }
  ImportState st;
  st.base_dir = base_dir;
  for (const auto& op : model.opset_import()) {
    if (op.domain().empty() || op.domain() == "ai.onnx") st.opset = static_cast<int>(op.version());
  }
  if (st.opset == 0) {
    return MakeError(StatusCode::kInvalidModel, "model imports no ai.onnx opset");
  }
  if (st.opset < 1 || st.opset > kMaxSupportedOpset) {
    return MakeError(StatusCode::kUnsupported, "ai.onnx opset ", st.opset,
                     " is not supported (supported: 1 to ", kMaxSupportedOpset, ")");
  }
  FRT_ASSIGN_OR_RETURN(std::unique_ptr<Graph> g, ImportGraph(model.graph(), nullptr, st));
  FRT_RETURN_IF_ERROR(VerifyGraph(*g));
  if (options.infer_shapes) FRT_RETURN_IF_ERROR(InferGraphShapes(*g));
  return g;
}

Result<std::unique_ptr<Graph>> ImportOnnxFile(const std::string& path, const ImportOptions& options) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    return MakeError(StatusCode::kNotFound, "model file \"", path, "\" does not exist or is not a file");
  }
  uint64_t size = fs::file_size(path, ec);
  if (ec) return MakeError(StatusCode::kIoError, "cannot read \"", path, "\"");
  if (size > options.max_model_bytes) {
    return MakeError(StatusCode::kResourceExhausted, "\"", path, "\": model has ", size,
                     " bytes, above the limit of ", options.max_model_bytes);
  }
  std::ifstream in(path, std::ios::binary);
  std::string bytes(size, '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(size));
  if (!in) return MakeError(StatusCode::kIoError, "cannot read \"", path, "\"");
  std::string base = fs::path(path).parent_path().string();
  if (base.empty()) base = ".";
  auto g = ImportOnnxBytes(bytes, base, options);
  if (!g.ok()) return g.status().WithPrefix(StrCat("\"", path, "\""));
  return g;
}

}  // namespace frt
