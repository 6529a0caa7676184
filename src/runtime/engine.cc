// Engine: an immutable Plan plus the EngineIndex derived from it; loading
// checks the file (engine_format), the target, and the plan's invariants.
#include "fusionrt/engine.h"

#include "backends/cpu/reference_executor.h"
#include "engine/engine_format.h"
#include "fusionrt/builder.h"
#include "ir/verifier.h"
#include "runtime/cpu_context.h"
#include "runtime/engine_index.h"
#ifdef FRT_HAVE_CUDA
#include "backends/cuda/cuda_util.h"
#include "runtime/cuda/cuda_context.h"
#endif

namespace frt {
namespace {

constexpr const char* kCpuReferenceTactic = "cpu.reference";

// What this process can run engines of `backend` on.
TargetInfo HostTarget(const std::string& backend) {
#ifdef FRT_HAVE_CUDA
  if (backend == "cuda") {
    auto target = CurrentCudaTarget();
    if (target.ok()) return *target;
    TargetInfo none;
    none.backend = "cpu (no CUDA device)";
    return none;
  }
#else
  (void)backend;
#endif
  TargetInfo host;
  host.backend = "cpu";
  return host;
}

Status CheckTactics(const Plan& plan) {
  if (plan.target.backend == "cuda") {
#ifdef FRT_HAVE_CUDA
    return CheckCudaTactics(plan);
#else
    return MakeError(StatusCode::kInvalidEngine,
                     "the engine was built for cuda; this FusionRT build has no CUDA backend");
#endif
  }
  std::vector<Node*> nodes = plan.graph->nodes();
  for (const PlanStep& step : plan.steps) {
    // host.shape steps fall back to their CPU kernel when propagation cannot
    // produce their values, so they need the same kernels as cpu.reference.
    if (step.tactic != kCpuReferenceTactic && step.tactic != kHostShapeTactic) {
      return MakeError(StatusCode::kInvalidEngine, nodes[step.node]->Describe(), ": tactic \"",
                       step.tactic, "\" is not known to this FusionRT build");
    }
  }
  return CheckGraphKernels(*plan.graph);
}

// The part of loading shared by files and memory: target, then plan invariants.
Result<std::shared_ptr<Engine>> FromReadPlan(Plan plan, const std::string& source) {
  FRT_RETURN_IF_ERROR(CheckTarget(plan.target, HostTarget(plan.target.backend), source));
  auto engine = Engine::FromPlan(std::make_unique<Plan>(std::move(plan)));
  if (!engine.ok()) return engine.status().WithPrefix(source);
  return engine;
}

TensorDesc Describe(const Value& v, bool is_input) {
  TensorDesc d;
  d.name = v.name;
  d.dtype = v.dtype;
  d.is_input = is_input;
  if (v.shape) {
    for (const Dim& dim : v.shape->dims()) {
      d.dims.push_back(dim.is_static() ? dim.value() : -1);
      d.dim_names.push_back(dim.is_symbol() ? dim.symbol() : "");
    }
  }
  return d;
}

}  // namespace

Engine::Engine() = default;
Engine::~Engine() = default;

Result<std::shared_ptr<Engine>> Engine::FromPlan(std::unique_ptr<Plan> plan) {
  if (!plan || !plan->graph) return MakeError(StatusCode::kInvalidEngine, "plan has no graph");
  Status verified = VerifyGraph(*plan->graph);
  if (!verified.ok()) return MakeError(StatusCode::kInvalidEngine, verified.message());
  FRT_RETURN_IF_ERROR(CheckTactics(*plan));
  std::shared_ptr<Engine> engine(new Engine());
  FRT_ASSIGN_OR_RETURN(engine->index_, BuildEngineIndex(*plan));
  for (const Value* in : engine->index_->runtime_inputs) engine->io_.push_back(Describe(*in, true));
  for (const Value* out : plan->graph->outputs()) engine->io_.push_back(Describe(*out, false));
  engine->plan_ = std::move(plan);
  return engine;
}

Result<std::shared_ptr<Engine>> Engine::Deserialize(const void* data, size_t size,
                                                    const std::string& source) {
  if (data == nullptr && size > 0) {
    return MakeError(StatusCode::kInvalidArgument, "Engine::Deserialize: data is null");
  }
  std::span<const uint8_t> bytes(static_cast<const uint8_t*>(data), size);
  FRT_ASSIGN_OR_RETURN(Plan plan, ReadEngine(bytes, source));
  return FromReadPlan(std::move(plan), source);
}

Result<std::shared_ptr<Engine>> Engine::Load(const std::string& path) {
  FRT_ASSIGN_OR_RETURN(Plan plan, ReadEngineFile(path));
  return FromReadPlan(std::move(plan), path);
}

Result<std::vector<uint8_t>> Engine::Serialize() const { return WriteEngine(*plan_); }

Status Engine::Save(const std::string& path) const { return WriteEngineFile(*plan_, path); }

const TensorDesc* Engine::FindTensor(const std::string& name) const {
  for (const TensorDesc& d : io_) {
    if (d.name == name) return &d;
  }
  return nullptr;
}

int Engine::num_profiles() const { return static_cast<int>(plan_->profiles.size()); }

Result<ShapeRange> Engine::GetProfileShapes(int profile, const std::string& input) const {
  if (profile < 0 || profile >= num_profiles()) {
    return MakeError(StatusCode::kOutOfRange, "profile ", profile, " does not exist (the engine has ",
                     num_profiles(), ")");
  }
  const TensorDesc* d = FindTensor(input);
  if (d == nullptr || !d->is_input) {
    return MakeError(StatusCode::kNotFound, "\"", input, "\" is not an input of the engine");
  }
  for (const ProfileInput& pi : plan_->profiles[profile].inputs) {
    if (pi.name == input) return ShapeRange{pi.min, pi.opt, pi.max};
  }
  return ShapeRange{d->dims, d->dims, d->dims};  // static input
}

MemoryPlanInfo Engine::GetMemoryPlan(int profile) const {
  const MemoryPlan& m = plan_->profiles.at(profile).memory;
  MemoryPlanInfo info{m.arena_size, m.naive_size, {}};
  for (const MemorySlot& s : m.slots) {
    info.slots.push_back({s.value, s.offset, s.size, s.first_step, s.last_step});
  }
  return info;
}

uint64_t Engine::weights_size() const {
  uint64_t total = 0;
  for (const Value* v : plan_->graph->values()) {
    if (v->constant) total += v->constant->nbytes();
  }
  return total;
}

std::string Engine::backend() const { return plan_->target.backend; }

std::string Engine::description() const {
  const BuildInfo& b = plan_->build;
  std::string target = plan_->target.backend;
  if (!plan_->target.device_name.empty()) {
    target += StrCat(" (", plan_->target.device_name, ", sm_", plan_->target.compute_capability, ")");
  }
  return StrCat("FusionRT ", b.fusionrt_version, " engine for ", target, "; ",
                plan_->steps.size(), " layers, ", plan_->profiles.size(), " profile(s), fp16 ",
                b.fp16 ? "on" : "off", ", bf16 ", b.bf16 ? "on" : "off", ", optimization level ",
                b.optimization_level);
}

std::vector<LayerInfo> Engine::layers() const {
  std::vector<LayerInfo> out;
  for (size_t s = 0; s < plan_->steps.size(); ++s) {
    const Node* n = index_->step_nodes[s];
    LayerInfo l;
    l.name = n->name;
    l.op = std::string(OpKindName(n->op));
    l.tactic = plan_->steps[s].tactic;
    l.precision = plan_->steps[s].precision;
    for (const Value* v : n->inputs) l.inputs.push_back(v ? v->name : "");
    for (const Value* v : n->outputs) l.outputs.push_back(v ? v->name : "");
    l.source_nodes = n->source_nodes;
    out.push_back(std::move(l));
  }
  return out;
}

Result<std::shared_ptr<void>> Engine::BackendState(
    const std::function<Result<std::shared_ptr<void>>()>& create) const {
  std::lock_guard<std::mutex> lock(backend_mu_);
  if (!backend_state_) {
    FRT_ASSIGN_OR_RETURN(backend_state_, create());
  }
  return backend_state_;
}

Result<std::unique_ptr<ExecutionContext>> Engine::CreateContext() const {
  if (plan_->target.backend == "cuda") {
#ifdef FRT_HAVE_CUDA
    return CreateCudaContext(shared_from_this());
#else
    return MakeError(StatusCode::kUnsupported, "this FusionRT build has no CUDA backend");
#endif
  }
  return std::unique_ptr<ExecutionContext>(new CpuExecutionContext(shared_from_this()));
}

}  // namespace frt
