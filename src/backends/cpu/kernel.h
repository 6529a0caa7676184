// CPU reference kernels: the interface between the reference executor and one
// op's implementation. A kernel reads ctx.input(i), writes ctx.output(i)
// (pre-allocated from shape inference when the output shape is static) or,
// for data-dependent shapes, hands over a tensor with ctx.SetOutput(i, t).
//
// Reference kernels favour clarity over speed: compute in double (or in the
// exact integer type) and round once when storing, as the ONNX spec's numpy
// reference does.
#pragma once

#include <functional>
#include <map>
#include <vector>

#include "ir/graph.h"
#include "ir/op_registry.h"

namespace frt {

class KernelContext;
using CpuKernelFn = Status (*)(KernelContext&);

// Runs a subgraph (If/Loop/Scan bodies) with the given inputs, resolving
// outer-scope references from the calling environment.
using SubgraphRunner =
    std::function<Result<std::vector<Tensor>>(const Graph&, const std::vector<Tensor>&)>;

class KernelContext {
 public:
  KernelContext(const Node& node, std::vector<const Tensor*> inputs, std::vector<Tensor>* outputs,
                SubgraphRunner run_subgraph)
      : node_(node), inputs_(std::move(inputs)), outputs_(outputs),
        run_subgraph_(std::move(run_subgraph)) {}

  const Node& node() const { return node_; }
  const Attributes& attrs() const { return node_.attrs; }
  size_t num_inputs() const { return inputs_.size(); }
  bool has_input(size_t i) const { return i < inputs_.size() && inputs_[i] != nullptr; }
  // Precondition: has_input(i).
  const Tensor& input(size_t i) const { return *inputs_[i]; }
  size_t num_outputs() const { return outputs_->size(); }
  bool has_output(size_t i) const { return node_.has_output(i); }
  // Pre-allocated output (undefined if its shape was not static after inference).
  Tensor& output(size_t i) { return (*outputs_)[i]; }
  // Allocates (or replaces) output i with the given dtype and dims.
  Result<Tensor*> AllocateOutput(size_t i, DType dtype, const Dims& dims);
  void SetOutput(size_t i, Tensor t) { (*outputs_)[i] = std::move(t); }

  Result<std::vector<Tensor>> RunSubgraph(const Graph& g, const std::vector<Tensor>& inputs) const {
    return run_subgraph_(g, inputs);
  }

  template <class... Args>
  Status Error(StatusCode code, const Args&... args) const {
    return MakeError(code, node_.Describe(), ": ", args...);
  }

 private:
  const Node& node_;
  std::vector<const Tensor*> inputs_;
  std::vector<Tensor>* outputs_;
  SubgraphRunner run_subgraph_;
};

class CpuKernelRegistry {
 public:
  static const CpuKernelRegistry& Global();
  CpuKernelFn Find(OpKind kind) const;  // nullptr when missing
  void Register(OpKind kind, CpuKernelFn fn);

 private:
  std::vector<CpuKernelFn> kernels_;
};

}  // namespace frt
