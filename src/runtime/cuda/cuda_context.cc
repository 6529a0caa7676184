#include "runtime/cuda/cuda_context.h"

#include <cublasLt.h>
#include <cudnn.h>

#include <cstring>
#include <unordered_set>

#include "backends/cpu/reference_executor.h"
#include "runtime/engine_index.h"

namespace frt {

// Device copies of the weights and the kernel of every step; shared by all
// contexts of one engine, immutable after creation.
struct CudaEngineState {
  std::unordered_map<const Value*, DeviceBuffer> weights;
  std::vector<const CudaKernel*> step_kernels;  // nullptr for host.shape steps
};

namespace {

constexpr size_t kWorkspaceBytes = 32u << 20;  // cuBLASLt's recommendation for Hopper

Result<std::shared_ptr<CudaEngineState>> CreateEngineState(const Engine& engine) {
  const Plan& plan = engine.plan();
  const EngineIndex& index = engine.index();
  auto state = std::make_shared<CudaEngineState>();
  const CudaKernelRegistry& registry = CudaKernelRegistry::Global();
  for (size_t s = 0; s < plan.steps.size(); ++s) {
    const Node* node = index.step_nodes[s];
    if (index.host_shape_steps[s]) {
      state->step_kernels.push_back(nullptr);
      continue;
    }
    const CudaKernel* k = registry.Find(node->op, plan.steps[s].tactic);
    if (k == nullptr) {
      return MakeError(StatusCode::kInvalidEngine, node->Describe(), ": tactic \"",
                       plan.steps[s].tactic, "\" is not a CUDA kernel of this FusionRT build");
    }
    state->step_kernels.push_back(k);
    for (const Value* in : node->inputs) {
      if (!in || !in->constant || state->weights.count(in)) continue;
      const Tensor& t = *in->constant;
      FRT_ASSIGN_OR_RETURN(DeviceBuffer buf,
                           DeviceBuffer::Allocate(std::max<size_t>(t.nbytes(), 1),
                                                  StrCat("weight \"", in->name, "\"")));
      if (t.nbytes() > 0) {
        FRT_CUDA_RETURN_IF_ERROR(cudaMemcpy(buf.data(), t.raw(), t.nbytes(),
                                            cudaMemcpyHostToDevice));
      }
      state->weights.emplace(in, std::move(buf));
    }
  }
  return state;
}

// The outputs of a host.shape step from shape propagation; false if one is missing.
bool HostValuesKnown(const Node& node, const ConcreteValues& values) {
  for (const Value* out : node.outputs) {
    if (!out) continue;
    auto it = values.find(out);
    if (it == values.end() || !it->second.value) return false;
  }
  return true;
}

}  // namespace

Status CheckCudaTactics(const Plan& plan) {
  std::vector<Node*> nodes = plan.graph->nodes();
  const CudaKernelRegistry& registry = CudaKernelRegistry::Global();
  for (const PlanStep& step : plan.steps) {
    if (step.tactic == kHostShapeTactic) continue;
    if (registry.Find(nodes[step.node]->op, step.tactic) == nullptr) {
      return MakeError(StatusCode::kInvalidEngine, nodes[step.node]->Describe(), ": tactic \"",
                       step.tactic, "\" is not a CUDA kernel of this FusionRT build");
    }
  }
  return Status::Ok();
}

Result<std::unique_ptr<ExecutionContext>> CreateCudaContext(std::shared_ptr<const Engine> engine) {
  if (!CudaDeviceAvailable()) {
    return MakeError(StatusCode::kUnsupported,
                     "this engine runs on cuda, but no CUDA device is visible to this process");
  }
  const Engine& e = *engine;
  FRT_ASSIGN_OR_RETURN(std::shared_ptr<void> state,
                       e.BackendState([&e]() -> Result<std::shared_ptr<void>> {
                         FRT_ASSIGN_OR_RETURN(std::shared_ptr<CudaEngineState> s,
                                              CreateEngineState(e));
                         return std::static_pointer_cast<void>(s);
                       }));
  auto ctx = std::make_unique<CudaExecutionContext>(
      std::move(engine), std::static_pointer_cast<const CudaEngineState>(state));
  FRT_RETURN_IF_ERROR(ctx->Init());
  return std::unique_ptr<ExecutionContext>(std::move(ctx));
}

CudaExecutionContext::CudaExecutionContext(std::shared_ptr<const Engine> engine,
                                           std::shared_ptr<const CudaEngineState> state)
    : ContextBase(std::move(engine)), state_(std::move(state)) {}

CudaExecutionContext::~CudaExecutionContext() {
  DropGraph();
  for (auto& [v, p] : pinned_) cudaFreeHost(p);
  if (own_stream_) {
    cudaStreamSynchronize(own_stream_);
    cudaStreamDestroy(own_stream_);
  }
  if (resources_.cublaslt) cublasLtDestroy(resources_.cublaslt);
  if (resources_.cudnn) cudnnDestroy(resources_.cudnn);
}

Status CudaExecutionContext::Init() {
  FRT_CUDA_RETURN_IF_ERROR(cudaStreamCreateWithFlags(&own_stream_, cudaStreamNonBlocking));
  if (cublasLtCreate(&resources_.cublaslt) != CUBLAS_STATUS_SUCCESS) {
    return MakeError(StatusCode::kInternal, "cannot create a cuBLASLt handle");
  }
  if (cudnnCreate(&resources_.cudnn) != CUDNN_STATUS_SUCCESS) {
    return MakeError(StatusCode::kInternal, "cannot create a cuDNN handle");
  }
  FRT_ASSIGN_OR_RETURN(workspace_, DeviceBuffer::Allocate(kWorkspaceBytes, "the kernel workspace"));
  resources_.workspace = workspace_.data();
  resources_.workspace_size = workspace_.size();
  resources_.sm_count = CudaSmCount();
  step_state_.resize(engine_->plan().steps.size());
  return Status::Ok();
}

Status CudaExecutionContext::Enqueue(void* stream) {
  return GuardedRun(stream ? stream : static_cast<void*>(cudaStreamPerThread));
}

Status CudaExecutionContext::Execute() {
  FRT_RETURN_IF_ERROR(GuardedRun(own_stream_));
  return CudaStatus(cudaStreamSynchronize(own_stream_), "waiting for the engine's kernels");
}

Result<std::byte*> CudaExecutionContext::Arena() {
  FRT_ASSIGN_OR_RETURN(void* user, UserArena());
  if (user != nullptr) return static_cast<std::byte*>(user);
  FRT_RETURN_IF_ERROR(arena_.Reserve(std::max<uint64_t>(ArenaNeed(), 1), "the activation arena"));
  return static_cast<std::byte*>(arena_.data());
}

Result<void*> CudaExecutionContext::OverflowBuffer(const Value& v, size_t bytes) {
  DeviceBuffer& b = overflow_[&v];
  FRT_RETURN_IF_ERROR(b.Reserve(std::max<size_t>(bytes, 1), StrCat("tensor \"", v.name, "\"")));
  return b.data();
}

Result<const void*> CudaExecutionContext::StagePinned(const Value& v, const Tensor& t,
                                                      cudaStream_t stream) {
  // Pinned, so that the copy is truly asynchronous and can be captured into a graph.
  // Host values depend only on the input shapes: the staged bytes change only when
  // the shapes do, and then the stream's earlier copies are waited for first.
  auto it = pinned_.find(&v);
  size_t& size = pinned_size_[&v];
  if (it != pinned_.end() && size >= t.nbytes() && std::memcmp(it->second, t.raw(), t.nbytes()) == 0) {
    return it->second;
  }
  FRT_CUDA_RETURN_IF_ERROR(cudaStreamSynchronize(stream));
  if (it == pinned_.end() || size < t.nbytes()) {
    if (it != pinned_.end()) cudaFreeHost(it->second);
    void* p = nullptr;
    FRT_CUDA_RETURN_IF_ERROR(cudaMallocHost(&p, std::max<size_t>(t.nbytes(), 1)));
    pinned_[&v] = p;
    size = std::max<size_t>(t.nbytes(), 1);
  }
  std::memcpy(pinned_[&v], t.raw(), t.nbytes());
  return pinned_[&v];
}

Result<void*> CudaExecutionContext::UploadHostValue(const Value& v, const Tensor& t,
                                                    cudaStream_t stream) {
  DeviceBuffer& b = uploads_[&v];
  FRT_RETURN_IF_ERROR(b.Reserve(std::max<size_t>(t.nbytes(), 1), StrCat("tensor \"", v.name, "\"")));
  if (t.nbytes() > 0) {
    FRT_ASSIGN_OR_RETURN(const void* staged, StagePinned(v, t, stream));
    FRT_CUDA_RETURN_IF_ERROR(
        cudaMemcpyAsync(b.data(), staged, t.nbytes(), cudaMemcpyHostToDevice, stream));
  }
  return b.data();
}

Status CudaExecutionContext::EnableCudaGraphs(bool on) {
  BusyGuard guard(busy_);
  if (!guard.acquired()) return BusyError("EnableCudaGraphs");
  graphs_ = on;
  if (!on) DropGraph();
  return Status::Ok();
}

void CudaExecutionContext::DropGraph() {
  if (graph_exec_) cudaGraphExecDestroy(graph_exec_);
  graph_exec_ = nullptr;
  graph_key_.clear();
}

std::string CudaExecutionContext::GraphKey(const std::map<std::string, Dims>& dims) const {
  std::string key = StrCat("profile ", profile_, ";");
  for (const auto& [name, d] : dims) key += StrCat(name, "=", DimsToString(d), ";");
  for (const auto& [name, b] : bindings_) {
    key += StrCat(name, "@", reinterpret_cast<uintptr_t>(b.data), ";");
  }
  auto user = UserArena();
  key += StrCat("arena@", user.ok() ? reinterpret_cast<uintptr_t>(*user) : 0);
  return key;
}

Status CudaExecutionContext::Run(void* stream_ptr) {
  auto stream = static_cast<cudaStream_t>(stream_ptr);
  // The legacy and per-thread default streams cannot be captured.
  if (!graphs_ || stream == nullptr || stream == cudaStreamPerThread) return RunSteps(stream);
  FRT_ASSIGN_OR_RETURN(auto dims, InputDims());
  std::string key = GraphKey(dims);
  if (graph_exec_ && key == graph_key_) {
    FRT_CUDA_RETURN_IF_ERROR(cudaGraphLaunch(graph_exec_, stream));
    for (const auto& [name, d, address] : graph_results_) SetResult(name, d, address);
    return Status::Ok();
  }
  if (key != last_key_) {
    // First run with this key: eager, so that allocations, module loads and the
    // kernels' cached descriptors happen outside any capture.
    last_key_ = key;
    return RunSteps(stream);
  }
  DropGraph();
  FRT_CUDA_RETURN_IF_ERROR(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal));
  Status steps = RunSteps(stream);
  cudaGraph_t graph = nullptr;
  cudaError_t end = cudaStreamEndCapture(stream, &graph);
  if (!steps.ok() || end != cudaSuccess) {
    if (graph) cudaGraphDestroy(graph);
    cudaGetLastError();
    if (!steps.ok()) return steps.WithPrefix("capturing a CUDA graph");
    return CudaStatus(end, "capturing a CUDA graph");
  }
  cudaError_t made = cudaGraphInstantiate(&graph_exec_, graph, 0);
  cudaGraphDestroy(graph);
  if (made != cudaSuccess) {
    graph_exec_ = nullptr;
    return CudaStatus(made, "instantiating a CUDA graph");
  }
  graph_key_ = key;
  graph_results_ = run_results_;
  return CudaStatus(cudaGraphLaunch(graph_exec_, stream), "launching a CUDA graph");
}

