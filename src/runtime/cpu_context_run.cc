// CpuExecutionContext::Run: one execution of the plan. Inputs are views over
// the caller's memory; each step's outputs go to the caller's buffer (graph
// outputs), the value's arena slot, or a fresh allocation (data-dependent
// sizes); values are released after their last reader.
#include <algorithm>
#include <cstring>
#include <unordered_set>

#include "backends/cpu/reference_executor.h"
#include "runtime/cpu_context.h"
#include "runtime/engine_index.h"

namespace frt {
// The outputs of a host.shape step from shape propagation; false when
// propagation did not produce every one (the step then runs its kernel).
static bool TakeHostShapeValues(const Node& node, const ConcreteValues& values,
                         std::unordered_map<const Value*, Tensor>& env) {
  for (const Value* out : node.outputs) {
    if (!out) continue;
    auto it = values.find(out);
    if (it == values.end() || !it->second.value) return false;
  }
  for (const Value* out : node.outputs) {
    if (out) env[out] = *values.at(out).value;
  }
  return true;
}

Status CpuExecutionContext::Run(void* /*stream*/) {
  const Plan& plan = engine_->plan();
  const EngineIndex& index = engine_->index();
  const Graph& graph = *plan.graph;
  FRT_ASSIGN_OR_RETURN(auto dims, InputDims());

  std::unordered_map<const Value*, Tensor> env;
  std::map<std::string, int64_t> symbols;
  std::vector<MemorySpan> spans;
  for (const Value* in : index.runtime_inputs) {
    const Dims& d = dims.at(in->name);
    FRT_ASSIGN_OR_RETURN(void* data, BoundInput(*in, d, symbols, spans));
    env[in] = Tensor::View(in->dtype, d, data);
  }
  const std::unordered_set<const Value*>& outputs = index.graph_outputs;
  FRT_ASSIGN_OR_RETURN(std::byte * arena, Arena());
  const auto& slots = index.slots[profile_];

  OutputPlacer placer = [&](const Value& v, DType dtype, const Dims& d) -> Result<Tensor> {
    FRT_ASSIGN_OR_RETURN(size_t bytes, ByteSizeOf(dtype, d));
    if (outputs.count(&v)) {
      auto b = bindings_.find(v.name);
      if (b == bindings_.end()) return Tensor::Allocate(dtype, d);
      if (bytes > b->second.capacity) {
        return MakeError(StatusCode::kInvalidArgument, "output \"", v.name, "\" of shape ",
                         DimsToString(d), " needs ", bytes, " bytes; its buffer holds ",
                         b->second.capacity);
      }
      spans.push_back({static_cast<const std::byte*>(b->second.data), bytes, v.name});
      FRT_RETURN_IF_ERROR(CheckNoOverlap(spans));
      std::memset(b->second.data, 0, bytes);
      return Tensor::View(dtype, d, b->second.data);
    }
    auto s = slots.find(&v);
    if (s != slots.end() && bytes <= s->second->size) {
      std::byte* p = arena + s->second->offset;
      std::memset(p, 0, bytes);  // reference kernels may rely on zeroed outputs
      return Tensor::View(dtype, d, p);
    }
    return Tensor::Allocate(dtype, d);
  };
  auto lookup = [&](const Value* v) -> const Tensor* {
    auto it = env.find(v);
    if (it != env.end()) return &it->second;
    return v->constant ? &*v->constant : nullptr;
  };
  OuterLookup outer = [&](const std::string& name) -> const Tensor* {
    const Value* v = graph.FindValue(name);
    return v ? lookup(v) : nullptr;
  };

  const ConcreteValues* shape_values = nullptr;
  if (index.has_host_shape_steps) {
    FRT_ASSIGN_OR_RETURN(shape_values, ShapeValues(dims));
  }

  for (size_t s = 0; s < index.step_nodes.size(); ++s) {
    const Node* node = index.step_nodes[s];
    bool on_host = index.host_shape_steps[s] && TakeHostShapeValues(*node, *shape_values, env);
    std::vector<const Tensor*> inputs(node->inputs.size(), nullptr);
    for (size_t i = 0; i < node->inputs.size(); ++i) {
      if (!node->inputs[i]) continue;
      inputs[i] = lookup(node->inputs[i]);
      if (inputs[i] == nullptr) {
        return MakeError(StatusCode::kInternal, node->Describe(), ": input \"",
                         node->inputs[i]->name, "\" has no value at step ", s);
      }
    }
    if (!on_host) {
      FRT_ASSIGN_OR_RETURN(std::vector<Tensor> results,
                           EvaluateNode(*node, inputs, placer, outer));
      for (size_t i = 0; i < node->outputs.size(); ++i) {
        if (node->outputs[i]) env[node->outputs[i]] = std::move(results[i]);
      }
    }
    auto release = [&](const Value* v) {
      if (!v || !v->producer || outputs.count(v)) return;
      auto life = index.lifetimes.find(v);
      if (life != index.lifetimes.end() && life->second.last_step == static_cast<int32_t>(s)) {
        env.erase(v);
      }
    };
    for (const Value* v : node->inputs) release(v);
    for (const Value* v : node->outputs) release(v);
  }

  for (const Value* out : graph.outputs()) {
    const Tensor* t = lookup(out);
    if (t == nullptr) {
      return MakeError(StatusCode::kInternal, "output \"", out->name, "\" was not computed");
    }
    auto b = bindings_.find(out->name);
    if (b == bindings_.end()) {
      // Produced by a step: an owned allocation. Otherwise (an input or a
      // constant passed through) copy, so the result outlives the source.
      if (out->producer) {
        outputs_[out->name] = *t;
      } else {
        FRT_ASSIGN_OR_RETURN(outputs_[out->name], t->Clone());
      }
      continue;
    }
    if (t->raw() != b->second.data) {  // computed elsewhere (data-dependent size, passthrough)
      if (t->nbytes() > b->second.capacity) {
        return MakeError(StatusCode::kInvalidArgument, "output \"", out->name, "\" of shape ",
                         DimsToString(t->dims()), " needs ", t->nbytes(),
                         " bytes; its buffer holds ", b->second.capacity);
      }
      spans.push_back({static_cast<const std::byte*>(b->second.data), t->nbytes(), out->name});
      FRT_RETURN_IF_ERROR(CheckNoOverlap(spans));
      if (t->nbytes() > 0) std::memmove(b->second.data, t->raw(), t->nbytes());
    }
    outputs_[out->name] = Tensor::View(t->dtype(), t->dims(), b->second.data);
  }
  for (const auto& [name, t] : outputs_) SetResult(name, t.dims(), t.raw());
  return Status::Ok();
}

}  // namespace frt
