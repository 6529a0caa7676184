#include "runtime/cpu_context.h"

#include <cstring>
#include <new>
#include <unordered_set>

#include "backends/cpu/reference_executor.h"
#include "backends/cpu/shape_propagation.h"
#include "fusionrt/builder.h"
#include "runtime/engine_index.h"

namespace frt {
namespace {

// Marks the context busy for the duration of a call; refuses a second thread.
class BusyGuard {
 public:
  explicit BusyGuard(std::atomic<bool>& busy) : busy_(busy) {
    bool expected = false;
    acquired_ = busy_.compare_exchange_strong(expected, true);
  }
  ~BusyGuard() {
    if (acquired_) busy_.store(false);
  }
  bool acquired() const { return acquired_; }

 private:
  std::atomic<bool>& busy_;
  bool acquired_ = false;
};

Status BusyError(const char* call) {
  return MakeError(StatusCode::kInvalidArgument, "ExecutionContext::", call,
                   ": the context is executing on another thread; use one context per thread");
}

const Value* FindRuntimeInput(const EngineIndex& index, const std::string& name) {
  for (const Value* v : index.runtime_inputs) {
    if (v->name == name) return v;
  }
  return nullptr;
}


}  // namespace

void CpuExecutionContext::AlignedFree::operator()(std::byte* p) const {
  ::operator delete(p, std::align_val_t(kArenaAlignment));
}

CpuExecutionContext::CpuExecutionContext(std::shared_ptr<const Engine> engine)
    : engine_(std::move(engine)) {}

CpuExecutionContext::~CpuExecutionContext() = default;

Status CpuExecutionContext::SetOptimizationProfile(int profile) {
  BusyGuard guard(busy_);
  if (!guard.acquired()) return BusyError("SetOptimizationProfile");
  if (profile < 0 || profile >= engine_->num_profiles()) {
    return MakeError(StatusCode::kOutOfRange, "optimization profile ", profile,
                     " does not exist (the engine has ", engine_->num_profiles(), ")");
  }
  profile_ = profile;
  input_shapes_.clear();
  results_.clear();
  return Status::Ok();
}

Status CpuExecutionContext::CheckInProfile(const Value& input, const Dims& dims) const {
  auto range = engine_->GetProfileShapes(profile_, input.name);
  if (!range.ok()) return range.status();
  const ShapeRange& r = *range;
  auto bounds = [&] {
    return StrCat("optimization profile ", profile_, " (min ", DimsToString(r.min), ", max ",
                  DimsToString(r.max), ")");
  };
  if (dims.size() != r.min.size()) {
    return MakeError(StatusCode::kOutOfRange, "input \"", input.name, "\": shape ",
                     DimsToString(dims), " has rank ", dims.size(), ", expected rank ",
                     r.min.size(), " by ", bounds());
  }
  for (size_t d = 0; d < dims.size(); ++d) {
    if (dims[d] < r.min[d] || dims[d] > r.max[d]) {
      return MakeError(StatusCode::kOutOfRange, "input \"", input.name, "\": shape ",
                       DimsToString(dims), " is outside ", bounds(), ": dimension ", d, " is ",
                       dims[d], ", allowed ", r.min[d], "..", r.max[d]);
    }
  }
  return Status::Ok();
}

Status CpuExecutionContext::SetInputShape(const std::string& name, const Dims& dims) {
  BusyGuard guard(busy_);
  if (!guard.acquired()) return BusyError("SetInputShape");
  const Value* v = FindRuntimeInput(engine_->index(), name);
  if (v == nullptr) {
    return MakeError(StatusCode::kNotFound, "SetInputShape: \"", name,
                     "\" is not an input of the engine");
  }
  FRT_RETURN_IF_ERROR(CheckInProfile(*v, dims));
  input_shapes_[name] = dims;
  results_.clear();
  return Status::Ok();
}

Result<std::map<std::string, Dims>> CpuExecutionContext::InputDims() const {
  std::map<std::string, Dims> dims;
  for (const Value* v : engine_->index().runtime_inputs) {
    auto it = input_shapes_.find(v->name);
    if (it != input_shapes_.end()) {
      dims[v->name] = it->second;
    } else if (v->shape && v->shape->is_static()) {
      dims[v->name] = v->shape->static_dims();
    } else {
      auto r = engine_->GetProfileShapes(profile_, v->name);
      return MakeError(StatusCode::kInvalidArgument, "input \"", v->name,
                       "\" has a dynamic shape that was not set: call SetInputShape (profile ",
                       profile_, " allows ", r.ok() ? DimsToString(r->min) : "?", " to ",
                       r.ok() ? DimsToString(r->max) : "?", ")");
    }
  }
  return dims;
}

Result<Dims> CpuExecutionContext::GetTensorShape(const std::string& name) const {
  const TensorDesc* desc = engine_->FindTensor(name);
  if (desc == nullptr) {
    return MakeError(StatusCode::kNotFound, "GetTensorShape: \"", name,
                     "\" is not an input or output of the engine");
  }
  if (auto it = results_.find(name); it != results_.end()) return it->second.dims();
  FRT_ASSIGN_OR_RETURN(auto dims, InputDims());
  if (desc->is_input) return dims.at(name);
  const Graph& graph = *engine_->plan().graph;
  FRT_ASSIGN_OR_RETURN(ConcreteValues values, PropagateConcreteShapes(graph, dims));
  const Value* v = graph.FindValue(name);
  auto it = values.find(v);
  if (it != values.end() && it->second.dims) return *it->second.dims;
  if (!desc->dims.empty() || (v->shape && v->shape->rank() == 0)) {
    return Dims(desc->dims.size(), -1);  // data dependent: known after execution
  }
  return MakeError(StatusCode::kUnsupported, "output \"", name,
                   "\": rank and shape depend on the data; known after execution");
}

Status CpuExecutionContext::SetTensorAddress(const std::string& name, void* data,
                                             size_t capacity_bytes) {
  BusyGuard guard(busy_);
  if (!guard.acquired()) return BusyError("SetTensorAddress");
  const TensorDesc* desc = engine_->FindTensor(name);
  if (desc == nullptr) {
    return MakeError(StatusCode::kNotFound, "SetTensorAddress: \"", name,
                     "\" is not an input or output of the engine");
  }
  if (data == nullptr) {
    return MakeError(StatusCode::kInvalidArgument, "SetTensorAddress: null address for \"", name,
                     "\"");
  }
  size_t align = DTypeSize(desc->dtype);
  if (align > 1 && reinterpret_cast<uintptr_t>(data) % align != 0) {
    return MakeError(StatusCode::kInvalidArgument, "SetTensorAddress: address ", data, " for \"",
                     name, "\" (", DTypeName(desc->dtype), ") is not ", align, "-byte aligned");
  }
  bindings_[name] = {data, capacity_bytes};
  return Status::Ok();
}

const void* CpuExecutionContext::GetTensorAddress(const std::string& name) const {
  if (auto it = results_.find(name); it != results_.end()) return it->second.raw();
  auto it = bindings_.find(name);
  return it == bindings_.end() ? nullptr : it->second.data;
}

Status CpuExecutionContext::SetArena(void* memory, size_t size) {
  BusyGuard guard(busy_);
  if (!guard.acquired()) return BusyError("SetArena");
  if (memory == nullptr && size > 0) {
    return MakeError(StatusCode::kInvalidArgument, "SetArena: null memory with size ", size);
  }
  if (reinterpret_cast<uintptr_t>(memory) % kArenaAlignment != 0) {
    return MakeError(StatusCode::kInvalidArgument, "SetArena: address ", memory, " is not ",
                     kArenaAlignment, "-byte aligned");
  }
  user_arena_ = memory;
  user_arena_size_ = size;
  return Status::Ok();
}

Result<std::byte*> CpuExecutionContext::Arena() {
  uint64_t need = engine_->plan().profiles[profile_].memory.arena_size;
  if (user_arena_ != nullptr) {
    if (user_arena_size_ < need) {
      return MakeError(StatusCode::kInvalidArgument, "the arena given to SetArena holds ",
                       user_arena_size_, " bytes; optimization profile ", profile_, " needs ", need);
    }
    return static_cast<std::byte*>(user_arena_);
  }
  if (own_arena_size_ < need) {
    if (need > HostAllocationLimit()) {
      return MakeError(StatusCode::kResourceExhausted, "activation arena of ", need,
                       " bytes is above the host allocation limit of ", HostAllocationLimit());
    }
    own_arena_.reset(static_cast<std::byte*>(
        ::operator new(need, std::align_val_t(kArenaAlignment), std::nothrow)));
    own_arena_size_ = own_arena_ ? need : 0;
    if (!own_arena_) {
      return MakeError(StatusCode::kResourceExhausted, "cannot allocate an activation arena of ",
                       need, " bytes");
    }
  }
  return own_arena_.get();
}

Status CpuExecutionContext::Enqueue(void* stream) {
  if (stream != nullptr) {
    return MakeError(StatusCode::kInvalidArgument,
                     "Enqueue: the cpu backend runs synchronously; pass a null stream");
  }
  return Execute();
}

Status CpuExecutionContext::Execute() {
  BusyGuard guard(busy_);
  if (!guard.acquired()) return BusyError("Execute");
  results_.clear();
  Status s = Run();
  if (!s.ok()) results_.clear();
  return s;
}

}  // namespace frt
