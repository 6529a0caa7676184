// EngineIndex: lookup tables the runtime derives once from a Plan when an
// engine is created or loaded (node of each step, lifetimes, the memory slot
// of each value per profile). Deriving them also validates the plan, which
// may come from an untrusted file: steps must run every node once in a valid
// order and memory slots must match the values' real lifetimes.
#pragma once

#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "builder/activation_memory.h"
#include "engine/plan.h"

namespace frt {

struct EngineIndex {
  std::vector<const Node*> step_nodes;                     // node run by each step
  std::vector<bool> host_shape_steps;                      // step's tactic is kHostShapeTactic
  bool has_host_shape_steps = false;
  std::unordered_map<const Value*, ValueLifetime> lifetimes;
  // Per profile: the slot of each planned value.
  std::vector<std::unordered_map<const Value*, const MemorySlot*>> slots;
  std::vector<const Value*> runtime_inputs;                // graph inputs without initializer
  std::unordered_set<const Value*> graph_outputs;          // live in caller memory, never in the arena
};

Result<std::unique_ptr<EngineIndex>> BuildEngineIndex(const Plan& plan);

}  // namespace frt
