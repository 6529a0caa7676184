// Concrete shape propagation: one topological walk. Each node's inference
// runs on the concrete dims (or, past a data-dependent op, on the partial
// shape inference could still give: rank and static dims) and on the input
// values known so far. Outputs whose values matter for later shape arithmetic
// become known in two ways: inference publishes them (Shape, Size), or the
// node is small, deterministic and fed only known values, so the reference
// kernel evaluates it here. Evaluation is capped by element count so that
// propagation stays cheap even when a whole subnetwork hangs off constants.
#include "backends/cpu/shape_propagation.h"

#include "backends/cpu/kernel.h"
#include "backends/cpu/reference_executor.h"
#include "ir/op_predicates.h"
#include "ir/op_registry.h"

namespace frt {
namespace {

// Ops whose kernel results must not be treated as known values: control flow
// (runs subgraphs with outer-scope reads) and random number generators.
bool MayEvaluate(const Node& node) {
  if (IsControlFlowOp(node.op) || IsRandomOp(node.op)) return false;
  if (node.op == OpKind::kDropout && node.has_input(2)) return false;  // training_mode: random
  return CpuKernelRegistry::Global().Find(node.op) != nullptr;
}

// Most inference errors already start with the node's description; add it
// where a helper's error does not.
Status WithNode(const Status& s, const Node& node) {
  std::string d = node.Describe();
  if (s.message().rfind(d, 0) == 0) return s;
  return s.WithPrefix(d);
}

// Symbols become unknown dims: a partial shape past a data-dependent op keeps
// only what is certain at these input dims.
Shape WithoutSymbols(const Shape& s) {
  std::vector<Dim> dims = s.dims();
  for (Dim& d : dims) {
    if (!d.is_static()) d = Dim::Unknown();
  }
  return Shape(std::move(dims));
}

Status CheckGivenDims(const Value& v, const Dims& given, std::map<std::string, int64_t>& symbols) {
  auto fail = [&](const auto&... why) {
    return MakeError(StatusCode::kInvalidArgument, "input \"", v.name, "\": expected shape ",
                     v.shape ? v.shape->ToString() : std::string("[?]"), ", given ",
                     DimsToString(given), " (", why..., ")");
  };
  if (auto n = NumElements(given); !n.ok()) return fail(n.status().message());
  if (!v.shape) return Status::Ok();
  const Shape& want = *v.shape;
  if (want.rank() != given.size()) return fail("rank ", given.size(), ", expected ", want.rank());
  for (size_t d = 0; d < want.rank(); ++d) {
    const Dim& w = want[d];
    if (w.is_static() && w.value() != given[d]) {
      return fail("dimension ", d, " is ", given[d], ", expected ", w.value());
    }
    if (w.is_symbol()) {
      auto [it, inserted] = symbols.emplace(w.symbol(), given[d]);
      if (!inserted && it->second != given[d]) {
        return fail("dimension ", d, " (\"", w.symbol(), "\") is ", given[d],
                    " but another input set it to ", it->second);
      }
    }
  }
  return Status::Ok();
}

class Propagator {
 public:
  Propagator(const Graph& graph, int64_t max_eval_elements)
      : graph_(graph), max_eval_elements_(max_eval_elements) {}

  Result<ConcreteValues> Run(const std::map<std::string, Dims>& input_dims) {
    for (const auto& [name, dims] : input_dims) {
      const Value* v = graph_.FindValue(name);
      if (v == nullptr || !v->is_graph_input) {
        return MakeError(StatusCode::kNotFound, "\"", name, "\" is not an input of graph \"",
                         graph_.name, "\"");
      }
    }
    std::map<std::string, int64_t> symbols;
    for (const Value* in : graph_.inputs()) {
      auto it = input_dims.find(in->name);
      if (it != input_dims.end()) {
        FRT_RETURN_IF_ERROR(CheckGivenDims(*in, it->second, symbols));
        values_[in] = {in->dtype, it->second, std::nullopt};
      } else if (in->constant) {
        values_[in] = FromConstant(*in);
      } else {
        return MakeError(StatusCode::kInvalidArgument, "no dims given for graph input \"", in->name,
                         "\" (expected ", in->Describe(), ")");
      }
    }
    for (const Value* v : graph_.values()) {
      if (v->constant && !values_.count(v)) values_[v] = FromConstant(*v);
    }
    FRT_ASSIGN_OR_RETURN(std::vector<Node*> order, graph_.TopologicalOrder());
    for (const Node* node : order) FRT_RETURN_IF_ERROR(Visit(*node));
    return std::move(values_);
  }

