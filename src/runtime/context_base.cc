#include "runtime/context_base.h"

#include <algorithm>

#include "backends/cpu/reference_executor.h"
#include "fusionrt/builder.h"
#include "runtime/engine_index.h"

namespace frt {
namespace {

const Value* FindRuntimeInput(const EngineIndex& index, const std::string& name) {
  for (const Value* v : index.runtime_inputs) {
    if (v->name == name) return v;
  }
  return nullptr;
}

}  // namespace

Result<size_t> ByteSizeOf(DType dtype, const Dims& dims) {
  FRT_ASSIGN_OR_RETURN(int64_t n, NumElements(dims));
  if (static_cast<uint64_t>(n) > SIZE_MAX / 16) {
    return MakeError(StatusCode::kResourceExhausted, "a tensor of shape ", DimsToString(dims),
                     " is too large");
  }
  return static_cast<size_t>(n) * DTypeSize(dtype);
}

Status CheckNoOverlap(std::vector<MemorySpan> spans) {
  std::sort(spans.begin(), spans.end(),
            [](const MemorySpan& a, const MemorySpan& b) { return a.begin < b.begin; });
  for (size_t i = 1; i < spans.size(); ++i) {
    const MemorySpan& a = spans[i - 1];
    if (a.bytes > 0 && spans[i].bytes > 0 && a.begin + a.bytes > spans[i].begin) {
      return MakeError(StatusCode::kInvalidArgument, "the buffers bound to \"", a.name, "\" and \"",
                       spans[i].name, "\" overlap; an output may not share memory with another "
                       "input or output");
    }
  }
  return Status::Ok();
}

ContextBase::BusyGuard::BusyGuard(std::atomic<bool>& busy) : busy_(busy) {
  bool expected = false;
  acquired_ = busy_.compare_exchange_strong(expected, true);
}

ContextBase::BusyGuard::~BusyGuard() {
  if (acquired_) busy_.store(false);
}

Status ContextBase::BusyError(const char* call) {
  return MakeError(StatusCode::kInvalidArgument, "ExecutionContext::", call,
                   ": the context is executing on another thread; use one context per thread");
}

ContextBase::ContextBase(std::shared_ptr<const Engine> engine) : engine_(std::move(engine)) {}
ContextBase::~ContextBase() = default;

Status ContextBase::SetOptimizationProfile(int profile) {
  BusyGuard guard(busy_);
  if (!guard.acquired()) return BusyError("SetOptimizationProfile");
  if (profile < 0 || profile >= engine_->num_profiles()) {
    return MakeError(StatusCode::kOutOfRange, "optimization profile ", profile,
                     " does not exist (the engine has ", engine_->num_profiles(), ")");
  }
  profile_ = profile;
  input_shapes_.clear();
  ClearResults();
  return Status::Ok();
}

Status ContextBase::CheckInProfile(const Value& input, const Dims& dims) const {
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

Status ContextBase::SetInputShape(const std::string& name, const Dims& dims) {
  BusyGuard guard(busy_);
  if (!guard.acquired()) return BusyError("SetInputShape");
  const Value* v = FindRuntimeInput(engine_->index(), name);
  if (v == nullptr) {
    return MakeError(StatusCode::kNotFound, "SetInputShape: \"", name,
                     "\" is not an input of the engine");
  }
  FRT_RETURN_IF_ERROR(CheckInProfile(*v, dims));
  input_shapes_[name] = dims;
  ClearResults();
  return Status::Ok();
}

Result<std::map<std::string, Dims>> ContextBase::InputDims() const {
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

Result<void*> ContextBase::BoundInput(const Value& in, const Dims& d,
                                      std::map<std::string, int64_t>& symbols,
                                      std::vector<MemorySpan>& spans) const {
  auto b = bindings_.find(in.name);
  if (b == bindings_.end()) {
    return MakeError(StatusCode::kInvalidArgument, "input \"", in.name,
                     "\" has no memory bound: call SetTensorAddress");
  }
  FRT_ASSIGN_OR_RETURN(size_t bytes, ByteSizeOf(in.dtype, d));
  if (bytes > b->second.capacity) {
    return MakeError(StatusCode::kInvalidArgument, "input \"", in.name, "\" of shape ",
                     DimsToString(d), " needs ", bytes, " bytes; its buffer holds ",
                     b->second.capacity);
  }
  FRT_RETURN_IF_ERROR(CheckInputTensor(in, Tensor::View(in.dtype, d, nullptr), symbols));
  spans.push_back({static_cast<const std::byte*>(b->second.data), bytes, in.name});
  return b->second.data;
}

Result<const ConcreteValues*> ContextBase::ShapeValues(const std::map<std::string, Dims>& dims) {
  if (!shape_values_ || shape_values_dims_ != dims) {
    shape_values_.reset();
    FRT_ASSIGN_OR_RETURN(ConcreteValues values,
                         PropagateConcreteShapes(*engine_->plan().graph, dims));
    shape_values_ = std::move(values);
    shape_values_dims_ = dims;
  }
  return &*shape_values_;
}

Result<Dims> ContextBase::GetTensorShape(const std::string& name) const {
  const TensorDesc* desc = engine_->FindTensor(name);
  if (desc == nullptr) {
    return MakeError(StatusCode::kNotFound, "GetTensorShape: \"", name,
                     "\" is not an input or output of the engine");
  }
  if (auto it = results_.find(name); it != results_.end()) return it->second.dims;
  FRT_ASSIGN_OR_RETURN(auto dims, InputDims());
  if (desc->is_input) return dims.at(name);
  const Graph& graph = *engine_->plan().graph;
  const Value* v = graph.FindValue(name);
  auto known = [&](const ConcreteValues& values) -> std::optional<Dims> {
    auto it = values.find(v);
    if (it != values.end() && it->second.dims) return *it->second.dims;
    return std::nullopt;
  };
  std::optional<Dims> found;
  if (shape_values_ && shape_values_dims_ == dims) {
    found = known(*shape_values_);
  } else {
    FRT_ASSIGN_OR_RETURN(ConcreteValues values, PropagateConcreteShapes(graph, dims));
    found = known(values);
  }
  if (found) return *found;
  if (!desc->dims.empty() || (v->shape && v->shape->rank() == 0)) {
    return Dims(desc->dims.size(), -1);  // data dependent: known after execution
  }
  return MakeError(StatusCode::kUnsupported, "output \"", name,
                   "\": rank and shape depend on the data; known after execution");
}

Status ContextBase::SetTensorAddress(const std::string& name, void* data, size_t capacity_bytes) {
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

const void* ContextBase::GetTensorAddress(const std::string& name) const {
  if (auto it = results_.find(name); it != results_.end()) return it->second.address;
  auto it = bindings_.find(name);
  return it == bindings_.end() ? nullptr : it->second.data;
}

Status ContextBase::SetArena(void* memory, size_t size) {
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

uint64_t ContextBase::ArenaNeed() const {
  return engine_->plan().profiles[profile_].memory.arena_size;
}

Result<void*> ContextBase::UserArena() const {
  if (user_arena_ == nullptr) return static_cast<void*>(nullptr);
  if (user_arena_size_ < ArenaNeed()) {
    return MakeError(StatusCode::kInvalidArgument, "the arena given to SetArena holds ",
                     user_arena_size_, " bytes; optimization profile ", profile_, " needs ",
                     ArenaNeed());
  }
  return user_arena_;
}

Status ContextBase::GuardedRun(void* stream) {
  BusyGuard guard(busy_);
  if (!guard.acquired()) return BusyError(stream ? "Enqueue" : "Execute");
  ClearResults();
  Status s = Run(stream);
  if (!s.ok()) ClearResults();
  return s;
}

Status ContextBase::Execute() { return GuardedRun(nullptr); }

}  // namespace frt
