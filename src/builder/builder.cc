// The builder: network -> Plan -> Engine. Phases, each logged with its time:
// copy + verify + infer shapes; (optimizer passes); choose a kernel per layer;
// resolve profiles; per profile, propagate concrete shapes at min/opt/max (so
// that shape errors surface at build, not at run) and plan activation memory
// at the max shapes; mark the steps that only compute shapes (host.shape).
#include "fusionrt/builder.h"

#include <chrono>
#include <unordered_map>
#include <unordered_set>

#include "backends/cpu/reference_executor.h"
#include "backends/cpu/shape_propagation.h"
#include "builder/activation_memory.h"
#include "builder/profiles.h"
#include "engine/plan.h"
#include "fusionrt/version.h"
#include "ir/graph_clone.h"
#include "ir/shape_inference.h"
#include "ir/verifier.h"
#include "passes/pass_manager.h"
#include "passes/lower_precision.h"
#ifdef FRT_HAVE_CUDA
#include "backends/cuda/cuda_builder.h"
#include "backends/cuda/cuda_util.h"
#endif

namespace frt {
namespace {

constexpr const char* kCpuReferenceTactic = "cpu.reference";

class BuildLog {
 public:
  explicit BuildLog(const BuilderConfig& c) : config_(c), start_(Clock::now()), phase_(start_) {}
  void Info(const std::string& line) const {
    if (config_.log) config_.log("[build] " + line);
  }
  void Verbose(const std::string& line) const {
    if (config_.verbose) Info(line);
  }
  // Logs the phase that just ended with its duration.
  void Phase(const std::string& what) {
    auto now = Clock::now();
    Info(StrCat(what, " (", Ms(phase_, now), " ms)"));
    phase_ = now;
  }
  double TotalMs() const { return Ms(start_, Clock::now()); }

