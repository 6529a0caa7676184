// The CPU execution context: binds caller memory to the engine's inputs and
// outputs, places intermediates in the activation arena by the profile's
// memory plan, and runs the plan's steps with the CPU kernels.
//
// Arena placement: a value gets its planned slot when its actual size fits
// (always, for shapes within the profile, unless an op's output size is not
// monotonic in its inputs' sizes); otherwise it gets its own allocation, so
// a surprising shape costs memory, never correctness.
#pragma once

#include <map>
#include <memory>

#include "core/tensor.h"
#include "runtime/context_base.h"

namespace frt {

class CpuExecutionContext : public ContextBase {
 public:
  explicit CpuExecutionContext(std::shared_ptr<const Engine> engine);
  ~CpuExecutionContext() override;

  // `stream` must be nullptr: the call completes before returning.
  Status Enqueue(void* stream) override;

 private:
  struct AlignedFree {
    void operator()(std::byte* p) const;
  };

  Result<std::byte*> Arena();
  Status Run(void* stream) override;
  void OnResultsCleared() override { outputs_.clear(); }

  std::unique_ptr<std::byte, AlignedFree> own_arena_;
  size_t own_arena_size_ = 0;
  std::map<std::string, Tensor> outputs_;  // outputs of the last run (owned or views)
};

}  // namespace frt