 private:
  static ConcreteValue FromConstant(const Value& v) {
    return {v.constant->dtype(), v.constant->dims(), *v.constant};
  }

  Status Visit(const Node& node) {
    size_t n_in = node.inputs.size();
    std::vector<Shape> shapes(n_in);
    std::vector<InferContext::InputInfo> infos(n_in);
    std::vector<const Tensor*> known(n_in, nullptr);
    bool all_known = true;
    for (size_t i = 0; i < n_in; ++i) {
      const Value* v = node.inputs[i];
      if (!v) continue;
      auto it = values_.find(v);
      if (it == values_.end()) {
        return MakeError(StatusCode::kInvalidModel, node.Describe(), ": input ", i, " (\"", v->name,
                         "\") has no value: it is neither computed, a graph input",
                         " nor a constant");
      }
      const ConcreteValue& cv = it->second;
      const Shape* shape = nullptr;
      if (cv.dims) {
        shapes[i] = Shape::FromDims(*cv.dims);
        shape = &shapes[i];
      } else if (auto p = partial_.find(v); p != partial_.end()) {
        shape = &p->second;
      }
      if (cv.value) known[i] = &*cv.value;
      all_known = all_known && known[i] != nullptr;
      infos[i] = {cv.dtype, shape, known[i]};
    }
    InferContext ctx(node, std::move(infos));
    if (Status s = InferNode(ctx); !s.ok()) return WithNode(s, node);

    bool evaluate = all_known && max_eval_elements_ > 0 && MayEvaluate(node);
    bool all_published = true;
    for (size_t i = 0; i < node.outputs.size(); ++i) {
      if (!node.outputs[i]) continue;
      const auto& shape = ctx.output_shape(i);
      all_published = all_published && ctx.output_value(i).has_value();
      if (!shape || !shape->is_static() || ctx.output_dtype(i) == DType::kUndefined) {
        evaluate = false;
        continue;
      }
      auto n = NumElements(shape->static_dims());
      if (!n.ok() || *n > max_eval_elements_) evaluate = false;
    }
    if (evaluate && !all_published) {
      auto outputs = EvaluateNode(node, known, AllocateOwnedOutput,
                                  [](const std::string&) -> const Tensor* { return nullptr; });
      if (!outputs.ok()) return WithNode(outputs.status(), node);
      for (size_t i = 0; i < node.outputs.size(); ++i) {
        if (!node.outputs[i]) continue;
        Tensor& t = (*outputs)[i];
        values_[node.outputs[i]] = {t.dtype(), t.dims(), std::move(t)};
      }
      return Status::Ok();
    }
    for (size_t i = 0; i < node.outputs.size(); ++i) {
      const Value* out = node.outputs[i];
      if (!out) continue;
      ConcreteValue cv;
      cv.dtype = ctx.output_dtype(i);
      const auto& shape = ctx.output_shape(i);
      if (shape && shape->is_static()) {
        cv.dims = shape->static_dims();
      } else if (shape) {
        partial_[out] = WithoutSymbols(*shape);
      }
      cv.value = ctx.output_value(i);
      values_[out] = std::move(cv);
    }
    return Status::Ok();
  }

  const Graph& graph_;
  int64_t max_eval_elements_;
  ConcreteValues values_;
  // Rank and whatever dims are static, for values whose full dims are unknown.
  std::unordered_map<const Value*, Shape> partial_;
};

}  // namespace

Result<ConcreteValues> PropagateConcreteShapes(const Graph& graph,
                                               const std::map<std::string, Dims>& input_dims,
                                               int64_t max_eval_elements) {
  Propagator p(graph, max_eval_elements);
  return p.Run(input_dims);
}

}  // namespace frt
