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
#include <string>
#include <tuple>
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
  // When on, the second run with the same input shapes, bound addresses and arena is
  // captured into a CUDA graph and later such runs replay it (one launch instead of one
  // per layer); anything else changing runs eagerly again. Needs a capturable stream
  // (Execute's own, or a caller stream; not a default stream). Off by default.
  // Library-internal for now (the CLI reaches it by dynamic_cast).
  Status EnableCudaGraphs(bool on);

 private:
  Status Run(void* stream) override;
  // Enqueues every step on `stream` and records the outputs (Run's body; captured into
  // a graph when graphs are on).
  Status RunSteps(cudaStream_t stream);
  // What a captured graph depends on: input dims, bound addresses, the arena.
  std::string GraphKey(const std::map<std::string, Dims>& dims) const;
  void DropGraph();
  Result<std::byte*> Arena();
  // Device memory for a value that has no arena slot (or outgrew it).
  Result<void*> OverflowBuffer(const Value& v, size_t bytes);
  Result<void*> UploadHostValue(const Value& v, const Tensor& t, cudaStream_t stream);
  // `t`'s bytes in pinned host memory kept per value (rewritten only when they change).
  Result<const void*> StagePinned(const Value& v, const Tensor& t, cudaStream_t stream);

  std::shared_ptr<const CudaEngineState> state_;
  cudaStream_t own_stream_ = nullptr;
  CudaResources resources_;
  DeviceBuffer workspace_;
  DeviceBuffer arena_;
  std::unordered_map<const Value*, DeviceBuffer> overflow_;   // values without a fitting slot
  std::unordered_map<const Value*, DeviceBuffer> uploads_;    // host values read by kernels
  std::vector<std::shared_ptr<void>> step_state_;             // per step, kernels' own
  std::unordered_map<const Value*, void*> pinned_;             // host staging of uploads
  std::unordered_map<const Value*, size_t> pinned_size_;
  std::vector<std::tuple<std::string, Dims, const void*>> run_results_;  // of the last RunSteps
  bool graphs_ = false;
  std::string last_key_;         // key of the last eager run
  std::string graph_key_;        // key the graph was captured for
  cudaGraphExec_t graph_exec_ = nullptr;
  std::vector<std::tuple<std::string, Dims, const void*>> graph_results_;
};

}  // namespace frt
