// Engine and ExecutionContext: the online phase. An Engine is immutable
// (weights, plan, profiles) and shared; each ExecutionContext holds the
// per-request state (chosen profile, input shapes, tensor addresses,
// activation arena) and runs the engine.
//
// Thread safety: an Engine may be used from any number of threads. Each
// ExecutionContext must be used by one thread at a time; many contexts of one
// engine may execute concurrently. Using one context from two threads at once
// is detected and refused (kInvalidArgument), never undefined.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "fusionrt/status.h"
#include "fusionrt/types.h"

namespace frt {

struct Plan;
struct EngineIndex;
class ExecutionContext;
struct ShapeRange;

// A network input or output as the engine sees it.
struct TensorDesc {
  std::string name;
  DType dtype = DType::kUndefined;
  std::vector<int64_t> dims;            // -1 for a dynamic dimension
  std::vector<std::string> dim_names;   // name of each dynamic dimension ("" if none)
  bool is_input = false;
};

// One executed layer of the optimized plan.
struct LayerInfo {
  std::string name;
  std::string op;                        // operator type ("MatMul", ...)
  std::string tactic;                    // chosen kernel ("cpu.reference", ...)
  DType precision = DType::kFloat32;
  std::vector<std::string> inputs, outputs;  // tensor names
  std::vector<std::string> source_nodes;     // the ONNX nodes it computes
};

struct MemorySlotInfo {
  std::string tensor;
  uint64_t offset = 0, size = 0;
  int first_layer = 0, last_layer = 0;
};

// Activation memory of one profile, sized at its max shapes.
struct MemoryPlanInfo {
  uint64_t arena_size = 0;   // bytes of the shared arena
  uint64_t naive_size = 0;   // sum of all planned tensors without sharing
  std::vector<MemorySlotInfo> slots;
};

class Engine : public std::enable_shared_from_this<Engine> {
 public:
  ~Engine();
  // Reads an engine file; refuses corrupt files and engines built for another
  // target or format version (kInvalidEngine, naming the file).
  static Result<std::shared_ptr<Engine>> Load(const std::string& path);
  static Result<std::shared_ptr<Engine>> Deserialize(const void* data, size_t size,
                                                     const std::string& source = "<memory>");
  Result<std::vector<uint8_t>> Serialize() const;
  Status Save(const std::string& path) const;  // atomic: writes a temp file, then renames

  const std::vector<TensorDesc>& io_tensors() const { return io_; }
  const TensorDesc* FindTensor(const std::string& name) const;  // nullptr if absent
  int num_profiles() const;
  // Bounds of a dynamic input in a profile (static inputs: min = opt = max).
  Result<ShapeRange> GetProfileShapes(int profile, const std::string& input) const;
  MemoryPlanInfo GetMemoryPlan(int profile) const;  // precondition: 0 <= profile < num_profiles()
  uint64_t weights_size() const;
  std::string backend() const;    // "cpu" or "cuda"
  std::string description() const;  // target and build settings, one line
  std::vector<LayerInfo> layers() const;

  // A fresh context on profile 0. The context keeps the engine alive.
  Result<std::unique_ptr<ExecutionContext>> CreateContext() const;

  // Library-internal.
  static Result<std::shared_ptr<Engine>> FromPlan(std::unique_ptr<Plan> plan);
  const Plan& plan() const { return *plan_; }
  const EngineIndex& index() const { return *index_; }
  // State a backend shares between all contexts of this engine (device weights),
  // created by `create` on first use; later calls return the same object.
  Result<std::shared_ptr<void>> BackendState(
      const std::function<Result<std::shared_ptr<void>>()>& create) const;

 private:
  Engine();
  std::unique_ptr<Plan> plan_;
  std::unique_ptr<EngineIndex> index_;
  std::vector<TensorDesc> io_;
  mutable std::mutex backend_mu_;
  mutable std::shared_ptr<void> backend_state_;
};

class ExecutionContext {
 public:
  static constexpr size_t kUnknownCapacity = static_cast<size_t>(-1);
  virtual ~ExecutionContext() = default;

  // Chooses the profile whose bounds later shapes must respect; clears input shapes.
  virtual Status SetOptimizationProfile(int profile) = 0;
  virtual int optimization_profile() const = 0;
  // Sets a dynamic input's shape. Refused (kOutOfRange) outside the profile,
  // naming the tensor, the shape and the bounds.
  virtual Status SetInputShape(const std::string& name, const Dims& dims) = 0;
  // Inputs: the shape set. Outputs: inferred from the input shapes, with -1
  // where the size depends on data (known exactly after execution).
  virtual Result<Dims> GetTensorShape(const std::string& name) const = 0;
  // Binds memory to an input or output: host memory on cpu, device memory
  // (cudaMalloc'd, or another pointer the device can access) on cuda. With a
  // capacity, writes beyond it are refused instead of overrunning. An unbound
  // output is allocated by the context (see GetTensorAddress).
  virtual Status SetTensorAddress(const std::string& name, void* data,
                                  size_t capacity_bytes = kUnknownCapacity) = 0;
  // Where the tensor is (for outputs: after execution); nullptr if unknown.
  virtual const void* GetTensorAddress(const std::string& name) const = 0;
  // Activation memory for the current profile; engine.GetMemoryPlan(p).arena_size bytes
  // (256-byte aligned) suffice. Without it the context allocates its own.
  virtual Status SetArena(void* memory, size_t size) = 0;
  // Runs the engine. cuda: enqueues the work on `stream` (a cudaStream_t; nullptr:
  // the per-thread default stream) and returns; bound memory must stay valid until
  // the stream reaches that point. cpu: `stream` must be nullptr and the call
  // completes before returning.
  virtual Status Enqueue(void* stream) = 0;
  // Runs the engine and waits for completion.
  virtual Status Execute() = 0;
};

}  // namespace frt
