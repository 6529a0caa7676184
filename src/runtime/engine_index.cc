#include "runtime/engine_index.h"

#include <unordered_set>

#include "builder/memory_planner.h"
#include "builder/profiles.h"

namespace frt {
namespace {

Status CheckSteps(const Plan& plan, EngineIndex& index) {
  std::vector<Node*> nodes = plan.graph->nodes();
  std::vector<bool> seen(nodes.size(), false);
  std::unordered_set<const Value*> available;
  for (size_t s = 0; s < plan.steps.size(); ++s) {
    int32_t n = plan.steps[s].node;
    if (n < 0 || static_cast<size_t>(n) >= nodes.size() || seen[n]) {
      return MakeError(StatusCode::kInvalidEngine, "plan step ", s, " names node ", n,
                       ", which is out of range or already run");
    }
    seen[n] = true;
    const Node* node = nodes[n];
    for (const Value* in : node->inputs) {
      if (in && in->producer && !available.count(in)) {
        return MakeError(StatusCode::kInvalidEngine, "plan step ", s, " (", node->Describe(),
                         ") reads \"", in->name, "\" before any step produces it");
      }
    }
    for (const Value* out : node->outputs) {
      if (out) available.insert(out);
    }
    index.step_nodes.push_back(node);
    bool host = plan.steps[s].tactic == kHostShapeTactic;
    index.host_shape_steps.push_back(host);
    index.has_host_shape_steps = index.has_host_shape_steps || host;
  }
  if (plan.steps.size() != nodes.size()) {
    return MakeError(StatusCode::kInvalidEngine, "plan runs ", plan.steps.size(), " of ",
                     nodes.size(), " nodes");
  }
  return Status::Ok();
}

Status IndexSlots(const Plan& plan, size_t p, EngineIndex& index) {
  const MemoryPlan& memory = plan.profiles[p].memory;
  FRT_RETURN_IF_ERROR(CheckMemoryPlan(memory));
  auto& map = index.slots[p];
  for (const MemorySlot& slot : memory.slots) {
    const Value* v = plan.graph->FindValue(slot.value);
    auto life = v ? index.lifetimes.find(v) : index.lifetimes.end();
    if (v == nullptr || !v->producer || index.graph_outputs.count(v) || life == index.lifetimes.end()) {
      return MakeError(StatusCode::kInvalidEngine, "profile ", p, ": memory slot for \"",
                       slot.value, "\", which is not an intermediate value of the plan");
    }
    if (life->second.first_step != slot.first_step || life->second.last_step != slot.last_step) {
      return MakeError(StatusCode::kInvalidEngine, "profile ", p, ": memory slot for \"",
                       slot.value, "\" claims steps ", slot.first_step, "..", slot.last_step,
                       " but the value lives over steps ", life->second.first_step, "..",
                       life->second.last_step);
    }
    if (!map.emplace(v, &slot).second) {
      return MakeError(StatusCode::kInvalidEngine, "profile ", p, ": two memory slots for \"",
                       slot.value, "\"");
    }
  }
  return Status::Ok();
}

// A profile from a file must be one the builder could have produced.
Status CheckProfile(const Plan& plan, size_t p) {
  OptimizationProfile given;
  for (const ProfileInput& in : plan.profiles[p].inputs) {
    Status s = given.SetShapes(in.name, in.min, in.opt, in.max);
    if (!s.ok()) return MakeError(StatusCode::kInvalidEngine, "profile ", p, ": ", s.message());
  }
  auto resolved = ResolveProfiles(*plan.graph, {given});
  if (!resolved.ok()) {
    return MakeError(StatusCode::kInvalidEngine, "profile ", p, ": ", resolved.status().message());
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<EngineIndex>> BuildEngineIndex(const Plan& plan) {
  if (!plan.graph) return MakeError(StatusCode::kInvalidEngine, "plan has no graph");
  if (plan.profiles.empty()) {
    return MakeError(StatusCode::kInvalidEngine, "plan has no optimization profile");
  }
  auto index = std::make_unique<EngineIndex>();
  FRT_RETURN_IF_ERROR(CheckSteps(plan, *index));
  index->graph_outputs.insert(plan.graph->outputs().begin(), plan.graph->outputs().end());
  index->lifetimes = ComputeLifetimes(*plan.graph, plan.steps);
  index->slots.resize(plan.profiles.size());
  for (size_t p = 0; p < plan.profiles.size(); ++p) {
    FRT_RETURN_IF_ERROR(CheckProfile(plan, p));
    FRT_RETURN_IF_ERROR(IndexSlots(plan, p, *index));
  }
  for (const Value* in : plan.graph->inputs()) {
    if (!in->constant) index->runtime_inputs.push_back(in);
  }
  return index;
}

}  // namespace frt