 private:
  using Clock = std::chrono::steady_clock;
  static double Ms(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double, std::milli>(b - a).count();
  }
  const BuilderConfig& config_;
  Clock::time_point start_, phase_;
};

std::string MiB(uint64_t bytes) {
  std::ostringstream s;
  s.precision(3);
  s << static_cast<double>(bytes) / (1024.0 * 1024.0) << " MiB";
  return s.str();
}


// Steps whose every output concrete shape propagation knew at every point of
// every profile compute values from input sizes alone (Shape, Gather, Concat,
// Range(0, sequence), ...): they become host.shape steps, evaluated on the host
// when input shapes are set rather than run as layers. Graph outputs stay
// ordinary steps (they are written into the caller's buffers).
// `known_at[v]`: at how many of the `points` profile points propagation knew v's value.
void MarkHostShapeSteps(const Graph& graph, std::vector<PlanStep>& steps,
                        const std::unordered_map<const Value*, int>& known_at, int points) {
  std::vector<Node*> nodes = graph.nodes();
  std::unordered_set<const Value*> outputs(graph.outputs().begin(), graph.outputs().end());
  for (PlanStep& step : steps) {
    const Node* n = nodes[static_cast<size_t>(step.node)];
    bool known = !n->outputs.empty();
    for (const Value* out : n->outputs) {
      if (!out) continue;
      auto it = known_at.find(out);
      known = known && !outputs.count(out) && it != known_at.end() && it->second == points;
    }
    if (known) step.tactic = kHostShapeTactic;
  }
}

// The largest size of each named symbolic input dim over all profiles.
std::map<std::string, int64_t> SymbolUpperBounds(const Graph& graph,
                                                 const std::vector<Profile>& profiles) {
  std::map<std::string, int64_t> bounds;
  for (const Profile& profile : profiles) {
    for (const ProfileInput& in : profile.inputs) {
      const Value* v = graph.FindValue(in.name);
      if (!v || !v->shape || v->shape->rank() != in.max.size()) continue;
      for (size_t i = 0; i < in.max.size(); ++i) {
        const Dim& d = (*v->shape)[i];
        if (!d.is_symbol()) continue;
        auto [it, fresh] = bounds.emplace(d.symbol(), in.max[i]);
        if (!fresh) it->second = std::max(it->second, in.max[i]);
      }
    }
  }
  return bounds;
}

Result<std::vector<PlanStep>> ChooseKernels(const Graph& graph) {
  FRT_RETURN_IF_ERROR(CheckGraphKernels(graph));
  FRT_ASSIGN_OR_RETURN(std::vector<Node*> order, graph.TopologicalOrder());
  std::unordered_map<const Node*, int32_t> index;
  std::vector<Node*> nodes = graph.nodes();
  for (size_t i = 0; i < nodes.size(); ++i) index[nodes[i]] = static_cast<int32_t>(i);
  std::vector<PlanStep> steps;
  for (const Node* n : order) {
    PlanStep step;
    step.node = index.at(n);
    step.tactic = kCpuReferenceTactic;
    step.precision = DType::kFloat32;
    steps.push_back(std::move(step));
  }
  return steps;
}

uint64_t WeightBytes(const Graph& g) {
  uint64_t total = 0;
  for (const Value* v : g.values()) {
    if (v->constant) total += v->constant->nbytes();
  }
  return total;
}

Status CheckConfig(const BuilderConfig& config) {
  if (config.optimization_level < 0 || config.optimization_level > 5) {
    return MakeError(StatusCode::kInvalidArgument, "optimization level ",
                     config.optimization_level, " is outside 0..5");
  }
  if (config.fp16 && config.bf16) {
    return MakeError(StatusCode::kInvalidArgument, "fp16 and bf16 are exclusive; choose one");
  }
  return Status::Ok();
}

// The backend the engine is built for: kAuto is cuda when a GPU is visible.
Result<TargetInfo> ChooseTarget(DeviceKind device) {
#ifdef FRT_HAVE_CUDA
  if (device == DeviceKind::kCuda || (device == DeviceKind::kAuto && CudaDeviceAvailable())) {
    auto target = CurrentCudaTarget();
    if (!target.ok()) return target.status().WithPrefix("--device cuda");
    return target;
  }
#else
  if (device == DeviceKind::kCuda) {
    return MakeError(StatusCode::kUnsupported,
                     "this FusionRT build has no CUDA backend; build for the cpu device");
  }
#endif
  TargetInfo cpu;
  cpu.backend = "cpu";
  return cpu;
}

}  // namespace

Result<std::shared_ptr<Engine>> Builder::Build(const NetworkDefinition& network,
                                               const BuilderConfig& config) {
  FRT_RETURN_IF_ERROR(CheckConfig(config));
  FRT_ASSIGN_OR_RETURN(TargetInfo target, ChooseTarget(config.device));
  const bool cuda = target.backend == "cuda";
  BuildLog log(config);
  auto plan = std::make_unique<Plan>();
  FRT_ASSIGN_OR_RETURN(plan->graph, CloneGraph(network.graph()));
  Graph& graph = *plan->graph;
  if (graph.outputs().empty()) {
    return MakeError(StatusCode::kInvalidModel, "the network has no outputs");
  }
  FRT_RETURN_IF_ERROR(VerifyGraph(graph));
  FRT_RETURN_IF_ERROR(InferGraphShapes(graph));
  log.Phase(StrCat("network: ", graph.num_nodes(), " layers, ", graph.inputs().size(),
                   " inputs, ", graph.outputs().size(), " outputs, weights ",
                   MiB(WeightBytes(graph))));
  // Profiles first: their bounds on symbolic dims let the optimizer prove
  // shape facts (Graph::symbol_upper_bounds).
  FRT_ASSIGN_OR_RETURN(plan->profiles, ResolveProfiles(graph, config.profiles));
  graph.symbol_upper_bounds = SymbolUpperBounds(graph, plan->profiles);
  FRT_RETURN_IF_ERROR(InferGraphShapes(graph));
  // Level 0 runs no pass; levels >= 1 run the optimizer (docs/optimizer.md).
  FRT_RETURN_IF_ERROR(RunPasses(graph, config.optimization_level,
                                [&log](const std::string& line) { log.Info(line); },
                                /*verify_each=*/false));
  if (cuda) {
    log.Info(StrCat("device: cuda (", target.device_name, ", sm_", target.compute_capability, ")"));
    if (config.fp16 || config.bf16) {
      DType low = config.fp16 ? DType::kFloat16 : DType::kBFloat16;
      FRT_ASSIGN_OR_RETURN(int lowered, LowerPrecision(graph, low));
      log.Info(StrCat(DTypeName(low), ": ", lowered, " layers run in reduced precision"));
    }
  } else {
    log.Info("device: cpu (reference kernels)");
    if (config.fp16 || config.bf16) {
      log.Info(StrCat(config.fp16 ? "fp16" : "bf16",
                      " allowed, but the cpu backend has no reduced-precision kernels: "
                      "every layer runs in fp32"));
    }
  }

  FRT_ASSIGN_OR_RETURN(plan->steps, ChooseKernels(graph));
  if (config.verbose && !cuda) {
    std::vector<Node*> nodes = graph.nodes();
    for (const PlanStep& s : plan->steps) {
      log.Verbose(StrCat("  layer ", nodes[s.node]->Describe(), " -> ", s.tactic));
    }
  }
  log.Phase(StrCat("kernels chosen for ", plan->steps.size(), " layers"));

  static const char* kPointNames[] = {"min", "opt", "max"};
  std::unordered_map<const Value*, int> known_at;  // over every profile's min, opt and max
  int points = 0;
  for (size_t p = 0; p < plan->profiles.size(); ++p) {
    Profile& profile = plan->profiles[p];
    for (int which = 0; which < 3; ++which) {
      auto dims = ProfileInputDims(graph, profile, which);
      auto values = PropagateConcreteShapes(graph, dims);
      if (!values.ok()) {
        return values.status().WithPrefix(
            StrCat("profile ", p, " at its ", kPointNames[which], " shapes"));
      }
      ++points;
      for (const auto& [v, c] : *values) {
        if (c.value) ++known_at[v];
      }
      if (which != 2) continue;
      auto memory = PlanActivationMemory(graph, plan->steps, *values);
      if (!memory.ok()) return memory.status().WithPrefix(StrCat("profile ", p));
      profile.memory = std::move(*memory);
    }
    const MemoryPlan& m = profile.memory;
    if (config.memory_limit > 0 && m.arena_size > config.memory_limit) {
      return MakeError(StatusCode::kResourceExhausted, "profile ", p,
                       ": activation memory at the max shapes needs ", m.arena_size,
                       " bytes, over the memory limit of ", config.memory_limit, " bytes");
    }
    log.Phase(StrCat("profile ", p, ": activation arena ", MiB(m.arena_size), " for ",
                     m.slots.size(), " tensors (naive sum ", MiB(m.naive_size), ")"));
  }

  // cuda computes no shapes on the device: its shape steps are host steps at every level.
  if (config.optimization_level >= 1 || cuda) {
    MarkHostShapeSteps(graph, plan->steps, known_at, points);
    size_t host = 0;
    for (const PlanStep& st : plan->steps) host += st.tactic == kHostShapeTactic;
    log.Info(StrCat(host, " of ", plan->steps.size(),
                    " layers only compute shapes: evaluated on the host when input shapes are set"));
  }

#ifdef FRT_HAVE_CUDA
  if (cuda) {
    std::function<void(const std::string&)> verbose;
    if (config.verbose) verbose = [&log](const std::string& line) { log.Info(line); };
    FRT_RETURN_IF_ERROR(ChooseCudaKernels(graph, plan->steps, verbose));
    log.Phase(StrCat("cuda kernels chosen for ", plan->steps.size(), " layers"));
  }
#endif
  plan->target = target;
  plan->build.fusionrt_version = kFusionRtVersion;
  plan->build.fp16 = config.fp16;
  plan->build.bf16 = config.bf16;
  plan->build.optimization_level = config.optimization_level;
  plan->build.memory_limit = config.memory_limit;
  FRT_ASSIGN_OR_RETURN(std::shared_ptr<Engine> engine, Engine::FromPlan(std::move(plan)));
  log.Info(StrCat("engine built in ", static_cast<int64_t>(log.TotalMs()), " ms"));
  return engine;
}

}  // namespace frt
