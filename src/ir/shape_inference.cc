#include "ir/shape_inference.h"

#include "ir/op_registry.h"

namespace frt {

Status InferGraphShapes(Graph& graph) {
  FRT_ASSIGN_OR_RETURN(std::vector<Node*> order, graph.TopologicalOrder());
  // Symbolic contents of shape tensors, filled in as the walk goes, so that
  // Reshape/Expand/Slice/Range targets computed from Shape chains give
  // symbolic output shapes instead of unknown ones.
  SymbolicValues symbolic;
  for (Node* node : order) {
    std::vector<InferContext::InputInfo> infos(node->inputs.size());
    for (size_t i = 0; i < node->inputs.size(); ++i) {
      const Value* v = node->inputs[i];
      if (!v) continue;
      if (v->dtype == DType::kUndefined) {
        return MakeError(StatusCode::kInvalidModel, node->Describe(), ": input ", i, " (\"",
                         v->name, "\") has unknown type");
      }
      DType dt = v->dtype;
      // A graph input with an initializer may be overridden: its value is not constant.
      const Tensor* value = (v->constant && !v->is_graph_input) ? &*v->constant : nullptr;
      auto sym = symbolic.find(v);
      infos[i] = {dt, v->shape ? &*v->shape : nullptr, value,
                  sym != symbolic.end() ? &sym->second : nullptr};
    }
    InferContext ctx(*node, std::move(infos));
    ctx.set_symbol_upper_bounds(&graph.symbol_upper_bounds);
    FRT_RETURN_IF_ERROR(InferNode(ctx));
    for (size_t i = 0; i < node->outputs.size(); ++i) {
      Value* out = node->outputs[i];
      if (!out) continue;
      out->dtype = ctx.output_dtype(i);
      out->shape = ctx.output_shape(i);
    }
    AddSymbolicOutputs(*node, symbolic);
  }
  return Status::Ok();
}

}  // namespace frt
