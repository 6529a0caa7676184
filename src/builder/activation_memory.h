// Activation memory of one profile: sizes every intermediate value of the plan
// at the profile's max shapes and asks the memory planner for offsets. Graph
// inputs, outputs (caller memory) and constants (weights) are not activations;
// values whose size depends on data are left to run-time allocation.
#pragma once

#include "backends/cpu/shape_propagation.h"
#include "engine/plan.h"

namespace frt {

// Step indices at which each top-level value is produced and last read.
struct ValueLifetime {
  int32_t first_step = -1;
  int32_t last_step = -1;
};
std::unordered_map<const Value*, ValueLifetime> ComputeLifetimes(const Graph& graph,
                                                                 const std::vector<PlanStep>& steps);

Result<MemoryPlan> PlanActivationMemory(const Graph& graph, const std::vector<PlanStep>& steps,
                                        const ConcreteValues& at_max_shapes);

}  // namespace frt
