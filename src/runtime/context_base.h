// ContextBase: the backend-neutral half of an ExecutionContext: the chosen
// profile, input shapes checked against it, caller bindings, the caller's
// arena, the one-thread-at-a-time guard, and the concrete shape propagation
// for the current input shapes (cached per input-shape set). Backends derive
// from it and implement Run() (the CPU reference context, the CUDA context).
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "backends/cpu/shape_propagation.h"
#include "fusionrt/engine.h"
#include "ir/graph.h"

namespace frt {

// Bytes of a tensor of `dims`; error on overflow or negative dims.
Result<size_t> ByteSizeOf(DType dtype, const Dims& dims);

// A bound or planned buffer, for overlap checks.
struct MemorySpan {
  const std::byte* begin;
  size_t bytes;
  std::string name;
};
// Outputs may not share memory with inputs or other outputs: a step could
// overwrite data a later step still reads. Error naming both tensors.
Status CheckNoOverlap(std::vector<MemorySpan> spans);

class ContextBase : public ExecutionContext {
 public:
  explicit ContextBase(std::shared_ptr<const Engine> engine);
  ~ContextBase() override;

  Status SetOptimizationProfile(int profile) override;
  int optimization_profile() const override { return profile_; }
  Status SetInputShape(const std::string& name, const Dims& dims) override;
  Result<Dims> GetTensorShape(const std::string& name) const override;
  Status SetTensorAddress(const std::string& name, void* data, size_t capacity_bytes) override;
  const void* GetTensorAddress(const std::string& name) const override;
  Status SetArena(void* memory, size_t size) override;
  Status Execute() override;

 protected:
  struct Binding {
    void* data = nullptr;
    size_t capacity = kUnknownCapacity;
  };
  // Marks the context busy for the duration of a call; refuses a second thread.
  class BusyGuard {
   public:
    explicit BusyGuard(std::atomic<bool>& busy);
    ~BusyGuard();
    bool acquired() const { return acquired_; }

   private:
    std::atomic<bool>& busy_;
    bool acquired_ = false;
  };
  static Status BusyError(const char* call);

  // One execution; on success records each output's dims and address with SetResult.
  // `stream` is the caller's (nullptr for Execute on backends that own one).
  virtual Status Run(void* stream) = 0;
  // Called when results are invalidated (new shapes, profile, failed run):
  // a backend drops what it keeps of the last run's outputs.
  virtual void OnResultsCleared() {}
  void ClearResults() {
    results_.clear();
    OnResultsCleared();
  }
  void SetResult(const std::string& name, Dims dims, const void* address) {
    results_[name] = {std::move(dims), address};
  }
  // Runs under the busy guard, clearing results on failure.
  Status GuardedRun(void* stream);

  Result<std::map<std::string, Dims>> InputDims() const;
  // The caller's buffer for runtime input `in` at `dims`: bound, large enough, matching the
  // declared dtype and shape (`symbols` binds named dims across inputs); its span is recorded.
  Result<void*> BoundInput(const Value& in, const Dims& dims, std::map<std::string, int64_t>& symbols,
                           std::vector<MemorySpan>& spans) const;
  // Concrete shape propagation for these input dims, recomputed only when they change.
  Result<const ConcreteValues*> ShapeValues(const std::map<std::string, Dims>& dims);
  // The caller's arena if set (checked against the profile's need), else nullptr.
  Result<void*> UserArena() const;
  uint64_t ArenaNeed() const;

  std::shared_ptr<const Engine> engine_;
  int profile_ = 0;
  std::map<std::string, Binding> bindings_;
  std::atomic<bool> busy_{false};

 private:
  struct Result_ {
    Dims dims;
    const void* address = nullptr;
  };
  Status CheckInProfile(const Value& input, const Dims& dims) const;

  std::map<std::string, Dims> input_shapes_;
  void* user_arena_ = nullptr;
  size_t user_arena_size_ = 0;
  std::map<std::string, Result_> results_;  // outputs of the last run
  std::map<std::string, Dims> shape_values_dims_;  // the dims shape_values_ was computed for
  std::optional<ConcreteValues> shape_values_;
};

}  // namespace frt
