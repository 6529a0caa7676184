#include "builder/activation_memory.h"

#include <unordered_set>

#include "builder/memory_planner.h"

namespace frt {

std::unordered_map<const Value*, ValueLifetime> ComputeLifetimes(const Graph& graph,
                                                                 const std::vector<PlanStep>& steps) {
  std::vector<Node*> nodes = graph.nodes();
  std::unordered_map<const Value*, ValueLifetime> life;
  for (size_t s = 0; s < steps.size(); ++s) {
    const Node* node = nodes[steps[s].node];
    int32_t step = static_cast<int32_t>(s);
    for (const Value* in : node->inputs) {
      if (in && in->producer) life[in].last_step = step;
    }
    for (const Value* out : node->outputs) {
      if (out) life[out] = {step, step};
    }
  }
  return life;
}

Result<MemoryPlan> PlanActivationMemory(const Graph& graph, const std::vector<PlanStep>& steps,
                                        const ConcreteValues& at_max_shapes) {
  std::unordered_set<const Value*> outputs(graph.outputs().begin(), graph.outputs().end());
  auto life = ComputeLifetimes(graph, steps);
  std::vector<Node*> nodes = graph.nodes();
  std::vector<BufferRequest> requests;
  for (const PlanStep& step : steps) {
    for (const Value* v : nodes[step.node]->outputs) {
      if (!v || outputs.count(v)) continue;
      auto it = at_max_shapes.find(v);
      if (it == at_max_shapes.end() || !it->second.dims) continue;  // data dependent
      auto count = NumElements(*it->second.dims);
      if (!count.ok()) return count.status().WithPrefix(StrCat("value \"", v->name, "\""));
      uint64_t elems = static_cast<uint64_t>(*count);
      uint64_t elem_size = DTypeSize(it->second.dtype);
      if (elem_size != 0 && elems > UINT64_MAX / elem_size) {
        return MakeError(StatusCode::kResourceExhausted, "value \"", v->name, "\" ",
                         DimsToString(*it->second.dims), " is too large to allocate");
      }
      const ValueLifetime& l = life.at(v);
      requests.push_back({v->name, elems * elem_size, l.first_step, l.last_step});
    }
  }
  return PlanMemory(requests);
}

}  // namespace frt
