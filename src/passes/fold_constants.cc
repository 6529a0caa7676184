// Constant folding: walks the nodes in topological order; a node whose inputs
// are all constants (initializers that are not overridable graph inputs, or
// values folded earlier in this walk, so chains fold in one pass) is run once
// with the reference kernel (EvaluateNode) and its outputs become constants.
// Skipped: control flow (If/Loop/Scan: bodies may be large and are evaluated
// lazily), random ops (results must differ per run), and nodes whose outputs
// would exceed kMaxFoldedElements in total (folding must not bloat the engine
// file with huge materialized tensors such as ConstantOfShape of a big shape).
// A node whose evaluation fails is left alone: the error then surfaces at run
// time, where it would have surfaced without the optimizer.
#include "backends/cpu/reference_executor.h"
#include "ir/op_predicates.h"
#include "passes/pass_manager.h"

namespace frt {
namespace {

constexpr int64_t kMaxFoldedElements = int64_t{1} << 20;

bool IsFoldableConstant(const Value* v) { return v->constant && !v->is_graph_input; }

bool CanFold(const Node& n) {
  if (IsControlFlowOp(n.op) || IsRandomOp(n.op) || HasGraphAttr(n)) return false;
  for (const Value* in : n.inputs) {
    if (in && !IsFoldableConstant(in)) return false;
  }
  // Known static output sizes are checked before running the kernel; unknown
  // ones are bounded by the placer below.
  int64_t total = 0;
  for (const Value* out : n.outputs) {
    if (!out || !out->shape || !out->shape->is_static()) continue;
    Result<int64_t> elements = NumElements(out->shape->static_dims());  // overflow-checked
    if (!elements.ok() || *elements > kMaxFoldedElements - total) return false;
    total += *elements;
  }
  return true;
}

}  // namespace

Status FoldConstants(Graph& graph) {
  FRT_ASSIGN_OR_RETURN(std::vector<Node*> order, graph.TopologicalOrder());
  for (Node* node : order) {
    if (!CanFold(*node)) continue;
    std::vector<const Tensor*> inputs(node->inputs.size(), nullptr);
    for (size_t i = 0; i < node->inputs.size(); ++i) {
      if (node->inputs[i]) inputs[i] = &*node->inputs[i]->constant;
    }
    int64_t placed = 0;
    OutputPlacer placer = [&placed](const Value& v, DType dtype,
                                    const Dims& dims) -> Result<Tensor> {
      FRT_ASSIGN_OR_RETURN(int64_t elements, NumElements(dims));
      if (elements > kMaxFoldedElements - placed) {
        return MakeError(StatusCode::kResourceExhausted, "folding \"", v.name, "\" is too large");
      }
      placed += elements;
      return Tensor::Allocate(dtype, dims);
    };
    OuterLookup no_outer = [](const std::string&) -> const Tensor* { return nullptr; };
    Result<std::vector<Tensor>> results = EvaluateNode(*node, inputs, placer, no_outer);
    if (!results.ok()) continue;
    // Kernels with data-dependent sizes allocate outside the placer: check again.
    int64_t total = 0;
    for (size_t i = 0; i < node->outputs.size() && i < results->size(); ++i) {
      if (node->outputs[i]) total += (*results)[i].num_elements();
    }
    if (total > kMaxFoldedElements || results->size() < node->outputs.size()) continue;
    // Clone: an output may be a view of an input constant that is dropped later.
    std::vector<Tensor> owned;
    bool cloned = true;
    for (size_t i = 0; i < node->outputs.size(); ++i) {
      if (!node->outputs[i]) {
        owned.emplace_back();
        continue;
      }
      Result<Tensor> copy = (*results)[i].Clone();
      if (!copy.ok()) {
        cloned = false;
        break;
      }
      owned.push_back(std::move(*copy));
    }
    if (!cloned) continue;
    for (size_t i = 0; i < node->outputs.size(); ++i) {
      Value* out = node->outputs[i];
      if (!out) continue;
      out->dtype = owned[i].dtype();
      out->shape = Shape::FromDims(owned[i].dims());
      out->constant = std::move(owned[i]);
      out->producer = nullptr;
    }
    node->outputs.clear();  // the values now stand alone; the node goes
    FRT_RETURN_IF_ERROR(graph.RemoveNode(node));
  }
  graph.RemoveDeadValues();
  return Status::Ok();
}

}  // namespace frt
