// CUDA kernels: the interface between the CUDA execution context and one op's
// implementation, and the registry the builder chooses from.
//
// A CudaKernel is one implementation ("tactic") of one op kind. At build time
// `supports` says whether it can run a node (dtypes, ranks, attributes; the
// node's values carry their inferred types and symbolic shapes) and `prepare`
// may compile code or precompute parameters into the step's tactic blob
// (kept in the engine, so loading never recompiles). At run time `run`
// enqueues the work on ctx.stream() for concrete shapes; it must not block
// the host or synchronize the stream.
//
// Tactic names are "cuda.<name>" (docs/engine_format.md), e.g. "cuda.gemm.cublaslt".
//
// Thread safety: the registry is built once and read-only afterwards; a kernel
// runs on one context's thread at a time and keeps per-step state only in
// ctx.state().
#pragma once

#include <cuda_runtime.h>

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "ir/graph.h"

// cuBLASLt and cuDNN handle types, without their headers.
struct cublasLtContext;
struct cudnnContext;

namespace frt {

// A tensor as a kernel sees it: concrete dims and device memory.
struct DeviceTensor {
  DType dtype = DType::kUndefined;
  Dims dims;
  void* data = nullptr;         // device memory, dense row-major
  const Tensor* host = nullptr;  // the same contents on the host, when the runtime has them
                                 // (constants and host-computed shape values); else nullptr
  int64_t num_elements() const {
    int64_t n = 1;
    for (int64_t d : dims) n *= d;
    return n;
  }
  size_t nbytes() const { return static_cast<size_t>(num_elements()) * DTypeSize(dtype); }
  template <class T>
  T* ptr() const { return static_cast<T*>(data); }
};

// Library handles and scratch memory of one execution context.
struct CudaResources {
  cublasLtContext* cublaslt = nullptr;
  cudnnContext* cudnn = nullptr;
  void* workspace = nullptr;       // scratch for cuBLASLt/cuDNN, valid during one step
  size_t workspace_size = 0;
  int sm_count = 1;
};

class CudaKernelContext {
 public:
  CudaKernelContext(const Node& node, std::span<const DeviceTensor> inputs,
                    std::span<DeviceTensor> outputs, cudaStream_t stream,
                    CudaResources& resources, const std::vector<uint8_t>& tactic_data,
                    std::shared_ptr<void>& state)
      : node_(node), inputs_(inputs), outputs_(outputs), stream_(stream),
        resources_(resources), tactic_data_(tactic_data), state_(state) {}

  const Node& node() const { return node_; }
  const Attributes& attrs() const { return node_.attrs; }
  size_t num_inputs() const { return inputs_.size(); }
  bool has_input(size_t i) const { return i < inputs_.size() && inputs_[i].dtype != DType::kUndefined; }
  const DeviceTensor& input(size_t i) const { return inputs_[i]; }
  size_t num_outputs() const { return outputs_.size(); }
  // Allocated by the runtime with the dims shape propagation gives.
  DeviceTensor& output(size_t i) { return outputs_[i]; }
  cudaStream_t stream() const { return stream_; }
  CudaResources& resources() { return resources_; }
  const std::vector<uint8_t>& tactic_data() const { return tactic_data_; }
  // Per-step, per-context state a kernel may create on its first run (cached
  // descriptors, loaded modules); empty at first.
  std::shared_ptr<void>& state() { return state_; }

  template <class... Args>
  Status Error(StatusCode code, const Args&... args) const {
    return MakeError(code, node_.Describe(), ": ", args...);
  }
  // The launch error of the last kernel, named after this node.
  Status LaunchStatus() const;

 private:
  const Node& node_;
  std::span<const DeviceTensor> inputs_;
  std::span<DeviceTensor> outputs_;
  cudaStream_t stream_;
  CudaResources& resources_;
  const std::vector<uint8_t>& tactic_data_;
  std::shared_ptr<void>& state_;
};

struct CudaKernel {
  std::string name;   // tactic name without "cuda.", e.g. "gemm.cublaslt"
  OpKind op;
  // "" when this kernel can run the node; otherwise why not (for the build error).
  std::string (*supports)(const Node& node) = nullptr;
  Status (*run)(CudaKernelContext& ctx) = nullptr;
  // Optional build-time step filling the tactic blob; nullptr: the blob stays empty.
  Status (*prepare)(const Node& node, std::vector<uint8_t>* tactic_data) = nullptr;
};

class CudaKernelRegistry {
 public:
  static const CudaKernelRegistry& Global();
  void Register(CudaKernel kernel);
  // Kernels for an op kind, in preference order.
  std::vector<const CudaKernel*> ForOp(OpKind op) const;
  // The kernel with this full tactic name ("cuda.gemm.cublaslt") for this op; nullptr if none.
  const CudaKernel* Find(OpKind op, std::string_view tactic) const;

 private:
  std::vector<std::unique_ptr<CudaKernel>> kernels_;
};

inline constexpr std::string_view kCudaTacticPrefix = "cuda.";

// Helpers for `supports` functions.
// "" if every present input and output of the node has one of `dtypes`, else the reason.
std::string RequireDTypes(const Node& node, std::initializer_list<DType> dtypes);
bool IsFloatDType(DType t);  // f32, f16, bf16

}  // namespace frt