Status CudaExecutionContext::RunSteps(cudaStream_t stream) {
  run_results_.clear();
  const Plan& plan = engine_->plan();
  const EngineIndex& index = engine_->index();
  const Graph& graph = *plan.graph;
  FRT_ASSIGN_OR_RETURN(auto dims, InputDims());
  FRT_ASSIGN_OR_RETURN(const ConcreteValues* values, ShapeValues(dims));

  std::unordered_map<const Value*, DeviceTensor> env;
  std::unordered_map<const Value*, const Tensor*> host;  // values known on the host
  std::map<std::string, int64_t> symbols;
  std::vector<MemorySpan> spans;
  for (const Value* in : index.runtime_inputs) {
    const Dims& d = dims.at(in->name);
    FRT_ASSIGN_OR_RETURN(void* data, BoundInput(*in, d, symbols, spans));
    env[in] = DeviceTensor{in->dtype, d, data, nullptr};
  }
  for (const auto& [v, dev] : state_->weights) {
    env[v] = DeviceTensor{v->dtype, v->constant->dims(), dev.data(), &*v->constant};
  }
  FRT_ASSIGN_OR_RETURN(std::byte * arena, Arena());
  const auto& slots = index.slots[profile_];
  std::map<std::string, DeviceBuffer*> owned_outputs;

  auto place = [&](const Value& v, DType dtype, const Dims& d) -> Result<void*> {
    FRT_ASSIGN_OR_RETURN(size_t bytes, ByteSizeOf(dtype, d));
    if (index.graph_outputs.count(&v)) {
      auto b = bindings_.find(v.name);
      if (b == bindings_.end()) {
        DeviceBuffer& buf = overflow_[&v];
        FRT_RETURN_IF_ERROR(
            buf.Reserve(std::max<size_t>(bytes, 1), StrCat("output \"", v.name, "\"")));
        return buf.data();
      }
      if (bytes > b->second.capacity) {
        return MakeError(StatusCode::kInvalidArgument, "output \"", v.name, "\" of shape ",
                         DimsToString(d), " needs ", bytes, " bytes; its buffer holds ",
                         b->second.capacity);
      }
      spans.push_back({static_cast<const std::byte*>(b->second.data), bytes, v.name});
      FRT_RETURN_IF_ERROR(CheckNoOverlap(spans));
      return b->second.data;
    }
    auto s = slots.find(&v);
    if (s != slots.end() && bytes <= s->second->size) return arena + s->second->offset;
    return OverflowBuffer(v, bytes);
  };
  auto known_dims = [&](const Node& node, const Value& v) -> Result<Dims> {
    auto it = values->find(&v);
    if (it == values->end() || !it->second.dims) {
      return MakeError(StatusCode::kUnsupported, node.Describe(), ": the shape of \"", v.name,
                       "\" depends on the data, which the cuda backend does not support");
    }
    return *it->second.dims;
  };

  for (size_t s = 0; s < index.step_nodes.size(); ++s) {
    const Node& node = *index.step_nodes[s];
    if (index.host_shape_steps[s]) {
      if (!HostValuesKnown(node, *values)) {
        return MakeError(StatusCode::kInternal, node.Describe(),
                         ": a host.shape step whose values shape propagation did not produce");
      }
      for (const Value* out : node.outputs) {
        if (out) host[out] = &*values->at(out).value;
      }
      continue;
    }
    std::vector<DeviceTensor> inputs(node.inputs.size());
    for (size_t i = 0; i < node.inputs.size(); ++i) {
      const Value* in = node.inputs[i];
      if (!in) continue;
      if (auto it = env.find(in); it != env.end()) {
        inputs[i] = it->second;
        continue;
      }
      auto h = host.find(in);
      if (h == host.end()) {
        return MakeError(StatusCode::kInternal, node.Describe(), ": input \"", in->name,
                         "\" has no value at step ", s);
      }
      FRT_ASSIGN_OR_RETURN(void* dev, UploadHostValue(*in, *h->second, stream));
      env[in] = DeviceTensor{h->second->dtype(), h->second->dims(), dev, h->second};
      inputs[i] = env[in];
    }
    std::vector<DeviceTensor> outputs(node.outputs.size());
    for (size_t i = 0; i < node.outputs.size(); ++i) {
      const Value* out = node.outputs[i];
      if (!out) continue;
      FRT_ASSIGN_OR_RETURN(Dims d, known_dims(node, *out));
      FRT_ASSIGN_OR_RETURN(void* p, place(*out, out->dtype, d));
      outputs[i] = DeviceTensor{out->dtype, d, p, nullptr};
    }
    CudaKernelContext ctx(node, inputs, outputs, stream, resources_, plan.steps[s].tactic_data,
                          step_state_[s]);
    Status st = state_->step_kernels[s]->run(ctx);
    if (!st.ok()) return st;
    for (size_t i = 0; i < node.outputs.size(); ++i) {
      if (node.outputs[i]) env[node.outputs[i]] = outputs[i];
    }
  }

  // Outputs not written in place by a step: passthrough inputs, constants, host values.
  for (const Value* out : graph.outputs()) {
    auto it = env.find(out);
    const Tensor* h = host.count(out) ? host.at(out) : nullptr;
    if (h == nullptr && out->constant) h = &*out->constant;
    if (it == env.end() && h == nullptr) {
      return MakeError(StatusCode::kInternal, "output \"", out->name, "\" was not computed");
    }
    Dims d = it != env.end() ? it->second.dims : h->dims();
    if (out->is_graph_input && !out->constant) {  // an input passed through: its own buffer
      SetResult(out->name, d, it->second.data);
      run_results_.emplace_back(out->name, d, it->second.data);
      continue;
    }
    bool produced_in_place = it != env.end() && out->producer && !host.count(out);
    void* where = produced_in_place ? it->second.data : nullptr;
    if (!produced_in_place) {
      FRT_ASSIGN_OR_RETURN(where, place(*out, out->dtype, d));
      FRT_ASSIGN_OR_RETURN(size_t bytes, ByteSizeOf(out->dtype, d));
      if (bytes > 0) {
        if (it != env.end()) {
          FRT_CUDA_RETURN_IF_ERROR(cudaMemcpyAsync(where, it->second.data, bytes,
                                                   cudaMemcpyDeviceToDevice, stream));
        } else {
          FRT_ASSIGN_OR_RETURN(const void* staged, StagePinned(*out, *h, stream));
          FRT_CUDA_RETURN_IF_ERROR(
              cudaMemcpyAsync(where, staged, bytes, cudaMemcpyHostToDevice, stream));
        }
      }
    }
    SetResult(out->name, d, where);
    run_results_.emplace_back(out->name, d, where);
  }
  return Status::Ok();
}

}  // namespace frt
