// The CUDA execution context: runs a cuda engine's plan on the current device.
//
// Memory: inputs and outputs are caller device memory (SetTensorAddress) or,
// for unbound outputs, buffers the context owns; intermediates live in one
// device arena laid out by the profile's memory plan (or the caller's, from
// SetArena), or in context-owned overflow buffers when a shape outgrows its
// slot. Weights are uploaded once per engine and shared by all its contexts
// (CudaEngineState). Values only the host computes (host.shape steps) are
// uploaded when a kernel reads them.
//
// Shapes: concrete shape propagation for the current input shapes (cached per
// shape set) gives every kernel its dims; no kernel computes a shape.
//
// Thread safety: as ExecutionContext (one thread at a time per context).
#pragma once

#include <map>
#include <memory>
#include <unordered_map>
#include <vector>

#include "backends/cuda/cuda_util.h"
#include "backends/cuda/kernel.h"
#include "runtime/context_base.h"

namespace frt {

// Creates the context (and the engine's shared device state on first use).
Result<std::unique_ptr<ExecutionContext>> CreateCudaContext(std::shared_ptr<const Engine> engine);

// Error (kInvalidEngine, naming the node) unless every step's tactic is a
// registered CUDA kernel for its op or kHostShapeTactic.
Status CheckCudaTactics(const Plan& plan);

struct CudaEngineState;

class CudaExecutionContext : public ContextBase {
 public:
  CudaExecutionContext(std::shared_ptr<const Engine> engine,
                       std::shared_ptr<const CudaEngineState> state);
  ~CudaExecutionContext() override;

  Status Init();
  Status Enqueue(void* stream) override;
  // Runs on the context's own stream and waits for it.
  Status Execute() override;

 private:
  Status Run(void* stream) override;
  Result<std::byte*> Arena();
  // Device memory for a value that has no arena slot (or outgrew it).
  Result<void*> OverflowBuffer(const Value& v, size_t bytes);
  Result<void*> UploadHostValue(const Value& v, const Tensor& t, cudaStream_t stream);

  std::shared_ptr<const CudaEngineState> state_;
  cudaStream_t own_stream_ = nullptr;
  CudaResources resources_;
  DeviceBuffer workspace_;
  DeviceBuffer arena_;
  std::unordered_map<const Value*, DeviceBuffer> overflow_;   // values without a fitting slot
  std::unordered_map<const Value*, DeviceBuffer> uploads_;    // host values read by kernels
  std::vector<std::shared_ptr<void>> step_state_;             // per step, kernels' own
};

}  // namespace frt
