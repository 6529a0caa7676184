// Interpreter loop: topological order, per-node inference on concrete shapes,
// output allocation, kernel call, post-check, and release of intermediates
// after their last use. Subgraphs (If/Loop/Scan) run through the same loop
// with an environment chained to the caller's for outer-scope values.
#include "backends/cpu/reference_executor.h"

#include <unordered_map>

#include "backends/cpu/kernel.h"
#include "ir/op_registry.h"

namespace frt {
namespace {

struct Env {
  const Graph* graph = nullptr;
  std::unordered_map<const Value*, Tensor> values;
  OuterLookup outer;  // resolves outer-scope values (subgraphs only)

  const Tensor* Lookup(const Value* v) const {
    auto it = values.find(v);  // first: a fed graph input overrides its initializer
    if (it != values.end()) return &it->second;
    if (v->constant) return &*v->constant;
    if (v->is_outer_scope && outer) return outer(v->name);
    return nullptr;
  }
  const Tensor* LookupName(const std::string& name) const {
    const Value* v = graph->FindValue(name);
    return v ? Lookup(v) : nullptr;
  }
};


Status RunNode(const Node& node, Env& env);

Result<std::vector<Tensor>> RunGraph(const Graph& g, Env& env) {
  FRT_ASSIGN_OR_RETURN(std::vector<Node*> order, g.TopologicalOrder());
  // Last consumer position of each value, to free intermediates early.
  std::unordered_map<const Value*, size_t> last_use;
  for (size_t i = 0; i < order.size(); ++i) {
    for (const Value* in : order[i]->inputs) {
      if (in) last_use[in] = i;
    }
  }
  for (const Value* out : g.outputs()) last_use[out] = order.size();
  for (size_t i = 0; i < order.size(); ++i) {
    FRT_RETURN_IF_ERROR(RunNode(*order[i], env));
    for (const Value* in : order[i]->inputs) {
      if (in && in->producer && last_use[in] == i) env.values.erase(in);
    }
  }
  std::vector<Tensor> results;
  for (const Value* out : g.outputs()) {
    const Tensor* t = env.Lookup(out);
    if (t == nullptr) {
      return MakeError(StatusCode::kInvalidModel, "graph output \"", out->name,
                       "\" was not computed (nothing produces it)");
    }
    results.push_back(*t);
  }
  return results;
}

Result<std::vector<Tensor>> RunSubgraphIn(const Graph& sub, const std::vector<Tensor>& feeds,
                                          OuterLookup outer) {
  Env child;
  child.graph = &sub;
  child.outer = std::move(outer);
  if (feeds.size() != sub.inputs().size()) {
    return MakeError(StatusCode::kInvalidModel, "subgraph \"", sub.name, "\" takes ",
                     sub.inputs().size(), " inputs, given ", feeds.size());
  }
  for (size_t i = 0; i < feeds.size(); ++i) child.values[sub.inputs()[i]] = feeds[i];
  return RunGraph(sub, child);
}

Status RunNode(const Node& node, Env& env) {
  std::vector<const Tensor*> inputs(node.inputs.size(), nullptr);
  for (size_t i = 0; i < node.inputs.size(); ++i) {
    const Value* v = node.inputs[i];
    if (!v) continue;
    inputs[i] = env.Lookup(v);
    if (!inputs[i]) {
      return MakeError(StatusCode::kInvalidModel, node.Describe(), ": input ", i, " (\"", v->name,
                       "\") has no value: it is neither computed, a graph input nor a constant");
    }
  }
  // Outer-scope reads from this node's subgraphs resolve in this graph's environment.
  OuterLookup outer = [&env](const std::string& name) { return env.LookupName(name); };
  FRT_ASSIGN_OR_RETURN(std::vector<Tensor> outputs,
                       EvaluateNode(node, inputs, AllocateOwnedOutput, outer));
  for (size_t i = 0; i < node.outputs.size(); ++i) {
    if (node.outputs[i]) env.values[node.outputs[i]] = std::move(outputs[i]);
  }
  return Status::Ok();
}

}  // namespace

Result<Tensor> AllocateOwnedOutput(const Value&, DType dtype, const Dims& dims) {
  return Tensor::Allocate(dtype, dims);
}

Result<std::vector<Tensor>> EvaluateNode(const Node& node, const std::vector<const Tensor*>& inputs,
                                         const OutputPlacer& placer, const OuterLookup& outer) {
  std::vector<Shape> shapes(node.inputs.size());
  std::vector<InferContext::InputInfo> infos(node.inputs.size());
  for (size_t i = 0; i < node.inputs.size() && i < inputs.size(); ++i) {
    if (!inputs[i]) continue;
    shapes[i] = Shape::FromDims(inputs[i]->dims());
    infos[i] = {inputs[i]->dtype(), &shapes[i], inputs[i]};
  }
  InferContext ictx(node, std::move(infos));
  FRT_RETURN_IF_ERROR(InferNode(ictx));

  std::vector<Tensor> outputs(node.outputs.size());
  for (size_t i = 0; i < node.outputs.size(); ++i) {
    if (!node.outputs[i]) continue;
    const auto& shape = ictx.output_shape(i);
    if (shape && shape->is_static() && ictx.output_dtype(i) != DType::kUndefined) {
      auto t = placer(*node.outputs[i], ictx.output_dtype(i), shape->static_dims());
      if (!t.ok()) return t.status().WithPrefix(node.Describe());
      outputs[i] = std::move(*t);
    }
  }
  SubgraphRunner runner = [&outer](const Graph& sub, const std::vector<Tensor>& feeds) {
    return RunSubgraphIn(sub, feeds, outer);
  };
  KernelContext kctx(node, inputs, &outputs, runner);
  FRT_RETURN_IF_ERROR(CpuKernelRegistry::Global().Find(node.op)(kctx));

  for (size_t i = 0; i < node.outputs.size(); ++i) {
    if (!node.outputs[i]) continue;
    const Tensor& t = outputs[i];
    if (!t.defined()) {
      return MakeError(StatusCode::kInternal, node.Describe(), ": kernel did not produce output ", i);
    }
    DType want = ictx.output_dtype(i);
    if (want != DType::kUndefined && t.dtype() != want) {
      return MakeError(StatusCode::kInternal, node.Describe(), ": output ", i, " has dtype ",
                       DTypeName(t.dtype()), " but inference said ", DTypeName(want));
    }
    const auto& shape = ictx.output_shape(i);
    if (shape) {
      bool match = shape->rank() == t.rank();
      for (size_t d = 0; match && d < t.rank(); ++d) {
        if ((*shape)[d].is_static() && (*shape)[d].value() != t.dims()[d]) match = false;
      }
      if (!match) {
        return MakeError(StatusCode::kInternal, node.Describe(), ": output ", i, " has shape ",
                         DimsToString(t.dims()), " but inference said ", shape->ToString());
      }
    }
  }
  return outputs;
}

Status CheckGraphKernels(const Graph& g) {
  for (const Node* n : g.nodes()) {
    if (OpRegistry::Global().Find(n->op) == nullptr ||
        CpuKernelRegistry::Global().Find(n->op) == nullptr) {
      return MakeError(StatusCode::kUnsupported, n->Describe(),
                       ": no CPU reference kernel for this op");
    }
    for (const auto& [name, attr] : n->attrs.all()) {
      if (const auto* sub = std::get_if<std::shared_ptr<Graph>>(&attr)) {
        FRT_RETURN_IF_ERROR(CheckGraphKernels(**sub));
      }
    }
  }
  return Status::Ok();
}

Status CheckInputTensor(const Value& v, const Tensor& t, std::map<std::string, int64_t>& symbols) {
  if (v.dtype != DType::kUndefined && t.dtype() != v.dtype) {
    return MakeError(StatusCode::kInvalidArgument, "input \"", v.name, "\": expected dtype ",
                     DTypeName(v.dtype), ", got ", DTypeName(t.dtype()));
  }
  if (!v.shape) return Status::Ok();
  const Shape& want = *v.shape;
  if (want.rank() != t.rank()) {
    return MakeError(StatusCode::kInvalidArgument, "input \"", v.name, "\": expected rank ",
                     want.rank(), " shape ", want.ToString(), ", got ", DimsToString(t.dims()));
  }
  for (size_t d = 0; d < want.rank(); ++d) {
    const Dim& w = want[d];
    int64_t got = t.dims()[d];
    if (w.is_static() && w.value() != got) {
      return MakeError(StatusCode::kInvalidArgument, "input \"", v.name, "\": expected shape ",
                       want.ToString(), ", got ", DimsToString(t.dims()), " (dimension ", d,
                       ": expected ", w.value(), ", got ", got, ")");
    }
    if (w.is_symbol()) {
      auto [it, inserted] = symbols.emplace(w.symbol(), got);
      if (!inserted && it->second != got) {
        return MakeError(StatusCode::kInvalidArgument, "input \"", v.name, "\": dimension ", d,
                         " (\"", w.symbol(), "\") is ", got, " but another input set \"",
                         w.symbol(), "\" to ", it->second);
      }
    }
  }
  return Status::Ok();
}

Result<std::unique_ptr<ReferenceExecutor>> ReferenceExecutor::Create(const Graph& graph) {
  FRT_RETURN_IF_ERROR(CheckGraphKernels(graph));
  FRT_RETURN_IF_ERROR(graph.TopologicalOrder().status());
  return std::unique_ptr<ReferenceExecutor>(new ReferenceExecutor(graph));
}

Result<std::vector<Tensor>> ReferenceExecutor::Run(const std::map<std::string, Tensor>& inputs) const {
  Env env;
  env.graph = &graph_;
  std::map<std::string, int64_t> symbols;
  for (const Value* in : graph_.inputs()) {
    auto it = inputs.find(in->name);
    if (it == inputs.end()) {
      if (in->constant) continue;  // initializer acts as the default
      return MakeError(StatusCode::kInvalidArgument, "missing graph input \"", in->name,
                       "\" (expected ", in->Describe(), ")");
    }
    FRT_RETURN_IF_ERROR(CheckInputTensor(*in, it->second, symbols));
    env.values[in] = it->second;
  }
  for (const auto& [name, t] : inputs) {
    const Value* v = graph_.FindValue(name);
    if (v == nullptr || !v->is_graph_input) {
      return MakeError(StatusCode::kNotFound, "\"", name, "\" is not an input of the graph");
    }
  }
  return RunGraph(graph_, env);
}

}  // namespace frt
