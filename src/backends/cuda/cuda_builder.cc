#include "backends/cuda/cuda_builder.h"

#include "backends/cuda/kernel.h"

namespace frt {

Status ChooseCudaKernels(const Graph& graph, std::vector<PlanStep>& steps,
                         const std::function<void(const std::string&)>& verbose) {
  const CudaKernelRegistry& registry = CudaKernelRegistry::Global();
  std::vector<Node*> nodes = graph.nodes();
  for (PlanStep& step : steps) {
    if (step.tactic == kHostShapeTactic) continue;
    const Node& node = *nodes[static_cast<size_t>(step.node)];
    std::vector<const CudaKernel*> candidates = registry.ForOp(node.op);
    if (candidates.empty()) {
      return MakeError(StatusCode::kUnsupported, node.Describe(),
                       ": the cuda backend has no kernel for ", OpKindName(node.op),
                       " (build with --device cpu)");
    }
    std::string reasons;
    const CudaKernel* chosen = nullptr;
    for (const CudaKernel* k : candidates) {
      std::string why = k->supports(node);
      if (why.empty()) {
        chosen = k;
        break;
      }
      reasons += StrCat(reasons.empty() ? "" : "; ", "cuda.", k->name, ": ", why);
    }
    if (chosen == nullptr) {
      return MakeError(StatusCode::kUnsupported, node.Describe(),
                       ": no cuda kernel supports this node (", reasons, ")");
    }
    step.tactic = StrCat(kCudaTacticPrefix, chosen->name);
    step.tactic_data.clear();
    if (chosen->prepare) FRT_RETURN_IF_ERROR(chosen->prepare(node, &step.tactic_data));
    DType precision = DType::kFloat32;
    for (const Value* out : node.outputs) {
      if (out && IsFloatDType(out->dtype)) {
        precision = out->dtype;
        break;
      }
    }
    step.precision = precision;
    if (verbose) verbose(StrCat("  layer ", node.Describe(), " -> ", step.tactic));
  }
  return Status::Ok();
}

}  // namespace frt
