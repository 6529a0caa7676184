// The CPU execution context: binds caller memory to the engine's inputs and
// outputs, places intermediates in the activation arena by the profile's
// memory plan, and runs the plan's steps with the CPU kernels.
//
// Arena placement: a value gets its planned slot when its actual size fits
// (always, for shapes within the profile, unless an op's output size is not
// monotonic in its inputs' sizes); otherwise it gets its own allocation, so
// a surprising shape costs memory, never correctness.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <optional>

#include "backends/cpu/shape_propagation.h"
#include "core/tensor.h"
#include "ir/graph.h"
#include "fusionrt/engine.h"

namespace frt {

// Bytes of a tensor of `dims`; error on overflow or negative dims.
Result<size_t> ByteSizeOf(DType dtype, const Dims& dims);

class CpuExecutionContext : public ExecutionContext {
 public:
  explicit CpuExecutionContext(std::shared_ptr<const Engine> engine);
  ~CpuExecutionContext() override;

  Status SetOptimizationProfile(int profile) override;
  int optimization_profile() const override { return profile_; }
  Status SetInputShape(const std::string& name, const Dims& dims) override;
  Result<Dims> GetTensorShape(const std::string& name) const override;
  Status SetTensorAddress(const std::string& name, void* data, size_t capacity_bytes) override;
  const void* GetTensorAddress(const std::string& name) const override;
  Status SetArena(void* memory, size_t size) override;
  Status Enqueue(void* stream) override;
  Status Execute() override;

 private:
  struct Binding {
    void* data = nullptr;
    size_t capacity = kUnknownCapacity;
  };
  struct AlignedFree {
    void operator()(std::byte* p) const;
  };

  Status CheckInProfile(const Value& input, const Dims& dims) const;
  Result<std::map<std::string, Dims>> InputDims() const;
  Result<std::byte*> Arena();
  // Concrete shape propagation for these input dims (host.shape step values),
  // recomputed only when the dims change.
  Result<const ConcreteValues*> ShapeValues(const std::map<std::string, Dims>& dims);
  Status Run();

  std::shared_ptr<const Engine> engine_;
  int profile_ = 0;
  std::map<std::string, Dims> input_shapes_;
  std::map<std::string, Binding> bindings_;
  void* user_arena_ = nullptr;
  size_t user_arena_size_ = 0;
  std::unique_ptr<std::byte, AlignedFree> own_arena_;
  size_t own_arena_size_ = 0;
  std::map<std::string, Tensor> results_;  // outputs of the last run
  std::map<std::string, Dims> shape_values_dims_;  // the dims shape_values_ was computed for
  std::optional<ConcreteValues> shape_values_;
  std::atomic<bool> busy_{false};
};

}  // namespace frt
