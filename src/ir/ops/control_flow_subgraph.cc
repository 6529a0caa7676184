// Static inference over If/Loop/Scan subgraphs. Shape inference of the
// importer runs on the top-level graph only, so a control-flow node infers its
// own subgraph: it walks the body's nodes in topological order and runs each
// node's InferFn on a local table of dtypes/shapes (the body graph itself is
// never written, so concurrent inference stays safe). Inputs of unknown dtype
// leave a node's outputs unknown rather than failing. Declared subgraph
// types are a contract checked by the kernels, so they may refine the result.
#include "ir/ops/control_flow_subgraph.h"

#include <unordered_map>

namespace frt {

size_t NumExplicitInputs(const Node& node) {
  int64_t implicit = node.attrs.GetInt(kImplicitInputsAttr, 0);
  if (implicit < 0 || static_cast<uint64_t>(implicit) > node.inputs.size()) return 0;
  return node.inputs.size() - static_cast<size_t>(implicit);
}

Result<size_t> ExplicitInputCount(const InferContext& ctx) {
  int64_t implicit = ctx.attrs().GetInt(kImplicitInputsAttr, 0);
  if (implicit < 0 || static_cast<uint64_t>(implicit) > ctx.num_inputs()) {
    return ctx.Error(StatusCode::kInvalidModel, "attribute ", kImplicitInputsAttr, " is ", implicit,
                     " but the node has only ", ctx.num_inputs(), " inputs");
  }
  return ctx.num_inputs() - static_cast<size_t>(implicit);
}

Result<const Graph*> RequireGraph(const InferContext& ctx, const char* name) {
  std::shared_ptr<Graph> g = ctx.attrs().GetGraph(name);
  if (!g) {
    return ctx.Error(StatusCode::kInvalidModel, "graph attribute \"", name, "\" is missing");
  }
  return g.get();
}

std::optional<Shape> DeclaredShape(const Value& v) {
  if (!v.shape) return std::nullopt;
  std::vector<Dim> dims;
  for (const Dim& d : v.shape->dims()) dims.push_back(d.is_static() ? d : Dim());
  return Shape(std::move(dims));
}

bool RefineShape(const std::optional<Shape>& a, const std::optional<Shape>& b,
                 std::optional<Shape>* out) {
  if (!a || !b) {
    *out = a ? a : b;
    return true;
  }
  if (a->rank() != b->rank()) return false;
  Shape merged = *a;
  for (size_t i = 0; i < a->rank(); ++i) {
    const Dim& x = (*a)[i];
    const Dim& y = (*b)[i];
    if (x.is_static() && y.is_static() && x.value() != y.value()) return false;
    if (!x.is_static() && (y.is_static() || !x.is_symbol())) merged[i] = y;
  }
  *out = std::move(merged);
  return true;
}

std::optional<Shape> GeneralizeShape(const std::optional<Shape>& a, const std::optional<Shape>& b) {
  if (!a || !b || a->rank() != b->rank()) return std::nullopt;
  Shape out = *a;
  // Equal dims (static, or the same outer-scope symbol) stay; others become unknown.
  for (size_t i = 0; i < a->rank(); ++i) {
    if (!((*a)[i] == (*b)[i])) out[i] = Dim();
  }
  return out;
}

Dims LoopCounterDims(const Value& declared) {
  if (!declared.shape || !declared.shape->is_static()) return {};
  Dims dims = declared.shape->static_dims();
  auto n = NumElements(dims);
  return n.ok() && *n == 1 ? dims : Dims{};
}

bool MatchesDeclared(const Value& declared, const Tensor& t) {
  if (declared.dtype != DType::kUndefined && declared.dtype != t.dtype()) return false;
  if (!declared.shape) return true;
  if (declared.shape->rank() != t.rank()) return false;
  for (size_t d = 0; d < t.rank(); ++d) {
    const Dim& want = (*declared.shape)[d];
    if (want.is_static() && want.value() != t.dims()[d]) return false;
  }
  return true;
}

Result<std::vector<TensorInfo>> InferSubgraph(const InferContext& ctx, const Graph& body,
                                              const std::vector<TensorInfo>& inputs) {
  const std::string where = StrCat(ctx.node().Describe(), ": subgraph \"", body.name, "\"");
  if (inputs.size() != body.inputs().size()) {
    return MakeError(StatusCode::kInvalidModel, where, " takes ", body.inputs().size(),
                     " inputs, given ", inputs.size());
  }
  // References into an unordered_map stay valid as it grows, so InputInfo
  // may point at the shapes stored here.
  std::unordered_map<const Value*, TensorInfo> known;
  for (size_t i = 0; i < inputs.size(); ++i) known[body.inputs()[i]] = inputs[i];
  const Node& node = ctx.node();
  size_t n_explicit = NumExplicitInputs(node);
  for (const Value* v : body.values()) {
    if (known.count(v)) continue;
    if (v->constant) {
      known[v] = {v->dtype, Shape::FromDims(v->constant->dims()), &*v->constant};
    } else if (v->is_outer_scope) {
      TensorInfo info{v->dtype, v->shape, nullptr};
      for (size_t i = n_explicit; i < node.inputs.size(); ++i) {
        if (node.inputs[i] && node.inputs[i]->name == v->name && ctx.has_input(i)) {
          const Shape* s = ctx.input_shape(i);
          info = {ctx.input_dtype(i), s ? std::optional<Shape>(*s) : std::nullopt,
                  ctx.input_value(i)};
          break;
        }
      }
      known[v] = std::move(info);
    }
  }
  FRT_ASSIGN_OR_RETURN(std::vector<Node*> order, body.TopologicalOrder());
  for (const Node* n : order) {
    std::vector<InferContext::InputInfo> infos(n->inputs.size());
    bool complete = true;
    for (size_t i = 0; i < n->inputs.size() && complete; ++i) {
      if (!n->inputs[i]) continue;
      auto it = known.find(n->inputs[i]);
      if (it == known.end() || it->second.dtype == DType::kUndefined) {
        complete = false;
        break;
      }
      const TensorInfo& t = it->second;
      infos[i] = {t.dtype, t.shape ? &*t.shape : nullptr, t.value};
    }
    if (!complete) continue;  // outputs stay unknown
    InferContext sub(*n, std::move(infos));
    Status s = InferNode(sub);
    if (!s.ok()) return s.WithPrefix(where);
    for (size_t i = 0; i < n->outputs.size(); ++i) {
      if (n->outputs[i]) known[n->outputs[i]] = {sub.output_dtype(i), sub.output_shape(i), nullptr};
    }
  }
  std::vector<TensorInfo> outs;
  for (size_t i = 0; i < body.outputs().size(); ++i) {
    const Value* v = body.outputs()[i];
    TensorInfo info;
    if (auto it = known.find(v); it != known.end()) info = it->second;
    info.value = nullptr;
    if (v->dtype != DType::kUndefined) {
      if (info.dtype != DType::kUndefined && info.dtype != v->dtype) {
        return MakeError(StatusCode::kInvalidModel, where, ": output ", i, " (\"", v->name,
                         "\") is declared ", DTypeName(v->dtype), " but computes ",
                         DTypeName(info.dtype));
      }
      info.dtype = v->dtype;
    }
    std::optional<Shape> declared = DeclaredShape(*v);
    if (!RefineShape(info.shape, declared, &info.shape)) {
      return MakeError(StatusCode::kInvalidModel, where, ": output ", i, " (\"", v->name,
                       "\") is declared with shape ", declared->ToString(), " but computes ",
                       info.shape->ToString());
    }
    outs.push_back(std::move(info));
  }
  return outs;
}

}  // namespace frt
